/**
 * The runbook DSL: typed, serialisable definitions that the interpreter workflow runs step by step.
 *
 * A definition is plain data (JSON once serialised): the workflow receives it whole and pins it in the execution's
 * history, so a later edit of a runbook file never changes a running or past execution.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { AlertSource } from '../../alerts/alert';
import type { Duration as TemporalDuration } from '@temporalio/common';
import type { ActionInput, ActionName } from '../../activities/schemas';

// Severity belongs to alerts (alerts/alert.ts); runbooks declare a default one.
export { SEVERITIES, type Severity } from '../../alerts/alert';
import type { Severity } from '../../alerts/alert';

/**
 * A JSONata expression, evaluated at run time against the {@link ExpressionContext}.
 * Write it with {@link expr}: `expr('steps.capture.output.vpcId')`.
 */
export interface Expr {
  readonly $expr: string;
}

/** Marks a string as a JSONata expression. */
export function expr(source: string): Expr {
  return { $expr: source };
}

/** A value as written in a `with` block: the literal type, or an expression at any depth. */
export type Exprable<T> =
  Expr | (T extends readonly (infer U)[] ? Exprable<U>[] : T extends object ? { [K in keyof T]: Exprable<T[K]> } : T);

/**
 * A duration in milliseconds or as a string such as `'30s'`, `'5m'`, `'2 hours'` (the `ms` format Temporal uses).
 */
export type Duration = TemporalDuration;

/** Temporal activity retry policy for a step; unset fields take firebreak's defaults. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means no retry, 0 no limit (then bound it with a schedule-to-close). */
  maximumAttempts?: number;
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  /** Error types (AWS error names) that must not be retried. */
  nonRetryableErrorTypes?: string[];
}

/** Fields every step has. */
export interface StepBase {
  /** Stable, explicit ID: used in history, logs, the API and reports. Lowercase, digits and dashes. */
  id: string;
  /** A short human title for the API and notifications. */
  title?: string;
  description?: string;
  /** JSONata condition; the step runs only when it evaluates truthy, else it is skipped. */
  when?: string;
}

/** The compensation an action step declares: another catalogue action with its own inputs. */
export type RollbackSpec = {
  [R in ActionName]: {
    action: R;
    /** Inputs; expressions may read `steps.<thisStep>.output`. */
    with: Exprable<ActionInput<R>>;
    timeout?: Duration;
    /** Default: the runbook's `rollbackRetry`, else retries without an attempt limit for 2 hours. */
    retry?: RetryPolicy;
    /** How long all attempts together may take (Temporal's schedule-to-close); default as `retry`. */
    scheduleToClose?: Duration;
  };
}[ActionName];

/** An action step of a given catalogue action: its `with` block is type-checked against that action's input. */
export type ActionStepOf<A extends ActionName> = StepBase & {
  kind: 'action';
  /** The catalogue action (and Temporal activity) to run. */
  action: A;
  /** The action's input: literals are type-checked, expressions are evaluated at run time. */
  with: Exprable<ActionInput<A>>;
  /** Start-to-close timeout of one attempt. Default 2 minutes. */
  timeout?: Duration;
  /**
   * How transient failures (throttling, 5xx, network) are retried; client errors fail at once. Default: 10 attempts,
   * back-off from 1 s doubling to 30 s (about 2.5 minutes in all).
   */
  retry?: RetryPolicy;
  /** Heartbeat timeout, for actions that heartbeat while they wait (ssm.runCommand). */
  heartbeatTimeout?: Duration;
  /** When true, a failure of this step is recorded and the runbook goes on; no rollback is triggered. */
  continueOnError?: boolean;
  /** How to undo this step when the execution rolls back. */
  rollback?: RollbackSpec;
};

export type ActionStep = { [A in ActionName]: ActionStepOf<A> }[ActionName];

/** What happens when an approval gate's deadline passes without a decision. */
export type OnTimeout = 'reject' | 'approve' | 'fail';

/**
 * One tier of an approval gate's escalation chain: when the gate is still undecided `after` this long (counted from the
 * moment the gate opened), firebreak publishes a notice to `topicArn` (an `sns.publish` activity) and records the
 * escalation in the step's state.
 */
export interface EscalationTier {
  /** Delay from the gate's opening; tiers must come in increasing order and before the gate's deadline. */
  after: Duration;
  /** The SNS topic of this tier, e.g. `expr('params.escalationTopicArn')`. A tier whose topic resolves to nothing is skipped. */
  topicArn: Exprable<string>;
  /** A line for the humans who receive it; a default names the gate and its deadline. */
  message?: string;
}

/**
 * Who may decide an approval gate, and how many must. Mirrors SSM Automation's `aws:approve` (Approvers,
 * MinRequiredApprovals), with four-eyes on by default.
 */
export interface ApproverPolicy {
  /**
   * Gate roles that may decide (e.g. `incident-commander`). `admin` stands for every role. Unset: any principal allowed
   * to decide approvals (any gate role or admin).
   */
  roles?: string[];
  /** Distinct approvers needed before the gate passes; one reject decides it at once. Default 1. */
  min?: number;
}

/** A gate that waits for a human decision, delivered through the API (a Temporal Update). */
export interface ApprovalStep extends StepBase {
  kind: 'approval';
  title: string;
  /** Who may decide and how many approvals the gate needs. Roles are checked against the caller's authenticated identity. */
  approvers?: ApproverPolicy;
  /**
   * Four-eyes is on by default: the principal that started the execution (for an alert, the alert's principal) may not
   * approve its own gate. `true` turns that off for this gate.
   */
  allowSelfApproval?: boolean;
  /** How long to wait for a decision. */
  timeout: Duration;
  /** What a passed deadline means: reject (roll back), approve (go on) or fail (fail and roll back). */
  onTimeout: OnTimeout;
  /** Shown to the approver. */
  instructions?: string;
  /** Who to notify, and when, while the gate stays undecided. */
  escalation?: EscalationTier[];
}

/** Who may release a succeeded execution (roll it back inside its rollback window). */
export interface ReleasePolicy {
  approvers: { roles: string[] };
}

/**
 * Waits until a condition holds, re-checked whenever the execution learns something new (e.g. the incident's alert
 * went back to OK): a verification step such as `until: "incident.alertState = 'resolved'"`.
 */
export interface WaitStep extends StepBase {
  kind: 'wait';
  title: string;
  /** JSONata condition over the expression context (`incident.alertState` is `firing`, `resolved` or `unknown`). */
  until: string;
  timeout: Duration;
  /** `fail`: the step fails and the execution rolls back; `continue`: the failure is recorded and the runbook goes on. */
  onTimeout: 'fail' | 'continue';
}

export type Step = ActionStep | ApprovalStep | WaitStep;

/**
 * When an alert starts this runbook, and how the alert's fields become its params. Every condition given must hold;
 * patterns use `*` (any run of characters) and `?` (one character).
 */
export interface RunbookTrigger<Params = Record<string, unknown>> {
  /** Alert sources this trigger accepts. */
  sources: AlertSource[];
  /** CloudWatch alarm names, e.g. `prod-*-egress-spike`. */
  alarmNames?: string[];
  /** CloudWatch metrics; each field optional, patterns allowed. */
  metrics?: { namespace?: string; name?: string }[];
  /** GuardDuty finding types, e.g. `UnauthorizedAccess:EC2/*`. */
  findingTypes?: string[];
  /** Resource types the alert must name, e.g. `ec2:instance`. */
  resourceTypes?: string[];
  /** The least severe alert that starts the runbook (after triage): SEV2 accepts SEV1 and SEV2. */
  minSeverity?: Severity;
  /**
   * The runbook's params: literals or JSONata over `{ alert, incident: { id, severity }, notify: { topicArn } }`,
   * e.g. `{ instanceId: expr('alert.resource.id') }`.
   */
  params: { [K in keyof Params]?: Exprable<Params[K]> };
}

/** A runbook: metadata, a parameter schema and the ordered steps. */
// The default (any) lets code handle runbooks of every params type alike; defineRunbook keeps the precise type.
export interface RunbookDefinition<P extends TObject = any> {
  /** Stable ID, used in URLs: lowercase, digits and dashes. */
  id: string;
  /** Semantic version of the definition; the digest pins the exact content. */
  version: string;
  title: string;
  description: string;
  /** The incident type this runbook answers, e.g. `ec2-compromise`. */
  incidentType: string;
  /** Default severity of incidents handled by this runbook. */
  severity: Severity;
  /** TypeBox schema of the parameters (types, patterns, defaults). */
  params: P;
  steps: Step[];
  /**
   * How long a succeeded execution stays open for a rollback request (e.g. to release a quarantined instance).
   * Unset: the execution closes as soon as its last step succeeds.
   */
  rollbackWindow?: Duration;
  /**
   * Who may release the execution once it succeeded (a rollback request inside the rollback window). Unset: the union
   * of the roles of the runbook's approval gates; when no gate names roles, anyone allowed to roll back.
   */
  release?: ReleasePolicy;
  /** Alerts that start this runbook (see the alert routing in api/alerts). */
  triggers?: RunbookTrigger<Static<P>>[];
  /**
   * Which param names the affected resource, e.g. `{ type: 'ec2:instance', param: 'instanceId' }`: for search and
   * listing, and for the resource's lock (one execution changes a resource at a time; see the README).
   */
  resource?: ResourceSpec<keyof Static<P> & string>;
  /**
   * How compensations retry unless a step's rollback says otherwise: `retry` (`maximumAttempts: 0` = no limit) and
   * `scheduleToClose`, the time all attempts of one compensation may take. Default: no limit, 2 hours.
   */
  rollbackRetry?: { retry?: RetryPolicy; scheduleToClose?: Duration };
  /** How long a rollback that still failed waits for a retry request; default the rollbackWindow, else 24 hours. */
  rollbackRetryWindow?: Duration;
}

/** The resource a runbook acts on. */
export interface ResourceSpec<Param extends string = string> {
  type: string;
  param: Param;
  /**
   * The action step whose output is the resource's original state (e.g. `capture`). When another execution's
   * containment is already on the resource, this step's output is the original that execution recorded, not what the
   * step sees (a quarantine), so the last release restores the true original.
   */
  original?: string;
  /** How long an execution waits for another that holds the resource before failing; default 30 minutes. */
  wait?: Duration;
}

/** Defines a runbook; typed so that each action step's `with` block is checked against the catalogue. */
export function defineRunbook<P extends TObject>(definition: RunbookDefinition<P>): RunbookDefinition<P> {
  return definition;
}

/** What expressions see at run time. */
export interface ExpressionContext {
  params: Record<string, unknown>;
  steps: Record<string, { status: string; output?: unknown }>;
  execution: { id: string; runbookId: string; digest: string; startedBy: string; incidentId?: string };
  /** What the incident that started this execution reported; `unknown` for executions started by hand. */
  incident: IncidentNews;
}

/** What an incident tells the runbook execution it started. */
export interface IncidentNews {
  alertState: 'firing' | 'resolved' | 'unknown';
  resolvedAt?: string;
}

/** A runbook ready to run: its plain (JSON) definition and the digest of that content. */
export interface LoadedRunbook {
  definition: RunbookDefinition;
  digest: string;
}
