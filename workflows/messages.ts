/**
 * The runbook workflow's messages and state, shared by the workflow, the API and tests.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ExecutionTarget } from '../activities/schemas';
import type { FieldError } from '../runbooks/dsl/params';
import type { IncidentNews, RunbookDefinition, Severity } from '../runbooks/dsl/types';
import type { ExecutionHistoryLimits, RunbookCarry } from './runbook-state';

export const RUNBOOK_WORKFLOW = 'runbookWorkflow';

/** Who or what started an execution or made a decision; always the authenticated caller, never request data. */
export interface Principal {
  /** `user:<name>`, `alert:<fingerprint>`, `system:<component>` … */
  id: string;
  roles?: string[];
}

export interface RunbookWorkflowInput {
  /** The whole definition, pinned in history. */
  runbook: RunbookDefinition;
  digest: string;
  params: Record<string, unknown>;
  startedBy: Principal;
  reason?: string;
  incidentId?: string;
  /** `type/id` of the affected resource; else derived from the runbook's `resource` param. */
  resource?: string;
  /** Defaults to the runbook's severity. */
  severity?: Severity;
  /** The incident's news at start (later news arrives as incidentNewsSignal). */
  incident?: IncidentNews;
  /** Where the actions run; absent parts mean the worker's own account and region. */
  target?: ExecutionTarget;
  /** When a run continues as new; unset fields take EXECUTION_HISTORY_DEFAULTS (workflows/runbook-state.ts). */
  history?: Partial<ExecutionHistoryLimits>;
  /** Set on a run that continues an earlier run of the same execution: what that run handed over. */
  carried?: RunbookCarry;
}

/** What a runbook execution started by an incident tells its parent at every status change. */
export interface RunbookProgress {
  executionId: string;
  status: ExecutionStatus;
  pendingApproval?: PendingApproval;
  failure?: ErrorInfo & { stepId?: string };
  rollback?: ExecutionState['rollback'];
}

export type StepStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'waiting-approval'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'rejected'
  | 'rolled-back'
  | 'rollback-failed';

/**
 * `waiting-resource`: another execution holds the resource's lock (see `resourceLock.holder`); `rollback-failed`: some
 * compensations still failed after their retries; the execution stays open for a retry request (POST .../rollback).
 */
export type ExecutionStatus =
  | 'running'
  | 'waiting-resource'
  | 'waiting-approval'
  | 'rolling-back'
  | 'rollback-failed'
  | 'succeeded'
  | 'failed'
  | 'rolled-back'
  | 'cancelled';

export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'rolled-back', 'cancelled'];

export interface ErrorInfo {
  message: string;
  /** The failure type, e.g. the AWS error name. */
  type?: string;
  details?: unknown;
}

export interface ApprovalRecord {
  stepId: string;
  decision: 'approve' | 'reject';
  comment?: string;
  decidedBy: Principal;
  /** ISO time (workflow time). */
  decidedAt: string;
  /** `human` through the API, `timeout` when the deadline decided. */
  via: 'human' | 'timeout';
}

/** A human approval or rejection, as the Update answers it: the record and where the gate stands after it. */
export interface ApprovalResult extends ApprovalRecord {
  /** `pending` while more approvals are needed. */
  gate: 'pending' | 'approved' | 'rejected';
  /** Approvals still needed before the gate passes (0 once decided). */
  approvalsNeeded: number;
}

/** One tier of an escalation chain, as it happened. */
export interface EscalationRecord {
  /** 1 for the first tier. */
  tier: number;
  /** The tier's delay from the gate's opening, as written in the runbook. */
  after: string | number;
  /** `skipped` when the tier's topic resolved to nothing. */
  status: 'sent' | 'skipped' | 'failed';
  /** ISO time (workflow time). */
  at: string;
  topicArn?: string;
  messageId?: string;
  error?: ErrorInfo;
}

/** The approval policy of a gate with its defaults applied. */
export interface GatePolicy {
  /** Roles that may decide; empty: any principal allowed to decide approvals. */
  roles: string[];
  /** Distinct approvals needed. */
  min: number;
  /** True unless the gate allows self-approval. */
  fourEyes: boolean;
}

/** An action that runs once the gate passes, for the human deciding it. */
export interface NextAction {
  stepId: string;
  title?: string;
  action: string;
  /** `type/id` of the resource the execution acts on. */
  resource?: string;
  /** The step's `when` condition, when it has one: it may still be skipped. */
  when?: string;
}

export interface RollbackRecord {
  action: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  endedAt?: string;
  attempts?: number;
  output?: unknown;
  error?: ErrorInfo;
}

export interface StepState {
  id: string;
  kind: 'action' | 'approval' | 'wait';
  title?: string;
  action?: string;
  status: StepStatus;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  /** The activity's output (large outputs are summarised). */
  output?: unknown;
  error?: ErrorInfo;
  /** Approval steps: the deadline while waiting, then the decision. */
  deadline?: string;
  /** Approval steps: the final decision (the approval that completed the quorum, a rejection, or the deadline's). */
  approval?: ApprovalRecord;
  /** Approval steps: every human approval counted towards the gate's minimum, in order. */
  approvals?: ApprovalRecord[];
  /** Approval steps: the escalation tiers that fired while the gate was pending. */
  escalations?: EscalationRecord[];
  rollback?: RollbackRecord;
  /**
   * A failed action step's partial changes, as the activity reported them (heartbeat or failure details, shaped like
   * its output): its rollback runs on them, and expressions see them as the step's output.
   */
  partial?: unknown;
  /**
   * The step that captures the resource's original state, when another execution's containment is on the resource:
   * the original that execution recorded, which this execution's expressions see as the step's output (`output`
   * keeps what this step observed, for evidence).
   */
  original?: { executionId: string; capturedAt: string; state: unknown };
}

/** This execution's hold on its resource's lock (workflows/resource.ts). */
export interface ResourceLockState {
  /** The resource record's workflow ID: `resource:<account>:<region>:<type/id>`. */
  key: string;
  purpose: 'contain' | 'release';
  /** `abandoned`: the wait ended by a rollback request, a cancellation, or the request's own failure. */
  status: 'waiting' | 'held' | 'released' | 'timed-out' | 'abandoned';
  requestedAt: string;
  /** While waiting: the deadline of the wait (contain); a release waits until granted. */
  waitUntil?: string;
  /** While waiting: who holds the resource, and our place in its queue (1 = next). */
  holder?: {
    executionId: string;
    runbookId: string;
    purpose: 'contain' | 'release';
    since: string;
    leaseUntil: string;
  };
  position?: number;
  grantedAt?: string;
  /** Executions whose containment was on the resource when the lock was granted. */
  others?: string[];
  releasedAt?: string;
  /** How this execution left the resource. */
  outcome?: 'contained' | 'released' | 'unchanged';
}

export interface PendingApproval {
  stepId: string;
  title: string;
  instructions?: string;
  roles?: string[];
  deadline: string;
  onTimeout: 'reject' | 'approve' | 'fail';
  /** Unset in the states of executions started before approval policies existed. */
  policy?: GatePolicy;
  /** Who approved so far. */
  approvedBy?: { id: string; at: string; comment?: string }[];
  /** Approvals still needed. */
  approvalsNeeded?: number;
  /** What runs next when the gate passes, up to the next gate. */
  next?: NextAction[];
  escalations?: EscalationRecord[];
}

export type RollbackTrigger = 'step-failed' | 'rejected' | 'approval-timeout' | 'cancelled' | 'requested';

export interface ExecutionState {
  executionId: string;
  runbookId: string;
  runbookVersion: string;
  title: string;
  digest: string;
  severity: Severity;
  incidentId?: string;
  /** `type/id` of the affected resource, when the runbook names one. */
  resource?: string;
  /** Where the actions run; absent parts mean the worker's own account and region. */
  target?: ExecutionTarget;
  params: Record<string, unknown>;
  startedBy: Principal;
  reason?: string;
  status: ExecutionStatus;
  startedAt: string;
  endedAt?: string;
  /** Which run of the execution this is (it continues as new while it waits long); unset: the first. */
  run?: number;
  steps: StepState[];
  pendingApproval?: PendingApproval;
  /** While set, a succeeded execution still accepts a rollback request (the runbook's rollbackWindow). */
  rollbackWindowUntil?: string;
  rollback?: {
    trigger: RollbackTrigger;
    reason: string;
    requestedBy?: Principal;
    startedAt: string;
    endedAt?: string;
    /** False when any compensation failed: the resource may be left partly contained. */
    complete?: boolean;
    /**
     * Other executions still held containments on the resource, so this one's compensations did not run: undoing
     * them would undo theirs. The last of them to be released restores the resource's original state.
     */
    handedOverTo?: string[];
    /** With status `rollback-failed`: the steps whose compensation still failed, for a retry request. */
    remaining?: string[];
    /** Retry requests made while `rollback-failed`. */
    retries?: { requestedBy: Principal; requestedAt: string; reason: string }[];
    /** Until when a `rollback-failed` execution waits for a retry request. */
    retryUntil?: string;
  };
  /** The execution's hold on its resource's lock (one containment per resource at a time). */
  resourceLock?: ResourceLockState;
  /** A release: a rollback requested after the execution succeeded, recorded like an approval. */
  release?: { requestedBy: Principal; requestedAt: string; reason: string; roles: string[] };
  /** Every extension of the rollback window a human made, in order. */
  windowExtensions?: WindowExtension[];
  /**
   * Rollback and release requests that arrived as signals (no worker confirmed the Update in time) and were refused
   * when the execution ran them: the requester learns it here. The latest 20.
   */
  refusedRequests?: {
    kind: 'rollback' | 'release';
    requestedBy?: Principal;
    reason?: string;
    refusedAt: string;
    type?: string;
    message: string;
  }[];
  /** Why the execution failed; stays the original cause even when a rollback also failed. */
  failure?: ErrorInfo & { stepId?: string; fieldErrors?: FieldError[] };
}

export interface ApprovalDecision {
  stepId: string;
  decision: 'approve' | 'reject';
  comment?: string;
  decidedBy: Principal;
}

export interface RollbackRequest {
  reason: string;
  requestedBy: Principal;
  /**
   * Set by the release route: the request must release a succeeded execution inside its rollback window, and is
   * refused (NotInRollbackWindow) for a running or failed one, which the rollback route serves.
   */
  release?: boolean;
}

/** A human's request to keep a succeeded execution releasable for longer. */
export interface WindowExtensionRequest {
  reason: string;
  /** How much longer, from the current end of the window: `'3d'`, `'12h'` or milliseconds. */
  extendBy: string | number;
  requestedBy: Principal;
}

export interface WindowExtension {
  reason: string;
  extendBy: string | number;
  requestedBy: Principal;
  /** ISO time (workflow time). */
  requestedAt: string;
  /** The window's end before and after. */
  previousUntil: string;
  until: string;
}

/** Error types the update validators reject with; the API maps them to HTTP statuses. */
export const RejectionType = {
  unknownStep: 'UnknownStep',
  notPending: 'ApprovalNotPending',
  forbidden: 'Forbidden',
  /** Four-eyes: the principal that started the execution may not approve its own gate (403). */
  selfApproval: 'SelfApproval',
  /** The same principal decided this gate already (409). */
  duplicate: 'DuplicateDecision',
  invalid: 'InvalidRequest',
  notRunning: 'ExecutionNotRunning',
  /** A release or window extension on an execution that is not succeeded with its rollback window open (409). */
  notInWindow: 'NotInRollbackWindow',
} as const;

export const stateQuery = defineQuery<ExecutionState>('state');
export const runbookProgressSignal = defineSignal<[RunbookProgress]>('runbookProgress');
/** The incident tells its runbook execution what changed (the alert back to OK, or firing again). */
export const incidentNewsSignal = defineSignal<[IncidentNews]>('incidentNews');
export const approvalUpdate = defineUpdate<ApprovalResult, [ApprovalDecision]>('decideApproval');
export const rollbackUpdate = defineUpdate<{ accepted: true; status: ExecutionStatus }, [RollbackRequest]>(
  'requestRollback',
);
/**
 * A rollback or release request as a signal: what the API sends when no worker confirmed `requestRollback` in time (a
 * signal is durable at the server; an admitted Update is not). Checked as the Update's validator checks it; a refusal
 * lands in the state's `refusedRequests`.
 */
export const rollbackRequestSignal = defineSignal<[RollbackRequest]>('rollbackRequested');
/** Moves the end of a succeeded execution's rollback window later (release roles only; a reason; bounded). */
export const extendWindowUpdate = defineUpdate<WindowExtension, [WindowExtensionRequest]>('extendRollbackWindow');
