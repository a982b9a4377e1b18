/**
 * The runbook interpreter: runs a pinned runbook definition step by step as Temporal activities, waits at approval
 * gates for a human decision (a validated Update), and compensates completed steps in reverse when the execution
 * fails, is rejected, cancelled or asked to roll back.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { ActivityEnvelope, AttemptDetail } from '../activities/envelope';
import type { StepContext } from '../activities/schemas';
import { evaluate, resolveValue } from '../runbooks/dsl/expressions';
import { validateParams } from '../runbooks/dsl/params';
import type {
  ActionStep,
  ApprovalStep,
  ExpressionContext,
  IncidentNews,
  RetryPolicy,
  Step,
  WaitStep,
} from '../runbooks/dsl/types';
import {
  approvalUpdate,
  RejectionType,
  incidentNewsSignal,
  rollbackUpdate,
  runbookProgressSignal,
  stateQuery,
  TERMINAL_STATUSES,
  type ApprovalRecord,
  type ErrorInfo,
  type ExecutionState,
  type ExecutionStatus,
  type RollbackRequest,
  type RollbackTrigger,
  type RunbookWorkflowInput,
  type StepState,
} from './messages';
import { SA } from './search-attributes';

const DEFAULT_TIMEOUT = '2m';
const DEFAULT_RETRY: Required<Omit<RetryPolicy, 'nonRetryableErrorTypes'>> = {
  maximumAttempts: 5,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
};
/** Outputs larger than this are summarised in the queryable state (the full output stays in history). */
const MAX_OUTPUT_BYTES = 8 * 1024;

type Outcome =
  | { kind: 'completed' }
  | {
      kind: 'rollback';
      trigger: RollbackTrigger;
      reason: string;
      failure?: ExecutionState['failure'];
      cause?: unknown;
    };

type Activity = (input: unknown) => Promise<ActivityEnvelope>;

export async function runbookWorkflow(input: RunbookWorkflowInput): Promise<ExecutionState> {
  const info = workflowInfo();
  const runbook = input.runbook;
  const now = (): string => new Date().toISOString(); // workflow time: deterministic on replay

  const state: ExecutionState = {
    executionId: info.workflowId,
    runbookId: runbook.id,
    runbookVersion: runbook.version,
    title: runbook.title,
    digest: input.digest,
    severity: input.severity ?? runbook.severity,
    incidentId: input.incidentId,
    target: input.target,
    params: input.params,
    startedBy: input.startedBy,
    reason: input.reason,
    status: 'running',
    startedAt: now(),
    steps: runbook.steps.map((s) => ({
      id: s.id,
      kind: s.kind,
      title: s.title,
      action: s.kind === 'action' ? s.action : undefined,
      status: 'pending',
      attempts: 0,
    })),
  };
  const stepState = (id: string): StepState => state.steps.find((s) => s.id === id)!;
  const outputs: ExpressionContext['steps'] = {};
  let rollbackRequest: RollbackRequest | undefined;
  let incidentNews: IncidentNews = input.incident ?? { alertState: input.incidentId ? 'firing' : 'unknown' };
  /** Bumped on every piece of news, so a wait step re-checks its condition. */
  let newsVersion = 0;

  const parent = info.parent;
  const setStatus = (status: ExecutionStatus): void => {
    state.status = status;
    upsertSearchAttributes([{ key: SA.status, value: status }]);
    if (parent) {
      // The incident that started this execution follows it through these signals; a closed parent is no error.
      void getExternalWorkflowHandle(parent.workflowId, parent.runId)
        .signal(runbookProgressSignal, {
          executionId: info.workflowId,
          status,
          pendingApproval: state.pendingApproval,
          failure: state.failure,
          rollback: state.rollback,
        })
        .catch((err) => log.warn('could not tell the incident about progress', { error: String(err) }));
    }
  };

  setHandler(stateQuery, () => state);
  setHandler(incidentNewsSignal, (news) => {
    incidentNews = news;
    newsVersion++;
  });

  setHandler(
    approvalUpdate,
    (decision) => {
      const record: ApprovalRecord = {
        stepId: decision.stepId,
        decision: decision.decision,
        comment: decision.comment,
        decidedBy: decision.decidedBy,
        decidedAt: now(),
        via: 'human',
      };
      stepState(decision.stepId).approval = record;
      log.info('approval decided', { stepId: decision.stepId, decision: decision.decision, by: decision.decidedBy.id });
      return record;
    },
    {
      validator: (decision) => {
        const step = runbook.steps.find((s) => s.id === decision.stepId);
        if (!step || step.kind !== 'approval') {
          throw ApplicationFailure.nonRetryable(
            `no approval step "${decision.stepId}" in this runbook`,
            RejectionType.unknownStep,
          );
        }
        if (decision.decision !== 'approve' && decision.decision !== 'reject') {
          throw ApplicationFailure.nonRetryable('decision must be approve or reject', RejectionType.invalid);
        }
        if (!decision.decidedBy?.id)
          throw ApplicationFailure.nonRetryable('a decision needs an identity', RejectionType.invalid);
        const current = stepState(step.id);
        if (state.pendingApproval?.stepId !== step.id || current.approval) {
          const why = current.approval
            ? `already decided (${current.approval.decision} by ${current.approval.decidedBy.id})`
            : `not pending (step is ${current.status})`;
          throw ApplicationFailure.nonRetryable(`approval "${step.id}" is ${why}`, RejectionType.notPending);
        }
        const required = step.approvers?.roles ?? [];
        const held = decision.decidedBy.roles ?? [];
        if (required.length > 0 && !held.includes('*') && !required.some((r) => held.includes(r))) {
          throw ApplicationFailure.nonRetryable(
            `approval "${step.id}" needs one of the roles ${required.join(', ')}`,
            RejectionType.forbidden,
          );
        }
      },
    },
  );

  setHandler(
    rollbackUpdate,
    (request) => {
      rollbackRequest = request;
      log.info('rollback requested', { by: request.requestedBy.id, reason: request.reason });
      return { accepted: true as const, status: state.status };
    },
    {
      validator: (request) => {
        if (!request?.reason || !request.requestedBy?.id) {
          throw ApplicationFailure.nonRetryable(
            'a rollback request needs a reason and an identity',
            RejectionType.invalid,
          );
        }
        if (rollbackRequest || state.rollback) {
          throw ApplicationFailure.nonRetryable('a rollback is already under way or done', RejectionType.notRunning);
        }
        const inWindow = state.status === 'succeeded' && state.rollbackWindowUntil !== undefined;
        if (TERMINAL_STATUSES.includes(state.status) && !inWindow) {
          throw ApplicationFailure.nonRetryable(`execution is ${state.status}`, RejectionType.notRunning);
        }
      },
    },
  );

  upsertSearchAttributes([
    { key: SA.kind, value: 'runbook' },
    { key: SA.runbookId, value: runbook.id },
    { key: SA.digest, value: input.digest },
    { key: SA.severity, value: state.severity },
    { key: SA.status, value: state.status },
    { key: SA.incidentType, value: runbook.incidentType },
  ]);
  const resourceId = runbook.resource ? input.params?.[runbook.resource.param] : undefined;
  const resource =
    input.resource ?? (typeof resourceId === 'string' ? `${runbook.resource!.type}/${resourceId}` : undefined);
  if (resource) {
    state.resource = resource;
    upsertSearchAttributes([{ key: SA.resource, value: resource }]);
  }

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

  const context = (): ExpressionContext => ({
    params: state.params,
    steps: outputs,
    execution: {
      id: info.workflowId,
      runbookId: runbook.id,
      digest: input.digest,
      startedBy: input.startedBy.id,
      incidentId: input.incidentId,
    },
    incident: incidentNews,
  });
  const stepContext = (stepId: string): StepContext => ({
    executionId: info.workflowId,
    runbookId: runbook.id,
    stepId,
    incidentId: input.incidentId,
    target: input.target,
  });

  const activity = (
    name: string,
    activityId: string,
    spec: Pick<ActionStep, 'timeout' | 'retry' | 'heartbeatTimeout'>,
  ) => {
    const options: ActivityOptions = {
      activityId,
      startToCloseTimeout: spec.timeout ?? DEFAULT_TIMEOUT,
      heartbeatTimeout: spec.heartbeatTimeout,
      retry: { ...DEFAULT_RETRY, ...spec.retry },
    };
    return proxyActivities<Record<string, Activity>>(options)[name];
  };

  // An activity runs to its end even when a cancellation arrives: a half-done AWS change that the rollback does not
  // know of would be worse than waiting for the step. The next await then sees the cancellation.
  const runActivity = (fn: Activity, activityInput: unknown) =>
    CancellationScope.nonCancellable(() => fn(activityInput));

  const runAction = async (step: ActionStep, st: StepState): Promise<Outcome | undefined> => {
    st.status = 'running';
    st.startedAt = now();
    try {
      const withBlock = (await resolveValue(step.with, context())) as Record<string, unknown>;
      const envelope = await runActivity(activity(step.action, step.id, step), {
        ...withBlock,
        ctx: stepContext(step.id),
      });
      st.status = 'succeeded';
      st.attempts = envelope.attempt;
      st.output = summarise(envelope.output);
      outputs[step.id] = { status: 'succeeded', output: envelope.output };
      return undefined;
    } catch (err) {
      if (isCancellation(err)) throw err;
      st.status = 'failed';
      st.error = errorInfo(err);
      st.attempts = attemptsOf(err, step.retry) ?? st.attempts;
      outputs[step.id] = { status: 'failed' };
      log.warn('step failed', { stepId: step.id, error: st.error.message });
      if (step.continueOnError) return undefined;
      return {
        kind: 'rollback',
        trigger: 'step-failed',
        reason: `step ${step.id} failed: ${st.error.message}`,
        failure: { ...st.error, stepId: step.id },
        cause: err,
      };
    } finally {
      st.endedAt = now();
    }
  };

  const runApproval = async (step: ApprovalStep, st: StepState): Promise<Outcome | undefined> => {
    const timeoutMs = msToNumber(step.timeout);
    st.status = 'waiting-approval';
    st.startedAt = now();
    st.deadline = new Date(Date.now() + timeoutMs).toISOString();
    state.pendingApproval = {
      stepId: step.id,
      title: step.title,
      instructions: step.instructions,
      roles: step.approvers?.roles,
      deadline: st.deadline,
      onTimeout: step.onTimeout,
    };
    setStatus('waiting-approval');
    const settled = await condition(() => st.approval !== undefined || rollbackRequest !== undefined, timeoutMs);
    state.pendingApproval = undefined;
    st.endedAt = now();
    if (!st.approval && rollbackRequest) {
      st.status = 'pending';
      st.endedAt = undefined;
      return undefined; // the loop turns the request into a rollback
    }
    setStatus('running');
    if (!settled) {
      st.approval = {
        stepId: step.id,
        decision: step.onTimeout === 'approve' ? 'approve' : 'reject',
        decidedBy: { id: 'system:deadline' },
        decidedAt: now(),
        via: 'timeout',
        comment: `no decision before ${st.deadline}; onTimeout=${step.onTimeout}`,
      };
      switch (step.onTimeout) {
        case 'approve':
          st.status = 'succeeded';
          return undefined;
        case 'reject':
          st.status = 'rejected';
          return {
            kind: 'rollback',
            trigger: 'approval-timeout',
            reason: `approval ${step.id} timed out (onTimeout=reject)`,
          };
        case 'fail':
          st.status = 'failed';
          st.error = { message: `approval deadline ${st.deadline} passed without a decision`, type: 'ApprovalTimeout' };
          return {
            kind: 'rollback',
            trigger: 'approval-timeout',
            reason: `approval ${step.id} timed out (onTimeout=fail)`,
            failure: { ...st.error, stepId: step.id },
          };
        default:
          return unreachable(step.onTimeout);
      }
    }
    const decision = st.approval!;
    if (decision.decision === 'approve') {
      st.status = 'succeeded';
      outputs[step.id] = {
        status: 'succeeded',
        output: { decidedBy: decision.decidedBy.id, comment: decision.comment },
      };
      return undefined;
    }
    st.status = 'rejected';
    outputs[step.id] = { status: 'rejected' };
    return {
      kind: 'rollback',
      trigger: 'rejected',
      reason: `approval ${step.id} rejected by ${decision.decidedBy.id}`,
    };
  };

  const runWait = async (step: WaitStep, st: StepState): Promise<Outcome | undefined> => {
    st.status = 'waiting';
    st.startedAt = now();
    const deadlineMs = Date.now() + msToNumber(step.timeout);
    st.deadline = new Date(deadlineMs).toISOString();
    for (;;) {
      if (await evaluate(step.until, context())) {
        st.status = 'succeeded';
        st.endedAt = now();
        outputs[step.id] = { status: 'succeeded', output: { incident: incidentNews } };
        return undefined;
      }
      const seen = newsVersion;
      const remaining = deadlineMs - Date.now();
      const woke =
        remaining > 0 && (await condition(() => newsVersion !== seen || rollbackRequest !== undefined, remaining));
      if (rollbackRequest) {
        st.status = 'pending';
        return undefined; // the loop turns the request into a rollback
      }
      if (woke) continue;
      st.endedAt = now();
      st.status = 'failed';
      st.error = { message: `"${step.until}" did not hold before ${st.deadline}`, type: 'WaitTimeout' };
      outputs[step.id] = { status: 'failed' };
      if (step.onTimeout === 'continue') return undefined;
      return {
        kind: 'rollback',
        trigger: 'step-failed',
        reason: `step ${step.id} timed out waiting for ${step.until}`,
        failure: { ...st.error, stepId: step.id },
      };
    }
  };

  const requested = (): Outcome => ({
    kind: 'rollback',
    trigger: 'requested',
    reason: rollbackRequest!.reason,
  });

  const runSteps = async (): Promise<Outcome> => {
    for (const step of runbook.steps as Step[]) {
      if (rollbackRequest) return requested();
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('execution cancelled');
      const st = stepState(step.id);
      if (step.when !== undefined && !(await evaluate(step.when, context()))) {
        st.status = 'skipped';
        outputs[step.id] = { status: 'skipped' };
        continue;
      }
      let outcome: Outcome | undefined;
      switch (step.kind) {
        case 'action':
          outcome = await runAction(step, st);
          break;
        case 'approval':
          outcome = await runApproval(step, st);
          break;
        case 'wait':
          outcome = await runWait(step, st);
          break;
        default:
          return unreachable(step);
      }
      if (outcome) return outcome;
    }
    if (rollbackRequest) return requested();
    return { kind: 'completed' };
  };

  /** Compensates completed steps in reverse; every failure is recorded and the rest still run. */
  const rollBack = async (): Promise<boolean> => {
    let complete = true;
    for (const step of [...runbook.steps].reverse()) {
      const st = stepState(step.id);
      if (step.kind !== 'action' || !step.rollback || st.status !== 'succeeded') continue;
      const record = (st.rollback = { action: step.rollback.action, status: 'running' as const, startedAt: now() });
      try {
        const withBlock = (await resolveValue(step.rollback.with, context())) as Record<string, unknown>;
        const envelope = await activity(
          step.rollback.action,
          `rollback:${step.id}`,
          step.rollback,
        )({
          ...withBlock,
          ctx: stepContext(`rollback:${step.id}`),
        });
        st.rollback = {
          ...record,
          status: 'succeeded',
          endedAt: now(),
          attempts: envelope.attempt,
          output: summarise(envelope.output),
        };
        st.status = 'rolled-back';
      } catch (err) {
        complete = false;
        st.rollback = {
          ...record,
          status: 'failed',
          endedAt: now(),
          error: errorInfo(err),
          attempts: attemptsOf(err, step.rollback.retry),
        };
        st.status = 'rollback-failed';
        log.error('rollback step failed', { stepId: step.id, error: st.rollback.error?.message });
      }
    }
    return complete;
  };

  let outcome: Outcome;
  try {
    outcome = await runSteps();
    if (outcome.kind === 'completed') {
      state.endedAt = now();
      setStatus('succeeded');
      if (runbook.rollbackWindow !== undefined) {
        const windowMs = msToNumber(runbook.rollbackWindow);
        state.rollbackWindowUntil = new Date(Date.now() + windowMs).toISOString();
        // Stay open (status succeeded) so the containment can still be rolled back, e.g. to release an instance.
        if (await condition(() => rollbackRequest !== undefined, windowMs)) outcome = requested();
        state.rollbackWindowUntil = undefined;
      }
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    outcome = { kind: 'rollback', trigger: 'cancelled', reason: 'execution cancelled' };
  }

  if (outcome.kind === 'completed') return state;

  state.rollback = {
    trigger: outcome.trigger,
    reason: outcome.reason,
    requestedBy: outcome.trigger === 'requested' ? rollbackRequest?.requestedBy : undefined,
    startedAt: now(),
  };
  state.failure = outcome.failure;
  setStatus('rolling-back');
  // Compensation must finish even when the execution is being cancelled.
  const complete = await CancellationScope.nonCancellable(rollBack);
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

function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

function summarise(output: unknown): unknown {
  const json = JSON.stringify(output) ?? 'null';
  if (json.length <= MAX_OUTPUT_BYTES) return output;
  return {
    summary: `output of ${json.length} bytes, see history`,
    keys: output && typeof output === 'object' ? Object.keys(output) : [],
  };
}

/** The useful part of a failure: an activity's ApplicationFailure, not the ActivityFailure wrapper. */
function errorInfo(err: unknown): ErrorInfo {
  let e: unknown = err;
  if (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof ApplicationFailure) {
    const details = (e.details ?? []).filter((d) => !isAttemptDetail(d));
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
function attemptsOf(err: unknown, retry: RetryPolicy | undefined): number | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    const detail = (cause.details ?? []).find(isAttemptDetail);
    if (detail) return detail.firebreakAttempt;
  }
  return err instanceof ActivityFailure ? (retry?.maximumAttempts ?? DEFAULT_RETRY.maximumAttempts) : undefined;
}
