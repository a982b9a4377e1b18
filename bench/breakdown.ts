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
