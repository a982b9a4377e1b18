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
export const ApprovalRecordSchema = ApprovalRecord;

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
});

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
    }),
  ),
  rollbackWindowUntil: Type.Optional(Type.String()),
  rollback: Type.Optional(
    Type.Object({
      trigger: Type.String(),
      reason: Type.String(),
      requestedBy: Type.Optional(Principal),
      startedAt: Type.String(),
      endedAt: Type.Optional(Type.String()),
      complete: Type.Optional(Type.Boolean()),
    }),
  ),
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
  approvers: Type.Optional(Type.Object({ roles: Type.Optional(Type.Array(Type.String())) })),
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
  }),
]);

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
  automation: Type.Object({
    kind: Type.String(),
    runbookId: Type.Optional(Type.String()),
    digest: Type.Optional(Type.String()),
    executionId: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    pendingApproval: Type.Optional(Type.Unknown()),
    fieldErrors: Type.Optional(Type.Unknown()),
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
