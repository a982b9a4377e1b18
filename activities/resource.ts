/**
 * The engine's own activity for the resource record (workflows/resource.ts): a lock request is a signal-with-start, so
 * the record is created on first use and exactly one exists per resource. Not a catalogue action: runbooks never name
 * it; the interpreter calls it around the steps that change the execution's resource.
 */
import { Context } from '@temporalio/activity';
import {
  lockRequestSignal,
  RESOURCE_WORKFLOW,
  resourceWorkflowId,
  type LockRequest,
  type ResourceKey,
} from '../workflows/resource-messages';

export interface ResourceActivities {
  'resource.requestLock'(input: { key: ResourceKey; request: LockRequest }): Promise<{ workflowId: string }>;
}

/** @param taskQueue where the resource records run: the worker's own queue. */
export function createResourceActivities(taskQueue: string): ResourceActivities {
  return {
    async 'resource.requestLock'({ key, request }) {
      const workflowId = resourceWorkflowId(key);
      await Context.current().client.workflow.signalWithStart(RESOURCE_WORKFLOW, {
        workflowId,
        taskQueue,
        args: [],
        signal: lockRequestSignal,
        signalArgs: [request],
      });
      return { workflowId };
    },
  };
}
