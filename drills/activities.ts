/**
 * The drill runner's activity: one whole drill, heartbeating while it runs (a dead runner's drill fails at the
 * heartbeat timeout instead of hanging until its start-to-close timeout).
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import type { RunbookRegistry } from '../runbooks/registry';
import { runDrill, type Scorecard } from './run';
import { loadScenario } from './scenario';

export interface ScheduledDrillInput {
  /** A scenario name in drills/ (its runbook is the one it names). */
  scenario: string;
}

export interface DrillActivities {
  runScheduledDrill(input: ScheduledDrillInput): Promise<Scorecard>;
}

export interface DrillRunnerDeps {
  client: Client;
  connection: NativeConnection;
  registry: RunbookRegistry;
  endpoint: string;
  region: string;
  namespace: string;
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export function createDrillActivities(deps: DrillRunnerDeps): DrillActivities {
  return {
    async runScheduledDrill(input) {
      const scenario = loadScenario(input.scenario);
      const runbook = deps.registry.get(scenario.runbook);
      if (!runbook) throw new Error(`drill scenario ${input.scenario} names unknown runbook ${scenario.runbook}`);
      const ctx = Context.current();
      return runDrill({
        ...deps,
        runbook,
        scenario,
        approvals: 'auto',
        // The scheduled run's own ID, so the execution and its schedule are easy to match.
        drillId: `${ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId}-run`.slice(0, 200),
        log: (line) => ctx.log.info(line),
        onProgress: (state) => ctx.heartbeat(state.status),
      });
    },
  };
}
