/**
 * Auto Scaling activities against moto, checked through DescribeAutoScalingGroups / DescribeAutoScalingInstances.
 */
import {
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ASG_BEFORE_TAG, createAutoScalingActivities } from '../../activities/autoscaling';
import { tagRecord } from '../../activities/ec2';
import { stepContext, testAws, unique, type TestAws } from '../stack/aws';

let aws: TestAws;
let acts: ReturnType<typeof createAutoScalingActivities>;
let subnetId: string;
let imageId: string;
beforeAll(async () => {
  aws = testAws();
  acts = createAutoScalingActivities(aws.clients);
  subnetId = (await aws.seed('asg', { instances: 1 })).subnetIds[0];
  const images = await aws.clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  imageId = images.Images![0].ImageId!;
});
afterAll(() => aws.close());

/** A group of `desired` instances; returns its name and instance IDs. */
async function createGroup(min: number, desired: number): Promise<{ name: string; instanceIds: string[] }> {
  const name = unique('asg');
  await aws.clients.autoScaling.send(
    new CreateLaunchConfigurationCommand({ LaunchConfigurationName: name, ImageId: imageId, InstanceType: 't3.micro' }),
  );
  await aws.clients.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchConfigurationName: name,
      MinSize: min,
      MaxSize: 4,
      DesiredCapacity: desired,
      VPCZoneIdentifier: subnetId,
    }),
  );
  const g = await group(name);
  return { name, instanceIds: g.instances.map((i) => i.InstanceId!) };
}

async function group(name: string) {
  const out = await aws.clients.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  const g = out.AutoScalingGroups![0];
  return { desired: g.DesiredCapacity, min: g.MinSize, instances: g.Instances ?? [] };
}

async function membership(instanceId: string) {
  const out = await aws.clients.autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const m = out.AutoScalingInstances?.[0];
  return m && { group: m.AutoScalingGroupName, state: m.LifecycleState };
}

async function instanceTags(instanceId: string) {
  const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return tagRecord(out.Reservations![0].Instances![0].Tags);
}

describe('autoscaling.detachInstance and autoscaling.reattachInstance', () => {
  it('detaches without a replacement, reports the same across a retry, and the rollback re-attaches', async () => {
    const { name, instanceIds } = await createGroup(1, 2);
    const [target, other] = instanceIds;
    const ctx = stepContext('asg');

    const out = await acts['autoscaling.detachInstance']({ instanceId: target, ctx });

    expect(out).toEqual({ instanceId: target, autoScalingGroupName: name, mode: 'detach', changed: true });
    expect(await membership(target)).toBeUndefined();
    const after = await group(name);
    expect(after.desired).toBe(1);
    // No replacement was launched: the other instance is the only one left.
    expect(after.instances.map((i) => i.InstanceId)).toEqual([other]);

    expect(await acts['autoscaling.detachInstance']({ instanceId: target, ctx })).toEqual(out);

    const back = await acts['autoscaling.reattachInstance']({ ...out, ctx });
    expect(back).toEqual({ instanceId: target, autoScalingGroupName: name, changed: true });
    expect(await membership(target)).toEqual({ group: name, state: 'InService' });
    expect(await group(name)).toMatchObject({ desired: 2, min: 1 });
    expect(await instanceTags(target)).not.toHaveProperty(ASG_BEFORE_TAG);
    // A retried rollback changes nothing more.
    expect(await acts['autoscaling.reattachInstance']({ ...out, ctx })).toMatchObject({ changed: false });
    expect(await group(name)).toMatchObject({ desired: 2, min: 1 });
  });

  it('lowers the minimum by one when desired capacity is at it, and the rollback restores it', async () => {
    const { name, instanceIds } = await createGroup(2, 2);
    const out = await acts['autoscaling.detachInstance']({ instanceId: instanceIds[0], ctx: stepContext('asg') });
    expect(out).toMatchObject({ minSizeBefore: 2, changed: true });
    expect(await group(name)).toMatchObject({ desired: 1, min: 1 });
    await acts['autoscaling.reattachInstance'](out);
    expect(await group(name)).toMatchObject({ desired: 2, min: 2 });
  });

  it('standby mode: out of service in the group, desired capacity down by one; the rollback exits Standby', async () => {
    const { name, instanceIds } = await createGroup(1, 2);
    const ctx = stepContext('asg');
    const out = await acts['autoscaling.detachInstance']({ instanceId: instanceIds[0], mode: 'standby', ctx });
    expect(out).toMatchObject({ autoScalingGroupName: name, mode: 'standby', changed: true });
    expect(await membership(instanceIds[0])).toEqual({ group: name, state: 'Standby' });
    expect((await group(name)).desired).toBe(1);
    expect(await acts['autoscaling.detachInstance']({ instanceId: instanceIds[0], mode: 'standby', ctx })).toEqual(out);

    await acts['autoscaling.reattachInstance'](out);
    expect(await membership(instanceIds[0])).toEqual({ group: name, state: 'InService' });
    expect(await group(name)).toMatchObject({ desired: 2, min: 1 });
  });

  it('an instance in no group: nothing to do, and nothing to undo', async () => {
    const run = await aws.clients.ec2.send(
      new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
    );
    const instanceId = run.Instances![0].InstanceId!;
    const out = await acts['autoscaling.detachInstance']({ instanceId });
    expect(out).toEqual({ instanceId, mode: 'detach', changed: false });
    expect(await acts['autoscaling.reattachInstance'](out)).toEqual({ instanceId, changed: false });
    expect(await membership(instanceId)).toBeUndefined();
  });

  it('dry run: reads only, lists the calls, changes nothing', async () => {
    const { name, instanceIds } = await createGroup(2, 2);
    const out = await acts['autoscaling.detachInstance']({ instanceId: instanceIds[0], dryRun: true });
    expect(out).toMatchObject({ autoScalingGroupName: name, minSizeBefore: 2, dryRun: true });
    expect(out.calls?.map((c) => `${c.service}.${c.operation}`)).toEqual([
      'ec2.CreateTags',
      'autoscaling.UpdateAutoScalingGroup',
      'autoscaling.DetachInstances',
    ]);
    expect(out.calls?.[2].input).toEqual({
      AutoScalingGroupName: name,
      InstanceIds: [instanceIds[0]],
      ShouldDecrementDesiredCapacity: true,
    });
    expect(await membership(instanceIds[0])).toEqual({ group: name, state: 'InService' });
    expect(await group(name)).toMatchObject({ desired: 2, min: 2 });
    expect(await instanceTags(instanceIds[0])).not.toHaveProperty(ASG_BEFORE_TAG);
  });
});
