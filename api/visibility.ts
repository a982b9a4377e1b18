/**
 * Listing incidents and executions from Temporal's visibility store (search attributes), with page tokens.
 */
import type { Client } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { temporal as proto } from '@temporalio/proto';
import { SA } from '../workflows/search-attributes';

export interface ListFilters {
  status?: string;
  severity?: string;
  type?: string;
  resource?: string;
  runbook?: string;
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
  runId?: string;
  /** The first run of the run's continue-as-new chain: an incident's occurrence. */
  firstRunId?: string;
  startedAt?: string;
  closedAt?: string;
  workflowStatus: string;
}

export interface ListPage {
  items: ListItem[];
  nextPageToken?: string;
}

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
  eq(SA.status.name, f.status);
  eq(SA.severity.name, f.severity);
  eq(SA.incidentType.name, f.type);
  eq(SA.resource.name, f.resource);
  eq(SA.runbookId.name, f.runbook);
  eq('WorkflowId', f.workflowId);
  if (f.since) clauses.push(`StartTime >= '${new Date(f.since).toISOString()}'`);
  if (f.until) clauses.push(`StartTime <= '${new Date(f.until).toISOString()}'`);
  // No ORDER BY: the dev server's SQLite visibility rejects it, and every store already lists newest first.
  return clauses.join(' AND ');
}

export async function listWorkflows(client: Client, kind: 'incident' | 'runbook', f: ListFilters): Promise<ListPage> {
  const res = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query: buildQuery(kind, f),
    pageSize: f.pageSize,
    nextPageToken: f.pageToken ? Buffer.from(f.pageToken, 'base64url') : undefined,
  });
  const items = (res.executions ?? []).map((e): ListItem => {
    const sa = decodeTypedSearchAttributes(e.searchAttributes?.indexedFields);
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
      runId: e.execution?.runId ?? undefined,
      firstRunId: e.firstRunId || undefined,
      startedAt: time(e.startTime),
      closedAt: time(e.closeTime),
      workflowStatus: statusName.replace('WORKFLOW_EXECUTION_STATUS_', ''),
    };
  });
  const token =
    res.nextPageToken && res.nextPageToken.length > 0
      ? Buffer.from(res.nextPageToken).toString('base64url')
      : undefined;
  return { items, nextPageToken: token };
}
