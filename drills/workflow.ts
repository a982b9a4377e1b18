/**
 * A scheduled drill: what a Temporal Schedule starts. The drill itself runs in one activity on the drill runner (it
 * seeds moto, runs its own worker and answers the gates, none of which a workflow may do); the workflow keeps the
 * scorecard as its result, so each scheduled run's outcome stays in Temporal, marked with FirebreakDrill.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { DrillActivities, ScheduledDrillInput } from './activities';
import type { Scorecard } from './run';

export const DRILL_WORKFLOW = 'drillWorkflow';

const { runScheduledDrill } = proxyActivities<DrillActivities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '2m',
  // A drill that failed is a result to look at, not something to repeat unattended.
  retry: { maximumAttempts: 1 },
});

export async function drillWorkflow(input: ScheduledDrillInput): Promise<Scorecard> {
  return runScheduledDrill(input);
}
