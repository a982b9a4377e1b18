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
  patched,
  proxyActivities,
  setHandler,
  sleep,
  setWorkflowOptions,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { durationMs } from '../runbooks/dsl/duration';
import type { ActivityEnvelope, AttemptDetail } from '../activities/envelope';
import type { StepContext } from '../activities/schemas';
import { evaluate, resolveValue } from '../runbooks/dsl/expressions';
import { validateParams } from '../runbooks/dsl/params';
import type {
  ActionStep,
  ApprovalStep,
  EscalationTier,
  Duration,
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
  type ApprovalResult,
  type EscalationRecord,
  type ErrorInfo,
  type ExecutionState,
  type ExecutionStatus,
  type RollbackRequest,
  type RollbackTrigger,
  type RunbookWorkflowInput,
  type NextAction,
  type StepState,
} from './messages';
import { decisionRefusal, gatePolicy, holdsRole, releaseRoles } from './approval-policy';
import {
  DEFAULT_RESOURCE_WAIT,
  describeHolder,
  PATCH_RESOURCE_LOCK,
  RELEASE_WAIT,
  ResourceLock,
  rollbackLeaseMs,
  stepsLeaseMs,
} from './resource-lock';
import {
  isPartialDetail,
  partialOf,
  PATCH_ROLLBACK_RETRY,
  rollbackOptions,
  rollbackRetryWindowMs,
  rollbackScheduleToCloseMs,
} from './rollback';
import { resourceKeyOf } from './resource-messages';
import { PATCH_TARGET_ATTRIBUTES, SA, targetAttributes } from './search-attributes';
import { handleWindowExtensions } from './release-window';

/**
 * Patches (samples-typescript `patching-api`): histories recorded before these changes replay unchanged.
 * - escalation: timers and `sns.publish` activities while a gate with an escalation chain is pending;
 * - decision-at-deadline: a human decision accepted as the deadline fired wins over the timeout (before, the timeout
 *   overwrote it).
 */
export const PATCH_ESCALATION = 'approval-escalation';
export const PATCH_DECISION_AT_DEADLINE = 'approval-decision-wins-at-deadline';
/** Progress signals go to the incident's current run (it continues as new), not to the run that started this one. */
export const PATCH_PROGRESS_TO_CURRENT_RUN = 'progress-to-current-incident-run';

const DEFAULT_TIMEOUT = '2m';
/**
 * Every activity gets a heartbeat timeout (the worker heartbeats in the background while one runs, see
 * activities/envelope.ts), so a step on a worker that died is retried within this time, not its start-to-close.
 */
export const DEFAULT_HEARTBEAT_TIMEOUT = '15s';
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
  /** A request to retry the compensations that still failed (status `rollback-failed`). */
  let retryRequest: RollbackRequest | undefined;
  let incidentNews: IncidentNews = input.incident ?? { alertState: input.incidentId ? 'firing' : 'unknown' };
  /** Bumped on every piece of news, so a wait step re-checks its condition. */
  let newsVersion = 0;

  const parent = info.parent;
  const setStatus = (status: ExecutionStatus): void => {
    state.status = status;
    upsertSearchAttributes([{ key: SA.status, value: status }]);
    if (parent) {
      // The incident that started this execution follows it through these signals; a closed parent is no error. By
      // workflow ID alone: the incident continues as new, and its current run must hear (patched: a new command).
      void getExternalWorkflowHandle(
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
    }
  };

  setHandler(stateQuery, () => state);
  setHandler(incidentNewsSignal, (news) => {
    incidentNews = news;
    newsVersion++;
  });

  const approvalStep = (stepId: string): ApprovalStep | undefined => {
    const step = runbook.steps.find((s) => s.id === stepId);
    return step?.kind === 'approval' ? step : undefined;
  };
  /** Why no decision can be recorded on this gate now (409), or undefined while it is open. */
  const closedReason = (step: ApprovalStep): string | undefined => {
    const current = stepState(step.id);
    if (current.approval) {
      return `approval "${step.id}" is already decided (${current.approval.decision} by ${current.approval.decidedBy.id})`;
    }
    if (state.pendingApproval?.stepId !== step.id)
      return `approval "${step.id}" is not pending (step is ${current.status})`;
    return undefined;
  };

  setHandler(
    approvalUpdate,
    (decision): ApprovalResult => {
      const step = approvalStep(decision.stepId)!;
      const st = stepState(step.id);
      // The validator ran just before (synchronously); re-checked so that no path can count a decision twice or on a
      // closed gate. Policy (roles, four-eyes) is the validator's alone: validators do not run on replay.
      const closed = closedReason(step);
      if (closed) throw ApplicationFailure.nonRetryable(closed, RejectionType.notPending);
      if ((st.approvals ?? []).some((a) => a.decidedBy.id === decision.decidedBy.id)) {
        throw ApplicationFailure.nonRetryable(`${decision.decidedBy.id} already decided`, RejectionType.duplicate);
      }
      const record: ApprovalRecord = {
        stepId: decision.stepId,
        decision: decision.decision,
        comment: decision.comment,
        decidedBy: decision.decidedBy,
        decidedAt: now(),
        via: 'human',
      };
      const { min } = gatePolicy(step);
      if (decision.decision === 'reject') {
        st.approval = record; // one rejection decides the gate
      } else {
        st.approvals = [...(st.approvals ?? []), record];
        if (st.approvals.length >= min) st.approval = record;
      }
      const approvalsNeeded = st.approval ? 0 : min - (st.approvals?.length ?? 0);
      if (state.pendingApproval?.stepId === step.id) {
        state.pendingApproval.approvedBy = (st.approvals ?? []).map((a) => ({
          id: a.decidedBy.id,
          at: a.decidedAt,
          comment: a.comment,
        }));
        state.pendingApproval.approvalsNeeded = approvalsNeeded;
      }
      log.info('approval decided', { stepId: step.id, decision: decision.decision, by: decision.decidedBy.id });
      const gate = !st.approval ? 'pending' : st.approval.decision === 'approve' ? 'approved' : 'rejected';
      return { ...record, gate, approvalsNeeded };
    },
    {
      validator: (decision) => {
        const step = approvalStep(decision?.stepId);
        if (!step) {
          throw ApplicationFailure.nonRetryable(
            `no approval step "${decision?.stepId}" in this runbook`,
            RejectionType.unknownStep,
          );
        }
        if (decision.decision !== 'approve' && decision.decision !== 'reject') {
          throw ApplicationFailure.nonRetryable('decision must be approve or reject', RejectionType.invalid);
        }
        if (!decision.decidedBy?.id)
          throw ApplicationFailure.nonRetryable('a decision needs an identity', RejectionType.invalid);
        const closed = closedReason(step);
        if (closed) throw ApplicationFailure.nonRetryable(closed, RejectionType.notPending);
        const refusal = decisionRefusal({
          stepId: step.id,
          policy: gatePolicy(step),
          startedBy: state.startedBy,
          approvals: stepState(step.id).approvals ?? [],
          principal: decision.decidedBy,
          decision: decision.decision,
        });
        if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.type);
      },
    },
  );

  setHandler(
    rollbackUpdate,
    (request) => {
      if (state.status === 'rollback-failed' && state.rollback) {
        retryRequest = request;
        state.rollback.retries = [
          ...(state.rollback.retries ?? []),
          { requestedBy: request.requestedBy, requestedAt: now(), reason: request.reason },
        ];
        log.info('rollback retry requested', { by: request.requestedBy.id, reason: request.reason });
        return { accepted: true as const, status: state.status };
      }
      rollbackRequest = request;
      if (state.status === 'succeeded') {
        state.release = {
          requestedBy: request.requestedBy,
          requestedAt: now(),
          reason: request.reason,
          roles: releaseRoles(runbook),
        };
      }
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
        if (state.status === 'rollback-failed') {
          if (retryRequest) {
            throw ApplicationFailure.nonRetryable('a rollback retry is already requested', RejectionType.notRunning);
          }
          // Retrying a release's compensations is the release decision again: the release roles only.
          const roles = releaseRoles(runbook);
          if (state.release && !holdsRole(request.requestedBy, roles)) {
            throw ApplicationFailure.nonRetryable(
              `retrying this release needs one of the roles ${roles.join(', ')}`,
              RejectionType.forbidden,
            );
          }
          return;
        }
        if (rollbackRequest || state.rollback) {
          throw ApplicationFailure.nonRetryable('a rollback is already under way or done', RejectionType.notRunning);
        }
        const inWindow = state.status === 'succeeded' && state.rollbackWindowUntil !== undefined;
        if (request.release && !inWindow) {
          throw ApplicationFailure.nonRetryable(
            `only a succeeded execution inside its rollback window can be released (execution is ${state.status})`,
            RejectionType.notInWindow,
          );
        }
        if (TERMINAL_STATUSES.includes(state.status) && !inWindow) {
          throw ApplicationFailure.nonRetryable(`execution is ${state.status}`, RejectionType.notRunning);
        }
        // Rolling back a succeeded execution releases the containment: a decision, for the release roles only.
        const roles = releaseRoles(runbook);
        if (inWindow && !holdsRole(request.requestedBy, roles)) {
          throw ApplicationFailure.nonRetryable(
            `releasing this execution needs one of the roles ${roles.join(', ')}`,
            RejectionType.forbidden,
          );
        }
      },
    },
  );

  handleWindowExtensions({ state, runbook, rollbackRequested: () => rollbackRequest !== undefined });

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

  // One containment per resource at a time (workflows/resource.ts): the execution holds its resource's lock while it
  // changes it. Histories recorded before the lock replay without it.
  const lock =
    resource && patched(PATCH_RESOURCE_LOCK)
      ? new ResourceLock(resourceKeyOf(input.target, resource), state, now)
      : undefined;

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
    spec: { timeout?: Duration; retry?: RetryPolicy; heartbeatTimeout?: Duration; scheduleToClose?: Duration },
  ) => {
    const options: ActivityOptions = {
      activityId,
      startToCloseTimeout: spec.timeout ?? DEFAULT_TIMEOUT,
      heartbeatTimeout: spec.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT,
      retry: temporalRetry({ ...DEFAULT_RETRY, ...spec.retry }),
      ...(spec.scheduleToClose !== undefined ? { scheduleToCloseTimeout: spec.scheduleToClose } : {}),
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
      outputs[step.id] = { status: 'succeeded', output: adoptOriginal(step.id, st, envelope.output) };
      return undefined;
    } catch (err) {
      if (isCancellation(err)) throw err;
      st.status = 'failed';
      st.error = errorInfo(err);
      st.attempts = attemptsOf(err, step.retry) ?? st.attempts;
      // What the step changed before it failed: its rollback undoes that too (see compensable()).
      const partial = partialOf(err);
      if (partial !== undefined) st.partial = summarise(partial);
      outputs[step.id] = partial !== undefined ? { status: 'failed', output: partial } : { status: 'failed' };
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

  /** The action steps that run once `gate` passes, up to the next gate: what the approver lets happen. */
  const nextActions = (gate: ApprovalStep): NextAction[] => {
    const out: NextAction[] = [];
    for (const step of runbook.steps.slice(runbook.steps.indexOf(gate) + 1)) {
      if (step.kind === 'approval') break;
      if (step.kind === 'action') {
        out.push({
          stepId: step.id,
          title: step.title,
          action: step.action,
          resource: state.resource,
          when: step.when,
        });
      }
    }
    return out;
  };

  const sendEscalation = async (step: ApprovalStep, st: StepState, tier: EscalationTier, index: number) => {
    const record: EscalationRecord = { tier: index + 1, after: tier.after, status: 'sent', at: now() };
    try {
      const topicArn = await resolveValue(tier.topicArn, context());
      if (typeof topicArn !== 'string' || topicArn === '') {
        record.status = 'skipped';
      } else {
        record.topicArn = topicArn;
        const pending = state.pendingApproval;
        const envelope = await activity('sns.publish', `escalation:${step.id}:${index + 1}`, { timeout: '30s' })({
          topicArn,
          subject: `firebreak: approval overdue (tier ${index + 1}): ${step.title}`,
          message: {
            event: 'approval-escalated',
            tier: index + 1,
            text: tier.message ?? `"${step.title}" is still undecided; deadline ${st.deadline}`,
            executionId: info.workflowId,
            runbookId: runbook.id,
            stepId: step.id,
            resource: state.resource,
            deadline: st.deadline,
            roles: pending?.policy?.roles,
            approvalsNeeded: pending?.approvalsNeeded,
            approvedBy: pending?.approvedBy?.map((a) => a.id),
          },
          ctx: stepContext(step.id),
        });
        record.messageId = (envelope.output as { messageId?: string } | undefined)?.messageId;
      }
    } catch (err) {
      record.status = 'failed';
      record.error = errorInfo(err);
      log.warn('escalation failed', { stepId: step.id, tier: index + 1, error: record.error.message });
    }
    st.escalations = [...(st.escalations ?? []), record];
    if (state.pendingApproval?.stepId === step.id) state.pendingApproval.escalations = st.escalations;
  };

  /** Runs the gate's escalation chain in its own scope; the caller cancels it once the gate closes. */
  const escalate = (step: ApprovalStep, st: StepState, openedAt: number): CancellationScope => {
    const scope = new CancellationScope();
    scope
      .run(async () => {
        for (const [index, tier] of (step.escalation ?? []).entries()) {
          const wait = openedAt + durationMs(tier.after) - Date.now();
          if (wait > 0) await sleep(wait);
          // A notice being sent is finished and recorded even if the gate closes meanwhile.
          await CancellationScope.nonCancellable(() => sendEscalation(step, st, tier, index));
        }
      })
      .catch((err) => {
        if (!isCancellation(err)) log.warn('escalation chain stopped', { stepId: step.id, error: String(err) });
      });
    return scope;
  };

  const runApproval = async (step: ApprovalStep, st: StepState): Promise<Outcome | undefined> => {
    const timeoutMs = durationMs(step.timeout);
    const policy = gatePolicy(step);
    st.status = 'waiting-approval';
    st.startedAt = now();
    const openedAt = Date.now();
    st.deadline = new Date(openedAt + timeoutMs).toISOString();
    state.pendingApproval = {
      stepId: step.id,
      title: step.title,
      instructions: step.instructions,
      roles: step.approvers?.roles,
      deadline: st.deadline,
      onTimeout: step.onTimeout,
      policy,
      approvedBy: [],
      approvalsNeeded: policy.min,
      next: nextActions(step),
    };
    setStatus('waiting-approval');
    const escalation =
      step.escalation && step.escalation.length > 0 && patched(PATCH_ESCALATION)
        ? escalate(step, st, openedAt)
        : undefined;
    const settled = await condition(() => st.approval !== undefined || rollbackRequest !== undefined, timeoutMs);
    escalation?.cancel();
    state.pendingApproval = undefined;
    st.endedAt = now();
    if (!st.approval && rollbackRequest) {
      st.status = 'pending';
      st.endedAt = undefined;
      return undefined; // the loop turns the request into a rollback
    }
    // A decision accepted in the same moment the deadline fired was answered 200 to its caller: it wins. (SDK 1.24
    // runs updates before timers in one activation, so the condition usually sees it first; this keeps it so.)
    const timedOut = !settled && !(st.approval?.via === 'human' && patched(PATCH_DECISION_AT_DEADLINE));
    setStatus('running');
    if (timedOut) {
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
    const deadlineMs = Date.now() + durationMs(step.timeout);
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

  // ---- Compensation ----------------------------------------------------------------------------------------------

  /** Decided once, when the rollback starts: histories from before it replay with the old rollback. */
  let rollbackRetry = false;

  /**
   * Whether a step's compensation is due: it succeeded, or it failed having reported partial changes, or its
   * compensation failed before (a retry).
   */
  const compensable = (step: Step): step is ActionStep => {
    if (step.kind !== 'action' || !step.rollback) return false;
    const st = stepState(step.id);
    if (st.status === 'succeeded') return true;
    return rollbackRetry && (st.status === 'rollback-failed' || (st.status === 'failed' && st.partial !== undefined));
  };

  /** Compensates the due steps in reverse; every failure is recorded and the rest still run. */
  const rollBack = async (round: number): Promise<boolean> => {
    let complete = true;
    for (const step of [...runbook.steps].reverse()) {
      if (!compensable(step)) continue;
      const st = stepState(step.id);
      const rollback = step.rollback!;
      const record = (st.rollback = { action: rollback.action, status: 'running' as const, startedAt: now() });
      const spec = rollbackRetry ? { ...rollback, ...rollbackOptions(runbook, step) } : rollback;
      try {
        const withBlock = (await resolveValue(rollback.with, context())) as Record<string, unknown>;
        const envelope = await activity(
          rollback.action,
          round === 1 ? `rollback:${step.id}` : `rollback:${step.id}:${round}`,
          spec,
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
          attempts: attemptsOf(err, spec.retry),
        };
        st.status = 'rollback-failed';
        log.error('rollback step failed', { stepId: step.id, error: st.rollback.error?.message });
      }
    }
    return complete;
  };

  /**
   * The rollback: with the resource's lock, unless other executions' containments are on the resource (then this
   * one's compensations would undo theirs: it hands the resource over to them and changes nothing). Compensations that
   * still fail leave the execution `rollback-failed`, waiting for a retry request, within a bound.
   */
  const compensate = async (): Promise<boolean> => {
    rollbackRetry = patched(PATCH_ROLLBACK_RETRY);
    const rollback = state.rollback!;
    for (let round = 1; ; round++) {
      const complete = await compensateOnce(round);
      if (complete || !rollbackRetry) return complete;
      rollback.remaining = runbook.steps.filter(compensable).map((s) => s.id);
      const windowMs = rollbackRetryWindowMs(runbook);
      rollback.retryUntil = new Date(Date.now() + windowMs).toISOString();
      setStatus('rollback-failed');
      const retried = await condition(() => retryRequest !== undefined, windowMs);
      rollback.retryUntil = undefined;
      if (!retried) {
        // Nobody retried: the record must not keep a containment that no execution will ever release.
        await lock?.forget();
        return false;
      }
      retryRequest = undefined;
      rollback.remaining = undefined;
      setStatus('rolling-back');
    }
  };

  const compensateOnce = async (round: number): Promise<boolean> => {
    const lockState = state.resourceLock;
    if (!lock || !(lock.held || lockState?.outcome === 'contained')) return rollBack(round);
    const grant = await lock.acquire({
      purpose: 'release',
      leaseMs: rollbackLeaseMs(runbook, (step) =>
        step.kind === 'action' ? rollbackScheduleToCloseMs(runbook, step) : 0,
      ),
      timeoutMs: durationMs(RELEASE_WAIT),
      onWaiting: (waiting) => setStatus(waiting ? 'waiting-resource' : 'rolling-back'),
    });
    if (!grant) {
      const holder = state.resourceLock?.holder;
      log.error('no resource lock for the rollback', { holder: holder?.executionId });
      return false;
    }
    if (grant.others.length > 0) {
      state.rollback!.handedOverTo = grant.others.map((c) => c.executionId);
      log.info('resource handed over; compensations not run', { to: state.rollback!.handedOverTo });
      await lock.release('released');
      return true;
    }
    const changed = runbook.steps.some(compensable);
    const complete = await rollBack(round);
    await lock.release(complete ? (changed ? 'released' : 'unchanged') : 'contained', originalState());
    return complete;
  };

  // ---- Resource lock -----------------------------------------------------------------------------------------------

  /** Waits for the resource's lock before the first step; fails the execution, naming the holder, when it cannot. */
  const acquireResource = async (): Promise<void> => {
    if (!lock) return;
    const grant = await lock.acquire({
      purpose: 'contain',
      leaseMs: stepsLeaseMs(runbook),
      timeoutMs: durationMs(runbook.resource?.wait ?? DEFAULT_RESOURCE_WAIT),
      stop: () => rollbackRequest !== undefined,
      onWaiting: (waiting) => setStatus(waiting ? 'waiting-resource' : 'running'),
    });
    if (grant || rollbackRequest) return;
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
   * When another execution's containment is on the resource, the original state it recorded is what this execution's
   * expressions see as the output of the runbook's `resource.original` step (the step itself saw the quarantine).
   */
  const adoptOriginal = (stepId: string, st: StepState, observed: unknown): unknown => {
    const original = lock?.granted?.original;
    if (stepId !== runbook.resource?.original || !original || original.executionId === info.workflowId) {
      return observed;
    }
    st.original = {
      executionId: original.executionId,
      capturedAt: original.capturedAt,
      state: summarise(original.state),
    };
    return original.state;
  };

  /** The resource's original state as this execution knows it: the output of its `resource.original` step. */
  const originalState = (): unknown => {
    const id = runbook.resource?.original;
    return id !== undefined ? outputs[id]?.output : undefined;
  };

  let outcome: Outcome;
  try {
    await acquireResource();
    outcome = await runSteps();
    if (outcome.kind === 'completed') {
      state.endedAt = now();
      // The window opens with the success, in the same state change: a reader never sees `succeeded` without it.
      if (runbook.rollbackWindow !== undefined) {
        state.rollbackWindowUntil = new Date(Date.now() + durationMs(runbook.rollbackWindow)).toISOString();
      }
      setStatus('succeeded');
      // The change stays on the resource: its record keeps this containment (and the original) while it can still
      // be released; without a rollback window the change is for good and nothing is held.
      await lock?.release(runbook.rollbackWindow !== undefined ? 'contained' : 'unchanged', originalState());
      if (state.rollbackWindowUntil !== undefined) {
        // Stay open (status succeeded) so the containment can still be rolled back, e.g. to release an instance.
        // A window extension moves rollbackWindowUntil and wakes this wait (the first timer is the same as ever).
        for (;;) {
          const until = state.rollbackWindowUntil;
          const woke = await condition(
            () => rollbackRequest !== undefined || state.rollbackWindowUntil !== until,
            Date.parse(until) - Date.now(),
          );
          if (!woke) break;
          if (rollbackRequest) {
            outcome = requested();
            break;
          }
        }
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
  const complete = await CancellationScope.nonCancellable(compensate);
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

/** `path: value` of every duration in the definition that is not a positive duration. */
function invalidDurations(runbook: RunbookWorkflowInput['runbook']): string[] {
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
function attemptsOf(err: unknown, retry: RetryPolicy | undefined): number | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    const detail = (cause.details ?? []).find(isAttemptDetail);
    if (detail) return detail.firebreakAttempt;
  }
  return err instanceof ActivityFailure ? (retry?.maximumAttempts ?? DEFAULT_RETRY.maximumAttempts) : undefined;
}
