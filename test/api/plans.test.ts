/**
 * Plan before apply: the dry run of ec2-compromise on a real (moto) instance names the instance, its ENIs and the
 * captured groups, previews every action step with the calls it would make, lists the gate and the rollback plan, and
 * leaves every piece of AWS state as it was (nothing is published either).
 */
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { readNotifications, type SeedResult } from '../../scripts/seed';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('plan', { instances: 1 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const tokens = TokenStore.fromPlain({
  'responder-token-0123456789': { id: 'user:rory', roles: ['responder'] },
  'viewer-token-0123456789ab': { id: 'user:vera', roles: ['viewer'] },
});

function app(taskQueue: string): Promise<FastifyInstance> {
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'token', tokens },
  });
}

/** Everything the runbook could change on the instance, read through the EC2 API. */
async function instanceState(instanceId: string) {
  const ec2 = aws.clients.ec2;
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = described.Reservations![0].Instances![0];
  const protection = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  const volumes = (instance.BlockDeviceMappings ?? []).map((b) => b.Ebs!.VolumeId!);
  const snapshots = await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-id', Values: volumes }] }));
  return {
    groups: (instance.NetworkInterfaces ?? [])
      .map((n) => ({ eni: n.NetworkInterfaceId, groups: (n.Groups ?? []).map((g) => g.GroupId).sort() }))
      .sort((a, b) => String(a.eni).localeCompare(String(b.eni))),
    tags: (instance.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort(),
    protection: protection.DisableApiTermination?.Value,
    snapshots: (snapshots.Snapshots ?? []).length,
  };
}

test('a plan previews ec2-compromise on a live instance and changes nothing', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const { instanceId } = env.instances[0];
    const before = await instanceState(instanceId);
    const res = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/plan',
      headers: { authorization: 'Bearer responder-token-0123456789' },
      payload: { params: { instanceId, notifyTopicArn: env.topicArn } },
    });
    expect(res.statusCode).toBe(200);
    const plan = res.json();
    expect(await instanceState(instanceId)).toEqual(before);

    expect(plan).toMatchObject({ runbookId: 'ec2-compromise', resource: `ec2:instance/${instanceId}` });
    const step = (id: string) => plan.steps.find((s: { id: string }) => s.id === id);
    // Read-only capture ran for real: the plan names the instance's ENIs and the groups on them now.
    expect(step('capture')).toMatchObject({ outcome: 'previewed', preview: 'read', input: { instanceId } });
    const captured = step('capture').output;
    expect(captured.instanceId).toBe(instanceId);
    expect(
      captured.networkInterfaces
        .map((n: { networkInterfaceId: string; groupIds: string[] }) => ({
          eni: n.networkInterfaceId,
          groups: [...n.groupIds].sort(),
        }))
        .sort((a: { eni: string }, b: { eni: string }) => a.eni.localeCompare(b.eni)),
    ).toEqual(before.groups);
    // The gate is listed with its policy; the steps after it are still planned (assuming approval).
    const gate = plan.steps.find((s: { kind: string }) => s.kind === 'approval');
    expect(gate).toMatchObject({ outcome: 'gate', approval: { min: 1, fourEyes: true, onTimeout: 'reject' } });
    expect(gate.approval.roles).toEqual(expect.arrayContaining(['incident-commander']));
    // Every action of this runbook has a dry-run form or is read-only: none is left unpreviewed.
    expect(plan.notPreviewable).toEqual([]);
    for (const s of plan.steps.filter((x: { kind: string }) => x.kind === 'action')) {
      expect(s.outcome).not.toBe('not-previewable');
    }
    // The previewed steps name the instance and its resources in the calls they would make.
    type Call = { operation: string; input: Record<string, unknown> };
    const inputs = (id: string, operation: string) =>
      ((step(id).calls ?? []) as Call[]).filter((c) => c.operation === operation).map((c) => c.input);
    const enis = before.groups.map((g) => g.eni);
    expect(step('isolate').outcome).toBe('previewed');
    expect(
      [...new Set(inputs('isolate', 'ModifyNetworkInterfaceAttribute').map((i) => i.NetworkInterfaceId))].sort(),
    ).toEqual(enis);
    expect(inputs('protect-termination', 'ModifyInstanceAttribute')).toEqual([
      { InstanceId: instanceId, DisableApiTermination: { Value: true } },
    ]);
    expect(
      inputs('snapshot-volumes', 'CreateSnapshot')
        .map((i) => i.VolumeId)
        .sort(),
    ).toEqual([...env.instances[0].volumeIds].sort());
    expect(inputs('tag-quarantined', 'CreateTags').map((i) => i.Resources)).toEqual([[instanceId]]);
    expect(inputs('notify-started', 'Publish')).toEqual([expect.objectContaining({ TopicArn: env.topicArn })]);
    expect(await readNotifications(aws.sqs, env.queueUrl, { count: 1, timeoutMs: 3000 })).toEqual([]);
    // The rollback plan runs in reverse and restores exactly the captured groups.
    const restore = plan.rollbackPlan.find((r: { action: string }) => r.action === 'ec2.restoreSecurityGroups');
    expect(restore.input.instanceId).toBe(instanceId);
    expect(
      restore.input.networkInterfaces
        .map((n: { networkInterfaceId: string; groupIds: string[] }) => ({
          eni: n.networkInterfaceId,
          groups: [...n.groupIds].sort(),
        }))
        .sort((a: { eni: string }, b: { eni: string }) => a.eni.localeCompare(b.eni)),
    ).toEqual(before.groups);
    const order = plan.rollbackPlan.map((r: { stepId: string }) => r.stepId);
    const forward = plan.steps.map((s: { id: string }) => s.id).filter((id: string) => order.includes(id));
    expect(order).toEqual([...forward].reverse());

    // A plan for an instance that does not exist says so at the capture step, and still changes nothing.
    const missing = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/plan',
      headers: { authorization: 'Bearer responder-token-0123456789' },
      payload: { params: { instanceId: 'i-0123456789abcdef0', notifyTopicArn: env.topicArn } },
    });
    expect(missing.statusCode).toBe(200);
    expect(missing.json().steps[0]).toMatchObject({ id: 'capture', outcome: 'unresolved' });
    expect(missing.json().steps[0].note).toMatch(/preview failed/);

    // Params are validated as for a start; a viewer may not plan.
    const invalid = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/plan',
      headers: { authorization: 'Bearer responder-token-0123456789' },
      payload: { params: { instanceId: 'not-an-instance' } },
    });
    expect(invalid.statusCode).toBe(400);
    const viewer = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/plan',
      headers: { authorization: 'Bearer viewer-token-0123456789ab' },
      payload: { params: { instanceId, notifyTopicArn: env.topicArn } },
    });
    expect(viewer.statusCode).toBe(403);
    await api.close();
  });
});
