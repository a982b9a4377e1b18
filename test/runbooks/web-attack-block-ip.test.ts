/**
 * web-attack-block-ip end to end on the real stack (Temporal dev server, worker, moto): a SEV2 blocks in the WAF IP set
 * at once and a release removes it; a SEV3 waits for on-call, and when the WAF cannot take the address the subnet's
 * network ACL denies it instead. Results are read through the WAFv2 and EC2 APIs.
 */
import { DescribeNetworkAclsCommand } from '@aws-sdk/client-ec2';
import { CreateIPSetCommand, GetIPSetCommand } from '@aws-sdk/client-wafv2';
import { webAttackBlockIp } from '../../runbooks/web-attack-block-ip';
import { approvalUpdate, rollbackUpdate } from '../../workflows/messages';
import { testAws, unique, type TestAws } from '../stack/aws';
import { startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';
import { runbookInput } from './helpers';

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

const onCall = { id: 'user:olga', roles: ['on-call'] };

async function blockSet() {
  const name = unique('blocklist');
  const out = await aws.clients.wafv2.send(
    new CreateIPSetCommand({ Name: name, Scope: 'REGIONAL', IPAddressVersion: 'IPV4', Addresses: [] }),
  );
  return { ipSetName: name, ipSetId: out.Summary!.Id! };
}

async function addresses(set: { ipSetName: string; ipSetId: string }) {
  const out = await aws.clients.wafv2.send(
    new GetIPSetCommand({ Name: set.ipSetName, Id: set.ipSetId, Scope: 'REGIONAL' }),
  );
  return out.IPSet!.Addresses ?? [];
}

test('SEV2: blocked in the WAF IP set without waiting; release removes the address', async () => {
  const env = await aws.seed('waf', { instances: 1 });
  const set = await blockSet();
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      runbookInput(webAttackBlockIp, {
        sourceAddress: '203.0.113.7',
        ...set,
        severity: 'SEV2',
        notifyTopicArn: env.topicArn,
      }),
    );
    const done = await waitForState(handle, (s) => s.status === 'succeeded');
    const byId = Object.fromEntries(done.steps.map((s) => [s.id, s]));
    expect(byId['approve-block'].status).toBe('skipped');
    expect(byId['block-waf'].status).toBe('succeeded');
    expect(byId['block-nacl'].status).toBe('skipped');
    expect(await addresses(set)).toEqual(['203.0.113.7/32']);

    await handle.executeUpdate(rollbackUpdate, {
      args: [{ reason: 'customer NAT', requestedBy: { id: 'user:sec', roles: ['security-lead'] }, release: true }],
    });
    await waitForState(handle, (s) => s.status === 'rolled-back');
    expect(await addresses(set)).toEqual([]);
  });
});

test('SEV3: waits for on-call; the WAF refuses (unknown set) and the network ACL denies the address instead', async () => {
  const env = await aws.seed('waf-nacl', { instances: 1 });
  const subnetId = env.subnetIds[0];
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      runbookInput(webAttackBlockIp, {
        sourceAddress: '198.51.100.23',
        ipSetName: 'no-such-set',
        ipSetId: '00000000-0000-0000-0000-000000000000',
        subnetId,
        notifyTopicArn: env.topicArn,
      }),
    );
    const waiting = await waitForState(handle, (s) => s.status === 'waiting-approval');
    expect(waiting.pendingApproval?.stepId).toBe('approve-block');
    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-block', decision: 'approve', decidedBy: onCall }],
    });
    const done = await waitForState(handle, (s) => s.status === 'succeeded');
    const byId = Object.fromEntries(done.steps.map((s) => [s.id, s]));
    expect(byId['block-waf'].status).toBe('failed');
    expect(byId['block-nacl'].status).toBe('succeeded');

    const acl = await aws.clients.ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
    );
    const deny = acl.NetworkAcls![0].Entries!.filter((e) => e.CidrBlock === '198.51.100.23/32');
    expect(deny).toEqual([expect.objectContaining({ RuleAction: 'deny', Egress: false })]);
    await temporal.client.workflow.getHandle(handle.workflowId).terminate('test done');
  });
});
