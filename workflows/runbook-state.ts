/**
 * The runbook interpreter's state as a value: the queryable ExecutionState plus what the interpreter keeps beside it
 * (full step outputs for expressions, pending requests, the incident's news), with the transitions the message
 * handlers make. A run that continues as new hands it over whole (`carry()`), and the next run resumes from it.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ApprovalStep, ExpressionContext, IncidentNews, RunbookDefinition } from '../runbooks/dsl/types';
import { decisionRefusal, gatePolicy, holdsRole, releaseRoles } from './approval-policy';
import {
  RejectionType,
  TERMINAL_STATUSES,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalResult,
  type ExecutionState,
  type RollbackRequest,
  type RunbookWorkflowInput,
  type StepState,
} from './messages';
import type { LockGrant } from './resource-messages';

/**
 * Bounds on one run's history: the execution continues as new when Temporal suggests it or when any bound is reached,
 * well before Temporal's own limits (50 MB, 51,200 events, 2,000 Updates per run). Only while it waits (at a gate, or
 * held in its rollback window), where a long-lived execution collects its messages.
 */
export interface ExecutionHistoryLimits {
  /** Updates and signals (decisions, window extensions, incident news) accepted by one run. */
  maxMessages: number;
  /** Events in one run's history. */
  maxEvents: number;
  /** Bytes of one run's history (Temporal's own measure, `workflowInfo().historySize`). */
  maxBytes: number;
}

export const EXECUTION_HISTORY_DEFAULTS: ExecutionHistoryLimits = {
  maxMessages: 500,
  maxEvents: 10_000,
  maxBytes: 1024 * 1024,
};

/** What a run hands to the next one when it continues as new. */
export interface RunbookCarry {
  /** Where the execution was: waiting at the gate `state.pendingApproval`, or held in its rollback window. */
  phase: 'gate' | 'hold';
  /** Steps (status, attempts, timings, approvals, escalations), window and extensions, release, lock, failure … */
  state: ExecutionState;
  /** Every step's full output as expressions see it (the state keeps summaries): the compensations read them. */
  outputs: ExpressionContext['steps'];
  incidentNews: IncidentNews;
  /** A rollback or release accepted while the run was handing over: the next run acts on it. */
  rollbackRequest?: RollbackRequest;
  /** Set when the execution uses its resource's lock; the grant while it holds it (at a gate). */
  lock?: { grant?: LockGrant };
}

export class RunbookState {
  readonly state: ExecutionState;
  /** Step outputs as expressions see them (full, not summarised). */
  readonly outputs: ExpressionContext['steps'];
  rollbackRequest?: RollbackRequest;
  /** A request to retry the compensations that still failed (status `rollback-failed`). */
  retryRequest?: RollbackRequest;
  incidentNews: IncidentNews;
  /** Bumped on every piece of news, so a wait step re-checks its condition. */
  newsVersion = 0;
  /** Updates and signals this run accepted (a bound of its history). */
  messagesThisRun = 0;

  private constructor(
    private readonly runbook: RunbookDefinition,
    private readonly now: () => string,
    init: Pick<RunbookCarry, 'state' | 'outputs' | 'incidentNews' | 'rollbackRequest'>,
  ) {
    this.state = init.state;
    this.outputs = init.outputs;
    this.incidentNews = init.incidentNews;
    this.rollbackRequest = init.rollbackRequest;
  }

  /** A new execution: every step pending. */
  static start(input: RunbookWorkflowInput, executionId: string, now: () => string): RunbookState {
    const runbook = input.runbook;
    const state: ExecutionState = {
      executionId,
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
    const incidentNews = input.incident ?? { alertState: input.incidentId ? 'firing' : 'unknown' };
    return new RunbookState(runbook, now, { state, outputs: {}, incidentNews });
  }

  /** The next run of an execution that continued as new. */
  static resume(input: RunbookWorkflowInput, carry: RunbookCarry, now: () => string): RunbookState {
    const state = { ...carry.state, run: (carry.state.run ?? 1) + 1 };
    return new RunbookState(input.runbook, now, { ...carry, state });
  }

  carry(phase: RunbookCarry['phase'], lock: RunbookCarry['lock']): RunbookCarry {
    return {
      phase,
      state: this.state,
      outputs: this.outputs,
      incidentNews: this.incidentNews,
      rollbackRequest: this.rollbackRequest,
      lock,
    };
  }

  stepState(id: string): StepState {
    return this.state.steps.find((s) => s.id === id)!;
  }

  approvalStep(stepId: string | undefined): ApprovalStep | undefined {
    const step = this.runbook.steps.find((s) => s.id === stepId);
    return step?.kind === 'approval' ? step : undefined;
  }

  /** Why no decision can be recorded on this gate now (409), or undefined while it is open. */
  closedReason(step: ApprovalStep): string | undefined {
    const current = this.stepState(step.id);
    if (current.approval) {
      return `approval "${step.id}" is already decided (${current.approval.decision} by ${current.approval.decidedBy.id})`;
    }
    if (this.state.pendingApproval?.stepId !== step.id)
      return `approval "${step.id}" is not pending (step is ${current.status})`;
    return undefined;
  }

  /** The approval Update's validator: throws the refusal the caller gets. */
  validateDecision(decision: ApprovalDecision): void {
    const step = this.approvalStep(decision?.stepId);
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
    const closed = this.closedReason(step);
    if (closed) throw ApplicationFailure.nonRetryable(closed, RejectionType.notPending);
    const refusal = decisionRefusal({
      stepId: step.id,
      policy: gatePolicy(step),
      startedBy: this.state.startedBy,
      approvals: this.stepState(step.id).approvals ?? [],
      principal: decision.decidedBy,
      decision: decision.decision,
    });
    if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.type);
  }

  /** Records a human decision on the pending gate: a rejection decides it, approvals count towards its minimum. */
  decide(decision: ApprovalDecision): ApprovalResult {
    const { state } = this;
    const step = this.approvalStep(decision.stepId)!;
    const st = this.stepState(step.id);
    // The validator ran just before (synchronously); re-checked so that no path can count a decision twice or on a
    // closed gate. Policy (roles, four-eyes) is the validator's alone: validators do not run on replay.
    const closed = this.closedReason(step);
    if (closed) throw ApplicationFailure.nonRetryable(closed, RejectionType.notPending);
    if ((st.approvals ?? []).some((a) => a.decidedBy.id === decision.decidedBy.id)) {
      throw ApplicationFailure.nonRetryable(`${decision.decidedBy.id} already decided`, RejectionType.duplicate);
    }
    const record: ApprovalRecord = {
      stepId: decision.stepId,
      decision: decision.decision,
      comment: decision.comment,
      decidedBy: decision.decidedBy,
      decidedAt: this.now(),
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
    const gate = !st.approval ? 'pending' : st.approval.decision === 'approve' ? 'approved' : 'rejected';
    return { ...record, gate, approvalsNeeded };
  }

  /** The rollback Update's validator: throws the refusal the caller gets. */
  validateRollback(request: RollbackRequest): void {
    const { state } = this;
    if (!request?.reason || !request.requestedBy?.id) {
      throw ApplicationFailure.nonRetryable('a rollback request needs a reason and an identity', RejectionType.invalid);
    }
    const roles = releaseRoles(this.runbook);
    if (state.status === 'rollback-failed') {
      if (this.retryRequest) {
        throw ApplicationFailure.nonRetryable('a rollback retry is already requested', RejectionType.notRunning);
      }
      // Retrying a release's compensations is the release decision again: the release roles only.
      if (state.release && !holdsRole(request.requestedBy, roles)) {
        throw ApplicationFailure.nonRetryable(
          `retrying this release needs one of the roles ${roles.join(', ')}`,
          RejectionType.forbidden,
        );
      }
      return;
    }
    if (this.rollbackRequest || state.rollback) {
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
    if (inWindow && !holdsRole(request.requestedBy, roles)) {
      throw ApplicationFailure.nonRetryable(
        `releasing this execution needs one of the roles ${roles.join(', ')}`,
        RejectionType.forbidden,
      );
    }
  }

  /** A rollback (or release) request; while `rollback-failed`, a retry of the compensations that still failed. */
  requestRollback(request: RollbackRequest): void {
    const { state } = this;
    if (state.status === 'rollback-failed' && state.rollback) {
      this.retryRequest = request;
      state.rollback.retries = [
        ...(state.rollback.retries ?? []),
        { requestedBy: request.requestedBy, requestedAt: this.now(), reason: request.reason },
      ];
      return;
    }
    this.rollbackRequest = request;
    if (state.status === 'succeeded') {
      state.release = {
        requestedBy: request.requestedBy,
        requestedAt: this.now(),
        reason: request.reason,
        roles: releaseRoles(this.runbook),
      };
    }
  }

  news(news: IncidentNews): void {
    this.incidentNews = news;
    this.newsVersion++;
  }
}
