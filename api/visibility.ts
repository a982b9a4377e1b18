/**
 * Listing incidents and executions from Temporal's visibility store (search attributes), with page tokens.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import { SA } from '../workflows/search-attributes';
import { ValidationFailedError } from './errors';
import { isRfc3339Time } from './time';

export interface ListFilters {
  status?: string;
  severity?: string;
  type?: string;
  resource?: string;
  runbook?: string;
  /** Executions: the principal that started them. */
  startedBy?: string;
  /** Executions: the AWS account and region they act in (FirebreakAccount, FirebreakRegion). */
  account?: string;
  region?: string;
  /** true: drills only; false: real ones only (FirebreakDrill unset); unset: both. */
  drill?: boolean;
  /** One workflow ID: all its runs (an incident's occurrences). */
  workflowId?: string;
  /** ISO times bounding the start time. */
  since?: string;
  until?: string;
  pageSize: number;
  pageToken?: string;
}

export interface ListItem {
  id: string;
  kind: string;
  status?: string;
  severity?: string;
  type?: string;
  resource?: string;
  runbookId?: string;
  account?: string;
  region?: string;
  runId?: string;
  /** The first run of the run's continue-as-new chain: an incident's occurrence. */
  firstRunId?: string;
  startedAt?: string;
  closedAt?: string;
  workflowStatus: string;
  drill?: string;
}

export interface ListPage {
  items: ListItem[];
  nextPageToken?: string;
}

/** gRPC status INVALID_ARGUMENT. */
const GRPC_INVALID_ARGUMENT = 3;

/** Values are checked against this before they go into a visibility query (no quoting games). */
export const SAFE_VALUE = '^[A-Za-z0-9:/._@+-]{1,256}$';
const safe = new RegExp(SAFE_VALUE);

export function buildQuery(kind: 'incident' | 'runbook', f: Omit<ListFilters, 'pageSize' | 'pageToken'>): string {
  // A run that continued as new is not an item of its own: its chain shows once, as its latest run.
  const clauses = [`${SA.kind.name} = '${kind}'`, `ExecutionStatus != 'ContinuedAsNew'`];
  const eq = (key: string, value: string | undefined) => {
    if (value === undefined) return;
    if (!safe.test(value)) throw new Error(`unsafe filter value ${JSON.stringify(value)}`);
    clauses.push(`${key} = '${value}'`);
  };
  if (f.status === 'open') {
    // Every incident that is not closed: its workflow still runs (a terminated one never reaches `closed`).
    clauses.push(`${SA.status.name} != 'closed'`, `ExecutionStatus = 'Running'`);
  } else eq(SA.status.name, f.status);
  eq(SA.severity.name, f.severity);
  eq(SA.incidentType.name, f.type);
  eq(SA.resource.name, f.resource);
  eq(SA.runbookId.name, f.runbook);
  eq(SA.startedBy.name, f.startedBy);
  eq(SA.account.name, f.account);
  eq(SA.region.name, f.region);
  eq('WorkflowId', f.workflowId);
  if (f.drill !== undefined) clauses.push(`${SA.drill.name} ${f.drill ? 'IS NOT NULL' : 'IS NULL'}`);
  if (f.since) clauses.push(`StartTime >= '${isoTime(f.since, 'since')}'`);
  if (f.until) clauses.push(`StartTime <= '${isoTime(f.until, 'until')}'`);
  // No ORDER BY: the dev server's SQLite visibility rejects it, and every store already lists newest first.
  return clauses.join(' AND ');
}

/** A time the schema accepted as RFC 3339, as Temporal wants it; a time that does not exist (`23:59:60`) is a 400. */
function isoTime(value: string, name: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationFailedError(`${name}: ${JSON.stringify(value)} is not a valid time`);
  return new Date(ms).toISOString();
}

/**
 * The page token as Temporal issued it. This API hands out Temporal's token in base64url; Temporal's tokens are JSON
 * of a known shape (SQL visibility: `{CloseTime, StartTime, RunID}`; Elasticsearch: `{SearchAfter, ScrollID,
 * PointInTimeID}`). Anything else was not issued here, and is refused at once: Temporal fails to decode it with an
 * error its client retries until the deadline, which would be a slow 503.
 */
export function decodePageToken(token: string): Buffer {
  const raw = Buffer.from(token, 'base64url');
  if (raw.length === 0 || raw.toString('base64url') !== token || !isTemporalToken(parseJson(raw.toString('utf8')))) {
    throw new ValidationFailedError('pageToken: not a page token this API issued', [
      { path: '/querystring/pageToken', message: 'malformed' },
    ]);
  }
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isTemporalToken(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  if (entries.length === 0) return false;
  const sql: Record<string, (x: unknown) => boolean> = {
    CloseTime: isRfc3339Time,
    StartTime: isRfc3339Time,
    RunID: (x) => typeof x === 'string',
  };
  const es: Record<string, (x: unknown) => boolean> = {
    SearchAfter: (x) =>
      Array.isArray(x) && x.every((e) => e === null || ['string', 'number', 'boolean'].includes(typeof e)),
    ScrollID: (x) => typeof x === 'string',
    PointInTimeID: (x) => typeof x === 'string',
  };
  return [sql, es].some((shape) => entries.every(([k, x]) => Object.hasOwn(shape, k) && shape[k](x)));
}

export async function listWorkflows(client: Client, kind: 'incident' | 'runbook', f: ListFilters): Promise<ListPage> {
  const request = {
    namespace: client.options.namespace,
    query: buildQuery(kind, f),
    pageSize: f.pageSize,
    nextPageToken: f.pageToken ? decodePageToken(f.pageToken) : undefined,
  };
  let res: proto.api.workflowservice.v1.ListWorkflowExecutionsResponse;
  try {
    res = await client.workflowService.listWorkflowExecutions(request);
  } catch (err) {
    // The query is built from checked values, so what Temporal finds invalid is the page token (e.g. a stale one).
    if ((err as { code?: number }).code === GRPC_INVALID_ARGUMENT) {
      throw new ValidationFailedError(
        `pageToken or filters refused by Temporal: ${(err as Error).message}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  const items = (res.executions ?? []).map((e): ListItem => {
    const fields = e.searchAttributes?.indexedFields;
    const sa = { get: (key: { name: string }) => keyword(fields, key) };
    const time = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
      t?.seconds != null
        ? new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString()
        : undefined;
    const statusName = proto.api.enums.v1.WorkflowExecutionStatus[e.status ?? 0] ?? 'UNKNOWN';
    return {
      id: e.execution?.workflowId ?? '',
      kind,
      status: sa.get(SA.status),
      severity: sa.get(SA.severity),
      type: sa.get(SA.incidentType),
      resource: sa.get(SA.resource),
      runbookId: sa.get(SA.runbookId),
      account: sa.get(SA.account),
      region: sa.get(SA.region),
      runId: e.execution?.runId ?? undefined,
      firstRunId: e.firstRunId || undefined,
      startedAt: time(e.startTime),
      closedAt: time(e.closeTime),
      workflowStatus: statusName.replace('WORKFLOW_EXECUTION_STATUS_', ''),
      ...(sa.get(SA.drill) ? { drill: sa.get(SA.drill) } : {}),
    };
  });
  const token =
    res.nextPageToken && res.nextPageToken.length > 0
      ? Buffer.from(res.nextPageToken).toString('base64url')
      : undefined;
  return { items, nextPageToken: token };
}

/**
 * A keyword search attribute from a visibility record. firebreak's attributes are all keywords, whose payloads are JSON
 * strings, so the SDK's public payload converter reads them (no SDK internals).
 */
function keyword(
  fields: Record<string, proto.api.common.v1.IPayload> | null | undefined,
  key: { name: string },
): string | undefined {
  const payload = fields?.[key.name];
  if (!payload) return undefined;
  const value = defaultPayloadConverter.fromPayload<unknown>(payload);
  if (typeof value === 'string') return value;
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}
