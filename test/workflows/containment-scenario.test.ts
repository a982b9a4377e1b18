/**
 * The done-when scenario, end to end on the real stack (API, Temporal dev server, worker, moto): a compromised
 * instance in an Auto Scaling group behind a load balancer is contained by ec2-compromise in AWS's recommended order,
 * every effect is read back through the AWS API, the evidence manifest lists what was collected, and a release through
 * the API restores exactly what was captured.
 */
import {
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { tagRecord } from '../../activities/ec2';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { testAws, unique, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

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

const asAlice = { authorization: 'Bearer commander-token-0123456789' };
const asCarol = { authorization: 'Bearer security-lead-token-01234567' };
const asBob = { authorization: 'Bearer viewer-token-0123456789abc' };

function app(taskQueue: string): Promise<FastifyInstance> {
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: {
      mode: 'token',
      tokens: TokenStore.fromPlain({
        'commander-token-0123456789': { id: 'user:alice', roles: ['responder', 'incident-commander'] },
        'security-lead-token-01234567': { id: 'user:carol', roles: ['security-lead'] },
        'viewer-token-0123456789abc': { id: 'user:bob', roles: ['viewer'] },
      }),
    },
  });
}

async function poll(api: FastifyInstance, id: string, predicate: (body: any) => boolean, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.inject({ method: 'GET', url: `/v1/executions/${id}`, headers: asAlice });
    if (res.statusCode === 200 && predicate(res.json())) return res.json();
    if (Date.now() > deadline) throw new Error(`timed out; last ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** An ASG of two instances in the seeded VPC, one of them registered in a target group behind an ALB. */
async function fleet(env: SeedResult) {
  const name = unique('web-asg');
  const images = await aws.clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  await aws.clients.autoScaling.send(
    new CreateLaunchConfigurationCommand({
      LaunchConfigurationName: name,
      ImageId: images.Images![0].ImageId!,
      InstanceType: 't3.micro',
    }),
  );
  await aws.clients.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchConfigurationName: name,
      MinSize: 2,
      MaxSize: 4,
      DesiredCapacity: 2,
      VPCZoneIdentifier: env.subnetIds.join(','),
    }),
  );
  const group = await aws.clients.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  const instanceIds = group.AutoScalingGroups![0].Instances!.map((i) => i.InstanceId!).sort();
  // The web groups go on the ENIs, not the launch configuration: moto reports an instance's launch groups on each of its
  // ENIs whatever the ENI's own groups are, which real EC2 does not (and which would hide the isolation).
  const described = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
  for (const inst of described.Reservations!.flatMap((r) => r.Instances!)) {
    for (const eni of inst.NetworkInterfaces ?? []) {
      await aws.clients.ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eni.NetworkInterfaceId!,
          Groups: env.securityGroupIds,
        }),
      );
    }
  }
  const tg = await aws.clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: unique('web').slice(0, 32),
      Protocol: 'HTTP',
      Port: 80,
      VpcId: env.vpcId,
      TargetType: 'instance',
    }),
  );
  const targetGroupArn = tg.TargetGroups![0].TargetGroupArn!;
  const lb = await aws.clients.elbv2.send(
    new CreateLoadBalancerCommand({
      Name: unique('web-alb').slice(0, 32),
      Subnets: env.subnetIds,
      SecurityGroups: [env.securityGroupIds[0]],
    }),
  );
  await aws.clients.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: lb.LoadBalancers![0].LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
  await aws.clients.elbv2.send(
    new RegisterTargetsCommand({
      TargetGroupArn: targetGroupArn,
      Targets: instanceIds.map((Id) => ({ Id, Port: 80 })),
    }),
  );
  return { name, instanceIds, targetGroupArn };
}

/** Everything containment changes and release must put back, read through the AWS API. */
async function observe(instanceId: string, groupName: string, targetGroupArn: string) {
  const inst = (await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))
    .Reservations![0].Instances![0];
  const attr = async (Attribute: 'disableApiTermination' | 'instanceInitiatedShutdownBehavior') =>
    aws.clients.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute }));
  const group = (
    await aws.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }))
  ).AutoScalingGroups![0];
  const member = (
    await aws.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }))
  ).AutoScalingInstances?.[0];
  const health = await aws.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  // The ENIs' own groups (moto's DescribeInstances adds the launch groups of an Auto Scaling instance to them).
  const enis = await aws.clients.ec2.send(
    new DescribeNetworkInterfacesCommand({
      NetworkInterfaceIds: (inst.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId!),
    }),
  );
  return {
    enis: (enis.NetworkInterfaces ?? []).map((n) => ({
      id: n.NetworkInterfaceId,
      groups: (n.Groups ?? []).map((g) => g.GroupId).sort(),
    })),
    terminationProtection: (await attr('disableApiTermination')).DisableApiTermination?.Value ?? false,
    shutdownBehavior: (await attr('instanceInitiatedShutdownBehavior')).InstanceInitiatedShutdownBehavior?.Value,
    deleteOnTermination: (inst.BlockDeviceMappings ?? []).map((b) => [b.DeviceName, b.Ebs?.DeleteOnTermination]),
    asg: { member: member?.AutoScalingGroupName, desired: group.DesiredCapacity, min: group.MinSize },
    targets: (health.TargetHealthDescriptions ?? [])
      .filter((d) => d.TargetHealth?.State !== 'draining' && d.Target?.Id === instanceId)
      .map((d) => `${d.Target!.Id}:${d.Target!.Port}`),
  };
}

test('an instance in an ASG behind a load balancer: contained in order, visible in AWS, released exactly', async () => {
  const env = await aws.seed('scenario', { instances: 1 });
  const { name, instanceIds, targetGroupArn } = await fleet(env);
  const [victim, sibling] = instanceIds;
  const before = await observe(victim, name, targetGroupArn);
  expect(before.asg).toEqual({ member: name, desired: 2, min: 2 });
  expect(before.targets).toEqual([`${victim}:80`]);

  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const started = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/executions',
      headers: asAlice,
      payload: { params: { instanceId: victim, notifyTopicArn: env.topicArn }, reason: 'GuardDuty: C&C traffic' },
    });
    expect(started.statusCode).toBe(201);
    const id = started.json().executionId as string;

    // Evidence first, and nothing contained before the approval.
    const waiting = await poll(api, id, (b) => b.status === 'waiting-approval');
    expect(waiting.steps.filter((s: any) => s.status === 'succeeded').map((s: any) => s.id)).toEqual([
      'capture',
      'notify-started',
      'snapshot-volumes',
      'volatile-data',
      'console-output',
      'protect-termination',
      'preserve',
    ]);
    expect(waiting.pendingApproval.next.map((n: any) => n.stepId)).toEqual([
      'detach-asg',
      'deregister-targets',
      'isolate',
      'tag-quarantined',
      'notify-contained',
    ]);
    const evidenceOnly = await observe(victim, name, targetGroupArn);
    expect(evidenceOnly).toMatchObject({ asg: before.asg, targets: before.targets, enis: before.enis });
    expect(evidenceOnly).toMatchObject({ terminationProtection: true, shutdownBehavior: 'stop' });
    expect(evidenceOnly.deleteOnTermination.every(([, v]) => v === false)).toBe(true);

    const approved = await api.inject({
      method: 'POST',
      url: `/v1/executions/${id}/approvals/approve-isolation`,
      headers: asCarol,
      payload: { decision: 'approve', comment: 'contain' },
    });
    expect(approved.statusCode).toBe(200);
    const done = await poll(api, id, (b) => b.status === 'succeeded');
    expect(done.steps.every((s: any) => s.status === 'succeeded')).toBe(true);
    // AWS's order: each step ended before the next started.
    const times = done.steps.filter((s: any) => s.kind === 'action').map((s: any) => [s.startedAt, s.endedAt]);
    for (let i = 1; i < times.length; i++) expect(times[i][0] >= times[i - 1][1]).toBe(true);

    // Contained, as the AWS API shows it.
    const contained = await observe(victim, name, targetGroupArn);
    const sg = async (groupName: string) =>
      (
        await aws.clients.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [env.vpcId] },
              { Name: 'group-name', Values: [groupName] },
            ],
          }),
        )
      ).SecurityGroups![0];
    const quarantine = await sg('firebreak-quarantine');
    expect(await sg('firebreak-untracked')).toBeDefined();
    expect(quarantine.IpPermissions ?? []).toEqual([]);
    expect(quarantine.IpPermissionsEgress ?? []).toEqual([]);
    expect(contained.enis.map((e) => e.groups)).toEqual(before.enis.map(() => [quarantine.GroupId]));
    // Out of the group without a replacement (desired down by one, the minimum lowered to allow it), out of the LB.
    expect(contained.asg).toEqual({ member: undefined, desired: 1, min: 1 });
    expect(contained.targets).toEqual([]);
    const siblingNow = await observe(sibling, name, targetGroupArn);
    expect(siblingNow.asg.member).toBe(name);
    expect(siblingNow.targets).toEqual([`${sibling}:80`]);
    const inst = (await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }))).Reservations![0]
      .Instances![0];
    expect(tagRecord(inst.Tags)).toMatchObject({ 'firebreak:status': 'quarantined', 'firebreak:execution-id': id });
    const snaps = await aws.clients.ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'tag:firebreak:execution-id', Values: [id] }],
      }),
    );
    const volumes = (inst.BlockDeviceMappings ?? []).map((b) => b.Ebs!.VolumeId!).sort();
    expect(snaps.Snapshots!.map((s) => s.VolumeId).sort()).toEqual(volumes);
    // The three volatile-data commands this execution sent are there (moto lists every test's commands for every
    // instance: SendCommand with instance IDs reaches all of them, so they are matched by the IDs the step reported).
    const exec = (await api.inject({ method: 'GET', url: `/v1/executions/${id}`, headers: asBob })).json();
    const sent: string[] = exec.steps
      .find((s: { id: string }) => s.id === 'volatile-data')
      .output.artefacts.map((a: { commandId: string }) => a.commandId);
    expect(new Set(sent).size).toBe(3);
    const commands = (await aws.clients.ssm.send(new ListCommandsCommand({ InstanceId: victim }))).Commands ?? [];
    const ours = commands.filter((c) => sent.includes(c.CommandId!));
    expect(ours.map((c) => c.Comment?.replace(/^.*volatile data: /, '')).sort()).toEqual([
      'logged-in-users',
      'network-connections',
      'processes',
    ]);

    // The evidence manifest: metadata, one artefact per snapshot, three volatile artefacts, the console output.
    const manifest = await api.inject({ method: 'GET', url: `/v1/executions/${id}/evidence`, headers: asBob });
    expect(manifest.statusCode).toBe(200);
    const m = manifest.json();
    expect(m).toMatchObject({ executionId: id, runbookId: 'ec2-compromise' });
    const byKind = (kind: string) => m.artefacts.filter((a: any) => a.kind === kind);
    expect(byKind('instance-metadata')).toEqual([expect.objectContaining({ stepId: 'capture', id: victim })]);
    expect(
      byKind('ebs-snapshots')
        .map((a: any) => a.id)
        .sort(),
    ).toEqual(snaps.Snapshots!.map((s) => s.SnapshotId).sort());
    expect(byKind('volatile-data').map((a: any) => [a.stepId, a.name, a.verified])).toEqual([
      ['volatile-data', 'processes', true],
      ['volatile-data', 'network-connections', true],
      ['volatile-data', 'logged-in-users', true],
    ]);
    expect(byKind('console-output')).toEqual([expect.objectContaining({ stepId: 'console-output', verified: true })]);
    for (const a of m.artefacts) {
      expect(a.sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(Date.parse(a.collectedAt)).not.toBeNaN();
    }
    const exported = await api.inject({
      method: 'GET',
      url: `/v1/executions/${id}/evidence?download=true`,
      headers: asBob,
    });
    expect(exported.headers['content-disposition']).toBe(`attachment; filename="evidence-${id}.json"`);
    expect(exported.json().sha256).toBe(m.sha256);

    // Release restores exactly what was captured.
    expect(
      (
        await api.inject({
          method: 'POST',
          url: `/v1/executions/${id}/release`,
          headers: asBob,
          payload: { reason: 'no' },
        })
      ).statusCode,
    ).toBe(403);
    const released = await api.inject({
      method: 'POST',
      url: `/v1/executions/${id}/release`,
      headers: asCarol,
      payload: { reason: 'forensics done, false positive' },
    });
    expect(released.statusCode).toBe(202);
    const rolled = await poll(api, id, (b) => b.status === 'rolled-back');
    expect(rolled.rollback).toMatchObject({ trigger: 'requested', complete: true });
    expect(rolled.release).toMatchObject({
      reason: 'forensics done, false positive',
      requestedBy: { id: 'user:carol' },
    });
    expect(await observe(victim, name, targetGroupArn)).toEqual(before);
    const after = (await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim] }))).Reservations![0]
      .Instances![0];
    expect(tagRecord(after.Tags)['firebreak:status']).toBe('released');
    await api.close();
  });
});
