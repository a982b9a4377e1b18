/**
 * API schemas (TypeBox): request bodies, params and a response schema per status code; OpenAPI is generated from
 * them. Types are derived with Static.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ExecutionTarget } from '../activities/schemas';
import { SEVERITIES } from '../runbooks/dsl/types';
import type { IncidentStatus } from '../workflows/incident-messages';
import type { ExecutionStatus } from '../workflows/messages';
import { SAFE_VALUE } from './visibility';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
      /** The request's ID, as in the server log and the x-request-id header. */
      requestId: Type.Optional(Type.String()),
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

export const WindowExtensionSchema = Type.Object({
  reason: Type.String(),
  extendBy: Type.Union([Type.String(), Type.Number()]),
  requestedBy: Principal,
  requestedAt: Type.String(),
  previousUntil: Type.String(),
  until: Type.String(),
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
  pageUrl: Type.Optional(Type.String({ description: "this execution's page in the approval console (/console)" })),
  startedAt: Type.String(),
  endedAt: Type.Optional(Type.String()),
  run: Type.Optional(
    Type.Integer({ description: 'which run of the execution this is (it continues as new while it waits long)' }),
  ),
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
  windowExtensions: Type.Optional(Type.Array(WindowExtensionSchema)),
  refusedRequests: Type.Optional(
    Type.Array(
      Type.Object({
        kind: Type.String(),
        requestedBy: Type.Optional(Type.Object({ id: Type.String() })),
        reason: Type.Optional(Type.String()),
        refusedAt: Type.String(),
        type: Type.Optional(Type.String()),
        message: Type.String(),
      }),
      { description: 'rollback/release requests accepted while no worker ran (202 confirmed:false), then refused' },
    ),
  ),
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
export const WindowBody = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    extendBy: Type.Union(
      [
        Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?\\s*(ms|s|m|h|d|w)$', description: "e.g. '3d', '12h'" }),
        Type.Integer({ minimum: 1, description: 'milliseconds' }),
      ],
      { description: 'How much longer the window stays open, from its current end; at most 30 days' },
    ),
  },
  { additionalProperties: false },
);

export const RollbackAccepted = Type.Object({
  executionId: Type.String(),
  accepted: Type.Boolean(),
  confirmed: Type.Boolean({
    description:
      'true: the execution took the request (status is its status then); false: no worker confirmed it in time, the ' +
      'Temporal server holds it durably and the execution runs it when a worker runs (status pending-worker; a ' +
      "refusal then shows in the execution's refusedRequests)",
  }),
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

/**
 * Visibility page tokens as this API hands them out: Temporal's token (a JSON document with SQL and Elasticsearch
 * visibility alike) in base64url. Checked here so that a malformed token is a 400 at once instead of a slow failure
 * inside Temporal.
 */
export const PAGE_TOKEN_PATTERN = '^[A-Za-z0-9_-]{4,4096}$';
export const PageToken = Type.String({
  pattern: PAGE_TOKEN_PATTERN,
  description: 'nextPageToken of the previous page, as returned',
});

/** A Temporal run ID (a UUID): anything else is a 400 here, not an error from Temporal. */
export const RunId = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'a run of the workflow (see occurrences)',
});

export const ApprovalsQuery = Type.Object(
  {
    mine: Type.Optional(Type.Boolean({ default: false, description: 'only the gates the caller may approve now' })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    pageToken: Type.Optional(PageToken),
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
    pageUrl: Type.String({ description: "the execution's page in the approval console, where the gate is decided" }),
  },
  { title: 'PendingGate' },
);
export type PendingGate = Static<typeof PendingGateSchema>;
export const ApprovalsResponse = Type.Object({
  items: Type.Array(PendingGateSchema),
  nextPageToken: Type.Optional(Type.String()),
});

export const SeverityLiteral = StringEnum(SEVERITIES);

const SafeValue = Type.String({ pattern: SAFE_VALUE });

/** A string enum as a plain JSON-schema `enum`: the error handler lists the allowed values on a mismatch. */
export function StringEnum<const T extends readonly string[]>(values: T, options: object = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** Compile-time check that a list names every member of a union (a new status must be added here too). */
type Exhaustive<U extends string, L extends readonly U[]> = [Exclude<U, L[number]>] extends [never] ? L : never;
const exhaustive =
  <U extends string>() =>
  <const L extends readonly U[]>(list: Exhaustive<U, L>) =>
    list;

export const EXECUTION_STATUSES = exhaustive<ExecutionStatus>()([
  'running',
  'waiting-resource',
  'waiting-approval',
  'rolling-back',
  'rollback-failed',
  'succeeded',
  'failed',
  'rolled-back',
  'cancelled',
]);
export const INCIDENT_STATUSES = exhaustive<IncidentStatus>()([
  'opened',
  'triaged',
  'runbook-running',
  'contained',
  'runbook-failed',
  'rolled-back',
  'resolved',
  'closed',
]);
/** `open`: every incident that is not closed (a filter, not a status an incident has). */
export const INCIDENT_STATUS_FILTERS = [...INCIDENT_STATUSES, 'open'] as const;

const Time = (description: string) => Type.String({ format: 'date-time', description });
const commonFilters = {
  severity: Type.Optional(StringEnum(SEVERITIES)),
  resource: Type.Optional(
    Type.String({ pattern: SAFE_VALUE, description: 'type/id, e.g. ec2:instance/i-0123456789abcdef0' }),
  ),
  since: Type.Optional(Time('started at or after (RFC 3339)')),
  until: Type.Optional(Time('started at or before (RFC 3339)')),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  pageToken: Type.Optional(PageToken),
};
// Unknown query parameters are refused too: a misspelt filter silently ignored would list everything.
export const IncidentListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(INCIDENT_STATUS_FILTERS, { description: '`open`: every status but closed' })),
    type: Type.Optional(SafeValue),
    drill: Type.Optional(
      Type.Boolean({ default: false, description: 'true: drills only; false (default): real incidents only' }),
    ),
    ...commonFilters,
  },
  { additionalProperties: false },
);
export const ExecutionListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(EXECUTION_STATUSES)),
    runbook: Type.Optional(SafeValue),
    startedBy: Type.Optional(
      Type.String({ pattern: SAFE_VALUE, description: 'the principal that started it, e.g. user:alice or alert:<fp>' }),
    ),
    account: Type.Optional(Type.String({ pattern: '^[0-9]{12}$', description: 'the AWS account it acts in' })),
    region: Type.Optional(
      Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', description: 'the AWS region it acts in, e.g. eu-west-1' }),
    ),
    ...commonFilters,
  },
  { additionalProperties: false },
);

/** Longest workflow ID the API accepts in a path; the router's maxParamLength is derived from it (see app.ts). */
export const MAX_ID_LENGTH = 255;
/** IDs firebreak creates (`ec2-compromise-<uuid>`, `incident-<fingerprint>`, step IDs) use these characters only. */
export const Id = Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, pattern: '^[A-Za-z0-9:._@+-]+$' });
export const IdParams = Type.Object({ id: Id });

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
      /** Executions: the AWS account and region they act in, when known. */
      account: Type.Optional(Type.String()),
      region: Type.Optional(Type.String()),
      /** Incidents: one item per occurrence (run); the same id recurs for each occurrence of a fingerprint. */
      runId: Type.Optional(Type.String()),
      /** The first run of the item's chain (runs that continued as new are not listed). */
      firstRunId: Type.Optional(Type.String()),
      startedAt: Type.Optional(Type.String()),
      closedAt: Type.Optional(Type.String()),
      workflowStatus: Type.String(),
      /** The drill it belongs to (FirebreakDrill); absent for a real one. */
      drill: Type.Optional(Type.String()),
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
  drill: Type.Optional(Type.String({ description: 'the drill this incident belongs to; absent for a real incident' })),
  occurrence: Type.Optional(Type.String({ description: 'this occurrence of the incident (its first run ID)' })),
  runId: Type.Optional(Type.String({ description: 'the run shown' })),
  run: Type.Optional(
    Type.Integer({ description: "the run's place in its occurrence (1 + the times it continued as new)" }),
  ),
  occurrences: Type.Optional(
    Type.Array(
      Type.Object({
        occurrence: Type.Optional(Type.String({ description: 'its first run ID, where known' })),
        runId: Type.String({ description: 'its latest run (an occurrence continues as new to bound its history)' }),
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
  lastDelivery: Type.Optional(
    Type.Object(
      {
        deliveryId: Type.String(),
        outcome: Type.String({ description: 'opened, refired, reopened, duplicate, resolved or already-resolved' }),
        at: Type.String(),
      },
      { description: 'what the incident made of the latest alert delivered to it (POST /v1/alerts answers before)' },
    ),
  ),
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

export const PlanBody = Type.Object(
  {
    params: Type.Record(Type.String(), Type.Unknown()),
    target: Type.Optional(ExecutionTarget),
  },
  { additionalProperties: false },
);
const PlannedCallSchema = Type.Object({ service: Type.String(), operation: Type.String(), input: Type.Unknown() });
export const PlanSchema = Type.Object({
  planId: Type.String(),
  runbookId: Type.String(),
  runbookVersion: Type.String(),
  digest: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  target: Type.Optional(ExecutionTarget),
  resource: Type.Optional(Type.String()),
  steps: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.Union([Type.Literal('action'), Type.Literal('approval'), Type.Literal('wait')]),
      title: Type.Optional(Type.String()),
      outcome: Type.Union(
        ['previewed', 'not-previewable', 'skipped', 'unresolved', 'gate'].map((o) => Type.Literal(o)),
      ),
      action: Type.Optional(Type.String()),
      preview: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('dry-run'), Type.Literal('none')])),
      input: Type.Optional(Type.Unknown()),
      output: Type.Optional(Type.Unknown()),
      calls: Type.Optional(Type.Array(PlannedCallSchema)),
      note: Type.Optional(Type.String()),
      approval: Type.Optional(
        Type.Object({
          roles: Type.Optional(Type.Array(Type.String())),
          min: Type.Integer(),
          fourEyes: Type.Boolean(),
          timeout: Type.String(),
          onTimeout: Type.String(),
        }),
      ),
      until: Type.Optional(Type.String()),
      rollback: Type.Optional(
        Type.Object({
          action: Type.String(),
          input: Type.Optional(Type.Unknown()),
          calls: Type.Optional(Type.Array(PlannedCallSchema)),
          note: Type.Optional(Type.String()),
        }),
      ),
    }),
  ),
  changes: Type.Array(Type.Intersect([PlannedCallSchema, Type.Object({ stepId: Type.String() })])),
  rollbackPlan: Type.Array(
    Type.Object({
      stepId: Type.String(),
      action: Type.String(),
      input: Type.Optional(Type.Unknown()),
      note: Type.Optional(Type.String()),
    }),
  ),
  notPreviewable: Type.Array(Type.String()),
});
// ---- evidence ------------------------------------------------------------------------------------------------------

export const EvidenceArtefactSchema = Type.Object({
  /** The step that produced it, and its action. */
  stepId: Type.String(),
  action: Type.String(),
  /** instance-metadata, ebs-snapshots, command-output, volatile-data, console-output, automation-output. */
  kind: Type.String(),
  /** A snapshot ID, `<commandId>/<instanceId>`, `<instanceId>/<artefact>` … */
  id: Type.String(),
  name: Type.Optional(Type.String()),
  /** `sha256:<hex>` of the content (of its canonical JSON for structured content). */
  sha256: Type.String(),
  /** Present when the activity took the digest at collection: whether the content still matches it. */
  verified: Type.Optional(Type.Boolean()),
  /** True when the source cut the content (SSM keeps 24,000 characters of output). */
  truncated: Type.Optional(Type.Boolean()),
  /** When it was collected (the activity's time, else when Temporal recorded the step's completion). */
  collectedAt: Type.String(),
  content: Type.Unknown(),
  details: Type.Optional(Type.Unknown()),
});
export type EvidenceArtefact = Static<typeof EvidenceArtefactSchema>;

export const EvidenceManifestSchema = Type.Object({
  executionId: Type.String(),
  runbookId: Type.String(),
  digest: Type.String(),
  generatedAt: Type.String(),
  /** `sha256:<hex>` of the canonical JSON of `artefacts`. */
  sha256: Type.String(),
  artefacts: Type.Array(EvidenceArtefactSchema),
});
export type EvidenceManifest = Static<typeof EvidenceManifestSchema>;
