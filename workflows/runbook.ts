/**
 * The runbook interpreter: runs a pinned runbook definition step by step as Temporal activities, waits at approval
 * gates for a human decision (a validated Update), and compensates completed steps in reverse when the execution
 * fails, is rejected, cancelled or asked to roll back. A succeeded execution stays open for its rollback window.
 *
 * While it waits long (at a gate, or held in its rollback window) a run continues as new before its history nears
 * Temporal's limits, handing its state to the next run of the same workflow ID (samples-typescript
 * `safe-message-handlers`). The pieces: runbook-state.ts (the state and its transitions), runbook-handlers.ts (the
 * messages), runbook-steps.ts (the steps), runbook-compensation.ts (the rollback), runbook-support.ts (shared helpers).
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  patched,
  setWorkflowOptions,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { durationMs } from '../runbooks/dsl/duration';
import { validateParams } from '../runbooks/dsl/params';
import type { ExpressionContext } from '../runbooks/dsl/types';
import {
  runbookProgressSignal,
  type ExecutionState,
  type ExecutionStatus,
  type RunbookWorkflowInput,
} from './messages';
import {
  DEFAULT_RESOURCE_WAIT,
  describeHolder,
  PATCH_RESOURCE_LOCK,
  ResourceLock,
  stepsLeaseMs,
} from './resource-lock';
import { resourceKeyOf } from './resource-messages';
import { PATCH_TARGET_ATTRIBUTES, SA, targetAttributes } from './search-attributes';
import { compensation } from './runbook-compensation';
import { registerHandlers } from './runbook-handlers';
import { EXECUTION_HISTORY_DEFAULTS, RunbookState, type RunbookCarry } from './runbook-state';
import { originalState, rollbackRequested, stepRunner } from './runbook-steps';
import { errorInfo, invalidDurations, unreachable, type Outcome, type RunContext } from './runbook-support';

export { DEFAULT_HEARTBEAT_TIMEOUT } from './runbook-support';
export { PATCH_ESCALATION, PATCH_DECISION_AT_DEADLINE } from './runbook-steps';

/** Progress signals go to the incident's current run (it continues as new), not to the run that started this one. */
export const PATCH_PROGRESS_TO_CURRENT_RUN = 'progress-to-current-incident-run';
/** Executions started before continue-as-new existed replay as they ran: they never continue as new. */
export const PATCH_CONTINUE_AS_NEW = 'runbook-continue-as-new';
/** A failed lock request fails the execution through its state (status, failure), as any other failure does. */
export const PATCH_LOCK_FAILURE_STATE = 'lock-request-failure-state';

export async function runbookWorkflow(input: RunbookWorkflowInput): Promise<ExecutionState> {
  const info = workflowInfo();
  const runbook = input.runbook;
  const now = (): string => new Date().toISOString(); // workflow time: deterministic on replay
  const carried = input.carried;
  const mayContinue = carried !== undefined || patched(PATCH_CONTINUE_AS_NEW);
  const limits = { ...EXECUTION_HISTORY_DEFAULTS, ...input.history };
  const startBytes = info.historySize;

  const rs = carried ? RunbookState.resume(input, carried, now) : RunbookState.start(input, info.workflowId, now);
  const state = rs.state;
  /** Progress signals in flight: a run that continues as new lets them leave first. */
  const pendingSignals = new Set<Promise<void>>();

  const parent = info.parent;
  const setStatus = (status: ExecutionStatus): void => {
    state.status = status;
    upsertSearchAttributes([{ key: SA.status, value: status }]);
    if (parent) {
      // The incident that started this execution follows it through these signals; a closed parent is no error. By
      // workflow ID alone: the incident continues as new, and its current run must hear (patched: a new command).
      const sent = getExternalWorkflowHandle(
        parent.workflowId,
        patched(PATCH_PROGRESS_TO_CURRENT_RUN) ? undefined : parent.runId,
      )
        .signal(runbookProgressSignal, {
          executionId: info.workflowId,
          status,
          pendingApproval: state.pendingApproval,
          failure: state.failure,
          rollback: state.rollback,
        })
        .catch((err) => log.warn('could not tell the incident about progress', { error: String(err) }));
      pendingSignals.add(sent);
      void sent.finally(() => pendingSignals.delete(sent));
    }
  };

  registerHandlers(rs, runbook);

  upsertSearchAttributes([
    { key: SA.kind, value: 'runbook' },
    { key: SA.runbookId, value: runbook.id },
    { key: SA.digest, value: input.digest },
    { key: SA.severity, value: state.severity },
    { key: SA.status, value: state.status },
    { key: SA.incidentType, value: runbook.incidentType },
  ]);
  const targetPairs = targetAttributes(input.target); // account and region, to filter by; a new command: patched
  if (targetPairs.length > 0 && patched(PATCH_TARGET_ATTRIBUTES)) upsertSearchAttributes(targetPairs);
  const resourceId = runbook.resource ? input.params?.[runbook.resource.param] : undefined;
  const resource =
    input.resource ?? (typeof resourceId === 'string' ? `${runbook.resource!.type}/${resourceId}` : undefined);
  if (resource) {
    state.resource = resource;
    upsertSearchAttributes([{ key: SA.resource, value: resource }]);
  }

  if (!carried) {
    // Invalid params fail the execution at once, with the field errors, before anything touches AWS.
    const checked = validateParams(runbook.params, input.params);
    if (!checked.ok) {
      state.failure = {
        message: `invalid params: ${checked.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
        type: 'InvalidParams',
        fieldErrors: checked.errors,
      };
      state.endedAt = now();
      setStatus('failed');
      throw ApplicationFailure.nonRetryable(state.failure.message, 'InvalidParams', checked.errors);
    }
    state.params = checked.value;

    // A duration the interpreter cannot read fails the execution now, before any step, not after the steps succeeded.
    const badDurations = invalidDurations(runbook);
    if (badDurations.length > 0) {
      state.failure = { message: `invalid runbook durations: ${badDurations.join('; ')}`, type: 'InvalidRunbook' };
      state.endedAt = now();
      setStatus('failed');
      throw ApplicationFailure.nonRetryable(state.failure.message, 'InvalidRunbook');
    }
  }

  // One containment per resource at a time (workflows/resource.ts): the execution holds its resource's lock while it
  // changes it. Histories recorded before the lock replay without it; a carried run keeps what the first run decided.
  const usesLock = carried ? carried.lock !== undefined : !!resource && patched(PATCH_RESOURCE_LOCK);
  const lock =
    usesLock && resource
      ? new ResourceLock(resourceKeyOf(input.target, resource), state, now, carried?.lock?.grant)
      : undefined;

  /** Temporal suggests it, or this run reached one of its bounds (bytes only after growing: no empty runs). */
  const shouldContinue = (): boolean => {
    if (!mayContinue) return false;
    const at = workflowInfo();
    return (
      at.continueAsNewSuggested ||
      rs.messagesThisRun >= limits.maxMessages ||
      at.historyLength >= limits.maxEvents ||
      (at.historySize >= limits.maxBytes && at.historySize - startBytes >= limits.maxBytes / 4)
    );
  };

  const ctx: RunContext = {
    executionId: info.workflowId,
    input,
    runbook,
    rs,
    state,
    now,
    setStatus,
    lock,
    shouldContinue,
    context: (): ExpressionContext => ({
      params: state.params,
      steps: rs.outputs,
      execution: {
        id: info.workflowId,
        runbookId: runbook.id,
        digest: input.digest,
        startedBy: input.startedBy.id,
        incidentId: input.incidentId,
      },
      incident: rs.incidentNews,
    }),
    stepContext: (stepId) => ({
      executionId: info.workflowId,
      runbookId: runbook.id,
      stepId,
      incidentId: input.incidentId,
      target: input.target,
    }),
  };
  const steps = stepRunner(ctx);

  /**
   * Hands the execution to a new run of the same workflow ID: nothing in flight is dropped (progress signals leave,
   * every handler finishes), and the state goes with it. Requests accepted meanwhile are carried too.
   */
  const continueRun = async (phase: RunbookCarry['phase']): Promise<never> => {
    while (pendingSignals.size > 0) await Promise.all([...pendingSignals]);
    await condition(allHandlersFinished);
    const at = workflowInfo();
    log.info('runbook execution continues as new', {
      phase,
      run: state.run ?? 1,
      messages: rs.messagesThisRun,
      events: at.historyLength,
      bytes: at.historySize,
    });
    // The search attributes go with the start, so lists and filters find the new run at once.
    return makeContinueAsNewFunc<typeof runbookWorkflow>({ typedSearchAttributes: at.typedSearchAttributes })({
      ...input,
      carried: rs.carry(phase, lock ? { grant: lock.held ? lock.granted : undefined } : undefined),
    });
  };

  /** Waits for the resource's lock before the first step; fails the execution, naming the holder, when it cannot. */
  const acquireResource = async (): Promise<void> => {
    if (!lock) return;
    const grant = await lock
      .acquire({
        purpose: 'contain',
        leaseMs: stepsLeaseMs(runbook),
        timeoutMs: durationMs(runbook.resource?.wait ?? DEFAULT_RESOURCE_WAIT),
        stop: () => rs.rollbackRequest !== undefined,
        onWaiting: (waiting) => setStatus(waiting ? 'waiting-resource' : 'running'),
      })
      .catch((err: unknown) => {
        // The request itself failed (its retries used up, or a final failure such as a record on another queue).
        // Said in the state, as any failure is; before the patch the execution failed with its state still `running`.
        if (isCancellation(err) || !patched(PATCH_LOCK_FAILURE_STATE)) throw err;
        const info = errorInfo(err);
        if (state.resourceLock?.status === 'waiting') state.resourceLock.status = 'abandoned';
        state.failure = { ...info, message: `resource ${resource}: ${info.message}; nothing was changed` };
        state.endedAt = now();
        setStatus('failed');
        throw ApplicationFailure.create({
          message: state.failure.message,
          type: info.type ?? 'ResourceLockFailed',
          nonRetryable: true,
          cause: err instanceof Error ? err : undefined,
        });
      });
    if (grant || rs.rollbackRequest) return;
    const holder = state.resourceLock?.holder;
    state.failure = {
      message:
        `resource ${resource} is held by ${holder ? describeHolder(holder) : 'another execution'}; ` +
        `waited until ${state.resourceLock?.waitUntil}; nothing was changed`,
      type: 'ResourceBusy',
      details: holder && { holder },
    };
    state.endedAt = now();
    setStatus('failed');
    throw ApplicationFailure.nonRetryable(state.failure.message, 'ResourceBusy', holder);
  };

  /**
   * Stays open (status succeeded) so the containment can still be rolled back, e.g. to release an instance. A window
   * extension moves rollbackWindowUntil and wakes this wait (the first timer is the same as ever).
   */
  const hold = async (): Promise<Outcome> => {
    let outcome: Outcome = { kind: 'completed' };
    for (;;) {
      const until = state.rollbackWindowUntil!;
      const wake = () => rs.rollbackRequest !== undefined || state.rollbackWindowUntil !== until || shouldContinue();
      // (Only a carried run can find its window already over: condition() takes no timeout of 0.)
      const remaining = Date.parse(until) - Date.now();
      const woke = remaining > 0 ? await condition(wake, remaining) : wake();
      if (!woke) break;
      if (rs.rollbackRequest) {
        outcome = rollbackRequested(ctx);
        break;
      }
      if (shouldContinue()) return { kind: 'continue' };
    }
    state.rollbackWindowUntil = undefined;
    return outcome;
  };

  let outcome: Outcome;
  try {
    if (carried?.phase === 'hold') {
      outcome = await hold();
    } else {
      if (!carried) await acquireResource();
      outcome = await steps.runSteps(carried?.state.pendingApproval?.stepId);
      if (outcome.kind === 'completed') {
        state.endedAt = now();
        // The window opens with the success, in the same state change: a reader never sees `succeeded` without it.
        if (runbook.rollbackWindow !== undefined) {
          state.rollbackWindowUntil = new Date(Date.now() + durationMs(runbook.rollbackWindow)).toISOString();
        }
        setStatus('succeeded');
        // The change stays on the resource: its record keeps this containment (and the original) while it can still
        // be released; without a rollback window the change is for good and nothing is held.
        await lock?.release(runbook.rollbackWindow !== undefined ? 'contained' : 'unchanged', originalState(ctx));
        if (state.rollbackWindowUntil !== undefined) outcome = await hold();
      }
    }
    if (outcome.kind === 'continue') return await continueRun(state.status === 'succeeded' ? 'hold' : 'gate');
  } catch (err) {
    if (!isCancellation(err)) throw err;
    outcome = { kind: 'rollback', trigger: 'cancelled', reason: 'execution cancelled' };
  }

  // Completed (a hand-over to the next run returned above).
  if (outcome.kind !== 'rollback') return state;

  state.rollback = {
    trigger: outcome.trigger,
    reason: outcome.reason,
    requestedBy: outcome.trigger === 'requested' ? rs.rollbackRequest?.requestedBy : undefined,
    startedAt: now(),
  };
  state.failure = outcome.failure;
  setStatus('rolling-back');
  // Compensation must finish even when the execution is being cancelled.
  const complete = await CancellationScope.nonCancellable(compensation(ctx).compensate);
  state.rollback.endedAt = now();
  state.rollback.complete = complete;
  state.endedAt = now();

  switch (outcome.trigger) {
    case 'cancelled':
      setStatus('cancelled');
      throw new CancelledFailure('execution cancelled; completed steps rolled back');
    case 'step-failed':
    case 'approval-timeout':
      if (outcome.failure) {
        setStatus('failed');
        throw ApplicationFailure.create({
          message: outcome.failure.message,
          type: outcome.failure.type ?? 'StepFailed',
          nonRetryable: true,
          details: [{ stepId: outcome.failure.stepId, rollbackComplete: complete }],
          cause: outcome.cause instanceof Error ? outcome.cause : undefined,
        });
      }
      setStatus('rolled-back');
      return state;
    case 'rejected':
    case 'requested':
      setStatus('rolled-back');
      return state;
    default:
      return unreachable(outcome.trigger);
  }
}

// Any error thrown in this workflow's code (a bug, an expression that throws) fails the execution with its message
// instead of retrying the workflow task forever. Nondeterminism found by replay still retries the task (Worker option).
setWorkflowOptions({ failureExceptionTypes: [Error] }, runbookWorkflow);
