/**
 * One containment per resource (workflows/resource.ts and its use in the interpreter): two ec2-compromise executions
 * on one instance take turns, the second builds on the first's record of the original state, releasing one never
 * undoes the other's containment, and the last release restores the true original, checked through the EC2 API.
 */
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { fetchRunChain } from '../../forensics/history';
import { buildTimeline } from '../../forensics/timeline';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { RunbookDefinition, Step } from '../../runbooks/dsl/types';
import { approvalUpdate, rollbackUpdate, type RunbookWorkflowInput } from '../../workflows/messages';
import { RESOURCE_WORKFLOW, resourceRecordQuery, resourceWorkflowId } from '../../workflows/resource-messages';
import type { SeedResult } from '../../scripts/seed';
import { DEFAULT_ACCOUNT, testAws, type TestAws } from '../stack/aws';
import {
  commander,
  startRunbook,
  testTemporal,
  waitForState,
  withWorker,
  type RunbookHandle,
  type TestTemporal,
} from '../stack/temporal';
import { poll } from '../stack/poll';

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

function input(env: SeedResult, def: RunbookDefinition = ec2Compromise): RunbookWorkflowInput {
  const rb = new RunbookRegistry([def]).get(def.id)!;
  return {
    runbook: rb.definition,
    digest: rb.digest,
    params: { instanceId: env.instances[0].instanceId, notifyTopicArn: env.topicArn },
    startedBy: { id: 'user:test' },
    reason: 'test',
  };
}

/** ec2-compromise without the escalation (its timer would only add noise), other steps as they are. */
function withSteps(map: (s: Step) => Step | undefined, extra: Partial<RunbookDefinition> = {}): RunbookDefinition {
  return {
    ...ec2Compromise,
    ...extra,
    steps: ec2Compromise.steps.map(map).filter((s): s is Step => s !== undefined),
  };
}

async function groupsOf(instanceId: string): Promise<string[][]> {
  const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return (out.Reservations![0].Instances![0].NetworkInterfaces ?? []).map((eni) =>
    (eni.Groups ?? []).map((g) => g.GroupId!).sort(),
  );
}

async function protection(instanceId: string): Promise<boolean> {
  const out = await aws.clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return out.DisableApiTermination?.Value ?? false;
}

const approve = (handle: RunbookHandle) =>
  handle.executeUpdate(approvalUpdate, {
    args: [{ stepId: 'approve-isolation', decision: 'approve', comment: 'go', decidedBy: commander }],
  });
const release = (handle: RunbookHandle) =>
  handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'false positive', requestedBy: commander }] });

/** The worker resolves an execution without a target to its own account (moto's default) and region. */
const recordId = (instanceId: string) =>
  resourceWorkflowId({ account: DEFAULT_ACCOUNT, region: 'us-east-1', resource: `ec2:instance/${instanceId}` });

/** A contains the instance; B waits for it, then contains it on top, building on A's record of the original. */
async function containTwice(env: SeedResult, taskQueue: string) {
  const instance = env.instances[0];
  const original = [[...instance.groupIds].sort()];
  const a = await startRunbook(temporal, taskQueue, input(env));
  await waitForState(a, (s) => s.status === 'waiting-approval');
  expect(await protection(instance.instanceId)).toBe(true);

  const b = await startRunbook(temporal, taskQueue, input(env));
  // Generous: on a loaded machine (the whole suite on 2 cores) the request, the queueing and the record's word back
  // are three workflow tasks and an activity.
  const waiting = await waitForState(b, (s) => s.status === 'waiting-resource', 150_000);
  expect(waiting.resourceLock).toMatchObject({
    key: recordId(instance.instanceId),
    purpose: 'contain',
    status: 'waiting',
    holder: { executionId: a.workflowId, runbookId: 'ec2-compromise', purpose: 'contain' },
    position: 1,
  });
  expect(waiting.steps.every((s) => s.status === 'pending')).toBe(true);

  await approve(a);
  const aDone = await waitForState(a, (s) => s.status === 'succeeded');
  expect(aDone.resourceLock).toMatchObject({ status: 'released', outcome: 'contained', others: [] });
  const quarantine = aDone.steps.find((s) => s.id === 'isolate')!.output as { quarantineGroupId: string };
  expect(await groupsOf(instance.instanceId)).toEqual([[quarantine.quarantineGroupId]]);

  // B got the lock once A was done: its capture saw the quarantine, its expressions see A's original.
  await waitForState(b, (s) => s.status === 'waiting-approval');
  await approve(b);
  const bDone = await waitForState(b, (s) => s.status === 'succeeded');
  expect(bDone.resourceLock).toMatchObject({ status: 'released', outcome: 'contained', others: [a.workflowId] });
  const capture = bDone.steps.find((s) => s.id === 'capture')!;
  expect(capture.output).toMatchObject({ networkInterfaces: [{ groupIds: [quarantine.quarantineGroupId] }] });
  expect(capture.original).toMatchObject({
    executionId: a.workflowId,
    state: { networkInterfaces: [{ groupIds: expect.arrayContaining(instance.groupIds) }] },
  });
  // The release is a signal to the record: the execution may report it before the record has handled it.
  const record = await poll(
    'the record released by B',
    () => temporal.client.workflow.getHandle(recordId(instance.instanceId)).query(resourceRecordQuery),
    (r) => r.holder === undefined,
  );
  expect(record.containments.map((c) => c.executionId)).toEqual([a.workflowId, b.workflowId]);
  expect(record.original?.executionId).toBe(a.workflowId);
  return { a, b, original, quarantineId: quarantine.quarantineGroupId };
}

for (const order of ['first', 'second'] as const) {
  test(`two findings on one instance: releasing the ${order} keeps the other's containment; the last restores`, async () => {
    const env = await aws.seed(`lock-${order}`, { instances: 1 });
    const instanceId = env.instances[0].instanceId;
    await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
      const { a, b, original, quarantineId } = await containTwice(env, taskQueue);
      const [early, late] = order === 'first' ? [a, b] : [b, a];

      await release(early);
      const handedOver = await waitForState(early, (s) => s.status === 'rolled-back');
      expect(handedOver.rollback).toMatchObject({
        trigger: 'requested',
        complete: true,
        handedOverTo: [late.workflowId],
      });
      expect(handedOver.resourceLock).toMatchObject({ purpose: 'release', outcome: 'released' });
      // Its compensations did not run: the instance stays contained for the other execution.
      expect(handedOver.steps.filter((s) => s.status === 'rolled-back')).toEqual([]);
      expect(await groupsOf(instanceId)).toEqual([[quarantineId]]);
      expect(await protection(instanceId)).toBe(true);

      await release(late);
      const restored = await waitForState(late, (s) => s.status === 'rolled-back');
      expect(restored.rollback).toMatchObject({ complete: true });
      expect(restored.rollback?.handedOverTo).toBeUndefined();
      // Every step with a compensation that ran was compensated (the runbook as it ships decides which).
      expect(restored.steps.filter((s) => s.status === 'rolled-back').map((s) => s.id)).toEqual(
        restored.steps
          .filter(
            (s) =>
              s.status !== 'skipped' &&
              ec2Compromise.steps.some((d) => d.id === s.id && d.kind === 'action' && d.rollback),
          )
          .map((s) => s.id),
      );
      expect(restored.steps.filter((s) => s.status === 'rolled-back').map((s) => s.id)).toEqual(
        expect.arrayContaining(['protect-termination', 'isolate', 'tag-quarantined']),
      );
      expect(await groupsOf(instanceId)).toEqual(original);
      expect(await protection(instanceId)).toBe(false);

      // Nobody holds, waits for or contains the instance: its record closes.
      const recordHandle = temporal.client.workflow.getHandle(recordId(instanceId));
      const deadline = Date.now() + 20_000;
      while ((await recordHandle.describe()).status.name === 'RUNNING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await recordHandle.describe()).status.name).toBe('COMPLETED');
    });
  });
}

test('a wait for a held resource is bounded: it fails naming the holder and changes nothing', async () => {
  const env = await aws.seed('lock-busy', { instances: 1 });
  const instanceId = env.instances[0].instanceId;
  const impatient = withSteps((s) => s, { resource: { ...ec2Compromise.resource!, wait: '3s' } });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const a = await startRunbook(temporal, taskQueue, input(env));
    await waitForState(a, (s) => s.status === 'waiting-approval');
    const b = await startRunbook(temporal, taskQueue, input(env, impatient));
    const err = (await b.result().catch((e) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as ApplicationFailure).type).toBe('ResourceBusy');
    expect(err.cause?.message).toContain(`held by ${a.workflowId} (ec2-compromise, contain since`);
    const state = await waitForState(b, (s) => s.status === 'failed');
    expect(state.resourceLock).toMatchObject({ status: 'timed-out', holder: { executionId: a.workflowId } });
    expect(state.rollback).toBeUndefined();
    expect(state.steps.every((s) => s.status === 'pending')).toBe(true);
    // B left the queue: the record shows A alone.
    const record = await temporal.client.workflow.getHandle(recordId(instanceId)).query(resourceRecordQuery);
    expect(record.holder?.executionId).toBe(a.workflowId);
    expect(record.queue).toEqual([]);
    await a.cancel();
    await waitForState(a, (s) => s.status === 'cancelled');
    expect(await protection(instanceId)).toBe(false);
  });
});

test('one started by hand without a target and one naming the account and region (as from an alert): one lock', async () => {
  const env = await aws.seed('lock-same', { instances: 1 });
  const instanceId = env.instances[0].instanceId;
  const impatient = withSteps((s) => s, { resource: { ...ec2Compromise.resource!, wait: '3s' } });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const byHand = await startRunbook(temporal, taskQueue, input(env));
    const held = await waitForState(byHand, (s) => s.status === 'waiting-approval');
    expect(held.resourceLock).toMatchObject({ status: 'held', key: recordId(instanceId) });
    // What the incident passes for an alert that names its account and region (workflows/incident.ts).
    const fromAlert = await startRunbook(temporal, taskQueue, {
      ...input(env, impatient),
      target: { account: DEFAULT_ACCOUNT, region: 'us-east-1' },
      startedBy: { id: 'alert:test-fingerprint' },
    });
    const err = (await fromAlert.result().catch((e) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('ResourceBusy');
    expect(err.cause?.message).toContain(`held by ${byHand.workflowId}`);
    const state = await waitForState(fromAlert, (s) => s.status === 'failed');
    expect(state.resourceLock?.key).toBe(recordId(instanceId));
    const record = await temporal.client.workflow.getHandle(recordId(instanceId)).query(resourceRecordQuery);
    expect(record.holder?.executionId).toBe(byHand.workflowId);
    await byHand.cancel();
    await waitForState(byHand, (s) => s.status === 'cancelled');
    // The forensic timelines say where each acted: the worker's own account as resolved, and the one named.
    const where = async (id: string) => buildTimeline(await fetchRunChain(temporal.client, id)).execution?.target;
    expect(await where(byHand.workflowId)).toEqual({ account: DEFAULT_ACCOUNT, region: 'us-east-1', source: 'worker' });
    expect(await where(fromAlert.workflowId)).toEqual({
      account: DEFAULT_ACCOUNT,
      region: 'us-east-1',
      source: 'target',
    });
    // The free resource was granted in the request's answer (no grant signal, no wait timer); the busy one was
    // queued in its answer, told who holds it by signal, and waited on a timer the timeline names.
    const signals = async (id: string) =>
      ((await temporal.client.workflow.getHandle(id).fetchHistory()).events ?? [])
        .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)
        .filter(Boolean);
    expect(await signals(byHand.workflowId)).not.toContain('lockGranted');
    const handTimeline = buildTimeline(await fetchRunChain(temporal.client, byHand.workflowId));
    // Two requests, both answered with the grant: to contain, and (as holder) to undo it when cancelled.
    const grantedInAnswer = handTimeline.entries.filter((e) => e.summary.endsWith('lock granted in its answer'));
    expect(grantedInAnswer).toHaveLength(2);
    expect(handTimeline.timers.filter((t) => t.purpose === 'resource-lock')).toEqual([]);
    expect(await signals(fromAlert.workflowId)).toContain('lockQueued');
    const alertTimeline = buildTimeline(await fetchRunChain(temporal.client, fromAlert.workflowId));
    expect(alertTimeline.timers.filter((t) => t.purpose === 'resource-lock')).toHaveLength(1);
  });
});

test('a holder that dies (terminated) loses the lock when its lease runs out; the next execution gets it', async () => {
  const env = await aws.seed('lock-dead', { instances: 1 });
  const instanceId = env.instances[0].instanceId;
  // A short runbook, so its lease is short: one capture attempt of 2s and a gate of 20s (lease 43s). The gate must
  // outlast the moment b queues behind a, even on a loaded machine, or a's own deadline would free the lock first.
  const short = withSteps((s) => {
    if (s.id === 'capture') return { ...s, timeout: '2s', retry: { maximumAttempts: 1, maximumInterval: '1s' } };
    if (s.kind === 'approval') return { ...s, timeout: '20s', escalation: undefined };
    return undefined;
  });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const a = await startRunbook(temporal, taskQueue, input(env, short));
    await waitForState(a, (s) => s.status === 'waiting-approval');
    const b = await startRunbook(temporal, taskQueue, input(env));
    await waitForState(
      b,
      (s) => s.status === 'waiting-resource' && s.resourceLock?.holder?.executionId === a.workflowId,
    );
    await a.terminate('the holder dies');
    const startedWaiting = Date.now();
    const granted = await waitForState(b, (s) => s.status === 'waiting-approval', 120_000);
    expect(Date.now() - startedWaiting).toBeGreaterThan(5_000); // not at once: the lease had to run out
    expect(granted.resourceLock).toMatchObject({ status: 'held', others: [] });
    const record = await temporal.client.workflow.getHandle(recordId(instanceId)).query(resourceRecordQuery);
    expect(record).toMatchObject({ expiredLeases: 1, holder: { executionId: b.workflowId } });
    await b.cancel();
    await waitForState(b, (s) => s.status === 'cancelled');
  });
});

test('a burst of executions on as many instances, with two workflow task slots: every one takes its lock', async () => {
  // The lock request waits for the record's own workflow task on the same worker. Were it to wait inside the
  // execution's workflow task (a local activity), every slot would hold a waiting execution and no record could run.
  const env = await aws.seed('lock-burst', { instances: 6 });
  const gated = withSteps((s) =>
    s.id === 'capture' || s.kind === 'approval' ? { ...s, escalation: undefined } : undefined,
  );
  await withWorker(
    temporal,
    { clients: aws.clients, capacity: { workerMaxWorkflowTasks: 2 } },
    async ({ taskQueue }) => {
      const handles = await Promise.all(
        env.instances.map(({ instanceId }) =>
          startRunbook(temporal, taskQueue, { ...input(env, gated), params: { ...input(env).params, instanceId } }),
        ),
      );
      const states = await Promise.all(handles.map((h) => waitForState(h, (s) => s.status === 'waiting-approval')));
      for (const [i, state] of states.entries()) {
        expect(state.resourceLock).toMatchObject({ status: 'held', key: recordId(env.instances[i].instanceId) });
      }
      await Promise.all(handles.map((h) => h.cancel()));
      await Promise.all(handles.map((h) => waitForState(h, (s) => s.status === 'cancelled')));
    },
  );
});

test('test stack: a record left on a finished test worker’s queue is ended, so the next worker on that instance gets the lock', async () => {
  // A record hosted by a test's own queue would never run again once its worker is gone; a later test on the same
  // instance would join it and wait for ever (CI: approvals, where two tests share an instance).
  const env = await aws.seed('lock-left', { instances: 1 });
  const id = recordId(env.instances[0].instanceId);
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const a = await startRunbook(temporal, taskQueue, input(env));
    await waitForState(a, (s) => s.status === 'waiting-approval');
    await approve(a);
    await waitForState(a, (s) => s.status === 'succeeded');
    // Contained: the record stays open for the containment (what a later execution builds on).
    expect((await temporal.client.workflow.getHandle(id).query(resourceRecordQuery)).containments).toHaveLength(1);
  });
  expect((await temporal.client.workflow.getHandle(id).describe()).status.name).toBe('TERMINATED');
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const b = await startRunbook(temporal, taskQueue, input(env));
    const held = await waitForState(b, (s) => s.status === 'waiting-approval');
    expect(held.resourceLock).toMatchObject({ status: 'held', key: id });
    await b.cancel();
    await waitForState(b, (s) => s.status === 'cancelled');
  });
});

test('a record running on a queue no worker serves (another FIREBREAK_TASK_QUEUE): the execution fails naming it', async () => {
  const env = await aws.seed('lock-elsewhere', { instances: 1 });
  const id = recordId(env.instances[0].instanceId);
  const oldQueue = `old-${Date.now().toString(36)}`;
  const record = await temporal.client.workflow.start(RESOURCE_WORKFLOW, {
    workflowId: id,
    taskQueue: oldQueue,
    args: [],
  });
  try {
    await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
      const a = await startRunbook(temporal, taskQueue, input(env));
      // One attempt of the request (30 s start-to-close), not ten: the failure is final and says why.
      const failed = await waitForState(a, (s) => s.status === 'failed', 90_000);
      expect(failed.failure).toMatchObject({ type: 'ResourceRecordElsewhere' });
      expect(failed.failure?.message).toContain(`runs on task queue "${oldQueue}"`);
      expect(failed.failure?.message).toMatch(/nothing was changed$/);
      expect(failed.endedAt).toEqual(expect.any(String));
      // (Its key keeps `self`: the request failed before it returned the resolved one, which the message names.)
      expect(failed.resourceLock).toMatchObject({
        key: `resource:self:self:ec2:instance/${env.instances[0].instanceId}`,
        status: 'abandoned',
      });
      const ended = await a.result().catch((e: unknown) => e);
      expect(ended).toBeInstanceOf(WorkflowFailedError);
      expect((ended as WorkflowFailedError).cause).toMatchObject({
        type: 'ResourceRecordElsewhere',
        message: expect.stringContaining('runs on task queue'),
      });
      const history = await a.fetchHistory();
      const requests = history.events!.filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resource.requestLock',
      );
      expect(requests).toHaveLength(1);
      expect(failed.steps.every((s) => s.status === 'pending')).toBe(true);
    });
  } finally {
    await record.terminate('test done');
  }
}, 120_000);
