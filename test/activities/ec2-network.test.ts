/**
 * Network ACL deny entries against moto, checked through DescribeNetworkAcls.
 */
import {
  CreateNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  type NetworkAcl,
  type NetworkAclEntry,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { createAwsClients, destroyAwsClients } from '../../activities/clients';
import { createEc2Activities, tagRecord } from '../../activities/ec2';
import { naclTagKey } from '../../activities/ec2-network';
import type { SeedResult } from '../../scripts/seed';
import { emulatorConfig, stepContext, testAws, type TestAws } from '../stack/aws';

let aws: TestAws;
let acts: ReturnType<typeof createEc2Activities>;
beforeAll(() => {
  aws = testAws();
  acts = createEc2Activities(aws.clients);
});
afterAll(() => aws.close());

async function aclOf(subnetId: string): Promise<NetworkAcl> {
  const out = await aws.clients.ec2.send(
    new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
  );
  return out.NetworkAcls![0];
}

const entriesFor = (acl: NetworkAcl, cidr: string): NetworkAclEntry[] =>
  (acl.Entries ?? []).filter((e) => e.CidrBlock === cidr);

describe('ec2.denyCidrInNetworkAcl and ec2.removeNetworkAclEntry', () => {
  let env: SeedResult;
  let subnetId: string;
  beforeEach(async () => {
    // A VPC per test: each test owns its subnet's ACL and its rule numbers.
    env = await aws.seed('nacl', { instances: 1 });
    subnetId = (await acts['ec2.captureInstance']({ instanceId: env.instances[0].instanceId })).subnetId!;
  });

  it('adds an inbound deny at the first free rule number, once across a retry, and the rollback removes it', async () => {
    const aclBefore = await aclOf(subnetId);
    const ctx = stepContext('nacl');
    const input = { instanceId: env.instances[0].instanceId, cidr: '203.0.113.0/24', ctx };

    const out = await acts['ec2.denyCidrInNetworkAcl'](input);

    expect(out).toEqual({
      networkAclId: aclBefore.NetworkAclId,
      subnetId,
      ruleNumber: 1,
      egress: false,
      cidr: '203.0.113.0/24',
      created: true,
    });
    const acl = await aclOf(subnetId);
    expect(entriesFor(acl, '203.0.113.0/24')).toEqual([
      expect.objectContaining({ RuleNumber: 1, RuleAction: 'deny', Protocol: '-1', Egress: false }),
    ]);
    // The other entries are untouched.
    expect((acl.Entries ?? []).filter((e) => e.RuleNumber !== 1)).toEqual(aclBefore.Entries);

    const retry = await acts['ec2.denyCidrInNetworkAcl'](input);
    expect(retry).toEqual(out);
    expect(entriesFor(await aclOf(subnetId), '203.0.113.0/24')).toHaveLength(1);

    const removed = await acts['ec2.removeNetworkAclEntry']({ ...out, ctx });
    expect(removed).toEqual({ networkAclId: out.networkAclId, ruleNumber: 1, removed: true });
    const after = await aclOf(subnetId);
    expect(after.Entries).toEqual(aclBefore.Entries);
    expect(tagRecord(after.Tags)).not.toHaveProperty(naclTagKey(false, 1));
    // A retried rollback finds nothing left to do.
    expect(await acts['ec2.removeNetworkAclEntry']({ ...out, ctx })).toEqual(removed);
  });

  it('never clobbers: takes the next free number, and a number taken during the call makes it pick again', async () => {
    const { NetworkAclId } = await aclOf(subnetId);
    await aws.clients.ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId,
        RuleNumber: 10,
        Egress: true,
        Protocol: '6',
        RuleAction: 'allow',
        CidrBlock: '10.0.0.0/8',
        PortRange: { From: 443, To: 443 },
      }),
    );
    // A second writer takes rule 11 between this action's describe and its create.
    const racing = createAwsClients(emulatorConfig());
    let raced = false;
    racing.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CreateNetworkAclEntryCommand' && !raced) {
          raced = true;
          await aws.clients.ec2.send(
            new CreateNetworkAclEntryCommand({
              NetworkAclId,
              RuleNumber: 11,
              Egress: true,
              Protocol: '-1',
              RuleAction: 'allow',
              CidrBlock: '192.0.2.0/24',
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'race' },
    );
    try {
      const out = await createEc2Activities(racing)['ec2.denyCidrInNetworkAcl']({
        subnetId,
        cidr: '198.51.100.0/24',
        egress: true,
        minRuleNumber: 10,
        ctx: stepContext('nacl'),
      });
      expect(raced).toBe(true);
      expect(out).toMatchObject({ ruleNumber: 12, egress: true, created: true });
      const egress = ((await aclOf(subnetId)).Entries ?? []).filter((e) => e.Egress);
      expect(egress.find((e) => e.RuleNumber === 10)).toMatchObject({ RuleAction: 'allow', CidrBlock: '10.0.0.0/8' });
      expect(egress.find((e) => e.RuleNumber === 11)).toMatchObject({ RuleAction: 'allow', CidrBlock: '192.0.2.0/24' });
      expect(egress.find((e) => e.RuleNumber === 12)).toMatchObject({
        RuleAction: 'deny',
        CidrBlock: '198.51.100.0/24',
      });
    } finally {
      destroyAwsClients(racing);
    }
  });

  it('reports an identical entry that was already there as not created, and its rollback leaves it', async () => {
    const { NetworkAclId } = await aclOf(subnetId);
    await aws.clients.ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId,
        RuleNumber: 50,
        Egress: false,
        Protocol: '-1',
        RuleAction: 'deny',
        CidrBlock: '198.51.100.7/32',
      }),
    );
    const out = await acts['ec2.denyCidrInNetworkAcl']({ subnetId, cidr: '198.51.100.7/32', ctx: stepContext('n') });
    expect(out).toMatchObject({ ruleNumber: 50, created: false });
    expect(await acts['ec2.removeNetworkAclEntry'](out)).toMatchObject({ removed: false });
    expect(entriesFor(await aclOf(subnetId), '198.51.100.7/32')).toHaveLength(1);
  });

  it('a rollback leaves a different rule that now holds the number', async () => {
    const out = await acts['ec2.denyCidrInNetworkAcl']({ subnetId, cidr: '203.0.113.9/32', ctx: stepContext('n') });
    const other = { ...out, cidr: '203.0.113.10/32' };
    expect(await acts['ec2.removeNetworkAclEntry'](other)).toMatchObject({ removed: false });
    expect(entriesFor(await aclOf(subnetId), '203.0.113.9/32')).toHaveLength(1);
  });

  it('dry run: reads only, returns the calls it would make, and changes nothing', async () => {
    const before = await aclOf(subnetId);
    const out = await acts['ec2.denyCidrInNetworkAcl']({ subnetId, cidr: '203.0.113.0/24', dryRun: true });
    expect(out).toMatchObject({ ruleNumber: 1, created: true, dryRun: true });
    expect(out.calls?.map((c) => c.operation)).toEqual(['CreateTags', 'CreateNetworkAclEntry']);
    expect(out.calls?.[1].input).toMatchObject({
      NetworkAclId: before.NetworkAclId,
      RuleNumber: 1,
      RuleAction: 'deny',
    });
    const after = await aclOf(subnetId);
    expect(after.Entries).toEqual(before.Entries);
    expect(after.Tags ?? []).toEqual(before.Tags ?? []);
  });

  it('names an unknown subnet, non-retryable', async () => {
    const err = await acts['ec2.denyCidrInNetworkAcl']({
      subnetId: 'subnet-0123456789abcdef0',
      cidr: '1.2.3.4/32',
    }).then(
      () => undefined,
      (e: unknown) => e as ApplicationFailure,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err!.nonRetryable).toBe(true);
    expect(err!.message).toContain('subnet-0123456789abcdef0');
  });
});
