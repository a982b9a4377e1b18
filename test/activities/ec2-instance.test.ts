/**
 * Stop/start, evidence preservation and instance profiles against moto, checked through the EC2 API.
 */
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  ModifyInstanceAttributeCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { createEc2Activities, tagRecord, TAG } from '../../activities/ec2';
import { createInstanceProfile, stepContext, testAws, unique, type TestAws } from '../stack/aws';

let aws: TestAws;
let acts: ReturnType<typeof createEc2Activities>;
beforeAll(() => {
  aws = testAws();
  acts = createEc2Activities(aws.clients);
});
afterAll(() => aws.close());

async function instance(instanceId: string) {
  const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations![0].Instances![0];
}
const stateOf = async (id: string) => (await instance(id)).State?.Name;
const tagsOf = async (id: string) => tagRecord((await instance(id)).Tags);

/** Shutdown behaviour and DeleteOnTermination per device, as the API reports them. */
async function preservation(instanceId: string) {
  const attr = await aws.clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior' }),
  );
  const volumes = Object.fromEntries(
    ((await instance(instanceId)).BlockDeviceMappings ?? []).map((b) => [b.DeviceName, b.Ebs?.DeleteOnTermination]),
  );
  return { shutdown: attr.InstanceInitiatedShutdownBehavior?.Value, volumes };
}

async function profileOf(instanceId: string): Promise<string | undefined> {
  const out = await aws.clients.ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }),
  );
  return out.IamInstanceProfileAssociations?.find((a) => a.State === 'associated')?.IamInstanceProfile?.Arn;
}

describe('ec2.stopInstance and ec2.startInstance', () => {
  it('stops, reports the original state across a retry, and the rollback starts it again', async () => {
    const { instanceId } = (await aws.seed('stop', { instances: 1 })).instances[0];
    const ctx = stepContext('stop');

    const first = await acts['ec2.stopInstance']({ instanceId, ctx });
    expect(first).toMatchObject({ instanceId, previousState: 'running', changed: true });
    expect(await stateOf(instanceId)).toBe('stopped');
    expect((await tagsOf(instanceId))[TAG.stateBefore]).toBe('running');

    const retry = await acts['ec2.stopInstance']({ instanceId, ctx });
    expect(retry).toEqual({ instanceId, previousState: 'running', currentState: 'stopped', changed: true });

    const start = await acts['ec2.startInstance']({ instanceId, previousState: retry.previousState, ctx });
    expect(start).toMatchObject({ previousState: 'stopped', changed: true });
    expect(await stateOf(instanceId)).toBe('running');
    expect(await tagsOf(instanceId)).not.toHaveProperty(TAG.stateBefore);
  });

  it('leaves an instance that was already stopped stopped, rollback included', async () => {
    const { instanceId } = (await aws.seed('stopped', { instances: 1 })).instances[0];
    await aws.clients.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    const out = await acts['ec2.stopInstance']({ instanceId });
    expect(out).toEqual({ instanceId, previousState: 'stopped', currentState: 'stopped', changed: false });
    expect(await acts['ec2.startInstance']({ instanceId, previousState: out.previousState })).toMatchObject({
      changed: false,
    });
    expect(await stateOf(instanceId)).toBe('stopped');
  });

  it('dry run: reads only and lists the calls', async () => {
    const { instanceId } = (await aws.seed('stop-dry', { instances: 1 })).instances[0];
    const out = await acts['ec2.stopInstance']({ instanceId, dryRun: true });
    expect(out.dryRun).toBe(true);
    expect(out.calls?.map((c) => c.operation)).toEqual(['CreateTags', 'StopInstances']);
    expect(await stateOf(instanceId)).toBe('running');
    expect(await tagsOf(instanceId)).not.toHaveProperty(TAG.stateBefore);
  });
});

describe('ec2.preserveInstance and ec2.restorePreservation', () => {
  it('sets shutdown to stop and keeps every volume on termination; the rollback restores the captured values', async () => {
    const { instanceId } = (await aws.seed('preserve', { instances: 1 })).instances[0];
    await aws.clients.ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        Attribute: 'instanceInitiatedShutdownBehavior',
        Value: 'terminate',
      }),
    );
    const { BlockDeviceMappings } = await instance(instanceId);
    const [root, data] = BlockDeviceMappings!.map((b) => b.DeviceName!);
    // A mix, so the rollback must put back each value, not one for all.
    await aws.clients.ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        BlockDeviceMappings: [
          { DeviceName: root, Ebs: { DeleteOnTermination: true } },
          { DeviceName: data, Ebs: { DeleteOnTermination: false } },
        ],
      }),
    );
    const before = await preservation(instanceId);
    expect(before).toEqual({ shutdown: 'terminate', volumes: { [root]: true, [data]: false } });
    const ctx = stepContext('preserve');

    const out = await acts['ec2.preserveInstance']({ instanceId, ctx });
    expect(out.changed).toBe(true);
    expect(out.previous.shutdownBehavior).toBe('terminate');
    expect(out.previous.volumes).toEqual([
      expect.objectContaining({
        deviceName: root,
        deleteOnTermination: true,
        volumeId: expect.stringMatching(/^vol-/),
      }),
      expect.objectContaining({ deviceName: data, deleteOnTermination: false }),
    ]);
    expect(await preservation(instanceId)).toEqual({ shutdown: 'stop', volumes: { [root]: false, [data]: false } });

    const retry = await acts['ec2.preserveInstance']({ instanceId, ctx });
    expect(retry).toEqual(out);

    const restored = await acts['ec2.restorePreservation']({
      instanceId,
      shutdownBehavior: retry.previous.shutdownBehavior,
      volumes: retry.previous.volumes,
      ctx,
    });
    expect(restored).toEqual({ instanceId, changed: true });
    expect(await preservation(instanceId)).toEqual(before);
    expect(await tagsOf(instanceId)).not.toHaveProperty(TAG.preservationBefore);
  });

  it('dry run changes nothing', async () => {
    const { instanceId } = (await aws.seed('preserve-dry', { instances: 1 })).instances[0];
    await aws.clients.ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        Attribute: 'instanceInitiatedShutdownBehavior',
        Value: 'terminate',
      }),
    );
    const before = await preservation(instanceId);
    const out = await acts['ec2.preserveInstance']({ instanceId, dryRun: true });
    expect(out).toMatchObject({ dryRun: true, previous: { shutdownBehavior: 'terminate' } });
    expect(out.calls?.[0]).toMatchObject({ service: 'ec2', operation: 'CreateTags' });
    expect(out.calls?.[1]).toEqual({
      service: 'ec2',
      operation: 'ModifyInstanceAttribute',
      input: { InstanceId: instanceId, Attribute: 'instanceInitiatedShutdownBehavior', Value: 'stop' },
    });
    expect(await preservation(instanceId)).toEqual(before);
    expect(await tagsOf(instanceId)).not.toHaveProperty(TAG.preservationBefore);
  });
});

describe('ec2.detachInstanceProfile and ec2.restoreInstanceProfile', () => {
  it('detaches the profile, reports it across a retry, and the rollback associates it again', async () => {
    const { instanceId } = (await aws.seed('profile', { instances: 1 })).instances[0];
    const arn = await createInstanceProfile(unique('web'));
    await aws.clients.ec2.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: arn } }),
    );
    const ctx = stepContext('profile');

    const out = await acts['ec2.detachInstanceProfile']({ instanceId, ctx });
    expect(out).toEqual({ instanceId, previousProfileArn: arn, changed: true });
    expect(await profileOf(instanceId)).toBeUndefined();
    expect(await acts['ec2.detachInstanceProfile']({ instanceId, ctx })).toEqual(out);

    const back = await acts['ec2.restoreInstanceProfile']({ instanceId, instanceProfileArn: out.previousProfileArn });
    expect(back).toMatchObject({ currentProfileArn: arn, changed: true });
    expect(await profileOf(instanceId)).toBe(arn);
    expect(await tagsOf(instanceId)).not.toHaveProperty(TAG.instanceProfileBefore);
  });

  it('replaces the profile with a given one, and the rollback puts the original back', async () => {
    const { instanceId } = (await aws.seed('profile-swap', { instances: 1 })).instances[0];
    const [original, denyAll] = await Promise.all([
      createInstanceProfile(unique('web')),
      createInstanceProfile(unique('deny-all')),
    ]);
    await aws.clients.ec2.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: original } }),
    );
    const out = await acts['ec2.detachInstanceProfile']({ instanceId, replacementProfileArn: denyAll });
    expect(out).toMatchObject({ previousProfileArn: original, currentProfileArn: denyAll, changed: true });
    expect(await profileOf(instanceId)).toBe(denyAll);
    await acts['ec2.restoreInstanceProfile']({ instanceId, instanceProfileArn: out.previousProfileArn });
    expect(await profileOf(instanceId)).toBe(original);
  });

  it('an instance without a profile stays without one; a dry run changes nothing', async () => {
    const { instanceId } = (await aws.seed('no-profile', { instances: 1 })).instances[0];
    const out = await acts['ec2.detachInstanceProfile']({ instanceId });
    expect(out).toEqual({ instanceId, changed: false });
    await acts['ec2.restoreInstanceProfile']({ instanceId, instanceProfileArn: out.previousProfileArn });
    expect(await profileOf(instanceId)).toBeUndefined();

    const arn = await createInstanceProfile(unique('web'));
    await aws.clients.ec2.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: arn } }),
    );
    const dry = await acts['ec2.detachInstanceProfile']({ instanceId, dryRun: true });
    expect(dry.calls?.map((c) => c.operation)).toEqual(['CreateTags', 'DisassociateIamInstanceProfile']);
    expect(await profileOf(instanceId)).toBe(arn);
    expect(await tagsOf(instanceId)).not.toHaveProperty(TAG.instanceProfileBefore);
  });
});
