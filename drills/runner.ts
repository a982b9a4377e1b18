/**
 * The drill runner: a worker on the `firebreak-drills` task queue that runs scheduled drills (drillWorkflow and its
 * activity). Each drill then runs its own short-lived worker for the runbook, from one workflow bundle built here.
 */
import { bundleWorkflows } from '../worker/bundle';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { RunbookRegistry } from '../runbooks/registry';
import { createDrillActivities } from './activities';
import { DRILL_TASK_QUEUE } from './schedules';

export interface DrillRunnerOptions {
  client: Client;
  connection: NativeConnection;
  registry: RunbookRegistry;
  endpoint: string;
  region: string;
  namespace: string;
  taskQueue?: string;
  /** The runbook workflows' bundle for the drills' workers; built once here when not given. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export async function createDrillRunner(opts: DrillRunnerOptions): Promise<Worker> {
  const workflowBundle = opts.workflowBundle ?? (await bundleWorkflows());
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? DRILL_TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: createDrillActivities({ ...opts, workflowBundle }),
  });
}
