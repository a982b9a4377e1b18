/**
 * An execution's target end to end: the ec2-compromise runbook started for an instance of account B contains it in
 * account B (AssumeRole through moto's multi-account STS), notifies from the worker's own account A, leaves account A
 * alone, and its rollback acts in account B too.
 */
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { createActivities } from '../../activities';
import { createClientFactory, type ClientFactory } from '../../activities/clients';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { readNotifications } from '../../scripts/seed';
import { approvalUpdate, rollbackUpdate } from '../../workflows/messages';
import { emulatorConfig, testAws, testAwsIn, type TestAws } from '../stack/aws';
import { commander, startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';

const B = '210987654321';

let a: TestAws;
let b: TestAws;
let factory: ClientFactory;
let temporal: TestTemporal;

beforeAll(async () => {
  a = testAws();
  b = await testAwsIn({ account: B });
  factory = createClientFactory({ ...emulatorConfig(), targetAccounts: [B] });
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  factory?.destroy();
  a?.close();
  b?.close();
});

async function groupsOf(t: TestAws, instanceId: string): Promise<string[]> {
  const out = await t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations![0].Instances![0].NetworkInterfaces!.flatMap((n) => n.Groups!.map((g) => g.GroupId!)).sort();
}

async function quarantineIn(t: TestAws, vpcId?: string) {
  const out = await t.clients.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: ['firebreak-quarantine'] },
        ...(vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
      ],
    }),
  );
  return out.SecurityGroups ?? [];
}

test("contains account B's instance in account B, notifies from account A, and rolls back in account B", async () => {
  // The topic (and its queue) are firebreak's, in A; the instance is B's.
  const [envA, envB] = await Promise.all([a.seed('home', { instances: 1 }), b.seed('member', { instances: 1 })]);
  const instance = envB.instances[0];
  const quarantinesInABefore = (await quarantineIn(a)).length;
  const rb = new RunbookRegistry([ec2Compromise]).get(ec2Compromise.id)!;

  await withWorker(
    temporal,
    { clients: a.clients, activities: () => createActivities(factory) },
    async ({ taskQueue }) => {
      const handle = await startRunbook(temporal, taskQueue, {
        runbook: rb.definition,
        digest: rb.digest,
        params: { instanceId: instance.instanceId, notifyTopicArn: envA.topicArn },
        startedBy: { id: 'user:test' },
        target: { account: B },
      });
      const waiting = await waitForState(handle, (s) => s.status === 'waiting-approval');
      expect(waiting.target).toEqual({ account: B });
      expect(waiting.steps.find((s) => s.id === 'capture')?.output).toMatchObject({ vpcId: envB.vpcId });
      await handle.executeUpdate(approvalUpdate, {
        args: [{ stepId: 'approve-isolation', decision: 'approve', decidedBy: commander }],
      });
      await waitForState(handle, (s) => s.status === 'succeeded');

      const [quarantine] = await quarantineIn(b, envB.vpcId);
      expect(await groupsOf(b, instance.instanceId)).toEqual([quarantine.GroupId]);
      // Nothing was created in A; the notifications went out from A's topic.
      expect(await quarantineIn(a)).toHaveLength(quarantinesInABefore);
      expect(await groupsOf(a, envA.instances[0].instanceId)).toEqual([...envA.instances[0].groupIds].sort());
      const notes = await readNotifications(a.sqs, envA.queueUrl, { count: 2, timeoutMs: 15_000 });
      expect(notes.map((n) => n.subject).sort()).toEqual([
        `firebreak: contained ${instance.instanceId}`,
        `firebreak: containing ${instance.instanceId}`,
      ]);

      await handle.executeUpdate(rollbackUpdate, { args: [{ reason: 'false positive', requestedBy: commander }] });
      const rolled = await waitForState(handle, (s) => s.status === 'rolled-back');
      expect(rolled.rollback?.complete).toBe(true);
      expect(await groupsOf(b, instance.instanceId)).toEqual([...instance.groupIds].sort());
    },
  );
});
