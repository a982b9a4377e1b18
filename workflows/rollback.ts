/**
 * Pure pieces of the interpreter's rollback: how long and how often a compensation retries, and the partial changes a
 * failed step reported (workflows/runbook.ts runs the compensations).
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { durationMs } from '../runbooks/dsl/duration';
import type { PartialDetail } from '../activities/envelope';
import type { ActionStep, Duration, RetryPolicy, RunbookDefinition } from '../runbooks/dsl/types';

/**
 * Histories recorded before these changes replay unchanged: compensations retried with the rollback policy, a failed
 * step's partial changes compensated, and `rollback-failed` waiting for a retry request.
 */
export const PATCH_ROLLBACK_RETRY = 'rollback-retry';

/** A compensation retries without an attempt limit, backing off up to 5 minutes apart, for this long in all. */
export const DEFAULT_ROLLBACK_RETRY: RetryPolicy = {
  maximumAttempts: 0,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
};
export const DEFAULT_ROLLBACK_SCHEDULE_TO_CLOSE = '2h';
/** How long a `rollback-failed` execution waits for a retry request when the runbook has no rollback window. */
export const DEFAULT_ROLLBACK_RETRY_WINDOW = '24h';

/** The retry policy and total time of one step's compensation: the step's, else the runbook's, else the defaults. */
export function rollbackOptions(
  runbook: RunbookDefinition,
  step: ActionStep,
): { retry: RetryPolicy; scheduleToClose: Duration } {
  return {
    retry: { ...DEFAULT_ROLLBACK_RETRY, ...runbook.rollbackRetry?.retry, ...step.rollback?.retry },
    scheduleToClose:
      step.rollback?.scheduleToClose ?? runbook.rollbackRetry?.scheduleToClose ?? DEFAULT_ROLLBACK_SCHEDULE_TO_CLOSE,
  };
}

export function rollbackScheduleToCloseMs(runbook: RunbookDefinition, step: ActionStep): number {
  return durationMs(rollbackOptions(runbook, step).scheduleToClose);
}

export function rollbackRetryWindowMs(runbook: RunbookDefinition): number {
  return durationMs(runbook.rollbackRetryWindow ?? runbook.rollbackWindow ?? DEFAULT_ROLLBACK_RETRY_WINDOW);
}

/** The detail a failed activity carries when it changed something before failing (activities/envelope.ts). */
export function isPartialDetail(d: unknown): d is PartialDetail {
  return typeof d === 'object' && d !== null && 'firebreakPartial' in d;
}

/**
 * What a failed activity changed before it failed, shaped like its output: from its failure's details, or from its
 * last heartbeat when it timed out (its worker died). Undefined when it reported no change.
 */
export function partialOf(err: unknown): unknown {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    return (cause.details ?? []).find(isPartialDetail)?.firebreakPartial;
  }
  if (cause instanceof TimeoutFailure) {
    const last = cause.lastHeartbeatDetails as { partial?: unknown } | undefined;
    return last?.partial;
  }
  return undefined;
}
