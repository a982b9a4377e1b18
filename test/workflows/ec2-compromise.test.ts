/**
 * The ec2-compromise runbook end to end: the real interpreter workflow on the Temporal dev server, the real activities
 * on moto. Every result is checked through the AWS API.
 */
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { fetchRunHistory, serialiseHistory } from '../../forensics/history';
import { Worker } from '@temporalio/worker';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { expr, type RunbookDefinition } from '../../runbooks/dsl/types';
import { SA } from '../../workflows/search-attributes';
import { approvalUpdate, rollbackUpdate, type RunbookWorkflowInput } from '../../workflows/messages';
import { readNotifications, type SeedResult } from '../../scripts/seed';
import { testAws, type TestAws } from '../stack/aws';
import { commander, startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';

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

function loaded(def: RunbookDefinition = ec2Compromise) {
  return new RunbookRegistry([def]).get(def.id)!;
}

function input(env: SeedResult, def?: RunbookDefinition, instance = 0): RunbookWorkflowInput {
  const rb = loaded(def);
  return {
    runbook: rb.definition,
    digest: rb.digest,
    params: { instanceId: env.instances[instance].instanceId, notifyTopicArn: env.topicArn },
    startedBy: { id: 'user:test' },
    reason: 'test',
  };
}

async function instanceGroups(instanceId: string): Promise<string[][]> {
  const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const inst = out.Reservations![0].Instances![0];
  return (inst.NetworkInterfaces ?? []).map((eni) => (eni.Groups ?? []).map((g) => g.GroupId!).sort());
}

async function instanceTags(instanceId: string): Promise<Record<string, string>> {
  const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Object.fromEntries((out.Reservations![0].Instances![0].Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

async function terminationProtection(instanceId: string): Promise<boolean> {
  const out = await aws.clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return out.DisableApiTermination?.Value ?? false;
}

async function quarantineGroups(vpcId: string) {
  const out = await aws.clients.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: ['firebreak-quarantine'] },
      ],
    }),
  );
  return out.SecurityGroups ?? [];
}

async function evidenceSnapshots(executionId: string) {
  const out = await aws.clients.ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:firebreak:execution-id', Values: [executionId] }],
    }),
  );
  return out.Snapshots ?? [];
}

/** The same runbook with a shorter approval deadline and another onTimeout (and no escalation, which would come later). */
function withApproval(timeout: string, onTimeout: 'reject' | 'approve' | 'fail'): RunbookDefinition {
  return {
    ...ec2Compromise,
    steps: ec2Compromise.steps.map((s) =>
      s.kind === 'approval' ? { ...s, timeout: timeout as '1s', onTimeout, escalation: undefined } : s,
    ),
  };
}

test('full run: evidence, protection, approval, isolation, notifications; then rollback on request', async () => {
  const env = await aws.seed('full');
  const instance = env.instances[0];
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env));
    const waiting = await waitForState(handle, (s) => s.status === 'waiting-approval');
    expect(waiting.pendingApproval).toMatchObject({
      stepId: 'approve-isolation',
      roles: ['incident-commander', 'security-lead'],
      policy: { roles: ['incident-commander', 'security-lead'], min: 1, fourEyes: true },
    });
    expect(waiting.steps.filter((s) => s.status === 'succeeded').map((s) => s.id)).toEqual([
      'capture',
      'notify-started',
      'snapshot-volumes',
      'volatile-data',
      'console-output',
      'protect-termination',
      'preserve',
    ]);
    // Before approval: evidence and protection, but no isolation yet.
    expect(await instanceGroups(instance.instanceId)).toEqual([[...instance.groupIds].sort()]);
    expect(await terminationProtection(instance.instanceId)).toBe(true);

    const record = await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-isolation', decision: 'approve', comment: 'go', decidedBy: commander }],
    });
    expect(record).toMatchObject({ decision: 'approve', decidedBy: commander, via: 'human', gate: 'approved' });

    const done = await waitForState(handle, (s) => s.status === 'succeeded');
    expect(done.steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect(done.rollbackWindowUntil).toBeDefined();

    // Isolation: every ENI in the one quarantine group, which allows nothing in or out.
    const groups = await quarantineGroups(env.vpcId);
    expect(groups).toHaveLength(1);
    expect(groups[0].IpPermissions ?? []).toEqual([]);
    expect(groups[0].IpPermissionsEgress ?? []).toEqual([]);
    expect(await instanceGroups(instance.instanceId)).toEqual([[groups[0].GroupId]]);
    // Evidence: one tagged snapshot per volume.
    const snaps = await evidenceSnapshots(handle.workflowId);
    expect(snaps.map((s) => s.VolumeId).sort()).toEqual([...instance.volumeIds].sort());
    for (const snap of snaps) {
      const tags = Object.fromEntries((snap.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags).toMatchObject({
        'firebreak:step-id': 'snapshot-volumes',
        'firebreak:source-instance': instance.instanceId,
        'firebreak:source-volume': snap.VolumeId,
      });
    }
    expect(await terminationProtection(instance.instanceId)).toBe(true);
    expect(await instanceTags(instance.instanceId)).toMatchObject({ 'firebreak:status': 'quarantined' });
    // Both notifications reached the topic's SQS subscriber.
    const notes = await readNotifications(aws.sqs, env.queueUrl, { count: 2, timeoutMs: 15_000 });
    expect(notes.map((n) => n.subject).sort()).toEqual([
      `firebreak: contained ${instance.instanceId}`,
      `firebreak: containing ${instance.instanceId}`,
    ]);

    // Release: a rollback request inside the rollback window undoes the containment.
    await handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'false positive', requestedBy: commander }] });
    const rolled = await waitForState(handle, (s) => s.status === 'rolled-back');
    expect(rolled.rollback).toMatchObject({ trigger: 'requested', complete: true, requestedBy: commander });
    expect(rolled.release).toMatchObject({ requestedBy: commander, reason: 'false positive' });
    // Every containment step is undone (the ASG and target-group steps found nothing to do on this lone instance).
    expect(rolled.steps.filter((s) => s.status === 'rolled-back').map((s) => s.id)).toEqual([
      'protect-termination',
      'preserve',
      'detach-asg',
      'deregister-targets',
      'isolate',
      'tag-quarantined',
    ]);
    expect(await instanceGroups(instance.instanceId)).toEqual([[...instance.groupIds].sort()]);
    expect(await terminationProtection(instance.instanceId)).toBe(false);
    expect(await instanceTags(instance.instanceId)).toMatchObject({ 'firebreak:status': 'released' });
    // Evidence outlives the rollback.
    expect(await evidenceSnapshots(handle.workflowId)).toHaveLength(instance.volumeIds.length);
    await handle.result();
  });
});

test('a retried step (first attempt fails after the AWS call) creates one group and one snapshot per volume', async () => {
  const env = await aws.seed('retry', { instances: 1, extraNetworkInterfaces: 1 });
  const instance = env.instances[0];
  const failFirstAttempt =
    <I, O>(fn: (i: I) => Promise<O>) =>
    async (i: I): Promise<O> => {
      const out = await fn(i);
      if (Context.current().info.attempt === 1) throw new Error('injected fault after the AWS call');
      return out;
    };
  await withWorker(
    temporal,
    {
      clients: aws.clients,
      activities: (real) => ({
        ...real,
        'ec2.snapshotVolumes': failFirstAttempt(real['ec2.snapshotVolumes']),
        'ec2.isolateInstanceTwoPhase': failFirstAttempt(real['ec2.isolateInstanceTwoPhase']),
      }),
    },
    async ({ taskQueue }) => {
      const def = withApproval('1s', 'approve');
      const handle = await startRunbook(temporal, taskQueue, input(env, def));
      const done = await waitForState(handle, (s) => s.status === 'succeeded');
      const byId = Object.fromEntries(done.steps.map((s) => [s.id, s]));
      expect(byId['snapshot-volumes'].attempts).toBe(2);
      expect(byId['isolate'].attempts).toBe(2);
      expect(byId['capture'].attempts).toBe(1);
      expect(byId['approve-isolation'].approval).toMatchObject({ via: 'timeout', decision: 'approve' });

      const groups = await quarantineGroups(env.vpcId);
      expect(groups).toHaveLength(1);
      const eniGroups = await instanceGroups(instance.instanceId);
      expect(eniGroups).toHaveLength(2);
      expect(eniGroups).toEqual([[groups[0].GroupId], [groups[0].GroupId]]);
      const snaps = await evidenceSnapshots(handle.workflowId);
      expect(snaps.map((s) => s.VolumeId).sort()).toEqual([...instance.volumeIds].sort());
      await temporal.client.workflow.getHandle(handle.workflowId).terminate('test done');
    },
  );
});

test('a step failing mid-runbook rolls back the completed steps; the failure stays the cause', async () => {
  const env = await aws.seed('fail', { instances: 1 });
  const instance = env.instances[0];
  // After isolation, a step that reads an instance that does not exist: a non-retryable client error.
  const def: RunbookDefinition = {
    ...ec2Compromise,
    steps: [
      ...ec2Compromise.steps.filter((s) =>
        ['capture', 'protect-termination', 'isolate', 'tag-quarantined'].includes(s.id),
      ),
      {
        id: 'inspect-peer',
        kind: 'action',
        action: 'ec2.captureInstance',
        with: { instanceId: 'i-0000000000000dead' },
      },
      {
        id: 'tag-after',
        kind: 'action',
        action: 'ec2.tagInstance',
        with: { instanceId: instance.instanceId, tags: { after: 'yes' } },
      },
    ],
  };
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env, def));
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidInstanceID.NotFound');
    expect(cause.message).toContain('i-0000000000000dead');
    expect(cause.cause).toBeInstanceOf(ActivityFailure);

    const state = await waitForState(handle, (s) => s.status === 'failed');
    expect(state.failure).toMatchObject({ stepId: 'inspect-peer', type: 'InvalidInstanceID.NotFound' });
    expect(state.rollback).toMatchObject({ trigger: 'step-failed', complete: true });
    const byId = Object.fromEntries(state.steps.map((s) => [s.id, s]));
    expect(byId['inspect-peer']).toMatchObject({ status: 'failed', attempts: 1 });
    expect(byId['tag-after'].status).toBe('pending');
    expect(['isolate', 'protect-termination', 'tag-quarantined'].map((id) => byId[id].status)).toEqual([
      'rolled-back',
      'rolled-back',
      'rolled-back',
    ]);
    // Checked in moto: original groups back, protection off again.
    expect(await instanceGroups(instance.instanceId)).toEqual([[...instance.groupIds].sort()]);
    expect(await terminationProtection(instance.instanceId)).toBe(false);
  });
});

test('a rejected approval rolls back what ran and never isolates', async () => {
  const env = await aws.seed('reject', { instances: 1 });
  const instance = env.instances[0];
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env));
    await waitForState(handle, (s) => s.status === 'waiting-approval');
    expect(await terminationProtection(instance.instanceId)).toBe(true);
    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-isolation', decision: 'reject', comment: 'not convinced', decidedBy: commander }],
    });
    const final = await handle.result();
    expect(final.status).toBe('rolled-back');
    expect(final.rollback).toMatchObject({ trigger: 'rejected', complete: true });
    const byId = Object.fromEntries(final.steps.map((s) => [s.id, s]));
    expect(byId['approve-isolation']).toMatchObject({
      status: 'rejected',
      approval: { decision: 'reject', comment: 'not convinced' },
    });
    expect(byId['isolate'].status).toBe('pending');
    expect(byId['protect-termination'].status).toBe('rolled-back');
    expect(await terminationProtection(instance.instanceId)).toBe(false);
    expect(await instanceGroups(instance.instanceId)).toEqual([[...instance.groupIds].sort()]);
    expect(await quarantineGroups(env.vpcId)).toHaveLength(0);

    // The execution replays against today's code from its history alone, also after a JSON round trip (the form a
    // forensic export takes): determinism holds.
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } }, history);
    const exported = JSON.parse(serialiseHistory(await fetchRunHistory(temporal.client, handle.workflowId)));
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } },
      exported,
      handle.workflowId,
    );
  });
});

test.each([
  ['reject', 'rolled-back'],
  ['fail', 'failed'],
] as const)('approval deadline with onTimeout=%s ends %s after rolling back', async (onTimeout, status) => {
  const env = await aws.seed(`deadline-${onTimeout}`, { instances: 1 });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env, withApproval('2s', onTimeout)));
    const state = await waitForState(handle, (s) => s.status === status, 30_000);
    const gate = state.steps.find((s) => s.id === 'approve-isolation')!;
    expect(gate.approval).toMatchObject({ via: 'timeout', decision: 'reject', decidedBy: { id: 'system:deadline' } });
    expect(gate.status).toBe(onTimeout === 'fail' ? 'failed' : 'rejected');
    expect(state.rollback).toMatchObject({ trigger: 'approval-timeout', complete: true });
    if (onTimeout === 'fail')
      expect(state.failure).toMatchObject({ type: 'ApprovalTimeout', stepId: 'approve-isolation' });
    expect(await terminationProtection(env.instances[0].instanceId)).toBe(false);
  });
});

test('the approval validator refuses a second decision, an unknown step and a caller without the role', async () => {
  const env = await aws.seed('validator', { instances: 1 });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env));
    await waitForState(handle, (s) => s.status === 'waiting-approval');
    const decide = (stepId: string, decidedBy = commander) =>
      handle.executeUpdate(approvalUpdate, { args: [{ stepId, decision: 'approve', decidedBy }] });
    const typeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e) => (e.cause as ApplicationFailure)?.type,
      );

    expect(await typeOf(decide('no-such-step'))).toBe('UnknownStep');
    expect(await typeOf(decide('capture'))).toBe('UnknownStep'); // an action, not a gate
    expect(await typeOf(decide('approve-isolation', { id: 'user:mallory', roles: ['viewer'] }))).toBe('Forbidden');
    // Four-eyes: the starter may not approve, whatever roles it holds.
    expect(await typeOf(decide('approve-isolation', { id: 'user:test', roles: ['incident-commander'] }))).toBe(
      'SelfApproval',
    );
    expect(await typeOf(decide('approve-isolation'))).toBe('accepted');
    expect(await typeOf(decide('approve-isolation'))).toBe('ApprovalNotPending');

    const state = await waitForState(handle, (s) => s.status === 'succeeded');
    expect(state.steps.find((s) => s.id === 'approve-isolation')!.approval!.decidedBy).toEqual(commander);
    await handle.terminate('test done');
  });
});

test('invalid params fail the execution at once with the field errors, touching nothing', async () => {
  const env = await aws.seed('params', { instances: 1 });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const bad = { ...input(env), params: { instanceId: 'not-an-instance', extra: 1 } };
    const handle = await startRunbook(temporal, taskQueue, bad);
    const err = (await handle.result().catch((e) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('InvalidParams');
    const state = await waitForState(handle, (s) => s.status === 'failed');
    expect(state.failure!.fieldErrors!.map((e) => e.path).sort()).toEqual(['/extra', '/instanceId', '/notifyTopicArn']);
    expect(state.steps.every((s) => s.status === 'pending')).toBe(true);
  });
});

test('durations the interpreter cannot read fail the execution at once, before any step', async () => {
  const env = await aws.seed('durations', { instances: 1 });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    // Not through the registry (which refuses it at load): as an older or hand-made start could pass it.
    const bad = { ...input(env), runbook: { ...ec2Compromise, rollbackWindow: 'a week' as '7d' } };
    const handle = await startRunbook(temporal, taskQueue, bad);
    const err = (await handle.result().catch((e) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause).toMatchObject({
      type: 'InvalidRunbook',
      message: 'invalid runbook durations: rollbackWindow "a week"',
    });
    const state = await waitForState(handle, (s) => s.status === 'failed');
    expect(state.steps.every((s) => s.status === 'pending')).toBe(true);
    expect(await terminationProtection(env.instances[0].instanceId)).toBe(false);
  });
});

test('an error thrown in workflow code fails the execution with its message instead of retrying the task', async () => {
  const env = await aws.seed('wferror', { instances: 1 });
  const def: RunbookDefinition = {
    ...ec2Compromise,
    rollbackWindow: undefined,
    steps: [
      ec2Compromise.steps.find((s) => s.id === 'capture')!,
      // Valid JSONata that throws when evaluated: outside any step's own error handling.
      { ...ec2Compromise.steps.find((s) => s.id === 'protect-termination')!, when: '$number("not a number") > 1' },
    ],
  };
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env, def));
    const err = (await handle.result().catch((e) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as ApplicationFailure).type).toBe('ExpressionError');
    expect(err.cause?.message).toContain('expression "$number("not a number") > 1" failed: Unable to cast value');
    expect((await handle.describe()).status.name).toBe('FAILED');
  });
});

test('cancelling an execution rolls back its completed steps', async () => {
  const env = await aws.seed('cancel', { instances: 1 });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env));
    await waitForState(handle, (s) => s.status === 'waiting-approval');
    await handle.cancel();
    const state = await waitForState(handle, (s) => s.status === 'cancelled');
    expect(state.rollback).toMatchObject({ trigger: 'cancelled', complete: true });
    expect(state.steps.find((s) => s.id === 'protect-termination')!.status).toBe('rolled-back');
    expect(await terminationProtection(env.instances[0].instanceId)).toBe(false);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });
});

test('a failing compensation is recorded, the others still run, and the original failure stays the cause', async () => {
  const env = await aws.seed('rbfail', { instances: 1 });
  const instance = env.instances[0];
  const def: RunbookDefinition = {
    ...ec2Compromise,
    // Nobody retries the rollback here: the execution ends soon after `rollback-failed`.
    rollbackRetryWindow: '5s',
    steps: [
      ...ec2Compromise.steps.filter((s) => ['capture', 'protect-termination'].includes(s.id)),
      {
        id: 'tag-suspect',
        kind: 'action',
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { suspect: 'yes' } },
        // Its compensation cannot work: the instance it names does not exist.
        rollback: {
          action: 'ec2.tagInstance',
          with: { instanceId: 'i-0000000000000beef', tags: { suspect: 'no' } },
          retry: { maximumAttempts: 2 },
        },
      },
      {
        id: 'inspect-peer',
        kind: 'action',
        action: 'ec2.captureInstance',
        with: { instanceId: 'i-0000000000000dead' },
      },
    ],
  };
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env, def));
    const stuck = await waitForState(handle, (s) => s.status === 'rollback-failed');
    expect(stuck.rollback).toMatchObject({ remaining: ['tag-suspect'], retryUntil: expect.any(String) });
    const err = (await handle.result().catch((e) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('InvalidInstanceID.NotFound');
    expect((err.cause as ApplicationFailure).message).toContain('i-0000000000000dead');
    const state = await waitForState(handle, (s) => s.status === 'failed');
    expect(state.failure).toMatchObject({ stepId: 'inspect-peer' });
    expect(state.rollback).toMatchObject({ trigger: 'step-failed', complete: false });
    const byId = Object.fromEntries(state.steps.map((s) => [s.id, s]));
    expect(byId['tag-suspect']).toMatchObject({
      status: 'rollback-failed',
      rollback: { status: 'failed', error: { type: 'InvalidInstanceID.NotFound' } },
    });
    // The compensation before it in reverse order still ran.
    expect(byId['protect-termination'].status).toBe('rolled-back');
    expect(await terminationProtection(instance.instanceId)).toBe(false);
  });
});

test('when-conditions skip steps, continueOnError records a failure and goes on, status is a search attribute', async () => {
  const env = await aws.seed('when', { instances: 1 });
  const def: RunbookDefinition = {
    ...ec2Compromise,
    rollbackWindow: undefined,
    steps: [
      ec2Compromise.steps.find((s) => s.id === 'capture')!,
      {
        id: 'only-if-stopped',
        kind: 'action',
        action: 'ec2.tagInstance',
        when: "steps.capture.output.state = 'stopped'",
        with: { instanceId: expr('params.instanceId'), tags: { stopped: 'yes' } },
      },
      {
        id: 'peer',
        kind: 'action',
        action: 'ec2.captureInstance',
        with: { instanceId: 'i-0000000000000dead' },
        continueOnError: true,
      },
      {
        id: 'tag',
        kind: 'action',
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { state: expr('steps.capture.output.state') } },
      },
    ],
  };
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, input(env, def));
    const final = await handle.result();
    expect(final.steps.map((s) => [s.id, s.status])).toEqual([
      ['capture', 'succeeded'],
      ['only-if-stopped', 'skipped'],
      ['peer', 'failed'],
      ['tag', 'succeeded'],
    ]);
    expect(final.status).toBe('succeeded');
    expect(await instanceTags(env.instances[0].instanceId)).toMatchObject({ state: 'running' });
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(SA.status)).toBe('succeeded');
    expect(described.typedSearchAttributes.get(SA.runbookId)).toBe('ec2-compromise');
    expect(described.typedSearchAttributes.get(SA.resource)).toBe(`ec2:instance/${env.instances[0].instanceId}`);
  });
});
