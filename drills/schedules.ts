/**
 * Scheduled drills as Temporal Schedules: each starts a drillWorkflow on the drill runner's task queue. Their IDs
 * start with `drill-` and their runs carry FirebreakDrill, so they never count as real executions.
 */
import { randomBytes } from 'node:crypto';
import { ScheduleOverlapPolicy, type Client, type ScheduleSummary } from '@temporalio/client';
import { SA } from '../workflows/search-attributes';
import { DRILL_WORKFLOW } from './workflow';
import { loadScenario } from './scenario';

export const DRILL_TASK_QUEUE = 'firebreak-drills';
const PREFIX = 'drill-';

export interface DrillSchedule {
  scheduleId: string;
  scenario?: string;
  /** The schedule's calendar specs as Temporal holds them (a cron expression becomes one). */
  calendars: string[];
  paused: boolean;
  note?: string;
  nextRuns: string[];
  recentRuns: { startedAt: string; workflowId: string }[];
}

export async function createDrillSchedule(
  client: Client,
  opts: { scenario: string; cron: string; taskQueue?: string; scheduleId?: string },
): Promise<string> {
  const scenario = loadScenario(opts.scenario); // fails before anything is created
  const scheduleId = opts.scheduleId ?? `${PREFIX}${scenario.runbook}-${randomBytes(3).toString('hex')}`;
  if (!scheduleId.startsWith(PREFIX)) throw new Error(`a drill schedule's ID starts with ${PREFIX}`);
  await client.schedule.create({
    scheduleId,
    spec: { cronExpressions: [opts.cron] },
    // One drill at a time per schedule: a slow one makes the next wait rather than pile up.
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    memo: { scenario: opts.scenario },
    action: {
      type: 'startWorkflow',
      workflowType: DRILL_WORKFLOW,
      workflowId: scheduleId,
      taskQueue: opts.taskQueue ?? DRILL_TASK_QUEUE,
      args: [{ scenario: opts.scenario }],
      typedSearchAttributes: [
        { key: SA.kind, value: 'drill' },
        { key: SA.runbookId, value: scenario.runbook },
        { key: SA.drill, value: scheduleId },
      ],
    },
  });
  return scheduleId;
}

export async function listDrillSchedules(client: Client): Promise<DrillSchedule[]> {
  const out: DrillSchedule[] = [];
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(PREFIX)) out.push(summarise(s));
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

function summarise(s: ScheduleSummary): DrillSchedule {
  return {
    scheduleId: s.scheduleId,
    scenario: typeof s.memo?.scenario === 'string' ? s.memo.scenario : undefined,
    calendars: (s.spec?.calendars ?? []).map((c) => JSON.stringify(c)),
    paused: s.state.paused,
    note: s.state.note ?? undefined,
    nextRuns: (s.info?.nextActionTimes ?? []).map((t) => t.toISOString()),
    recentRuns: (s.info?.recentActions ?? []).map((a) => ({
      startedAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
    })),
  };
}

export async function pauseDrillSchedule(client: Client, scheduleId: string, note = 'paused'): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseDrillSchedule(client: Client, scheduleId: string, note = 'unpaused'): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

export async function deleteDrillSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}
