/**
 * Histories as forensics reads them: Temporal's JSON form (what `temporal workflow show --output json`, the Web UI and
 * the corpus in test/histories/ hold, and what the SDK's replayer reads), fetched page by page so that a long history
 * never has to fit in one gRPC message, and followed across continue-as-new so one workflow ID yields all its runs.
 *
 * Everything downstream (timeline, report, export) works on this JSON form only, so a live execution and an exported
 * file of it give the same answers.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
// No public export of these two (the SDK's own docs import them from here): the JSON <-> proto conversions of history.
import { historyToJSON, JSONToPayload } from '@temporalio/common/lib/proto-utils';

/** One event in Temporal's JSON form: `eventId` as a string, `eventType` as `EVENT_TYPE_...`, payloads in base64. */
export type HistoryEvent = Record<string, any> & { eventId: string; eventTime: string; eventType: string };

export interface HistoryJson {
  events: HistoryEvent[];
}

/** One run of a workflow ID, with the history of that run. */
export interface RunHistory {
  workflowId: string;
  runId: string;
  history: HistoryJson;
}

/** Events per page asked of the server; it may return fewer (it also caps a page by bytes). */
export const HISTORY_PAGE_SIZE = 256;

/** A run's history, page by page: each page is converted to JSON on its own, so memory holds events, not messages. */
export async function fetchRunHistory(client: Client, workflowId: string, runId?: string): Promise<HistoryJson> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: HISTORY_PAGE_SIZE,
      nextPageToken,
    });
    const json = JSON.parse(historyToJSON({ events: page.history?.events ?? [] })) as Partial<HistoryJson>;
    events.push(...(json.events ?? []).map((e) => sortMaps(e)));
    nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { events };
}

/**
 * Every run of a workflow ID's current chain (or of the chain ending at `lastRunId`), oldest first: from that run back
 * through each run's `continuedExecutionRunId` (the run it continued from). A new execution reusing the ID after a
 * close is no continuation, so it starts a chain of its own.
 */
export async function fetchRunChain(
  client: Client,
  workflowId: string,
  maxRuns = 100,
  lastRunId?: string,
): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | undefined = lastRunId;
  do {
    const history = await fetchRunHistory(client, workflowId, runId);
    const started = startedAttributes(history);
    runs.unshift({ workflowId, runId: runIdOf(history) ?? runId ?? '', history });
    runId = started?.continuedExecutionRunId || undefined;
  } while (runId && runs.length < maxRuns);
  return runs;
}

/**
 * The bytes firebreak exports a history as: two-space JSON with a final newline (as the corpus is written), protobuf
 * map fields in key order. The server sends map entries in no fixed order (two fetches of one closed history differ),
 * so without this the same history would hash differently; the Temporal CLI's JSON has them sorted too.
 */
export function serialiseHistory(history: HistoryJson): string {
  return `${JSON.stringify({ ...history, events: history.events.map((e) => sortMaps(e)) }, null, 2)}\n`;
}

/** Protobuf map fields in history JSON: payload metadata, search attributes, header and memo fields. */
const MAP_FIELDS = new Set(['metadata', 'indexedFields', 'fields']);

function sortMaps<T>(value: T, key?: string): T {
  if (Array.isArray(value)) return value.map((v) => sortMaps(v)) as T;
  if (!value || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (key !== undefined && MAP_FIELDS.has(key)) keys.sort();
  return Object.fromEntries(keys.map((k) => [k, sortMaps((value as Record<string, unknown>)[k], k)])) as T;
}

export function sha256Hex(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads a history file's text: Temporal's JSON form, `{ events: [...] }`. */
export function parseHistory(text: string, name = 'history'): HistoryJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${name} is not JSON: ${(err as Error).message}`);
  }
  const events = (parsed as { events?: unknown })?.events;
  if (!Array.isArray(events) || events.length === 0 || !events.every(isEvent)) {
    throw new Error(`${name} is not a Temporal history (expected { "events": [...] } in Temporal's JSON form)`);
  }
  return parsed as HistoryJson;
}

function isEvent(e: unknown): e is HistoryEvent {
  const x = e as HistoryEvent;
  return typeof x === 'object' && x !== null && x.eventId !== undefined && typeof x.eventType === 'string';
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading events

/** The event's attributes object (`activityTaskScheduledEventAttributes` ...). */
export function attributesOf(e: HistoryEvent): Record<string, any> {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k]);
  return key ? (e[key] as Record<string, any>) : {};
}

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` → `ACTIVITY_TASK_SCHEDULED`. */
export function typeOf(e: HistoryEvent): string {
  return e.eventType.replace(/^EVENT_TYPE_/, '');
}

export function idOf(e: HistoryEvent): number {
  return Number(e.eventId);
}

/** ISO time with milliseconds, as the workflow's own clock writes them (nanoseconds dropped). */
export function timeOf(e: HistoryEvent): string {
  return new Date(e.eventTime).toISOString();
}

export function startedAttributes(history: HistoryJson): Record<string, any> | undefined {
  const first = history.events[0];
  return first && typeOf(first) === 'WORKFLOW_EXECUTION_STARTED' ? attributesOf(first) : undefined;
}

/** The run's ID as the start event recorded it (a history file carries no other). */
export function runIdOf(history: HistoryJson): string | undefined {
  const a = startedAttributes(history);
  return a?.originalExecutionRunId || a?.firstExecutionRunId || undefined;
}

export function workflowIdOf(history: HistoryJson): string | undefined {
  return startedAttributes(history)?.workflowId || undefined;
}

/** A payload list's values, decoded with the default converter; what it cannot decode is named, not dropped. */
export function decodePayloads(payloads: { payloads?: unknown[] } | undefined | null): unknown[] {
  return (payloads?.payloads ?? []).map((p) => decodePayload(p));
}

export function decodePayload(p: unknown): unknown {
  try {
    return defaultPayloadConverter.fromPayload(JSONToPayload(p as never));
  } catch {
    // E.g. an encrypted payload (a codec the API does not hold): say what it is rather than fail the timeline.
    const encoding = (p as { metadata?: { encoding?: string } })?.metadata?.encoding;
    return { undecoded: encoding ? Buffer.from(encoding, 'base64').toString('utf8') : 'unknown encoding' };
  }
}

/** The first value of a payload list, decoded. */
export function firstPayload(payloads: { payloads?: unknown[] } | undefined | null): unknown {
  return decodePayloads(payloads)[0];
}

/** A Temporal failure in JSON form, as message/type/details (its cause chain flattened into `causes`). */
export interface FailureInfo {
  message: string;
  type?: string;
  details?: unknown[];
  causes?: { message: string; type?: string }[];
}

export function failureOf(f: Record<string, any> | undefined | null): FailureInfo | undefined {
  if (!f) return undefined;
  const info = f.applicationFailureInfo ?? f.timeoutFailureInfo ?? f.canceledFailureInfo ?? f.activityFailureInfo ?? {};
  const out: FailureInfo = { message: String(f.message ?? '') };
  const type =
    info.type ??
    (f.timeoutFailureInfo ? `Timeout:${f.timeoutFailureInfo.timeoutType ?? ''}` : undefined) ??
    (f.canceledFailureInfo ? 'Cancelled' : undefined);
  if (type) out.type = type;
  const details = decodePayloads(info.details);
  if (details.length > 0) out.details = details;
  const causes: { message: string; type?: string }[] = [];
  for (let c = f.cause, depth = 0; c && depth < 5; c = c.cause, depth++) {
    const ci = c.applicationFailureInfo ?? {};
    causes.push(ci.type ? { message: String(c.message ?? ''), type: ci.type } : { message: String(c.message ?? '') });
  }
  if (causes.length > 0) out.causes = causes;
  return out;
}

/** `"120s"` / `"1.5s"` (protobuf JSON durations) → milliseconds. */
export function durationMs(d: unknown): number | undefined {
  if (typeof d !== 'string') return undefined;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}
