/**
 * EC2 activities against the moto server of the jest global setup; every result is checked through the EC2 API.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  ModifyInstanceAttributeCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { createEc2Activities, tagRecord, TAG } from '../../activities/ec2';
import type { SeedResult } from '../../scripts/seed';
import { stepContext, testAws, unique, type TestAws } from '../stack/aws';
import { awsError, failWhen, loseAnswerWhen } from '../workflows/fixtures/aws-faults';

let aws: TestAws;
let ec2Acts: ReturnType<typeof createEc2Activities>;

beforeAll(() => {
  aws = testAws();
  ec2Acts = createEc2Activities(aws.clients);
});
afterAll(() => aws.close());

const sorted = (xs: readonly string[]) => [...xs].sort();

async function eniGroups(eniIds: string[]): Promise<Record<string, string[]>> {
  const out = await aws.clients.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: eniIds }));
  return Object.fromEntries(
    (out.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId!, sorted((n.Groups ?? []).map((g) => g.GroupId!))]),
  );
}

async function eniTags(eniId: string): Promise<Record<string, string>> {
  const out = await aws.clients.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
  return tagRecord(out.NetworkInterfaces?.[0]?.TagSet);
}

async function protection(instanceId: string): Promise<boolean | undefined> {
  const out = await aws.clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return out.DisableApiTermination?.Value;
}

async function instanceTags(instanceId: string): Promise<Record<string, string>> {
  const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return tagRecord(out.Reservations?.[0]?.Instances?.[0]?.Tags);
}

async function groupsNamed(vpcId: string, name: string) {
  const out = await aws.clients.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [name] },
        { Name: 'vpc-id', Values: [vpcId] },
      ],
    }),
  );
  return out.SecurityGroups ?? [];
}

async function expectFailure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('ec2.captureInstance', () => {
  let env: SeedResult;
  beforeAll(async () => {
    env = await aws.seed('capture', { instances: 1 });
  });

  it('reports state, network, ENI groups, volumes, tags and termination protection', async () => {
    const seeded = env.instances[0];
    const out = await ec2Acts['ec2.captureInstance']({ instanceId: seeded.instanceId });

    expect(out.instanceId).toBe(seeded.instanceId);
    expect(out.state).toBe('running');
    expect(out.vpcId).toBe(env.vpcId);
    expect(env.subnetIds).toContain(out.subnetId);
    expect(out.privateIpAddress).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(out.networkInterfaces).toEqual([
      { networkInterfaceId: seeded.networkInterfaceIds[0], groupIds: expect.any(Array) },
    ]);
    expect(sorted(out.networkInterfaces[0].groupIds)).toEqual(sorted(env.securityGroupIds));
    expect(sorted(out.volumes.map((v) => v.volumeId))).toEqual(sorted(seeded.volumeIds));
    expect(out.volumes.map((v) => v.deviceName)).toContain('/dev/sdf');
    expect(out.tags).toMatchObject({ Name: seeded.tags.Name, env: 'demo', app: 'web' });
    expect(out.terminationProtection).toBe(false);
  });

  it('reads termination protection from the instance attribute', async () => {
    const { instanceId } = env.instances[0];
    await aws.clients.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: true } }),
    );
    const out = await ec2Acts['ec2.captureInstance']({ instanceId });
    expect(out.terminationProtection).toBe(true);
  });
});

describe('ec2.isolateInstance and ec2.restoreSecurityGroups', () => {
  let env: SeedResult;
  beforeAll(async () => {
    // Two ENIs per instance, so "every ENI" is tested, not just the primary one.
    env = await aws.seed('isolate', { instances: 3, extraNetworkInterfaces: 1 });
  });

  it('moves every ENI to one quarantine group with no rules, then restores the original groups', async () => {
    const [seeded] = env.instances;
    const qName = unique('quarantine');
    const ctx = stepContext('isolate');
    expect(seeded.networkInterfaceIds).toHaveLength(2);

    const out = await ec2Acts['ec2.isolateInstance']({
      instanceId: seeded.instanceId,
      quarantineGroupName: qName,
      ctx,
    });

    expect(out.vpcId).toBe(env.vpcId);
    expect(out.quarantineGroupCreated).toBe(true);
    expect(out.networkInterfaces.map((n) => n.networkInterfaceId)).toEqual(seeded.networkInterfaceIds);
    for (const n of out.networkInterfaces) expect(sorted(n.groupIds)).toEqual(sorted(env.securityGroupIds));

    // Through the API: every ENI holds only the quarantine group...
    const groups = await eniGroups(seeded.networkInterfaceIds);
    for (const eniId of seeded.networkInterfaceIds) expect(groups[eniId]).toEqual([out.quarantineGroupId]);
    // ...which is the one group of that name in the VPC, tagged as firebreak's, with no ingress and no egress rule.
    const [group, ...others] = await groupsNamed(env.vpcId, qName);
    expect(others).toHaveLength(0);
    expect(group.GroupId).toBe(out.quarantineGroupId);
    expect(tagRecord(group.Tags)[TAG.managed]).toBe('true');
    expect(group.IpPermissions ?? []).toEqual([]);
    expect(group.IpPermissionsEgress ?? []).toEqual([]);
    const rules = await aws.clients.ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [out.quarantineGroupId] }] }),
    );
    expect(rules.SecurityGroupRules ?? []).toEqual([]);

    const restored = await ec2Acts['ec2.restoreSecurityGroups']({
      instanceId: seeded.instanceId,
      networkInterfaces: out.networkInterfaces,
    });
    expect(restored.restored).toEqual(out.networkInterfaces);
    const after = await eniGroups(seeded.networkInterfaceIds);
    for (const eniId of seeded.networkInterfaceIds) expect(after[eniId]).toEqual(sorted(env.securityGroupIds));
    // The isolation bookkeeping tags are gone with the isolation.
    const tags = await eniTags(seeded.networkInterfaceIds[0]);
    expect(tags).not.toHaveProperty(TAG.groupsBefore);
    expect(tags).not.toHaveProperty(TAG.isolatedBy);
  });

  it('creates one group when called twice, and a retry of the same step still reports the original groups', async () => {
    const [, seeded] = env.instances;
    const qName = unique('quarantine');
    const ctx = stepContext('isolate');

    const first = await ec2Acts['ec2.isolateInstance']({
      instanceId: seeded.instanceId,
      quarantineGroupName: qName,
      ctx,
    });
    const retry = await ec2Acts['ec2.isolateInstance']({
      instanceId: seeded.instanceId,
      quarantineGroupName: qName,
      ctx,
    });

    expect(retry.quarantineGroupId).toBe(first.quarantineGroupId);
    expect(first.quarantineGroupCreated).toBe(true);
    expect(retry.quarantineGroupCreated).toBe(false);
    expect(await groupsNamed(env.vpcId, qName)).toHaveLength(1);
    expect(retry.networkInterfaces).toEqual(first.networkInterfaces);
    for (const n of retry.networkInterfaces) expect(sorted(n.groupIds)).toEqual(sorted(env.securityGroupIds));

    // Another execution finding the instance already isolated reports what it saw: its rollback must not undo an
    // isolation it did not make.
    const other = await ec2Acts['ec2.isolateInstance']({
      instanceId: seeded.instanceId,
      quarantineGroupName: qName,
      ctx: stepContext('isolate'),
    });
    for (const n of other.networkInterfaces) expect(n.groupIds).toEqual([first.quarantineGroupId]);
    const groups = await eniGroups(seeded.networkInterfaceIds);
    for (const eniId of seeded.networkInterfaceIds) expect(groups[eniId]).toEqual([first.quarantineGroupId]);

    // That execution's rollback leaves the instance isolated, and the first execution's record in place...
    await ec2Acts['ec2.restoreSecurityGroups']({
      instanceId: seeded.instanceId,
      networkInterfaces: other.networkInterfaces,
    });
    const still = await eniGroups(seeded.networkInterfaceIds);
    for (const eniId of seeded.networkInterfaceIds) expect(still[eniId]).toEqual([first.quarantineGroupId]);
    expect(await eniTags(seeded.networkInterfaceIds[0])).toHaveProperty(TAG.isolatedBy, `${ctx.executionId}/isolate`);
    // ...while the first execution's rollback restores the original groups.
    await ec2Acts['ec2.restoreSecurityGroups']({
      instanceId: seeded.instanceId,
      networkInterfaces: first.networkInterfaces,
    });
    const back = await eniGroups(seeded.networkInterfaceIds);
    for (const eniId of seeded.networkInterfaceIds) expect(back[eniId]).toEqual(sorted(env.securityGroupIds));
  });

  it("a retry after a partial attempt moves the rest and reports every ENI's original groups", async () => {
    const [seeded] = env.instances;
    const qName = unique('quarantine');
    const ctx = stepContext('isolate');
    const first = await ec2Acts['ec2.isolateInstance']({
      instanceId: seeded.instanceId,
      quarantineGroupName: qName,
      ctx,
    });
    // Undo the second ENI only, as if the first attempt died after moving the primary ENI.
    const [, second] = first.networkInterfaces;
    await ec2Acts['ec2.restoreSecurityGroups']({ instanceId: seeded.instanceId, networkInterfaces: [second] });
    expect((await eniGroups([second.networkInterfaceId]))[second.networkInterfaceId]).toEqual(
      sorted(env.securityGroupIds),
    );

    const retry = await ec2Acts['ec2.isolateInstance']({
      instanceId: seeded.instanceId,
      quarantineGroupName: qName,
      ctx,
    });

    expect(retry.networkInterfaces).toEqual(first.networkInterfaces);
    const groups = await eniGroups(seeded.networkInterfaceIds);
    for (const eniId of seeded.networkInterfaceIds) expect(groups[eniId]).toEqual([first.quarantineGroupId]);
    await ec2Acts['ec2.restoreSecurityGroups']({
      instanceId: seeded.instanceId,
      networkInterfaces: retry.networkInterfaces,
    });
  });

  it('shares one quarantine group between isolations running in parallel in the same VPC', async () => {
    const qName = unique('quarantine');
    const [a, b] = await Promise.all(
      [env.instances[1], env.instances[2]].map((i) =>
        ec2Acts['ec2.isolateInstance']({
          instanceId: i.instanceId,
          quarantineGroupName: qName,
          ctx: stepContext('iso'),
        }),
      ),
    );
    expect(a.quarantineGroupId).toBe(b.quarantineGroupId);
    expect([a.quarantineGroupCreated, b.quarantineGroupCreated].filter(Boolean).length).toBeLessThanOrEqual(1);
    const groups = await groupsNamed(env.vpcId, qName);
    expect(groups).toHaveLength(1);
    expect(groups[0].IpPermissionsEgress ?? []).toEqual([]);
  });

  it('refuses a same-named group that firebreak does not manage and that has rules', async () => {
    const qName = unique('not-ours');
    const made = await aws.clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: qName, Description: 'someone else', VpcId: env.vpcId }),
    );
    await aws.clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: made.GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const seeded = env.instances[0];
    const before = await eniGroups(seeded.networkInterfaceIds);

    const err = await expectFailure(
      ec2Acts['ec2.isolateInstance']({ instanceId: seeded.instanceId, quarantineGroupName: qName }),
    );
    expect(err.type).toBe('QuarantineGroupNotEmpty');
    expect(err.nonRetryable).toBe(true);
    expect(await eniGroups(seeded.networkInterfaceIds)).toEqual(before);
    const [group] = await groupsNamed(env.vpcId, qName);
    expect(group.IpPermissions).toHaveLength(1);
  });
});

describe('ec2.setTerminationProtection', () => {
  let env: SeedResult;
  beforeAll(async () => {
    env = await aws.seed('protect', { instances: 2 });
  });

  it('enables, keeps the original previous value across a retry, and rolls back', async () => {
    const { instanceId } = env.instances[0];
    const ctx = stepContext('protect');

    const first = await ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: true, ctx });
    expect(first).toEqual({ instanceId, previous: false, current: true });
    expect(await protection(instanceId)).toBe(true);
    expect((await instanceTags(instanceId))[TAG.terminationProtectionBefore]).toBe('false');

    // A retry finds protection already on; it must still report the value from before the first attempt.
    const retry = await ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: true, ctx });
    expect(retry).toEqual({ instanceId, previous: false, current: true });
    expect(await protection(instanceId)).toBe(true);

    const rollback = await ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: false, ctx });
    expect(rollback).toEqual({ instanceId, previous: true, current: false });
    expect(await protection(instanceId)).toBe(false);
    expect(await instanceTags(instanceId)).not.toHaveProperty(TAG.terminationProtectionBefore);
  });

  it('reports previous=true when protection was already on, and changes nothing', async () => {
    const { instanceId } = env.instances[1];
    await aws.clients.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: true } }),
    );
    const out = await ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: true });
    expect(out).toEqual({ instanceId, previous: true, current: true });
    expect(await protection(instanceId)).toBe(true);
    expect(await instanceTags(instanceId)).not.toHaveProperty(TAG.terminationProtectionBefore);

    // Disabling records the original "true", and enabling again is the rollback that clears the record.
    const off = await ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: false });
    expect(off).toEqual({ instanceId, previous: true, current: false });
    expect((await instanceTags(instanceId))[TAG.terminationProtectionBefore]).toBe('true');
    const back = await ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: true });
    expect(back).toEqual({ instanceId, previous: false, current: true });
    expect(await protection(instanceId)).toBe(true);
    expect(await instanceTags(instanceId)).not.toHaveProperty(TAG.terminationProtectionBefore);
  });
});

describe('ec2.snapshotVolumes', () => {
  let env: SeedResult;
  beforeAll(async () => {
    env = await aws.seed('snap', { instances: 1 });
  });

  async function snapshotsOf(executionId: string): Promise<Snapshot[]> {
    const out = await aws.clients.ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: `tag:${TAG.executionId}`, Values: [executionId] }],
      }),
    );
    return out.Snapshots ?? [];
  }

  it('snapshots every volume once, with evidence tags, and finds them again on a retry', async () => {
    const seeded = env.instances[0];
    const ctx = stepContext('evidence', { incidentId: unique('INC') });
    const input = {
      instanceId: seeded.instanceId,
      // A caller tag that tries to overwrite an evidence tag must lose.
      tags: { case: 'test-case', [TAG.executionId]: 'forged' },
      ctx,
    };
    const started = Date.now();

    const first = await ec2Acts['ec2.snapshotVolumes'](input);
    expect(first.snapshots).toHaveLength(2);
    expect(first.snapshots.every((s) => s.created)).toBe(true);
    expect(sorted(first.snapshots.map((s) => s.volumeId))).toEqual(sorted(seeded.volumeIds));

    const snaps = await snapshotsOf(ctx.executionId);
    expect(sorted(snaps.map((s) => s.SnapshotId!))).toEqual(sorted(first.snapshots.map((s) => s.snapshotId)));
    for (const s of snaps) {
      const tags = tagRecord(s.Tags);
      expect(tags).toMatchObject({
        [TAG.executionId]: ctx.executionId,
        [TAG.incidentId]: ctx.incidentId,
        [TAG.stepId]: 'evidence',
        [TAG.runbookId]: 'test-runbook',
        [TAG.sourceVolume]: s.VolumeId,
        [TAG.sourceInstance]: seeded.instanceId,
        case: 'test-case',
      });
      const createdAt = Date.parse(tags[TAG.createdAt]);
      expect(tags[TAG.createdAt]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(createdAt).toBeGreaterThanOrEqual(started - 1000);
      expect(createdAt).toBeLessThanOrEqual(Date.now() + 1000);
    }

    const retry = await ec2Acts['ec2.snapshotVolumes'](input);
    expect(retry.snapshots).toEqual(first.snapshots.map((s) => ({ ...s, created: false })));
    expect(await snapshotsOf(ctx.executionId)).toHaveLength(2);

    // Another step of the same execution takes its own snapshots.
    const other = await ec2Acts['ec2.snapshotVolumes']({ ...input, ctx: { ...ctx, stepId: 'evidence-2' } });
    expect(other.snapshots.every((s) => s.created)).toBe(true);
    expect(await snapshotsOf(ctx.executionId)).toHaveLength(4);
  });

  it('a retry after an attempt that failed midway snapshots only the volumes still missing, once each', async () => {
    const seeded = env.instances[0];
    const ctx = stepContext('evidence', { incidentId: unique('INC') });
    // The attempt's second CreateSnapshot fails (once) after the first volume's snapshot exists.
    const faulty = testAws();
    let creates = 0;
    failWhen(faulty.clients.ec2, 'CreateSnapshotCommand', () =>
      ++creates === 2 ? awsError('InternalError', 'server') : undefined,
    );
    const acts = createEc2Activities(faulty.clients);
    try {
      await expect(acts['ec2.snapshotVolumes']({ instanceId: seeded.instanceId, ctx })).rejects.toThrow(
        /InternalError/,
      );
      const taken = await snapshotsOf(ctx.executionId);
      expect(taken).toHaveLength(1);

      const retry = await acts['ec2.snapshotVolumes']({ instanceId: seeded.instanceId, ctx });
      const snaps = await snapshotsOf(ctx.executionId);
      // Exactly one evidence snapshot per volume: the earlier attempt's is reported, not taken again.
      expect(sorted(snaps.map((s) => s.VolumeId!))).toEqual(sorted(seeded.volumeIds));
      expect(sorted(retry.snapshots.map((s) => s.snapshotId))).toEqual(sorted(snaps.map((s) => s.SnapshotId!)));
      expect(retry.snapshots.find((s) => s.snapshotId === taken[0].SnapshotId)).toEqual({
        volumeId: taken[0].VolumeId,
        snapshotId: taken[0].SnapshotId,
        created: false,
      });
      expect(retry.snapshots.filter((s) => s.created)).toHaveLength(1);

      // A third attempt finds both in its one look-up and creates nothing.
      const again = await acts['ec2.snapshotVolumes']({ instanceId: seeded.instanceId, ctx });
      expect(again.snapshots.every((s) => !s.created)).toBe(true);
      expect(await snapshotsOf(ctx.executionId)).toHaveLength(2);
    } finally {
      faulty.close();
    }
  });

  it('an answer lost after EC2 took the snapshot: found in the same attempt, not taken again', async () => {
    const seeded = env.instances[0];
    const ctx = stepContext('evidence-lost', { incidentId: unique('INC') });
    const faulty = testAws();
    let creates = 0;
    // Every CreateSnapshot reaches moto; the first one's answer is lost (a 500 after the effect).
    loseAnswerWhen(faulty.clients.ec2, 'CreateSnapshotCommand', () =>
      ++creates === 1 ? awsError('InternalError', 'server') : undefined,
    );
    try {
      const out = await createEc2Activities(faulty.clients)['ec2.snapshotVolumes']({
        instanceId: seeded.instanceId,
        ctx,
      });
      const snaps = await snapshotsOf(ctx.executionId);
      expect(creates).toBe(seeded.volumeIds.length);
      expect(sorted(snaps.map((s) => s.VolumeId!))).toEqual(sorted(seeded.volumeIds));
      expect(sorted(out.snapshots.map((s) => s.snapshotId))).toEqual(sorted(snaps.map((s) => s.SnapshotId!)));
      expect(out.snapshots.every((s) => s.created)).toBe(true);
    } finally {
      faulty.close();
    }
  });

  it('a 5xx before EC2 acted still fails the attempt (retryable): nothing to find', async () => {
    const seeded = env.instances[0];
    const ctx = stepContext('evidence-5xx', { incidentId: unique('INC') });
    const faulty = testAws();
    failWhen(faulty.clients.ec2, 'CreateSnapshotCommand', () => awsError('ServiceUnavailable', 'server'));
    try {
      const err = await createEc2Activities(faulty.clients)
        ['ec2.snapshotVolumes']({
          instanceId: seeded.instanceId,
          ctx,
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'ServiceUnavailable', nonRetryable: false });
      expect(await snapshotsOf(ctx.executionId)).toHaveLength(0);
    } finally {
      faulty.close();
    }
  });
});

describe('ec2.tagInstance', () => {
  it('adds tags, visible through DescribeInstances', async () => {
    const env = await aws.seed('tag', { instances: 1 });
    const { instanceId } = env.instances[0];
    const out = await ec2Acts['ec2.tagInstance']({ instanceId, tags: { incident: 'INC-42', app: 'changed' } });
    expect(out).toEqual({ instanceId, tags: { incident: 'INC-42', app: 'changed' } });
    expect(await instanceTags(instanceId)).toMatchObject({ incident: 'INC-42', app: 'changed', env: 'demo' });
  });
});

describe('unknown instance', () => {
  const instanceId = 'i-0123456789abcdef0';
  const calls = {
    'ec2.captureInstance': () => ec2Acts['ec2.captureInstance']({ instanceId }),
    'ec2.isolateInstance': () => ec2Acts['ec2.isolateInstance']({ instanceId }),
    'ec2.setTerminationProtection': () => ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: true }),
    'ec2.snapshotVolumes': () => ec2Acts['ec2.snapshotVolumes']({ instanceId }),
    'ec2.tagInstance': () => ec2Acts['ec2.tagInstance']({ instanceId, tags: { a: 'b' } }),
  };

  it.each(Object.keys(calls) as Array<keyof typeof calls>)(
    '%s fails non-retryable with InvalidInstanceID.NotFound naming the ID',
    async (action) => {
      const err = await expectFailure(calls[action]());
      expect(err.type).toBe('InvalidInstanceID.NotFound');
      expect(err.nonRetryable).toBe(true);
      expect(err.message).toBe(`${action}: instance ${instanceId} not found (InvalidInstanceID.NotFound)`);
      expect(err.cause).toBeInstanceOf(Error);
    },
  );
});

describe('dry runs of isolate, restore, termination protection, snapshots and tags', () => {
  let env: SeedResult;
  beforeAll(async () => {
    env = await aws.seed('dryrun', { instances: 1, extraNetworkInterfaces: 1 });
  });

  const opsOf = (calls: { operation: string }[] | undefined) => (calls ?? []).map((c) => c.operation);
  const inputsOf = (calls: { operation: string; input: unknown }[] | undefined, operation: string) =>
    (calls ?? []).filter((c) => c.operation === operation).map((c) => c.input as Record<string, unknown>);

  async function volumeSnapshots(volumeIds: string[]): Promise<number> {
    const out = await aws.clients.ec2.send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-id', Values: volumeIds }] }),
    );
    return (out.Snapshots ?? []).length;
  }

  it('isolateInstance reports the ENIs, their groups now and the calls it would make, and moves nothing', async () => {
    const [seeded] = env.instances;
    const eniIds = seeded.networkInterfaceIds;
    expect(eniIds).toHaveLength(2);
    const before = await eniGroups(eniIds);
    const quarantineGroupName = unique('quarantine-dry');

    const out = await ec2Acts['ec2.isolateInstance']({
      instanceId: seeded.instanceId,
      quarantineGroupName,
      ctx: stepContext('isolate'),
      dryRun: true,
    });

    expect(out.dryRun).toBe(true);
    expect(out.quarantineGroupCreated).toBe(true);
    expect(Object.fromEntries(out.networkInterfaces.map((n) => [n.networkInterfaceId, sorted(n.groupIds)]))).toEqual(
      before,
    );
    expect(inputsOf(out.calls, 'CreateSecurityGroup')).toEqual([
      expect.objectContaining({ GroupName: quarantineGroupName, VpcId: env.vpcId }),
    ]);
    const moves = inputsOf(out.calls, 'ModifyNetworkInterfaceAttribute');
    expect(sorted(moves.map((m) => m.NetworkInterfaceId as string))).toEqual(sorted(eniIds));
    for (const m of moves) expect(m.Groups).toEqual([out.quarantineGroupId]);
    expect(sorted(inputsOf(out.calls, 'CreateTags').flatMap((t) => t.Resources as string[]))).toEqual(sorted(eniIds));

    // Nothing changed: same groups, no isolation tags, no quarantine group.
    expect(await eniGroups(eniIds)).toEqual(before);
    for (const eniId of eniIds) expect(Object.keys(await eniTags(eniId))).not.toContain(TAG.groupsBefore);
    expect(await groupsNamed(env.vpcId, quarantineGroupName)).toEqual([]);
  });

  it('restoreSecurityGroups reports the ENIs it would change and changes none', async () => {
    const [seeded] = env.instances;
    const eniIds = seeded.networkInterfaceIds;
    const before = await eniGroups(eniIds);
    const wanted = [env.securityGroupIds[0]];

    const out = await ec2Acts['ec2.restoreSecurityGroups']({
      instanceId: seeded.instanceId,
      networkInterfaces: eniIds.map((networkInterfaceId) => ({ networkInterfaceId, groupIds: wanted })),
      dryRun: true,
    });

    expect(out.dryRun).toBe(true);
    expect(out.restored.map((r) => r.networkInterfaceId)).toEqual(eniIds);
    const moves = inputsOf(out.calls, 'ModifyNetworkInterfaceAttribute');
    expect(moves.map((m) => [m.NetworkInterfaceId, m.Groups])).toEqual(eniIds.map((id) => [id, wanted]));
    expect(await eniGroups(eniIds)).toEqual(before);
  });

  it('setTerminationProtection reports the previous value and its calls, and changes nothing', async () => {
    const { instanceId } = env.instances[0];
    expect(await protection(instanceId)).toBe(false);

    const out = await ec2Acts['ec2.setTerminationProtection']({ instanceId, enabled: true, dryRun: true });

    expect(out).toMatchObject({ instanceId, previous: false, current: true, dryRun: true });
    expect(opsOf(out.calls)).toEqual(['CreateTags', 'ModifyInstanceAttribute']);
    expect(inputsOf(out.calls, 'ModifyInstanceAttribute')).toEqual([
      { InstanceId: instanceId, DisableApiTermination: { Value: true } },
    ]);
    expect(await protection(instanceId)).toBe(false);
    expect(Object.keys(await instanceTags(instanceId))).not.toContain(TAG.terminationProtectionBefore);
  });

  it('snapshotVolumes reports each volume it would snapshot and creates no snapshot', async () => {
    const { instanceId, volumeIds } = env.instances[0];
    expect(await volumeSnapshots(volumeIds)).toBe(0);

    const out = await ec2Acts['ec2.snapshotVolumes']({ instanceId, ctx: stepContext('evidence'), dryRun: true });

    expect(out.dryRun).toBe(true);
    expect(sorted(out.snapshots.map((s) => s.volumeId))).toEqual(sorted(volumeIds));
    for (const s of out.snapshots) expect(s).toMatchObject({ snapshotId: 'snap-(created)', created: true });
    expect(sorted(inputsOf(out.calls, 'CreateSnapshot').map((c) => c.VolumeId as string))).toEqual(sorted(volumeIds));
    expect(opsOf(out.calls)).toEqual(volumeIds.map(() => 'CreateSnapshot'));
    expect(await volumeSnapshots(volumeIds)).toBe(0);
  });

  it('tagInstance reports the CreateTags it would make and leaves the tags as they were', async () => {
    const { instanceId } = env.instances[0];
    const before = await instanceTags(instanceId);
    const tags = { 'incident-dry': unique('INC') };

    const out = await ec2Acts['ec2.tagInstance']({ instanceId, tags, dryRun: true });

    expect(out).toMatchObject({ instanceId, tags, dryRun: true });
    expect(out.calls).toEqual([
      {
        service: 'ec2',
        operation: 'CreateTags',
        input: { Resources: [instanceId], Tags: [{ Key: 'incident-dry', Value: tags['incident-dry'] }] },
      },
    ]);
    expect(await instanceTags(instanceId)).toEqual(before);
  });
});
