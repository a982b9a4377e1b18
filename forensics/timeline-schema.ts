/**
 * The timeline rebuilt from a workflow's history (forensics/timeline.ts), schema first: the API's response schema and
 * the TypeScript types both come from here.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Str = Type.String();

const Principal = Type.Object({ id: Str, roles: Opt(Type.Array(Str)) });

export const FailureSchema = Type.Object({
  message: Str,
  type: Opt(Str),
  details: Opt(Type.Array(Type.Unknown())),
  causes: Opt(Type.Array(Type.Object({ message: Str, type: Opt(Str) }))),
});

/** One attempt's failure: Temporal records the last attempt's failure and, on the start event, the one before it. */
const AttemptFailure = Type.Composite([Type.Object({ attempt: Type.Integer(), at: Opt(Str) }), FailureSchema]);

/** An activity as its events tell it: scheduled, started (the last attempt), closed. */
export const ActivityRunSchema = Type.Object({
  activityId: Str,
  activityType: Str,
  scheduledEventId: Type.Integer(),
  scheduledAt: Str,
  startedAt: Opt(Str),
  closedAt: Opt(Str),
  status: Type.Union([
    Type.Literal('scheduled'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('timed-out'),
    Type.Literal('cancelled'),
  ]),
  attempts: Type.Integer(),
  failures: Type.Array(AttemptFailure),
  input: Opt(Type.Unknown()),
  output: Opt(Type.Unknown()),
});

export const ApprovalSchema = Type.Object({
  stepId: Str,
  decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
  comment: Opt(Str),
  decidedBy: Principal,
  decidedAt: Str,
  via: Type.Union([Type.Literal('human'), Type.Literal('timeout')]),
  /** The Update's ID and events (human decisions), or the timer's (deadlines). */
  updateId: Opt(Str),
  eventId: Type.Integer(),
});

export const TimerSchema = Type.Object({
  timerId: Str,
  eventId: Type.Integer(),
  startedAt: Str,
  timeoutMs: Opt(Type.Integer()),
  deadline: Opt(Str),
  fate: Type.Union([Type.Literal('pending'), Type.Literal('fired'), Type.Literal('cancelled')]),
  closedAt: Opt(Str),
  /** What the timer was for, as far as the runbook definition tells: `approval:<step>`, `wait:<step>`, `rollback-window`. */
  purpose: Opt(Str),
});

export const StepSchema = Type.Object({
  id: Str,
  kind: Str,
  title: Opt(Str),
  action: Opt(Str),
  /** As the interpreter names step states (workflows/messages.ts StepStatus). */
  status: Str,
  scheduledAt: Opt(Str),
  startedAt: Opt(Str),
  closedAt: Opt(Str),
  attempts: Type.Integer(),
  failures: Type.Array(AttemptFailure),
  input: Opt(Type.Unknown()),
  output: Opt(Type.Unknown()),
  deadline: Opt(Str),
  approval: Opt(ApprovalSchema),
  rollback: Opt(ActivityRunSchema),
  note: Opt(Str),
});

const Signal = Type.Object({ eventId: Type.Integer(), at: Str, name: Str, input: Opt(Type.Unknown()) });
const SignalSent = Type.Composite([Signal, Type.Object({ workflowId: Str })]);
const StatusChange = Type.Object({ eventId: Type.Integer(), at: Str, status: Str });

export const OutcomeSchema = Type.Object({
  /** running, completed, failed, cancelled, terminated, timed-out, continued-as-new */
  workflowStatus: Str,
  at: Opt(Str),
  eventId: Opt(Type.Integer()),
  /** The firebreak status the workflow last recorded (FirebreakStatus). */
  status: Opt(Str),
  failure: Opt(FailureSchema),
  reason: Opt(Str),
});

export const ExecutionPartSchema = Type.Object({
  runbook: Type.Object({
    id: Str,
    version: Str,
    title: Str,
    digest: Str,
    /** The whole definition as pinned in the start event. */
    definition: Type.Unknown(),
  }),
  params: Type.Unknown(),
  startedBy: Principal,
  reason: Opt(Str),
  severity: Opt(Str),
  incidentId: Opt(Str),
  resource: Opt(Str),
  /**
   * Where it acted: the account and region its target named (`source: target`), else (or for the part it did not name)
   * the worker's own as its resource lock request resolved them (`source: worker`); absent when neither is known.
   */
  target: Opt(Type.Object({ account: Opt(Str), region: Opt(Str), source: Str })),
  parent: Opt(Type.Object({ workflowId: Str, runId: Opt(Str) })),
  status: Str,
  statusChanges: Type.Array(StatusChange),
  steps: Type.Array(StepSchema),
  approvals: Type.Array(ApprovalSchema),
  rollbackRequests: Type.Array(
    Type.Object({ eventId: Type.Integer(), at: Str, updateId: Opt(Str), reason: Str, requestedBy: Principal }),
  ),
  rollback: Opt(
    Type.Object({
      trigger: Str,
      startedAt: Str,
      endedAt: Opt(Str),
      complete: Opt(Type.Boolean()),
      eventId: Type.Integer(),
    }),
  ),
  cancelRequested: Opt(Type.Object({ eventId: Type.Integer(), at: Str, identity: Opt(Str) })),
  rollbackWindowUntil: Opt(Str),
  signals: Type.Array(Signal),
});

export const AlertEntrySchema = Type.Object({
  eventId: Type.Integer(),
  at: Str,
  updateId: Opt(Str),
  deliveryId: Str,
  source: Str,
  via: Opt(Str),
  name: Str,
  title: Opt(Str),
  state: Str,
  occurredAt: Opt(Str),
  severity: Opt(Str),
  resource: Opt(Type.Object({ type: Str, id: Str })),
  /** What became of the payload in history (full, truncated, omitted on a repeat) and its SHA-256. */
  rawSummary: Opt(Type.Object({ digest: Str, bytes: Type.Integer(), kept: Str })),
  /** What the incident answered: opened, refired, duplicate, resolved, already-resolved. */
  outcome: Opt(Str),
});

export const IncidentPartSchema = Type.Object({
  incidentId: Str,
  fingerprint: Str,
  severity: Str,
  initialSeverity: Str,
  severityReason: Str,
  route: Type.Object({
    kind: Str,
    runbookId: Opt(Str),
    digest: Opt(Str),
    definition: Opt(Type.Unknown()),
    params: Opt(Type.Unknown()),
    reason: Opt(Str),
  }),
  status: Str,
  statusChanges: Type.Array(StatusChange),
  alerts: Type.Array(AlertEntrySchema),
  severityChanges: Type.Array(
    Type.Object({ eventId: Type.Integer(), at: Str, from: Str, to: Str, reason: Str, by: Principal }),
  ),
  resolutions: Type.Array(
    Type.Object({
      eventId: Type.Integer(),
      at: Str,
      kind: Type.Union([Type.Literal('alert'), Type.Literal('human')]),
      by: Str,
      reason: Opt(Str),
      withdrawnAt: Opt(Str),
    }),
  ),
  child: Opt(
    Type.Object({
      workflowId: Str,
      workflowType: Str,
      runId: Opt(Str),
      initiatedAt: Str,
      startedAt: Opt(Str),
      closedAt: Opt(Str),
      closedAs: Opt(Str),
      runbookId: Opt(Str),
      digest: Opt(Str),
    }),
  ),
  runbookProgress: Type.Array(
    Type.Object({
      eventId: Type.Integer(),
      at: Str,
      status: Str,
      failure: Opt(Type.Unknown()),
      rollback: Opt(Type.Unknown()),
    }),
  ),
  notifications: Type.Array(Type.Composite([ActivityRunSchema, Type.Object({ event: Str })])),
  signals: Type.Array(Signal),
  signalsSent: Type.Array(SignalSent),
});

export const TimelineEntrySchema = Type.Object({
  runId: Str,
  eventId: Type.Integer(),
  at: Str,
  kind: Str,
  summary: Str,
});

export const TimelineSchema = Type.Object({
  workflowId: Str,
  workflowType: Str,
  kind: Type.Union([Type.Literal('execution'), Type.Literal('incident'), Type.Literal('other')]),
  runs: Type.Array(
    Type.Object({
      runId: Str,
      startedAt: Str,
      closedAt: Opt(Str),
      eventCount: Type.Integer(),
      /** SHA-256 of the run's history as exported (two-space JSON, final newline). */
      historySha256: Str,
    }),
  ),
  startedAt: Str,
  closedAt: Opt(Str),
  /** Set when the timeline is the state at a point: the last event taken into account. */
  asOf: Opt(Type.Object({ runId: Str, eventId: Type.Integer(), at: Str })),
  execution: Opt(ExecutionPartSchema),
  incident: Opt(IncidentPartSchema),
  timers: Type.Array(TimerSchema),
  outcome: OutcomeSchema,
  entries: Type.Array(TimelineEntrySchema),
});

export type Timeline = Static<typeof TimelineSchema>;
export type TimelineEntry = Static<typeof TimelineEntrySchema>;
export type StepTimeline = Static<typeof StepSchema>;
export type ActivityRun = Static<typeof ActivityRunSchema>;
export type ApprovalEntry = Static<typeof ApprovalSchema>;
export type TimerEntry = Static<typeof TimerSchema>;
export type ExecutionPart = Static<typeof ExecutionPartSchema>;
export type IncidentPart = Static<typeof IncidentPartSchema>;
export type AlertEntry = Static<typeof AlertEntrySchema>;
export type FailureEntry = Static<typeof FailureSchema>;
export type Outcome = Static<typeof OutcomeSchema>;
