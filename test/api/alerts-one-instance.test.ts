/**
 * Two GuardDuty findings of different types on one instance, through the alert endpoint: two incidents, two
 * ec2-compromise executions, one containment at a time (the resource lock: the second waits, naming the first), and
 * releasing them in turn leaves the instance contained until the last, which restores its original security groups
 * and termination protection, checked through the EC2 API; each incident learns its execution's outcome.
 */
import { randomUUID } from 'node:crypto';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { fixture } from '../alerts/helpers';
import { DEFAULT_ACCOUNT, emulatorConfig, testAws, unique, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';
import { poll } from '../stack/poll';

const SECRET = 'one-instance-secret-0123456789';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('one-instance', { instances: 1 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

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

/** A GuardDuty finding of `type` on the instance, from the worker's own account and region (where moto has it). */
function finding(type: string, instanceId: string) {
  const event = fixture('eventbridge-guardduty-finding.json');
  event.id = randomUUID();
  event.account = event.detail.accountId = DEFAULT_ACCOUNT;
  event.region = event.detail.region = emulatorConfig().region;
  event.detail.id = unique('finding');
  event.detail.type = type;
  event.detail.resource.instanceDetails.instanceId = instanceId;
  return event;
}

test('two findings on one instance: one containment at a time, both releases correct, the original restored', async () => {
  const instance = env.instances[0];
  const original = [[...instance.groupIds].sort()];
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api: FastifyInstance = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([ec2Compromise]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      auth: { mode: 'none' },
      logger: false,
      notifyTopics: { default: env.topicArn },
      alerts: { webhookSecret: SECRET, webhookHeader: 'x-firebreak-secret' },
    });
    const send = async (type: string) => {
      const res = await api.inject({
        method: 'POST',
        url: '/v1/alerts/eventbridge',
        headers: { 'x-firebreak-secret': SECRET },
        payload: finding(type, instance.instanceId),
      });
      expect(res.statusCode).toBe(202);
      const ack = res.json();
      expect(ack).toMatchObject({ outcome: 'accepted' });
      // Admission answers before the incident runs; the incident names its runbook execution once it has started it.
      const opened = await poll(
        'incident opened with its runbook',
        async () => (await api.inject({ method: 'GET', url: `/v1/incidents/${ack.incidentId}` })).json(),
        (b: any) => b.lastDelivery?.outcome === 'opened' && b.automation?.executionId !== undefined,
      );
      expect(opened.automation).toMatchObject({ runbookId: 'ec2-compromise' });
      return { incidentId: ack.incidentId as string, executionId: opened.automation.executionId as string };
    };
    const execution = (id: string, what: string, predicate: (b: any) => boolean) =>
      poll(what, async () => (await api.inject({ method: 'GET', url: `/v1/executions/${id}` })).json(), predicate);
    const incident = (id: string, what: string, predicate: (b: any) => boolean) =>
      poll(what, async () => (await api.inject({ method: 'GET', url: `/v1/incidents/${id}` })).json(), predicate);
    const post = (url: string, payload: Record<string, unknown>) => api.inject({ method: 'POST', url, payload });

    const a = await send('CryptoCurrency:EC2/BitcoinTool.B!DNS');
    await execution(a.executionId, 'A at its gate', (b) => b.status === 'waiting-approval');
    const b = await send('Backdoor:EC2/C&CActivity.B!DNS');
    expect(b.incidentId).not.toBe(a.incidentId);
    expect(b.executionId).not.toBe(a.executionId);

    // B waits for A, naming it, and changes nothing meanwhile.
    const waiting = await execution(b.executionId, 'B waits', (x) => x.status === 'waiting-resource');
    expect(waiting.resourceLock).toMatchObject({
      status: 'waiting',
      holder: { executionId: a.executionId, purpose: 'contain' },
    });
    expect(waiting.steps.every((s: { status: string }) => s.status === 'pending')).toBe(true);

    const approve = (id: string) =>
      post(`/v1/executions/${id}/approvals/approve-isolation`, { decision: 'approve', comment: 'contain' });
    expect((await approve(a.executionId)).statusCode).toBe(200);
    const aDone = await execution(a.executionId, 'A contained', (x) => x.status === 'succeeded');
    const quarantine = aDone.steps.find((s: { id: string }) => s.id === 'isolate').output.quarantineGroupId;
    expect(await groupsOf(instance.instanceId)).toEqual([[quarantine]]);

    // Only now does B run: it builds on A's record of the original, not on the quarantine it sees.
    await execution(b.executionId, 'B at its gate', (x) => x.status === 'waiting-approval');
    expect((await approve(b.executionId)).statusCode).toBe(200);
    const bDone = await execution(b.executionId, 'B contained', (x) => x.status === 'succeeded');
    expect(bDone.resourceLock).toMatchObject({ outcome: 'contained', others: [a.executionId] });
    expect(bDone.steps.find((s: { id: string }) => s.id === 'capture').original).toMatchObject({
      executionId: a.executionId,
    });
    await incident(a.incidentId, 'A contained', (x) => x.status === 'contained');
    await incident(b.incidentId, 'B contained', (x) => x.status === 'contained');

    // Releasing A hands the instance over to B: still contained.
    expect((await post(`/v1/executions/${a.executionId}/release`, { reason: 'first cleared' })).statusCode).toBe(202);
    const aReleased = await execution(a.executionId, 'A released', (x) => x.status === 'rolled-back');
    expect(aReleased.rollback).toMatchObject({ complete: true, handedOverTo: [b.executionId] });
    expect(await groupsOf(instance.instanceId)).toEqual([[quarantine]]);
    expect(await protection(instance.instanceId)).toBe(true);

    // Releasing B, the last, restores the original.
    expect((await post(`/v1/executions/${b.executionId}/release`, { reason: 'both cleared' })).statusCode).toBe(202);
    const bReleased = await execution(b.executionId, 'B released', (x) => x.status === 'rolled-back');
    expect(bReleased.rollback).toMatchObject({ complete: true });
    expect(bReleased.rollback.handedOverTo).toBeUndefined();
    expect(await groupsOf(instance.instanceId)).toEqual(original);
    expect(await protection(instance.instanceId)).toBe(false);

    for (const x of [a, b]) {
      const settled = await incident(x.incidentId, 'outcome learnt', (i) => i.automation.finished === true);
      expect(settled.automation).toMatchObject({ executionId: x.executionId, status: 'rolled-back' });
    }
    await api.close();
  });
});
