/**
 * The engine's own activity for incidents: how a run that continued as new learns how its runbook execution ended.
 * The first run awaits its child's result; a later run cannot (the child belongs to the run that started it), so it
 * reads the execution's end through the client. Not a catalogue action: runbooks never name it.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ExecutionState, RunbookProgress } from '../workflows/messages';
import { outcomeOfFailure, outcomeOfResult } from '../workflows/runbook-outcome';

export interface IncidentActivities {
  /** The execution's outcome once it has closed; null while it runs. Read-only, so safe to retry. */
  'incident.runbookOutcome'(input: { executionId: string }): Promise<RunbookProgress | null>;
}

export function createIncidentActivities(): IncidentActivities {
  return {
    async 'incident.runbookOutcome'({ executionId }) {
      // No run ID: the execution's latest run (it may itself have continued as new); result() follows its runs.
      const handle = Context.current().client.workflow.getHandle(executionId);
      try {
        if ((await handle.describe()).status.name === 'RUNNING') return null;
        return outcomeOfResult(executionId, (await handle.result()) as ExecutionState);
      } catch (err) {
        if (err instanceof WorkflowFailedError) return outcomeOfFailure(executionId, err.cause);
        // Gone past its retention: nothing will ever report its end.
        if (err instanceof WorkflowNotFoundError) {
          return {
            executionId,
            status: 'failed',
            failure: { message: `execution ${executionId} no longer exists`, type: 'ExecutionNotFound' },
          };
        }
        throw err;
      }
    },
  };
}
