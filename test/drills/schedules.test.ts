/**
 * Scheduled drills as Temporal Schedules on the jest stack: created, listed, paused and unpaused; a triggered run is
 * executed by the drill runner and keeps its scorecard as the drill workflow's result, marked as a drill.
 */
import { runbooks } from '../../runbooks';
import { RunbookRegistry } from '../../runbooks/registry';
import { createDrillRunner } from '../../drills/runner';
import type { Scorecard } from '../../drills/run';
import {
  createDrillSchedule,
  deleteDrillSchedule,
  listDrillSchedules,
  pauseDrillSchedule,
  unpauseDrillSchedule,
} from '../../drills/schedules';
import { SA } from '../../workflows/search-attributes';
import { emulatorConfig } from '../stack/aws';
import { testTemporal, uniqueId, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('creates, lists, pauses a drill schedule, and runs a triggered drill to a scorecard', async () => {
  const { client } = temporal;
  const taskQueue = uniqueId('drills');
  const scheduleId = uniqueId('drill-ec2-compromise');
  await expect(createDrillSchedule(client, { scenario: 'nope', cron: '0 3 * * 1' })).rejects.toThrow(/scenario/);
  await createDrillSchedule(client, { scenario: 'ec2-compromise', cron: '0 3 1 1 *', taskQueue, scheduleId });
  try {
    const mine = () => listDrillSchedules(client).then((l) => l.find((s) => s.scheduleId === scheduleId));
    const listed = await until(mine, (s) => s !== undefined, 'schedule listed');
    expect(listed).toMatchObject({ scenario: 'ec2-compromise', paused: false });
    expect(listed!.nextRuns[0]).toMatch(/-01-01T03:00:00/);

    await pauseDrillSchedule(client, scheduleId, 'quiet week');
    expect(await until(mine, (s) => s?.paused === true, 'paused')).toMatchObject({ note: 'quiet week' });
    await unpauseDrillSchedule(client, scheduleId);
    await until(mine, (s) => s?.paused === false, 'unpaused');

    const { endpoint, region } = emulatorConfig();
    const runner = await createDrillRunner({
      client,
      connection: temporal.connection,
      registry: new RunbookRegistry(runbooks),
      endpoint,
      region,
      namespace: 'default',
      taskQueue,
      workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    });
    const card = await runner.runUntil(async () => {
      await client.schedule.getHandle(scheduleId).trigger();
      const described = await until(
        () => client.schedule.getHandle(scheduleId).describe(),
        (d) => d.info.recentActions.length > 0,
        'triggered run',
      );
      const workflowId = described.info.recentActions[0].action.workflow.workflowId;
      const run = client.workflow.getHandle(workflowId);
      const d = await run.describe();
      expect(d.typedSearchAttributes.get(SA.drill)).toBe(scheduleId);
      expect(d.typedSearchAttributes.get(SA.kind)).toBe('drill');
      return (await run.result()) as Scorecard;
    });
    expect(card).toMatchObject({ runbookId: 'ec2-compromise', status: 'rolled-back', passed: true, failures: [] });
    const execution = await client.workflow.getHandle(card.executionId).describe();
    expect(execution.typedSearchAttributes.get(SA.drill)).toBe(card.drillId);
  } finally {
    await deleteDrillSchedule(client, scheduleId);
  }
  await until(
    () => listDrillSchedules(client),
    (l) => !l.some((s) => s.scheduleId === scheduleId),
    'deleted',
  );
}, 240_000);
