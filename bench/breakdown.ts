/** Where an alert's time went: the incident's and the runbook's history events, in milliseconds after its POST. */
import { temporal } from '@temporalio/proto';
import type { BenchStack } from './stack';

const { EventType } = temporal.api.enums.v1;

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** The events of both histories up to the runbook's first activity start, as `+ms where what`, in time order. */
export async function historyBreakdown(
  stack: BenchStack,
  sentAt: number,
  ids: { answered: number; firstAwsCall: number; incidentId: string; executionId: string },
): Promise<string[]> {
  const rows: { at: number; what: string }[] = [
    { at: ids.answered, what: 'API answered 202' },
    { at: ids.firstAwsCall, what: 'first AWS call at the fake endpoint' },
  ];
  for (const [where, id] of [
    ['incident', ids.incidentId],
    ['runbook', ids.executionId],
  ] as const) {
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    let activities = 0;
    for (const e of history.events ?? []) {
      const type = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace('EVENT_TYPE_', '');
      const name =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ??
        '';
      rows.push({ at: ms(e.eventTime), what: `${where}: ${type}${name ? ` ${name}` : ''}` });
      if (where === 'runbook' && type === 'ACTIVITY_TASK_STARTED' && ++activities >= 2) break;
    }
  }
  return rows
    .filter((r) => r.at - sentAt < 60_000)
    .sort((a, b) => a.at - b.at)
    .map((r) => `+${Math.round(r.at - sentAt)} ms ${r.what}`);
}

/** Workflow tasks a workflow has completed so far (for a runbook at its gate: all it took to get there). */
export async function workflowTasks(stack: BenchStack, workflowId: string): Promise<number> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
}

export interface HistoryCounts {
  events: number;
  workflowTasks: number;
  activities: number;
  searchAttributeUpserts: number;
  signals: number;
}

/** What the server stored and dispatched for these workflows so far: their events, tasks and activities, summed. */
export async function historyCounts(stack: BenchStack, workflowIds: string[]): Promise<HistoryCounts> {
  const counts: HistoryCounts = { events: 0, workflowTasks: 0, activities: 0, searchAttributeUpserts: 0, signals: 0 };
  for (const id of workflowIds) {
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      counts.events++;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) counts.workflowTasks++;
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) counts.activities++;
      if (e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) counts.searchAttributeUpserts++;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) counts.signals++;
    }
  }
  return counts;
}

/** Where a workflow's time went, from its history alone (server clock), summed over its tasks, in milliseconds. */
export interface HistoryPhases {
  workflowTasks: number;
  /** Workflow task scheduled → started: waiting for the worker to poll it. */
  workflowTaskWaitMs: number;
  /** Workflow task started → completed: the worker running the workflow code (and the round trip). */
  workflowTaskRunMs: number;
  activities: number;
  /** Activity scheduled → started. */
  activityWaitMs: number;
  /** Activity started → completed (or failed). */
  activityRunMs: number;
  /** Activity scheduled → started, by activity type (summed over the type's activities). */
  activityWaitByType: Record<string, number>;
  /** First to last event. */
  totalMs: number;
}

type HistoryEvent = NonNullable<temporal.api.history.v1.IHistory['events']>[number];

export function historyPhases(events: HistoryEvent[]): HistoryPhases {
  const out: HistoryPhases = {
    workflowTasks: 0,
    workflowTaskWaitMs: 0,
    workflowTaskRunMs: 0,
    activities: 0,
    activityWaitMs: 0,
    activityRunMs: 0,
    activityWaitByType: {},
    totalMs: events.length ? ms(events[events.length - 1].eventTime) - ms(events[0].eventTime) : 0,
  };
  const at = new Map<number, number>();
  const types = new Map<number, string>();
  for (const e of events) {
    const t = ms(e.eventTime);
    at.set(Number(e.eventId), t);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        out.workflowTaskWaitMs += t - (at.get(Number(e.workflowTaskStartedEventAttributes?.scheduledEventId)) ?? t);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        out.workflowTasks++;
        out.workflowTaskRunMs += t - (at.get(Number(e.workflowTaskCompletedEventAttributes?.startedEventId)) ?? t);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        types.set(Number(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const scheduled = Number(e.activityTaskStartedEventAttributes?.scheduledEventId);
        const wait = t - (at.get(scheduled) ?? t);
        const type = types.get(scheduled) ?? '?';
        out.activities++;
        out.activityWaitMs += wait;
        out.activityWaitByType[type] = (out.activityWaitByType[type] ?? 0) + wait;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        out.activityRunMs += t - (at.get(Number(e.activityTaskCompletedEventAttributes?.startedEventId)) ?? t);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        out.activityRunMs += t - (at.get(Number(e.activityTaskFailedEventAttributes?.startedEventId)) ?? t);
        break;
      default:
        break;
    }
  }
  return out;
}

/** The mean of each phase over several histories, rounded to 0.1 ms. */
export function meanPhases(all: HistoryPhases[]): HistoryPhases | undefined {
  if (all.length === 0) return undefined;
  const mean = (values: number[]) => Math.round((values.reduce((a, b) => a + b, 0) / all.length) * 10) / 10;
  const keys = (Object.keys(all[0]) as (keyof HistoryPhases)[]).filter((k) => k !== 'activityWaitByType');
  const types = [...new Set(all.flatMap((p) => Object.keys(p.activityWaitByType)))];
  return {
    ...(Object.fromEntries(keys.map((k) => [k, mean(all.map((p) => p[k] as number))])) as Omit<
      HistoryPhases,
      'activityWaitByType'
    >),
    activityWaitByType: Object.fromEntries(types.map((t) => [t, mean(all.map((p) => p.activityWaitByType[t] ?? 0))])),
  };
}
