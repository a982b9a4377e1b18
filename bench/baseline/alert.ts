/**
 * The baseline's alert, as the benches send it: update-with-start (or signal-with-start) of the bare parent
 * (bench/baseline/workflows.ts), whose child runs the no-op activity that marks `key` at the fake endpoint.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { BenchStack } from '../stack';
import { BASELINE_PARENT, baselineAlertSignal, baselineAlertUpdate } from './workflows';

export async function baselineAlert(
  stack: BenchStack,
  key: string,
  how: 'update' | 'signal' = 'update',
): Promise<void> {
  const options = { workflowId: key, taskQueue: stack.baselineTaskQueue, args: [key] };
  if (how === 'update') {
    await stack.client.workflow.executeUpdateWithStart(baselineAlertUpdate, {
      args: [key],
      startWorkflowOperation: new WithStartWorkflowOperation(BASELINE_PARENT, {
        ...options,
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
  } else {
    await stack.client.workflow.signalWithStart(BASELINE_PARENT, {
      ...options,
      signal: baselineAlertSignal,
      signalArgs: [key],
    });
  }
}
