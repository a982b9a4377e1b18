/**
 * The runbook's steps, one kind at a time: actions (an activity each), approval gates (a human decision through an
 * Update, escalating while it is overdue) and waits (for the incident's news). A run that continues as new while at a
 * gate resumes that gate here, with its decisions, deadline and escalations so far.
 */
import {
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  log,
  patched,
  sleep,
} from '@temporalio/workflow';
import { durationMs } from '../runbooks/dsl/duration';
import { evaluate, resolveValue } from '../runbooks/dsl/expressions';
import type { ActionStep, ApprovalStep, EscalationTier, Step, WaitStep } from '../runbooks/dsl/types';
import { gatePolicy } from './approval-policy';
import type { EscalationRecord, NextAction, StepState } from './messages';
import { partialOf } from './rollback';
import {
  activity,
  attemptsOf,
  errorInfo,
  summarise,
  unreachable,
  type Activity,
  type Outcome,
  type RunContext,
} from './runbook-support';

/**
 * Patches (samples-typescript `patching-api`): histories recorded before these changes replay unchanged.
 * - escalation: timers and `sns.publish` activities while a gate with an escalation chain is pending;
 * - decision-at-deadline: a human decision accepted as the deadline fired wins over the timeout (before, the timeout
 *   overwrote it).
 */
export const PATCH_ESCALATION = 'approval-escalation';
export const PATCH_DECISION_AT_DEADLINE = 'approval-decision-wins-at-deadline';

/** The resource's original state as this execution knows it: the output of its `resource.original` step. */
export function originalState(ctx: RunContext): unknown {
  const id = ctx.runbook.resource?.original;
  return id !== undefined ? ctx.rs.outputs[id]?.output : undefined;
}

export function rollbackRequested(ctx: RunContext): Outcome {
  return { kind: 'rollback', trigger: 'requested', reason: ctx.rs.rollbackRequest!.reason };
}

/** Runs the steps in order from the first (or from the gate a carried run was waiting at). */
export function stepRunner(ctx: RunContext): { runSteps(resumeAt?: string): Promise<Outcome> } {
  const { runbook, rs, state, now } = ctx;
  const outputs = rs.outputs;

  // An activity runs to its end even when a cancellation arrives: a half-done AWS change that the rollback does not
  // know of would be worse than waiting for the step. The next await then sees the cancellation.
  const runActivity = (fn: Activity, activityInput: unknown) =>
    CancellationScope.nonCancellable(() => fn(activityInput));

  /**
   * When another execution's containment is on the resource, the original state it recorded is what this execution's
   * expressions see as the output of the runbook's `resource.original` step (the step itself saw the quarantine).
   */
  const adoptOriginal = (stepId: string, st: StepState, observed: unknown): unknown => {
    const original = ctx.lock?.granted?.original;
    if (stepId !== runbook.resource?.original || !original || original.executionId === ctx.executionId) {
      return observed;
    }
    st.original = {
      executionId: original.executionId,
      capturedAt: original.capturedAt,
      state: summarise(original.state),
    };
    return original.state;
  };

  const runAction = async (step: ActionStep, st: StepState): Promise<Outcome | undefined> => {
    st.status = 'running';
    st.startedAt = now();
    try {
      const withBlock = (await resolveValue(step.with, ctx.context())) as Record<string, unknown>;
      const envelope = await runActivity(activity(step.action, step.id, step), {
        ...withBlock,
        ctx: ctx.stepContext(step.id),
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
      const topicArn = await resolveValue(tier.topicArn, ctx.context());
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
            executionId: ctx.executionId,
            runbookId: runbook.id,
            stepId: step.id,
            resource: state.resource,
            deadline: st.deadline,
            roles: pending?.policy?.roles,
            approvalsNeeded: pending?.approvalsNeeded,
            approvedBy: pending?.approvedBy?.map((a) => a.id),
          },
          ctx: ctx.stepContext(step.id),
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

  /**
   * Runs the gate's escalation chain (the tiers not sent yet) in its own scope; the caller cancels it once the gate
   * closes, or stops it (letting a notice being sent finish) before continuing as new.
   */
  const escalate = (step: ApprovalStep, st: StepState, openedAt: number) => {
    const scope = new CancellationScope();
    const sent = st.escalations?.length ?? 0;
    const done = scope
      .run(async () => {
        for (const [index, tier] of (step.escalation ?? []).entries()) {
          if (index < sent) continue;
          const wait = openedAt + durationMs(tier.after) - Date.now();
          if (wait > 0) await sleep(wait);
          // A notice being sent is finished and recorded even if the gate closes meanwhile.
          await CancellationScope.nonCancellable(() => sendEscalation(step, st, tier, index));
        }
      })
      .catch((err) => {
        if (!isCancellation(err)) log.warn('escalation chain stopped', { stepId: step.id, error: String(err) });
      });
    return {
      cancel: () => scope.cancel(),
      stop: async () => {
        scope.cancel();
        await done;
      },
    };
  };

  /** Opens the gate (or, `resumed`, takes it up where the previous run left it) and waits for its decision. */
  const runApproval = async (step: ApprovalStep, st: StepState, resumed: boolean): Promise<Outcome | undefined> => {
    let timeoutMs: number;
    let openedAt: number;
    if (resumed) {
      // The gate's deadline and escalation times stay those of its opening.
      openedAt = Date.parse(st.startedAt!);
      timeoutMs = Date.parse(st.deadline!) - Date.now();
    } else {
      timeoutMs = durationMs(step.timeout);
      const policy = gatePolicy(step);
      st.status = 'waiting-approval';
      st.startedAt = now();
      openedAt = Date.now();
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
      ctx.setStatus('waiting-approval');
    }
    const escalation =
      step.escalation && step.escalation.length > 0 && patched(PATCH_ESCALATION)
        ? escalate(step, st, openedAt)
        : undefined;
    const decided = () => st.approval !== undefined || rs.rollbackRequest !== undefined;
    // (A gate's timeout is validated positive, so only a resumed gate can be past its deadline here.)
    const settled = timeoutMs > 0 ? await condition(() => decided() || ctx.shouldContinue(), timeoutMs) : decided();
    if (settled && !decided()) {
      // This run hands over: the gate stays open, as it is, for the next run.
      await escalation?.stop();
      return { kind: 'continue' };
    }
    escalation?.cancel();
    state.pendingApproval = undefined;
    st.endedAt = now();
    if (!st.approval && rs.rollbackRequest) {
      st.status = 'pending';
      st.endedAt = undefined;
      return undefined; // the loop turns the request into a rollback
    }
    // A decision accepted in the same moment the deadline fired was answered 200 to its caller: it wins. (SDK 1.24
    // runs updates before timers in one activation, so the condition usually sees it first; this keeps it so.)
    const timedOut = !settled && !(st.approval?.via === 'human' && patched(PATCH_DECISION_AT_DEADLINE));
    ctx.setStatus('running');
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
      if (await evaluate(step.until, ctx.context())) {
        st.status = 'succeeded';
        st.endedAt = now();
        outputs[step.id] = { status: 'succeeded', output: { incident: rs.incidentNews } };
        return undefined;
      }
      const seen = rs.newsVersion;
      const remaining = deadlineMs - Date.now();
      const woke =
        remaining > 0 &&
        (await condition(() => rs.newsVersion !== seen || rs.rollbackRequest !== undefined, remaining));
      if (rs.rollbackRequest) {
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

  const runSteps = async (resumeAt?: string): Promise<Outcome> => {
    const steps = runbook.steps as Step[];
    const from = resumeAt === undefined ? 0 : steps.findIndex((s) => s.id === resumeAt);
    for (const [index, step] of steps.entries()) {
      if (index < from) continue;
      // The gate a carried run resumes decides itself what a rollback request carried along means for it.
      const resumed = resumeAt !== undefined && index === from;
      if (rs.rollbackRequest && !resumed) return rollbackRequested(ctx);
      if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('execution cancelled');
      const st = rs.stepState(step.id);
      if (!resumed && step.when !== undefined && !(await evaluate(step.when, ctx.context()))) {
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
          outcome = await runApproval(step, st, resumed);
          break;
        case 'wait':
          outcome = await runWait(step, st);
          break;
        default:
          return unreachable(step);
      }
      if (outcome) return outcome;
    }
    if (rs.rollbackRequest) return rollbackRequested(ctx);
    return { kind: 'completed' };
  };

  return { runSteps };
}
