/**
 * credential-exposure-instance-profile end to end on the real stack: the profile is detached at once (no approval),
 * the volumes are snapshotted, security hears of it; a release by a security lead puts the profile back. Checked
 * through the EC2 API and the notification topic's SQS subscriber.
 */
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { credentialExposureInstanceProfile } from '../../runbooks/credential-exposure-instance-profile';
import { readNotifications } from '../../scripts/seed';
import { rollbackUpdate } from '../../workflows/messages';
import { createInstanceProfile, testAws, unique, type TestAws } from '../stack/aws';
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

async function profileOf(instanceId: string): Promise<string | undefined> {
  const out = await aws.clients.ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [
        { Name: 'instance-id', Values: [instanceId] },
        { Name: 'state', Values: ['associated'] },
      ],
    }),
  );
  return out.IamInstanceProfileAssociations?.[0]?.IamInstanceProfile?.Arn;
}

test('detaches the profile, snapshots, notifies security; release by a security lead restores the profile', async () => {
  const env = await aws.seed('cred', { instances: 1 });
  const { instanceId, volumeIds } = env.instances[0];
  const arn = await createInstanceProfile(unique('web-role'));
  await aws.clients.ec2.send(
    new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: arn } }),
  );
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      runbookInput(credentialExposureInstanceProfile, { instanceId, securityTopicArn: env.topicArn }),
    );
    const done = await waitForState(handle, (s) => s.status === 'succeeded');
    expect(done.steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect(await profileOf(instanceId)).toBeUndefined();
    const snaps = await aws.clients.ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'tag:firebreak:execution-id', Values: [handle.workflowId] }],
      }),
    );
    expect(snaps.Snapshots!.map((s) => s.VolumeId).sort()).toEqual([...volumeIds].sort());
    const [note] = await readNotifications(aws.sqs, env.queueUrl, { count: 1, timeoutMs: 15_000 });
    expect(note.subject).toBe(`firebreak: instance profile detached from ${instanceId}`);
    expect(note.json).toMatchObject({ message: { event: 'instance-profile-detached', previousProfileArn: arn } });

    // Only the runbook's release role may release it.
    const refused = await handle
      .executeUpdate(rollbackUpdate, {
        args: [{ reason: 'x', requestedBy: { id: 'user:ic', roles: ['incident-commander'] }, release: true }],
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('Forbidden');
    await handle.executeUpdate(rollbackUpdate, {
      args: [{ reason: 'keys rotated', requestedBy: { id: 'user:sec', roles: ['security-lead'] }, release: true }],
    });
    await waitForState(handle, (s) => s.status === 'rolled-back');
    expect(await profileOf(instanceId)).toBe(arn);
  });
});
