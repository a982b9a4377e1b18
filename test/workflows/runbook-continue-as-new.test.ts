/**
 * A runbook execution that waits long continues as new before its history nears Temporal's limits (a low message
 * bound forces it here): held in its rollback window through many window extensions it runs as several runs and a
 * release still restores exactly what it contained (checked through the EC2 API); waiting at a gate it carries the
 * gate's decisions and deadline, and the approval that completes the quorum in a later run lets it complete; an
 * incident awaiting its runbook child learns the outcome across the child's runs. One execution ID throughout.
 */
import { randomUUID } from 'node:crypto';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { tagRecord } from '../../activities/ec2';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { defineRunbook, expr } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { approvalUpdate, incidentNewsSignal, RejectionType, type ExecutionState } from '../../workflows/messages';
import { fixture } from '../alerts/helpers';
import { DEFAULT_ACCOUNT, emulatorConfig, testAws, unique, type TestAws } from '../stack/aws';
import { commander, startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';
import { poll } from '../stack/poll';

const SECRET = 'runbook-can-secret-0123456789';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('runbook-can', { instances: 3 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

function app(taskQueue: string, maxMessages: number): Promise<FastifyInstance> {
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
    logger: false,
    notifyTopics: { default: env.topicArn },
    alerts: { webhookSecret: SECRET, webhookHeader: 'x-firebreak-secret' },
    executionHistory: { maxMessages },
  });
}

/** Every run of the workflow ID, as visibility lists them (continued-as-new ones included). */
async function runsOf(workflowId: string) {
  const runs: { runId: string; status: string }[] = [];
  for await (const w of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push({ runId: w.runId, status: w.status.name });
  return runs;
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

const getExecution = async (api: FastifyInstance, id: string) => {
  const res = await api.inject({ method: 'GET', url: `/v1/executions/${id}` });
  expect(res.statusCode).toBe(200);
  return res.json();
};

/** Extends the window `count` times through the API, each answered at once with its record. */
async function extend(api: FastifyInstance, id: string, count: number, from = 0) {
  const records = [];
  for (let i = from; i < from + count; i++) {
    const res = await api.inject({
      method: 'POST',
      url: `/v1/executions/${id}/window`,
      payload: { reason: `forensics ${i}`, extendBy: '1h' },
    });
    expect({ i, status: res.statusCode, body: res.statusCode === 200 ? undefined : res.json() }).toEqual({
      i,
      status: 200,
      body: undefined,
    });
    records.push(res.json());
  }
  return records;
}

test('held in its rollback window through many extensions: several runs, one execution, and the release restores', async () => {
  const instance = env.instances[0];
  const original = [[...instance.groupIds].sort()];
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue, 3);
    const started = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/executions',
      payload: { params: { instanceId: instance.instanceId, notifyTopicArn: env.topicArn }, reason: 'suspected' },
    });
    expect(started.statusCode).toBe(201);
    const id = started.json().executionId as string;
    await poll(
      'gate',
      () => getExecution(api, id),
      (b) => b.status === 'waiting-approval',
    );
    const approved = await api.inject({
      method: 'POST',
      url: `/v1/executions/${id}/approvals/approve-isolation`,
      payload: { decision: 'approve', comment: 'contain it' },
    });
    expect(approved.statusCode).toBe(200);
    const contained = await poll(
      'contained',
      () => getExecution(api, id),
      (b) => b.status === 'succeeded',
    );
    const quarantine = contained.steps.find((s: { id: string }) => s.id === 'isolate').output.quarantineGroupId;
    expect(await groupsOf(instance.instanceId)).toEqual([[quarantine]]);
    const firstEnd = contained.rollbackWindowUntil as string;

    // The approval and 2 extensions reach the bound of 3: a new run; then every 3 extensions another.
    const records = await extend(api, id, 9);
    const held = await poll(
      'fourth run',
      () => getExecution(api, id),
      (b) => (b.run ?? 1) >= 4,
    );
    const runs = await poll(
      'runs listed',
      () => runsOf(id),
      (r) => r.length >= 4,
    );
    expect(runs.filter((r) => r.status === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(3);
    expect(runs.filter((r) => r.status === 'RUNNING')).toHaveLength(1);

    // The whole story in one view: the gate's decision, every extension in order, the window, the lock's hold.
    expect(held).toMatchObject({
      executionId: id,
      status: 'succeeded',
      workflowStatus: 'RUNNING',
      reason: 'suspected',
    });
    expect(held.windowExtensions).toEqual(records);
    expect(held.windowExtensions.map((w: { reason: string }) => w.reason)).toEqual(
      Array.from({ length: 9 }, (_, i) => `forensics ${i}`),
    );
    expect(held.windowExtensions[0].previousUntil).toBe(firstEnd);
    for (let i = 1; i < 9; i++) expect(held.windowExtensions[i].previousUntil).toBe(held.windowExtensions[i - 1].until);
    expect(held.rollbackWindowUntil).toBe(new Date(Date.parse(firstEnd) + 9 * 3_600_000).toISOString());
    const gate = held.steps.find((s: { id: string }) => s.id === 'approve-isolation');
    expect(gate.approval).toMatchObject({ decision: 'approve', comment: 'contain it', via: 'human' });
    expect(gate.approval.decidedBy.id).toBe('user:local-operator');
    expect(held.steps.find((s: { id: string }) => s.id === 'isolate')).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      startedAt: contained.steps.find((s: { id: string }) => s.id === 'isolate').startedAt,
    });
    expect(held.resourceLock).toMatchObject({ status: 'released', outcome: 'contained' });

    const released = await api.inject({
      method: 'POST',
      url: `/v1/executions/${id}/release`,
      payload: { reason: 'false positive' },
    });
    expect(released.statusCode).toBe(202);
    const done = await poll(
      'released',
      () => getExecution(api, id),
      (b) => b.workflowStatus === 'COMPLETED',
    );
    expect(done).toMatchObject({
      status: 'rolled-back',
      release: { reason: 'false positive', requestedBy: { id: 'user:local-operator' } },
      rollback: { trigger: 'requested', complete: true },
      resourceLock: { purpose: 'release', outcome: 'released' },
    });
    expect(done.run).toBeGreaterThanOrEqual(4);
    expect(done.windowExtensions).toHaveLength(9);
    expect(
      done.steps.filter((s: { status: string }) => s.status === 'rolled-back').map((s: { id: string }) => s.id),
    ).toEqual(expect.arrayContaining(['protect-termination', 'isolate', 'tag-quarantined']));
    // What was contained is restored exactly, through the compensations' outputs carried from the first run.
    expect(await groupsOf(instance.instanceId)).toEqual(original);
    expect(await protection(instance.instanceId)).toBe(false);

    // Every run's history (the continued ones and the last) replays against today's code.
    const all = await poll(
      'last run listed',
      () => runsOf(id),
      (r) => r.some((x) => x.status === 'COMPLETED'),
    );
    const bundle = { workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } };
    for (const run of all) {
      const history = await temporal.client.workflow.getHandle(id, run.runId).fetchHistory();
      await Worker.runReplayHistory(bundle, history, id);
    }
    await api.close();
  });
});

/** Tags, waits for two approvals, tags again; no rollback window, so it completes once past the gate. */
const twoKeys = defineRunbook({
  id: 'two-keys',
  version: '1.0.0',
  title: 'Two keys',
  description: 'tag, two approvals, tag',
  incidentType: 'test',
  severity: 'SEV3',
  params: Type.Object({ instanceId: Type.String() }),
  steps: [
    {
      id: 'mark',
      kind: 'action',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('params.instanceId'), tags: { keys: 'asked' } },
      rollback: { action: 'ec2.tagInstance', with: { instanceId: expr('params.instanceId'), tags: { keys: 'no' } } },
    },
    {
      id: 'keys',
      kind: 'approval',
      title: 'Turn both keys?',
      approvers: { roles: ['incident-commander'], min: 2 },
      timeout: '1h',
      onTimeout: 'reject',
    },
    {
      id: 'turn',
      kind: 'action',
      action: 'ec2.tagInstance',
      with: {
        instanceId: expr('params.instanceId'),
        tags: { keys: 'turned', by: expr('steps.keys.output.decidedBy') },
      },
    },
  ],
});

test('continued as new while waiting at a gate: the decisions so far and the deadline carry; the last approval completes it', async () => {
  const instanceId = env.instances[1].instanceId;
  const rb = new RunbookRegistry([twoKeys]).get('two-keys')!;
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(temporal, taskQueue, {
      runbook: rb.definition,
      digest: rb.digest,
      params: { instanceId },
      startedBy: { id: 'user:starter' },
      history: { maxMessages: 2 },
    });
    const opened = await waitForState(handle, (s) => s.status === 'waiting-approval');
    const deadline = opened.pendingApproval!.deadline;
    const bob = { id: 'user:bob', roles: ['incident-commander'] };
    const first = await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'keys', decision: 'approve', comment: 'one', decidedBy: commander }],
    });
    expect(first).toMatchObject({ gate: 'pending', approvalsNeeded: 1 });
    // A second message reaches the bound: the run hands over while the gate is open.
    await handle.signal(incidentNewsSignal, { alertState: 'firing' });
    const second = await waitForState(handle, (s) => s.run === 2);
    await handle.signal(incidentNewsSignal, { alertState: 'firing' });
    await handle.signal(incidentNewsSignal, { alertState: 'resolved', resolvedAt: new Date().toISOString() });
    const third = await waitForState(handle, (s) => s.run === 3);
    for (const s of [second, third]) {
      expect(s.status).toBe('waiting-approval');
      expect(s.pendingApproval).toMatchObject({
        stepId: 'keys',
        deadline,
        approvalsNeeded: 1,
        approvedBy: [{ id: commander.id, comment: 'one' }],
      });
      expect(s.steps.find((x) => x.id === 'keys')).toMatchObject({
        status: 'waiting-approval',
        deadline,
        startedAt: opened.steps.find((x) => x.id === 'keys')!.startedAt,
        approvals: [{ decidedBy: commander, comment: 'one' }],
      });
      expect(s.steps.find((x) => x.id === 'mark')).toMatchObject({ status: 'succeeded', attempts: 1 });
    }
    // Lists of pending gates (visibility) find the current run: its search attributes went with it.
    const listed = await poll(
      'listed as waiting',
      async () => {
        const found: string[] = [];
        const query = `WorkflowId = '${handle.workflowId}' AND FirebreakStatus = 'waiting-approval'`;
        for await (const w of temporal.client.workflow.list({ query }))
          if (w.status.name === 'RUNNING') found.push(w.runId);
        return found;
      },
      (found) => found.length === 1,
    );
    expect(listed).toEqual([(await handle.describe()).runId]);
    // The same principal cannot approve twice across runs either.
    const again = await handle
      .executeUpdate(approvalUpdate, { args: [{ stepId: 'keys', decision: 'approve', decidedBy: commander }] })
      .catch((err: WorkflowUpdateFailedError) => err);
    expect(again).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((again as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(RejectionType.duplicate);

    const last = await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'keys', decision: 'approve', comment: 'two', decidedBy: bob }],
    });
    expect(last).toMatchObject({ gate: 'approved', approvalsNeeded: 0 });
    // The result follows the runs to the last one.
    const final = (await handle.result()) as ExecutionState;
    expect(final).toMatchObject({ status: 'succeeded', run: 3 });
    expect(final.pendingApproval).toBeUndefined();
    expect(final.steps.map((s) => [s.id, s.status])).toEqual([
      ['mark', 'succeeded'],
      ['keys', 'succeeded'],
      ['turn', 'succeeded'],
    ]);
    expect(final.steps[1].approvals?.map((a) => a.decidedBy.id)).toEqual([commander.id, bob.id]);
    const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(tagRecord(out.Reservations![0].Instances![0].Tags)).toMatchObject({ keys: 'turned', by: bob.id });
  });
});

test('an incident awaiting its runbook child learns the outcome across the child’s runs', async () => {
  const instance = env.instances[2];
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue, 2);
    const event = fixture('eventbridge-guardduty-finding.json');
    // The worker's own account and region, where the instance is.
    event.id = randomUUID();
    event.account = event.detail.accountId = DEFAULT_ACCOUNT;
    event.region = event.detail.region = emulatorConfig().region;
    event.detail.id = unique('finding');
    event.detail.resource.instanceDetails.instanceId = instance.instanceId;
    const res = await api.inject({
      method: 'POST',
      url: '/v1/alerts/eventbridge',
      headers: { 'x-firebreak-secret': SECRET },
      payload: event,
    });
    expect(res.statusCode).toBe(202);
    const ack = res.json();
    const incident = (predicate: (b: any) => boolean, what: string) =>
      poll(
        what,
        async () => (await api.inject({ method: 'GET', url: `/v1/incidents/${ack.incidentId}` })).json(),
        predicate,
      );
    const gate = await incident((b) => b.automation?.status === 'waiting-approval', 'gate');
    const executionId = gate.automation.executionId as string;
    await temporal.client.workflow.getHandle(executionId).executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-isolation', decision: 'approve', decidedBy: commander }],
    });
    await incident((b) => b.status === 'contained', 'contained');
    await extend(api, executionId, 5);
    const held = await poll(
      'third run',
      () => getExecution(api, executionId),
      (b) => (b.run ?? 1) >= 3,
    );
    expect(held).toMatchObject({ incidentId: ack.incidentId, status: 'succeeded' });

    const released = await api.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/release`,
      payload: { reason: 'cleared' },
    });
    expect(released.statusCode).toBe(202);
    // The incident's first run awaits its child: the result of the child's last run settles it.
    const settled = await incident((b) => b.automation.finished === true, 'outcome learnt');
    expect(settled.automation).toMatchObject({ executionId, status: 'rolled-back', finished: true });
    expect(await groupsOf(instance.instanceId)).toEqual([[...instance.groupIds].sort()]);
    await api.close();
  });
});
