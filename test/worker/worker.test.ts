/**
 * Worker capacity: slow actions run on `<taskQueue>-slow` with slots of their own, so a fast step starts at once while
 * every slow slot is held and more slow work waits. The slow action here is `ssm.runCommand` held open by the test
 * (moto finishes every command at once, so it cannot keep one running); every other action is the real one on moto.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { createActivities } from '../../activities';
import { tagRecord } from '../../activities/ec2';
import type { ActionActivities } from '../../activities/schemas';
import { expr, type RunbookDefinition } from '../../runbooks/dsl/types';
import { Type } from '@sinclair/typebox';
import type { ExecutionState } from '../../workflows/messages';
import { slowTaskQueue } from '../../workflows/task-queues';
import { createWorker } from '../../worker/worker';
import { testAws, type TestAws } from '../stack/aws';
import { startRunbook, testTemporal, uniqueId, waitForState, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const SLOTS = 2;

function runbook(id: string, step: RunbookDefinition['steps'][number]): RunbookDefinition {
  return {
    id,
    version: '1.0.0',
    title: id,
    description: 'worker capacity test',
    incidentType: 'test',
    severity: 'SEV4',
    params: Type.Object({ instanceId: Type.String() }),
    steps: [step],
  };
}

const collect = runbook('capacity-slow', {
  id: 'collect',
  kind: 'action',
  title: 'A long SSM command',
  action: 'ssm.runCommand',
  with: { instanceId: expr('params.instanceId'), documentName: 'AWS-RunShellScript', parameters: { commands: ['x'] } },
  timeout: '10m',
});

const tag = runbook('capacity-fast', {
  id: 'tag',
  kind: 'action',
  title: 'Tag the instance',
  action: 'ec2.tagInstance',
  with: { instanceId: expr('params.instanceId'), tags: { 'firebreak:capacity': 'contained' } },
});

/** `ssm.runCommand` that runs until released: it holds its worker slot like a command that polls for minutes. */
function heldCommands() {
  let started = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const wrap = (real: ActionActivities): ActionActivities => ({
    ...real,
    'ssm.runCommand': async ({ instanceId }) => {
      started++;
      await released;
      return { commandId: 'held', status: 'Success', instanceId, responseCode: 0, stdout: '', stderr: '' } as never;
    },
  });
  return { wrap, started: () => started, release };
}

it('a fast step starts at once while every slow slot is held and more slow work waits', async () => {
  const [instance] = (await aws.seed('capacity', { instances: 1 })).instances;
  const params = { instanceId: instance.instanceId };
  const taskQueue = uniqueId('tq');
  const held = heldCommands();
  const worker = await createWorker({
    // The same small number of slots on both queues: were the slow steps on the task queue, they would fill it.
    config: {
      temporalAddress: '',
      temporalNamespace: 'default',
      taskQueue,
      awsRegion: 'us-east-1',
      workerMaxActivities: SLOTS,
      workerMaxSlowActivities: SLOTS,
    },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    activities: held.wrap(createActivities(aws.clients)),
  });
  expect(worker.slow?.options.taskQueue).toBe(slowTaskQueue(taskQueue));
  const start = (def: RunbookDefinition) =>
    startRunbook(temporal, taskQueue, { runbook: def, digest: 'test', params, startedBy: { id: 'user:test' } });

  await worker.runUntil(async () => {
    try {
      // Every slow slot held, and one more slow step waiting for a slot.
      const slow = await Promise.all(Array.from({ length: SLOTS + 1 }, () => start(collect)));
      await until(
        () => held.started() === SLOTS,
        60_000,
        () => `slow steps started: ${held.started()}`,
      );

      const fast = await start(tag);
      const done = await waitForState(fast, (s) => s.status === 'succeeded', 60_000);
      const step = done.steps[0];
      // From the step's start in the workflow to its end: the activity did not wait for a slot.
      expect(Date.parse(step.endedAt!) - Date.parse(step.startedAt!)).toBeLessThan(5_000);
      const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance.instanceId] }));
      expect(tagRecord(out.Reservations?.[0]?.Instances?.[0]?.Tags)['firebreak:capacity']).toBe('contained');

      // The slow queue's slots were full the whole time: the third slow step is still waiting.
      expect(held.started()).toBe(SLOTS);
      const states = await Promise.all(slow.map((h) => waitForState(h, (s) => s.steps[0].status === 'running')));
      expect(states.every((s: ExecutionState) => s.status === 'running')).toBe(true);

      // Released, every slow step ends, the waiting one included.
      held.release();
      for (const h of slow) await waitForState(h, (s) => s.status === 'succeeded', 60_000);
      expect(held.started()).toBe(SLOTS + 1);
      // Scheduled where the catalogue's speed class says: the slow step on the slow queue, the fast one on the task queue.
      expect(await scheduledOn(slow[0].workflowId)).toEqual({ collect: slowTaskQueue(taskQueue) });
      expect(await scheduledOn(fast.workflowId)).toEqual({ tag: taskQueue });
    } finally {
      held.release();
    }
  });
  // Both workers stopped together.
  expect([worker.fast?.getState(), worker.slow?.getState()]).toEqual(['STOPPED', 'STOPPED']);
});

it.each(['fast', 'slow'] as const)('FIREBREAK_WORKER_QUEUES=%s runs that queue only', async (queues) => {
  const taskQueue = uniqueId('tq');
  const worker = await createWorker({
    config: {
      temporalAddress: '',
      temporalNamespace: 'default',
      taskQueue,
      awsRegion: 'us-east-1',
      workerQueues: queues,
    },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    clients: aws.clients,
  });
  const served = [worker.fast, worker.slow].filter((w) => w !== undefined).map((w) => w.options.taskQueue);
  expect(served).toEqual([queues === 'fast' ? taskQueue : slowTaskQueue(taskQueue)]);
  await worker.runUntil(async () => expect(worker.getState()).toBe('RUNNING'));
  expect(worker.getState()).toBe('STOPPED');
});

/** The task queue of each activity the execution scheduled, by activity ID, from its history. */
async function scheduledOn(workflowId: string): Promise<Record<string, string>> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return Object.fromEntries(
    (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => !!a)
      .map((a) => [a!.activityId!, a!.taskQueue!.name!]),
  );
}

async function until(ok: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
