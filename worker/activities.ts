import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { withAttempt } from '../activities/envelope';
import type { ActionActivities } from '../activities/schemas';
import { PLAN_WORKFLOW } from '../workflows/plan-messages';
import type { WorkerMetrics } from './metrics';

type Activity = (input: any) => Promise<unknown>;

/**
 * Wraps every action so the workflow learns each step's attempt count (see activities/envelope.ts), and, with
 * metrics, times each attempt.
 */
export function instrumentActivities(activities: ActionActivities, metrics?: WorkerMetrics): Record<string, Activity> {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => {
      const wrapped = withAttempt(fn as (input: unknown) => Promise<unknown>);
      return [name, metrics ? timed(name, wrapped, metrics) : wrapped];
    }),
  );
}

function timed(action: string, fn: Activity, metrics: WorkerMetrics): Activity {
  return async (input) => {
    const info = Context.current().info;
    // The runbook workflow names a compensation's activity `rollback:<step>`; the plan workflow dry-runs actions.
    const phase = info.activityId.startsWith('rollback:')
      ? 'rollback'
      : info.workflowType === PLAN_WORKFLOW
        ? 'plan'
        : 'step';
    const end = metrics.stepSeconds.startTimer({ action, phase });
    try {
      const out = await fn(input);
      end({ outcome: 'succeeded' });
      return out;
    } catch (err) {
      end({ outcome: err instanceof CancelledFailure ? 'cancelled' : 'failed' });
      throw err;
    }
  };
}
