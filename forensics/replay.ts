/**
 * Replay verification: would today's workflow code make the same decisions as the code that wrote a history?
 *
 * Replays histories with the SDK's replayer (`Worker.runReplayHistories`) against a workflow bundle, and reports per
 * history either "identical" or the first divergence in plain words: the event ID, what the history recorded there
 * and what the code produced instead. The SDK's determinism error names the mismatch in core's terms (sometimes an
 * event ID, sometimes only an activity or child ID); the event is looked up in the history to name it either way.
 *
 * Histories are Temporal's JSON form (what `temporal workflow show --output json`, the Web UI and the corpus in
 * test/histories/ hold) or a History from `WorkflowHandle.fetchHistory()`; the replayer reads both.
 */
import { availableParallelism } from 'node:os';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { BUNDLER_OPTIONS, WORKFLOWS_PATH } from '../worker/bundle';

export interface HistorySource {
  /** How reports name the history: a file, a corpus scenario, a workflow ID. */
  name: string;
  /** The workflow ID it ran under (a history does not contain it, and workflow code may read it). */
  workflowId: string;
  /** Temporal's history JSON (`{ events: [...] }`), or a History object from the client. */
  history: unknown;
}

export interface Divergence {
  /** `nondeterminism`: the code produced other commands than the history; `error`: the replay failed otherwise. */
  kind: 'nondeterminism' | 'error';
  /** The first event that did not match, when known. */
  eventId?: number;
  /** What the history recorded there, e.g. `ActivityTaskScheduled (activity ec2.captureInstance, id "capture")`. */
  history?: string;
  /** What today's code produced instead, e.g. `an activity with id "notify-started"`, `a Timer command`. */
  code?: string;
  /** The replayer's own words (core's mismatch sentence, unwrapped). */
  reason: string;
}

export interface ReplayVerdict {
  name: string;
  workflowId: string;
  workflowType?: string;
  eventCount: number;
  identical: boolean;
  divergence?: Divergence;
}

/** The workflows as the worker bundles them (workflows/index.ts), when no bundle is given. */
export const DEFAULT_REPLAY_OPTIONS: ReplayWorkerOptions = {
  workflowsPath: WORKFLOWS_PATH,
  bundlerOptions: BUNDLER_OPTIONS,
};

/** How many processes replay: 1 replays here; more split the histories between child processes. */
export interface ReplayConcurrency {
  /** Default: 1 for fewer than {@link PARALLEL_FROM} histories, else one per CPU (at most one per 50 histories). */
  processes?: number;
}

/**
 * From this many histories, replay is split between processes by default. The SDK's replayer runs workflows on its
 * process's main thread, one history at a time, so more processes are the only way to use more cores; each costs
 * about a second to start (the SDK and the bundle loaded), which a smaller batch would not win back.
 */
export const PARALLEL_FROM = 100;

/**
 * Replays each history against the workflow code (a prebuilt bundle, or the workflows bundled now) and returns one
 * verdict per history, in order. Never throws for a divergent history; throws only if the replayer cannot start.
 */
export async function replayHistories(
  sources: readonly HistorySource[],
  options: ReplayWorkerOptions = DEFAULT_REPLAY_OPTIONS,
  concurrency: ReplayConcurrency = {},
): Promise<ReplayVerdict[]> {
  const processes = concurrency.processes ?? replayProcesses(sources.length);
  if (processes > 1 && sources.length > 1) {
    // Loaded only here: the parallel path forks, which a caller replaying in-process never needs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { replayInProcesses } = require('./replay-parallel') as typeof import('./replay-parallel');
    return replayInProcesses(sources, options, Math.min(processes, sources.length));
  }
  return replayHere(sources, options);
}

/** How many processes replay `count` histories by default. */
export function replayProcesses(count: number): number {
  if (count < PARALLEL_FROM) return 1;
  return Math.max(1, Math.min(availableParallelism(), Math.floor(count / 50)));
}

/** {@link replayHistories} in this process. */
export async function replayHere(
  sources: readonly HistorySource[],
  options: ReplayWorkerOptions = DEFAULT_REPLAY_OPTIONS,
): Promise<ReplayVerdict[]> {
  const verdicts = new Array<ReplayVerdict>(sources.length);
  let next = 0;
  await replayFrom(
    async () => (next < sources.length ? { id: next++, source: sources[next - 1] } : undefined),
    options,
    (id, verdict) => (verdicts[id] = verdict),
  );
  return verdicts;
}

/**
 * Replays histories as `take` hands them out, one at a time, until it returns undefined, calling `done` with each
 * one's verdict (by the ID it came with). One replay worker serves them all; several of these side by side pull from
 * one queue (forensics/replay-parallel.ts), so a slow history never leaves the others idle.
 */
export async function replayFrom(
  take: () => Promise<{ id: number; source: HistorySource } | undefined>,
  options: ReplayWorkerOptions,
  done: (id: number, verdict: ReplayVerdict) => void,
): Promise<void> {
  const pending = new Map<string, { id: number; source: HistorySource; events: Event[] }>();
  let seq = 0;
  /** The next history to replay; something that is not a history at all is answered here (the replayer would
   * abort the whole batch on it). */
  const next = async () => {
    for (let item = await take(); item; item = await take()) {
      // Read as JSON (event types as names): a History object from the client has enum numbers and Longs.
      const events = eventsOf(plainHistory(item.source.history));
      if (events.length > 0) return { ...item, events };
      done(item.id, verdictOf(item.source, events, { kind: 'error', reason: 'not a history (no events)' }));
    }
    return undefined;
  };
  // Nothing to replay: no replay worker is started (it would load, or bundle, the workflow code for nothing).
  const first = await next();
  if (!first) return;
  async function* feed() {
    for (let item: Awaited<ReturnType<typeof next>> = first; item; item = await next()) {
      // The replayer reports only workflow IDs, so each history runs under an ID unique within this replay.
      const key = `${seq++}:${item.source.workflowId}`;
      pending.set(key, item);
      yield { workflowId: key, history: item.source.history };
    }
  }
  const replay = Worker.runReplayHistories({ replayName: 'firebreak-replay', ...options }, feed());
  for await (const result of replay) {
    const p = pending.get(result.workflowId);
    if (!p) continue;
    pending.delete(result.workflowId);
    done(p.id, verdictOf(p.source, p.events, result.error ? describeDivergence(result.error, p.events) : undefined));
  }
  for (const p of pending.values())
    done(p.id, verdictOf(p.source, p.events, { kind: 'error', reason: 'the replayer returned no result' }));
}

function verdictOf(source: HistorySource, events: readonly Event[], divergence?: Divergence): ReplayVerdict {
  return {
    name: source.name,
    workflowId: source.workflowId,
    workflowType: workflowTypeOf(events),
    eventCount: events.length,
    identical: !divergence,
    ...(divergence ? { divergence } : {}),
  };
}

/** A live or closed execution's history, fetched page by page by the client. */
export async function historyOfExecution(handle: WorkflowHandle): Promise<HistorySource> {
  return { name: handle.workflowId, workflowId: handle.workflowId, history: await handle.fetchHistory() };
}

/** One line per verdict: `name: identical` or `name: diverges at event N: history had X; code produced Y`. */
export function formatVerdict(v: ReplayVerdict): string {
  if (v.identical) return `${v.name}: identical (${v.workflowType ?? 'workflow'}, ${v.eventCount} events)`;
  const d = v.divergence!;
  if (d.kind === 'error') return `${v.name}: replay failed: ${d.reason}`;
  if (d.eventId === undefined || !d.code) return `${v.name}: diverges: ${d.reason}`;
  return `${v.name}: diverges at event ${d.eventId}: history had ${d.history}; today's code produced ${d.code} (${d.reason})`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading the determinism error

type Event = Record<string, unknown>;

/** Turns a replay error into a divergence, naming the event from the history when core's message does not. */
export function describeDivergence(error: Error, events: readonly Event[]): Divergence {
  const nondeterminism = error.name === 'DeterminismViolationError';
  const reason = coreReason(error.message);
  const divergence: Divergence = { kind: nondeterminism ? 'nondeterminism' : 'error', reason };

  // "<Machine> machine does not handle this event: HistoryEvent(id: 5, UpsertWorkflowSearchAttributes)"
  // "No command scheduled for event HistoryEvent(id: 38, ActivityTaskScheduled)"
  const byId = /HistoryEvent\(id: (\d+)(?:, (\w+))?\)/.exec(reason);
  if (byId) {
    divergence.eventId = Number(byId[1]);
    const event = events.find((e) => eventIdOf(e) === divergence.eventId);
    divergence.history = event ? describeEvent(event) : byId[2];
    const machine = /(?:error: )?([A-Z][\w ]*?) machine does not handle this event/.exec(reason);
    if (machine) divergence.code = `a ${machine[1]} command`;
    else if (/No command scheduled for event/.test(reason)) divergence.code = 'no command at that point';
    return divergence;
  }

  // "Activity id of scheduled event 'capture' does not match activity id of activity command 'notify-started'"
  // (the same sentence exists for activity types, child workflow IDs and types, timer IDs...)
  const mismatch =
    /(?:error: )?([A-Z][\w ]*?) of (?:scheduled |initiated |started )?event '([^']*)' does not match .*? '([^']*)'/.exec(
      reason,
    );
  if (mismatch) {
    const [, what, recorded, produced] = mismatch;
    const event = events.find((e) => isCommandEvent(e) && attributeValues(e).includes(recorded));
    if (event) {
      divergence.eventId = eventIdOf(event);
      divergence.history = describeEvent(event);
    } else {
      divergence.history = `${what.toLowerCase()} "${recorded}"`;
    }
    divergence.code = `${what.toLowerCase()} "${produced}"`;
    return divergence;
  }

  // "Non-deprecated patch marker encountered for change incident-continue-as-new, but there is no corresponding change
  // command!": the history went through a patched() branch that the code no longer (or not yet) asks about.
  const patch = /patch marker encountered for change (\S+?),? but there is no corresponding change command/.exec(
    reason,
  );
  if (patch) {
    const id = patch[1];
    const event = events.find((e) => patchIdOf(e) === id);
    if (event) divergence.eventId = eventIdOf(event);
    divergence.history = `MarkerRecorded (patch "${id}")`;
    divergence.code = `no patched("${id}") call at that point`;
    return divergence;
  }

  // "Timer fired event did not have expected timer id 2, it was 1!": the code's timers are numbered differently (a
  // timer was added or removed earlier, even one started and cancelled at once, which leaves no event of its own).
  const numbered = /(?:error: )?([A-Z][\w ]*?) event did not have expected (\w+) id (\S+), it was ([^!\s]+)/.exec(
    reason,
  );
  if (numbered) {
    const [, eventWords, what, expected, recorded] = numbered;
    const type = eventWords.replace(/ /g, '').toLowerCase();
    const event = events.find((e) => eventTypeOf(e).toLowerCase() === type && attributeValues(e).includes(recorded));
    if (event) divergence.eventId = eventIdOf(event);
    divergence.history = event ? describeEvent(event) : `${eventWords} for ${what} "${recorded}"`;
    divergence.code = `${what} "${expected}" at that point (its ${what}s are numbered differently: one was added or removed earlier)`;
  }
  return divergence;
}

/** Core's own sentence, out of the workflow-task failure envelope the SDK wraps it in. */
function coreReason(message: string): string {
  const inner = /message: "((?:[^"\\]|\\.)*)"/.exec(message);
  return (inner ? inner[1].replace(/\\"/g, '"') : message).trim();
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading events (JSON form, or a History object from the client)

/** Temporal's JSON form of a history; a History object from the client (protobuf) is converted. */
export function plainHistory(history: unknown): unknown {
  const h = history as { constructor?: unknown } | undefined;
  if (!h || typeof h !== 'object' || h.constructor === Object) return history;
  return JSON.parse(historyToJSON(history as temporal.api.history.v1.IHistory as never));
}

function eventsOf(history: unknown): Event[] {
  const events = (history as { events?: unknown } | undefined)?.events;
  return Array.isArray(events) ? (events as Event[]) : [];
}

function eventIdOf(e: Event): number {
  return Number(String(e.eventId));
}

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` → `ActivityTaskScheduled`. */
function eventTypeOf(e: Event): string {
  const t = e.eventType;
  if (typeof t !== 'string') return `event type ${String(t)}`;
  return t
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/** Events a workflow command wrote (an activity scheduled, a child started, a timer, a signal sent, a marker). */
function isCommandEvent(e: Event): boolean {
  const type = eventTypeOf(e);
  return type !== 'WorkflowTaskScheduled' && /(Scheduled|Initiated|Recorded)$|^TimerStarted$/.test(type);
}

function attributesOf(e: Event): Record<string, unknown> {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k]);
  return key ? (e[key] as Record<string, unknown>) : {};
}

const nameOf = (v: unknown): string | undefined => (v as { name?: string } | undefined)?.name;

/** The identifiers core compares: activity, child workflow, timer, signal, marker. */
function attributeValues(e: Event): string[] {
  const a = attributesOf(e);
  return [
    a.activityId,
    nameOf(a.activityType),
    a.workflowId,
    nameOf(a.workflowType),
    a.timerId,
    a.signalName,
    a.markerName,
  ].filter((v): v is string => typeof v === 'string');
}

/** `ActivityTaskScheduled (activity ec2.captureInstance, id "capture")`, `TimerStarted (timer "3")` ... */
export function describeEvent(e: Event): string {
  const a = attributesOf(e);
  const parts: string[] = [];
  if (nameOf(a.activityType)) parts.push(`activity ${nameOf(a.activityType)}`);
  if (typeof a.activityId === 'string') parts.push(`id "${a.activityId}"`);
  if (nameOf(a.workflowType) && eventIdOf(e) !== 1) parts.push(`workflow ${nameOf(a.workflowType)}`);
  if (typeof a.workflowId === 'string') parts.push(`workflow ID "${a.workflowId}"`);
  if (typeof a.timerId === 'string') parts.push(`timer "${a.timerId}"`);
  if (typeof a.signalName === 'string') parts.push(`signal ${a.signalName}`);
  if (typeof a.markerName === 'string') parts.push(`marker ${a.markerName}`);
  return parts.length > 0 ? `${eventTypeOf(e)} (${parts.join(', ')})` : eventTypeOf(e);
}

function workflowTypeOf(events: readonly Event[]): string | undefined {
  return events[0] ? nameOf(attributesOf(events[0]).workflowType) : undefined;
}

/** The change ID a patch marker records (`patched('<id>')`), read from its payload; undefined for other events. */
function patchIdOf(e: Event): string | undefined {
  const attributes = (e as { markerRecordedEventAttributes?: Record<string, any> }).markerRecordedEventAttributes;
  if (attributes?.markerName !== 'core_patch') return undefined;
  const payload = attributes.details?.['patch-data']?.payloads?.[0] ?? attributes.details?.patch_data?.payloads?.[0];
  if (!payload?.data) return undefined;
  try {
    const raw = typeof payload.data === 'string' ? Buffer.from(payload.data, 'base64') : Buffer.from(payload.data);
    return (JSON.parse(raw.toString('utf8')) as { id?: string }).id;
  } catch {
    return undefined;
  }
}
