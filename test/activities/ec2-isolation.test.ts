/**
 * Two-phase isolation and console output against moto, checked through the EC2 API. The transit through the untracked
 * group is seen in CloudTrail-like order through a recording client: the first ModifyNetworkInterfaceAttribute of each
 * ENI names the untracked group, the second the quarantine group (moto keeps no history of an ENI's groups).
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { createEc2Activities, tagRecord } from '../../activities/ec2';
import type { SeedResult } from '../../scripts/seed';
import { emulatorConfig, stepContext, testAws, type TestAws } from '../stack/aws';

let aws: TestAws;
let acts: ReturnType<typeof createEc2Activities>;
beforeAll(() => {
  aws = testAws();
  acts = createEc2Activities(aws.clients);
});
afterAll(() => aws.close());

async function eniGroups(eniIds: string[]): Promise<Record<string, string[]>> {
  const out = await aws.clients.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: eniIds }));
  return Object.fromEntries(
    (out.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId!, (n.Groups ?? []).map((g) => g.GroupId!).sort()]),
  );
}

async function eniTags(eniId: string) {
  const out = await aws.clients.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
  return tagRecord(out.NetworkInterfaces![0].TagSet);
}

async function group(vpcId: string, name: string) {
  const out = await aws.clients.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'group-name', Values: [name] },
      ],
    }),
  );
  return out.SecurityGroups ?? [];
}

/** A client on moto that records each ModifyNetworkInterfaceAttribute input. */
function recordingEc2(): { ec2: EC2Client; moves: { eni: string; groups: string[] }[] } {
  const ec2 = new EC2Client(emulatorConfig());
  const moves: { eni: string; groups: string[] }[] = [];
  ec2.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { NetworkInterfaceId?: string; Groups?: string[] };
      if (input.NetworkInterfaceId && input.Groups) moves.push({ eni: input.NetworkInterfaceId, groups: input.Groups });
      return next(args);
    },
    { step: 'initialize' },
  );
  return { ec2, moves };
}

describe('ec2.isolateInstanceTwoPhase', () => {
  let env: SeedResult;
  beforeAll(async () => {
    env = await aws.seed('two-phase', { instances: 3, extraNetworkInterfaces: 2 });
  });

  it('moves every ENI through the allow-all group into the no-rule group; the rollback restores exactly', async () => {
    const instance = env.instances[0];
    const { ec2, moves } = recordingEc2();
    const ctx = stepContext('isolate');
    const out = await createEc2Activities({ ec2 })['ec2.isolateInstanceTwoPhase']({
      instanceId: instance.instanceId,
      ctx,
    });
    ec2.destroy();

    const [untracked] = await group(env.vpcId, 'firebreak-untracked');
    const [quarantine] = await group(env.vpcId, 'firebreak-quarantine');
    expect(out).toEqual({
      instanceId: instance.instanceId,
      vpcId: env.vpcId,
      untrackedGroupId: untracked.GroupId,
      quarantineGroupId: quarantine.GroupId,
      networkInterfaces: instance.networkInterfaceIds.map((id) => ({
        networkInterfaceId: id,
        groupIds: expect.arrayContaining(instance.groupIds),
      })),
    });
    // The untracked group allows all traffic both ways (both families); the quarantine group allows nothing.
    const all = (perms: typeof untracked.IpPermissions) =>
      perms!
        .filter((p) => p.IpProtocol === '-1')
        .flatMap((p) => [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6)]);
    expect(all(untracked.IpPermissions).sort()).toEqual(['0.0.0.0/0', '::/0']);
    expect(all(untracked.IpPermissionsEgress).sort()).toEqual(['0.0.0.0/0', '::/0']);
    expect(quarantine.IpPermissions ?? []).toEqual([]);
    expect(quarantine.IpPermissionsEgress ?? []).toEqual([]);
    // Phase 1 then phase 2 for each of the three ENIs, in that order.
    expect(moves).toEqual(
      instance.networkInterfaceIds.flatMap((eni) => [
        { eni, groups: [untracked.GroupId] },
        { eni, groups: [quarantine.GroupId] },
      ]),
    );
    const now = await eniGroups(instance.networkInterfaceIds);
    for (const eni of instance.networkInterfaceIds) expect(now[eni]).toEqual([quarantine.GroupId]);

    // A retry of the same step reports the same groups before and changes nothing.
    const again = await acts['ec2.isolateInstanceTwoPhase']({ instanceId: instance.instanceId, ctx });
    expect(again.networkInterfaces).toEqual(out.networkInterfaces);

    await acts['ec2.restoreSecurityGroups']({
      instanceId: instance.instanceId,
      networkInterfaces: out.networkInterfaces,
    });
    const restored = await eniGroups(instance.networkInterfaceIds);
    for (const eni of instance.networkInterfaceIds) expect(restored[eni]).toEqual([...instance.groupIds].sort());
    expect(await eniTags(instance.networkInterfaceIds[0])).not.toHaveProperty('firebreak:groups-before');
  });

  it('a retry after phase 1 only (ENI left in the untracked group) reports the original groups and finishes', async () => {
    const instance = env.instances[1];
    const eni = instance.networkInterfaceIds[0];
    const ctx = stepContext('isolate');
    // What an attempt that died between the phases leaves: the record tag and the ENI in the untracked group.
    const first = await acts['ec2.isolateInstanceTwoPhase']({
      instanceId: instance.instanceId,
      networkInterfaceIds: [eni],
      ctx,
    });
    const [untracked] = await group(env.vpcId, 'firebreak-untracked');
    await aws.clients.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [untracked.GroupId!] }),
    );

    const retry = await acts['ec2.isolateInstanceTwoPhase']({
      instanceId: instance.instanceId,
      networkInterfaceIds: [eni],
      ctx,
    });
    expect(retry.networkInterfaces).toEqual(first.networkInterfaces);
    expect(retry.networkInterfaces[0].groupIds.sort()).toEqual([...instance.groupIds].sort());
    expect((await eniGroups([eni]))[eni]).toEqual([retry.quarantineGroupId]);
    // Only the ENI named was touched.
    const others = await eniGroups(instance.networkInterfaceIds.slice(1));
    for (const groups of Object.values(others)) expect(groups).toEqual([...instance.groupIds].sort());
  });

  it('dry run: reads only, and lists the group creation, rules and moves it would make', async () => {
    const fresh = await aws.seed('two-phase-dry', { instances: 1 });
    const instance = fresh.instances[0];
    const out = await acts['ec2.isolateInstanceTwoPhase']({
      instanceId: instance.instanceId,
      dryRun: true,
      ctx: stepContext('isolate'),
    });
    expect(out.dryRun).toBe(true);
    expect(out.calls!.map((c) => c.operation)).toEqual([
      'CreateSecurityGroup',
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupEgress',
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'CreateTags',
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
    ]);
    expect(await group(fresh.vpcId, 'firebreak-untracked')).toEqual([]);
    expect(await group(fresh.vpcId, 'firebreak-quarantine')).toEqual([]);
    expect((await eniGroups(instance.networkInterfaceIds))[instance.networkInterfaceIds[0]]).toEqual(
      [...instance.groupIds].sort(),
    );
  });

  it('refuses an ENI of another instance and an unknown instance, non-retryable and named', async () => {
    const [a, b] = [env.instances[2], env.instances[1]];
    const foreign = await acts['ec2.isolateInstanceTwoPhase']({
      instanceId: a.instanceId,
      networkInterfaceIds: [b.networkInterfaceIds[0]],
    }).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(ApplicationFailure);
    expect((foreign as ApplicationFailure).type).toBe('NetworkInterfaceNotAttached');
    expect((foreign as ApplicationFailure).message).toContain(b.networkInterfaceIds[0]);

    const missing = await acts['ec2.isolateInstanceTwoPhase']({ instanceId: 'i-0000000000000dead' }).catch(
      (e: unknown) => e,
    );
    expect((missing as ApplicationFailure).nonRetryable).toBe(true);
    expect((missing as ApplicationFailure).message).toContain('i-0000000000000dead');
  });
});

describe('ec2.getConsoleOutput', () => {
  it('decodes the console text and reports its SHA-256', async () => {
    const env = await aws.seed('console', { instances: 1 });
    const out = await acts['ec2.getConsoleOutput']({ instanceId: env.instances[0].instanceId });
    expect(out.output).toContain('Linux version'); // moto's sample console output
    expect(out.bytes).toBe(Buffer.byteLength(out.output));
    const { createHash } = await import('node:crypto');
    expect(out.sha256).toBe(`sha256:${createHash('sha256').update(out.output).digest('hex')}`);
  });
});
