/**
 * The runbook interpreter's shared pieces: what one run works with (`RunContext`), how a step's activity is called,
 * and the pure helpers that read failures and definitions. workflows/runbook.ts drives a run; runbook-steps.ts and
 * runbook-compensation.ts do the steps and their undoing.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  TimeoutFailure,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { durationMs } from '../runbooks/dsl/duration';
import type { ActivityEnvelope, AttemptDetail } from '../activities/envelope';
import type { StepContext } from '../activities/schemas';
import type { Duration, ExpressionContext, RetryPolicy, RunbookDefinition, Step } from '../runbooks/dsl/types';
import type { ErrorInfo, ExecutionState, ExecutionStatus, RollbackTrigger, RunbookWorkflowInput } from './messages';
import type { ResourceLock } from './resource-lock';
import { isPartialDetail } from './rollback';
import type { RunbookState } from './runbook-state';
import { DEFAULT_HEARTBEAT_TIMEOUT, DEFAULT_RETRY, DEFAULT_TIMEOUT } from './step-defaults';
import { isSlowAction, slowTaskQueue } from './task-queues';

export { DEFAULT_HEARTBEAT_TIMEOUT } from './step-defaults';
/** Outputs larger than this are summarised in the queryable state (the full output stays in history). */
const MAX_OUTPUT_BYTES = 8 * 1024;

/** How the steps ended: all done, a rollback, or a hand-over to a new run (continue-as-new) while at a gate. */
export type Outcome =
  | { kind: 'completed' }
  | { kind: 'continue' }
  | {
      kind: 'rollback';
      trigger: RollbackTrigger;
      reason: string;
      failure?: ExecutionState['failure'];
      cause?: unknown;
    };

export type Activity = (input: unknown) => Promise<ActivityEnvelope>;

/** What one run of the interpreter works with. */
export interface RunContext {
  executionId: string;
  input: RunbookWorkflowInput;
  runbook: RunbookDefinition;
  rs: RunbookState;
  state: ExecutionState;
  /** Workflow time, deterministic on replay. */
  now(): string;
  setStatus(status: ExecutionStatus): void;
  /** The resource's lock, when the execution names a resource (and its history has the lock). */
  lock?: ResourceLock;
  context(): ExpressionContext;
  stepContext(stepId: string): StepContext;
  /** Whether this run should hand over to a new one now (only asked where the execution waits). */
  shouldContinue(): boolean;
}

export const activity = (
  name: string,
  activityId: string,
  spec: { timeout?: Duration; retry?: RetryPolicy; heartbeatTimeout?: Duration; scheduleToClose?: Duration },
) => {
  const options: ActivityOptions = {
    activityId,
    startToCloseTimeout: spec.timeout ?? DEFAULT_TIMEOUT,
    heartbeatTimeout: spec.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT,
    retry: temporalRetry({ ...DEFAULT_RETRY, ...spec.retry }),
    ...(spec.scheduleToClose !== undefined ? { scheduleToCloseTimeout: spec.scheduleToClose } : {}),
    // Slow actions get their own queue and worker slots (workflows/task-queues.ts). Replay does not compare an
    // activity's task queue (only its ID and type), so older histories replay unchanged without a patch.
    ...(isSlowAction(name) ? { taskQueue: slowTaskQueue(workflowInfo().taskQueue) } : {}),
  };
  return proxyActivities<Record<string, Activity>>(options)[name];
};

/** `path: value` of every duration in the definition that is not a positive duration. */
export function invalidDurations(runbook: RunbookDefinition): string[] {
  const out: string[] = [];
  const check = (d: Duration | undefined, path: string) => {
    if (d === undefined) return;
    let ms = NaN;
    try {
      ms = durationMs(d);
    } catch {
      // reported below
    }
    if (!(ms > 0) || !Number.isFinite(ms)) out.push(`${path} ${JSON.stringify(d)}`);
  };
  const checkRetry = (r: RetryPolicy | undefined, path: string) => {
    check(r?.initialInterval, `${path}.retry.initialInterval`);
    check(r?.maximumInterval, `${path}.retry.maximumInterval`);
  };
  check(runbook.rollbackWindow, 'rollbackWindow');
  check(runbook.rollbackRetryWindow, 'rollbackRetryWindow');
  check(runbook.resource?.wait, 'resource.wait');
  check(runbook.rollbackRetry?.scheduleToClose, 'rollbackRetry.scheduleToClose');
  checkRetry(runbook.rollbackRetry?.retry, 'rollbackRetry');
  for (const step of runbook.steps as Step[]) {
    const at = `steps.${step.id}`;
    check(step.timeout, `${at}.timeout`);
    if (step.kind !== 'action') continue;
    check(step.heartbeatTimeout, `${at}.heartbeatTimeout`);
    checkRetry(step.retry, at);
    check(step.rollback?.timeout, `${at}.rollback.timeout`);
    checkRetry(step.rollback?.retry, `${at}.rollback`);
    check(step.rollback?.scheduleToClose, `${at}.rollback.scheduleToClose`);
  }
  return out;
}

/** The DSL's `maximumAttempts: 0` (no limit, as in Temporal's protocol; JSON has no Infinity) for the TS SDK. */
function temporalRetry(retry: RetryPolicy): RetryPolicy {
  return retry.maximumAttempts === 0 ? { ...retry, maximumAttempts: Number.POSITIVE_INFINITY } : retry;
}

export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

export function summarise(output: unknown): unknown {
  const json = JSON.stringify(output) ?? 'null';
  if (json.length <= MAX_OUTPUT_BYTES) return output;
  return {
    summary: `output of ${json.length} bytes, see history`,
    keys: output && typeof output === 'object' ? Object.keys(output) : [],
  };
}

/** The useful part of a failure: an activity's ApplicationFailure, not the ActivityFailure wrapper. */
export function errorInfo(err: unknown): ErrorInfo {
  let e: unknown = err;
  if (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) {
    // The attempt and the partial changes have their own fields in the step's state.
    const details = (e.details ?? []).filter((d) => !isAttemptDetail(d) && !isPartialDetail(d));
    return { message: e.message, type: e.type ?? undefined, details: details.length > 0 ? details : undefined };
  }
  if (e instanceof TimeoutFailure) return { message: `activity timed out (${e.timeoutType})`, type: 'Timeout' };
  if (e instanceof Error) return { message: e.message, type: e.name };
  return { message: String(e) };
}

function isAttemptDetail(d: unknown): d is AttemptDetail {
  return typeof d === 'object' && d !== null && typeof (d as AttemptDetail).firebreakAttempt === 'number';
}

/** How many attempts a failed activity made: from the worker's attempt detail, else the retry policy's maximum. */
export function attemptsOf(err: unknown, retry: RetryPolicy | undefined): number | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    const detail = (cause.details ?? []).find(isAttemptDetail);
    if (detail) return detail.firebreakAttempt;
  }
  return err instanceof ActivityFailure ? (retry?.maximumAttempts ?? DEFAULT_RETRY.maximumAttempts) : undefined;
}
