/**
 * A runbook execution's outcome as its incident follows it, read from the way the execution ended. Shared by the
 * incident workflow (a child's failure) and the activity that reads an execution's end through the client (after the
 * incident continued as new and can no longer await its child).
 */
import { ApplicationFailure, CancelledFailure, ChildWorkflowFailure } from '@temporalio/common';
import type { ExecutionState, RunbookProgress } from './messages';

/** The outcome a runbook's result reports (its last progress signal may be lost). */
export function outcomeOfResult(executionId: string, final: ExecutionState): RunbookProgress {
  return { executionId, status: final.status, failure: final.failure, rollback: final.rollback };
}

/** The outcome a failed runbook execution reports through its failure. */
export function outcomeOfFailure(executionId: string, err: unknown): RunbookProgress {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
  if (cause instanceof CancelledFailure) {
    return {
      executionId,
      status: 'cancelled',
      rollback: { trigger: 'cancelled', reason: cause.message, startedAt: '' },
    };
  }
  const details =
    cause instanceof ApplicationFailure ? (cause.details?.[0] as { stepId?: string } | undefined) : undefined;
  return {
    executionId,
    status: 'failed',
    failure: {
      message: cause instanceof Error ? cause.message : String(cause),
      type: cause instanceof ApplicationFailure ? (cause.type ?? undefined) : (cause as Error | undefined)?.name,
      stepId: details?.stepId,
    },
  };
}
