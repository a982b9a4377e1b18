/**
 * API schemas (TypeBox): request bodies, params and a response schema per status code; OpenAPI is generated from
 * them. Types are derived with Static.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ExecutionTarget } from '../activities/schemas';
import { SAFE_VALUE } from './visibility';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { title: 'Error' },
);

/** Standard error responses for the given status codes. */
export function errors<const C extends readonly number[]>(...codes: C): { [K in C[number]]: typeof ErrorBody } {
  return Object.fromEntries(codes.map((c) => [c, ErrorBody])) as { [K in C[number]]: typeof ErrorBody };
}

const Principal = Type.Object({ id: Type.String(), roles: Type.Optional(Type.Array(Type.String())) });
const ErrorInfo = Type.Object({
  message: Type.String(),
  type: Type.Optional(Type.String()),
  details: Type.Optional(Type.Unknown()),
});
const ApprovalRecord = Type.Object({
  stepId: Type.String(),
  decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
  comment: Type.Optional(Type.String()),
  decidedBy: Principal,
  decidedAt: Type.String({ format: 'date-time' }),
  via: Type.Union([Type.Literal('human'), Type.Literal('timeout')]),
});
/** A decision's answer: the record, and where the gate stands after it. */
export const ApprovalRecordSchema = Type.Composite([
  ApprovalRecord,
  Type.Object({
    gate: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected')], {
        description: 'pending while more approvals are needed',
      }),
    ),
    approvalsNeeded: Type.Optional(Type.Integer({ minimum: 0, description: 'approvals still needed' })),
  }),
]);

export const GatePolicySchema = Type.Object(
  {
    roles: Type.Array(Type.String(), { description: 'roles that may decide; empty: any approver' }),
    min: Type.Integer({ minimum: 1, description: 'distinct approvals needed' }),
    fourEyes: Type.Boolean({ description: "the execution's starter may not approve its own gate" }),
  },
  { title: 'ApprovalPolicy' },
);
const EscalationRecordSchema = Type.Object({
  tier: Type.Integer(),
  after: Type.Union([Type.String(), Type.Number()]),
  status: Type.Union([Type.Literal('sent'), Type.Literal('skipped'), Type.Literal('failed')]),
  at: Type.String(),
  topicArn: Type.Optional(Type.String()),
  messageId: Type.Optional(Type.String()),
  error: Type.Optional(ErrorInfo),
});
const NextActionSchema = Type.Object({
  stepId: Type.String(),
  title: Type.Optional(Type.String()),
  action: Type.String(),
  resource: Type.Optional(Type.String({ description: 'type/id of the resource acted on' })),
  when: Type.Optional(Type.String({ description: 'condition under which the step runs' })),
});
const ApprovedBy = Type.Object({ id: Type.String(), at: Type.String(), comment: Type.Optional(Type.String()) });

const StepStateSchema = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('action'), Type.Literal('approval'), Type.Literal('wait')]),
  title: Type.Optional(Type.String()),
  action: Type.Optional(Type.String()),
  status: Type.String(),
  attempts: Type.Integer(),
  startedAt: Type.Optional(Type.String()),
  endedAt: Type.Optional(Type.String()),
  output: Type.Optional(Type.Unknown()),
  error: Type.Optional(ErrorInfo),
  deadline: Type.Optional(Type.String()),
  approval: Type.Optional(ApprovalRecord),
  approvals: Type.Optional(Type.Array(ApprovalRecord)),
  escalations: Type.Optional(Type.Array(EscalationRecordSchema)),
  rollback: Type.Optional(
    Type.Object({
      action: Type.String(),
      status: Type.String(),
      startedAt: Type.String(),
      endedAt: Type.Optional(Type.String()),
      attempts: Type.Optional(Type.Integer()),
      output: Type.Optional(Type.Unknown()),
      error: Type.Optional(ErrorInfo),
    }),
  ),
  partial: Type.Optional(
    Type.Unknown({ description: 'a failed step: what it changed before it failed (its rollback undoes it)' }),
  ),
  original: Type.Optional(
    Type.Object(
      { executionId: Type.String(), capturedAt: Type.String(), state: Type.Unknown() },
      { description: "the resource's original state recorded by another execution, used instead of output" },
    ),
  ),
});

const LockHolderSchema = Type.Object({
  executionId: Type.String(),
  runbookId: Type.String(),
  purpose: Type.String(),
  since: Type.String(),
  leaseUntil: Type.String(),
});

const ResourceLockSchema = Type.Object(
  {
    key: Type.String({ description: 'the resource record: resource:<account>:<region>:<type/id>' }),
    purpose: Type.String({ description: 'contain or release' }),
    status: Type.String({ description: 'waiting, held, released, timed-out or abandoned' }),
    requestedAt: Type.String(),
    waitUntil: Type.Optional(Type.String()),
    holder: Type.Optional(LockHolderSchema),
    position: Type.Optional(Type.Integer()),
    grantedAt: Type.Optional(Type.String()),
    others: Type.Optional(Type.Array(Type.String(), { description: 'containments by others when granted' })),
    releasedAt: Type.Optional(Type.String()),
    outcome: Type.Optional(Type.String({ description: 'contained, released or unchanged' })),
  },
  { description: "the execution's hold on its resource's lock" },
);

export const ExecutionSchema = Type.Object({
  executionId: Type.String(),
  runbookId: Type.String(),
  runbookVersion: Type.String(),
  title: Type.String(),
  digest: Type.String(),
  severity: Type.String(),
  incidentId: Type.Optional(Type.String()),
  resource: Type.Optional(Type.String()),
  target: Type.Optional(ExecutionTarget),
  params: Type.Record(Type.String(), Type.Unknown()),
  startedBy: Principal,
  reason: Type.Optional(Type.String()),
  status: Type.String(),
  /** Temporal's own view: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT. */
  workflowStatus: Type.String(),
  startedAt: Type.String(),
  endedAt: Type.Optional(Type.String()),
  steps: Type.Array(StepStateSchema),
  pendingApproval: Type.Optional(
    Type.Object({
      stepId: Type.String(),
      title: Type.String(),
      instructions: Type.Optional(Type.String()),
      roles: Type.Optional(Type.Array(Type.String())),
      deadline: Type.String(),
      onTimeout: Type.String(),
      approveUrl: Type.String(),
      policy: Type.Optional(GatePolicySchema),
      approvedBy: Type.Optional(Type.Array(ApprovedBy)),
      approvalsNeeded: Type.Optional(Type.Integer()),
      next: Type.Optional(Type.Array(NextActionSchema)),
      escalations: Type.Optional(Type.Array(EscalationRecordSchema)),
    }),
  ),
  rollbackWindowUntil: Type.Optional(Type.String()),
  release: Type.Optional(
    Type.Object({
      requestedBy: Principal,
      requestedAt: Type.String(),
      reason: Type.String(),
      roles: Type.Array(Type.String()),
    }),
  ),
  rollback: Type.Optional(
    Type.Object({
      trigger: Type.String(),
      reason: Type.String(),
      requestedBy: Type.Optional(Principal),
      startedAt: Type.String(),
      endedAt: Type.Optional(Type.String()),
      complete: Type.Optional(Type.Boolean()),
      handedOverTo: Type.Optional(
        Type.Array(Type.String(), { description: 'executions still containing the resource: nothing was undone' }),
      ),
      remaining: Type.Optional(Type.Array(Type.String(), { description: 'steps whose compensation still failed' })),
      retries: Type.Optional(
        Type.Array(Type.Object({ requestedBy: Principal, requestedAt: Type.String(), reason: Type.String() })),
      ),
      retryUntil: Type.Optional(Type.String({ description: 'rollback-failed: a retry may be requested until then' })),
    }),
  ),
  resourceLock: Type.Optional(ResourceLockSchema),
  failure: Type.Optional(
    Type.Object({
      message: Type.String(),
      type: Type.Optional(Type.String()),
      details: Type.Optional(Type.Unknown()),
      stepId: Type.Optional(Type.String()),
      fieldErrors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  ),
});
export type ExecutionView = Static<typeof ExecutionSchema>;

export const StartExecutionBody = Type.Object(
  {
    params: Type.Record(Type.String(), Type.Unknown()),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    /** Where the actions run; absent parts mean the worker's own account and region. */
    target: Type.Optional(ExecutionTarget),
  },
  { additionalProperties: false },
);
export const StartedExecution = Type.Object({
  executionId: Type.String(),
  runbookId: Type.String(),
  digest: Type.String(),
  status: Type.String(),
});

export const ApprovalBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export const RollbackBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
export const RollbackAccepted = Type.Object({
  executionId: Type.String(),
  accepted: Type.Boolean(),
  status: Type.String(),
});

const StepSummary = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  title: Type.Optional(Type.String()),
  action: Type.Optional(Type.String()),
  rollbackAction: Type.Optional(Type.String()),
  approvers: Type.Optional(
    Type.Object({ roles: Type.Optional(Type.Array(Type.String())), min: Type.Optional(Type.Integer()) }),
  ),
  policy: Type.Optional(GatePolicySchema),
  instructions: Type.Optional(Type.String()),
  escalation: Type.Optional(
    Type.Array(
      Type.Object({
        after: Type.Union([Type.String(), Type.Number()]),
        topicArn: Type.Unknown({ description: 'an SNS topic ARN, or {$expr} resolved at run time' }),
        message: Type.Optional(Type.String()),
      }),
    ),
  ),
  timeout: Type.Optional(Type.Union([Type.String(), Type.Number()])),
  onTimeout: Type.Optional(Type.String()),
  until: Type.Optional(Type.String()),
});
export const RunbookSummary = Type.Object({
  id: Type.String(),
  version: Type.String(),
  title: Type.String(),
  description: Type.String(),
  incidentType: Type.String(),
  severity: Type.String(),
  digest: Type.String(),
});
export const RunbookDetail = Type.Composite([
  RunbookSummary,
  Type.Object({
    params: Type.Unknown({ description: 'JSON schema of the parameters' }),
    steps: Type.Array(StepSummary),
    rollbackWindow: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    release: Type.Object({
      roles: Type.Array(Type.String(), { description: 'roles that may release; empty: anyone who may roll back' }),
      source: Type.Union([Type.Literal('runbook'), Type.Literal('gate-roles')]),
    }),
  }),
]);

export const ApprovalsQuery = Type.Object(
  {
    mine: Type.Optional(Type.Boolean({ default: false, description: 'only the gates the caller may approve now' })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    pageToken: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export const PendingGateSchema = Type.Object(
  {
    executionId: Type.String(),
    runbookId: Type.String(),
    runbookVersion: Type.String(),
    runbookTitle: Type.String(),
    severity: Type.String(),
    resource: Type.Optional(Type.String()),
    incidentId: Type.Optional(Type.String()),
    startedBy: Principal,
    reason: Type.Optional(Type.String()),
    stepId: Type.String(),
    title: Type.String(),
    instructions: Type.Optional(Type.String()),
    deadline: Type.String(),
    onTimeout: Type.String(),
    policy: GatePolicySchema,
    approvedBy: Type.Array(ApprovedBy),
    approvalsNeeded: Type.Integer(),
    next: Type.Array(NextActionSchema, { description: 'what runs once the gate passes, up to the next gate' }),
    escalations: Type.Array(EscalationRecordSchema),
    approveUrl: Type.String(),
    executionUrl: Type.String(),
  },
  { title: 'PendingGate' },
);
export type PendingGate = Static<typeof PendingGateSchema>;
export const ApprovalsResponse = Type.Object({
  items: Type.Array(PendingGateSchema),
  nextPageToken: Type.Optional(Type.String()),
});

export const SeverityLiteral = Type.Union([
  Type.Literal('SEV1'),
  Type.Literal('SEV2'),
  Type.Literal('SEV3'),
  Type.Literal('SEV4'),
]);

const SafeValue = Type.String({ pattern: SAFE_VALUE });
export const ListQuery = Type.Object({
  status: Type.Optional(SafeValue),
  severity: Type.Optional(SeverityLiteral),
  type: Type.Optional(SafeValue),
  resource: Type.Optional(
    Type.String({ pattern: SAFE_VALUE, description: 'type/id, e.g. ec2:instance/i-0123456789abcdef0' }),
  ),
  runbook: Type.Optional(SafeValue),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  pageToken: Type.Optional(Type.String({ maxLength: 4096 })),
});
export const ListResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      status: Type.Optional(Type.String()),
      severity: Type.Optional(Type.String()),
      type: Type.Optional(Type.String()),
      resource: Type.Optional(Type.String()),
      runbookId: Type.Optional(Type.String()),
      /** Incidents: one item per occurrence (run); the same id recurs for each occurrence of a fingerprint. */
      runId: Type.Optional(Type.String()),
      startedAt: Type.Optional(Type.String()),
      closedAt: Type.Optional(Type.String()),
      workflowStatus: Type.String(),
    }),
  ),
  nextPageToken: Type.Optional(Type.String()),
});

const Resource = Type.Object({ type: Type.String(), id: Type.String() });
export const IncidentSchema = Type.Object({
  incidentId: Type.String(),
  fingerprint: Type.String(),
  status: Type.String(),
  workflowStatus: Type.String(),
  title: Type.String(),
  incidentType: Type.String(),
  source: Type.Optional(Type.String()),
  alertName: Type.Optional(Type.String()),
  account: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  resource: Type.Optional(Resource),
  severity: Type.String(),
  severityReason: Type.String(),
  openedAt: Type.String(),
  occurrence: Type.Optional(Type.String({ description: 'this occurrence of the incident (its first run ID)' })),
  runId: Type.Optional(Type.String({ description: 'the run shown' })),
  occurrences: Type.Optional(
    Type.Array(
      Type.Object({
        runId: Type.String(),
        status: Type.Optional(Type.String()),
        workflowStatus: Type.String(),
        startedAt: Type.Optional(Type.String()),
        closedAt: Type.Optional(Type.String()),
        current: Type.Boolean(),
        url: Type.String(),
      }),
      { description: 'every occurrence of this incident (newest first), from visibility' },
    ),
  ),
  firstSeen: Type.Optional(Type.String()),
  lastSeen: Type.Optional(Type.String()),
  resolvedAt: Type.Optional(Type.String()),
  resolvedBy: Type.Optional(
    Type.Object({ kind: Type.String(), id: Type.String(), reason: Type.Optional(Type.String()) }),
  ),
  closedAt: Type.Optional(Type.String()),
  refiredCount: Type.Integer(),
  duplicateCount: Type.Integer(),
  alertCount: Type.Integer(),
  reopenedCount: Type.Optional(Type.Integer()),
  automation: Type.Object({
    kind: Type.String(),
    runbookId: Type.Optional(Type.String()),
    digest: Type.Optional(Type.String()),
    executionId: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    pendingApproval: Type.Optional(Type.Unknown()),
    fieldErrors: Type.Optional(Type.Unknown()),
    finished: Type.Optional(Type.Boolean()),
  }),
  firstAlert: Type.Optional(Type.Unknown()),
  timeline: Type.Array(
    Type.Object({
      at: Type.String(),
      kind: Type.String(),
      message: Type.String(),
      data: Type.Optional(Type.Unknown()),
    }),
  ),
});
