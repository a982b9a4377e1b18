/**
 * The capture step's view of what an instance belongs to (activities/ec2-membership.ts) against moto: its Auto Scaling
 * group with lifecycle state and scale-in protection, its target group registrations with their ports, its instance
 * profile association; and a detach and release that restore exactly those, checked through the AWS APIs.
 */
import {
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeImagesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createActivities } from '../../activities';
import type { ActionActivities } from '../../activities/schemas';
import { createInstanceProfile, stepContext, testAws, unique, type TestAws } from '../stack/aws';

let aws: TestAws;
let acts: ActionActivities;
beforeAll(() => {
  aws = testAws();
  acts = createActivities(aws.clients);
});
afterAll(() => aws.close());

/** One instance in a new group (its own launch configuration), protected from scale-in. */
async function protectedGroupInstance(subnetId: string): Promise<{ group: string; instanceId: string }> {
  const images = await aws.clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const group = unique('asg-cap');
  await aws.clients.autoScaling.send(
    new CreateLaunchConfigurationCommand({
      LaunchConfigurationName: group,
      ImageId: images.Images![0].ImageId!,
      InstanceType: 't3.micro',
    }),
  );
  await aws.clients.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: group,
      LaunchConfigurationName: group,
      MinSize: 0,
      MaxSize: 3,
      DesiredCapacity: 2,
      VPCZoneIdentifier: subnetId,
    }),
  );
  const out = await aws.clients.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  const instanceId = out.AutoScalingGroups![0].Instances![0].InstanceId!;
  await aws.clients.autoScaling.send(
    new SetInstanceProtectionCommand({
      AutoScalingGroupName: group,
      InstanceIds: [instanceId],
      ProtectedFromScaleIn: true,
    }),
  );
  return { group, instanceId };
}

async function targetGroup(vpcId: string, port: number): Promise<string> {
  const out = await aws.clients.elbv2.send(
    new CreateTargetGroupCommand({ Name: unique('tgc').slice(0, 32), Protocol: 'HTTP', Port: port, VpcId: vpcId }),
  );
  return out.TargetGroups![0].TargetGroupArn!;
}

/** What AWS says now: group, lifecycle state, protection; `arn:port` registrations; profile. */
async function membershipFromAws(instanceId: string, arns: string[]) {
  const asg = (
    await aws.clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }))
  ).AutoScalingInstances?.[0];
  const ports: string[] = [];
  for (const arn of arns) {
    const out = await aws.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    for (const d of out.TargetHealthDescriptions ?? []) {
      if (d.Target?.Id === instanceId && d.TargetHealth?.State !== 'draining') ports.push(`${arn}:${d.Target.Port}`);
    }
  }
  const assoc = await aws.clients.ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }),
  );
  return {
    group: asg?.AutoScalingGroupName,
    lifecycleState: asg?.LifecycleState,
    protectedFromScaleIn: asg?.ProtectedFromScaleIn,
    registrations: ports.sort(),
    profileArn: assoc.IamInstanceProfileAssociations?.find((a) => a.State === 'associated')?.IamInstanceProfile?.Arn,
  };
}

test('capture records the group, registrations and profile; detach and release restore them exactly', async () => {
  const env = await aws.seed('capture-members', { instances: 1 });
  const { group, instanceId } = await protectedGroupInstance(env.subnetIds[0]);
  const [web, api] = await Promise.all([targetGroup(env.vpcId, 80), targetGroup(env.vpcId, 8080)]);
  // A port other than the group's own (moto keeps one registration per instance and group).
  await aws.clients.elbv2.send(
    new RegisterTargetsCommand({ TargetGroupArn: web, Targets: [{ Id: instanceId, Port: 8081 }] }),
  );
  await aws.clients.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: api, Targets: [{ Id: instanceId }] }));
  const profileArn = await createInstanceProfile(unique('cap-profile'));
  await aws.clients.ec2.send(
    new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: profileArn } }),
  );

  const before = await membershipFromAws(instanceId, [web, api]);
  expect(before).toMatchObject({ group, lifecycleState: 'InService', protectedFromScaleIn: true, profileArn });
  expect(before.registrations).toEqual([`${api}:8080`, `${web}:8081`].sort());

  const captured = await acts['ec2.captureInstance']({ instanceId });
  expect(captured.autoScaling).toEqual({
    autoScalingGroupName: before.group,
    lifecycleState: before.lifecycleState,
    healthStatus: expect.any(String),
    protectedFromScaleIn: true,
  });
  expect(captured.targetGroups!.map((t) => `${t.targetGroupArn}:${t.port}`).sort()).toEqual(before.registrations);
  expect(captured.instanceProfile).toMatchObject({ arn: before.profileArn, associationId: expect.stringMatching(/./) });

  // The containment's steps take it out; the release (their rollbacks) puts it back as captured.
  const ctx = stepContext('members');
  const detached = await acts['autoscaling.detachInstance']({ instanceId, ctx });
  const deregistered = await acts['elbv2.deregisterInstance']({ instanceId, ctx });
  const out = await membershipFromAws(instanceId, [web, api]);
  expect(out).toMatchObject({ group: undefined, registrations: [] });
  await acts['autoscaling.reattachInstance']({
    instanceId,
    autoScalingGroupName: detached.autoScalingGroupName,
    mode: detached.mode,
    minSizeBefore: detached.minSizeBefore,
    ctx,
  });
  await acts['elbv2.registerInstance']({ instanceId, targets: deregistered.targets, ctx });

  expect(await membershipFromAws(instanceId, [web, api])).toEqual(before);
  const again = await acts['ec2.captureInstance']({ instanceId });
  expect(again.autoScaling).toMatchObject({ autoScalingGroupName: group, protectedFromScaleIn: true });
  expect(again.targetGroups!.map((t) => `${t.targetGroupArn}:${t.port}`).sort()).toEqual(before.registrations);
  expect(again.instanceProfile?.arn).toBe(profileArn);
});

test('an instance that belongs to nothing: no group, no registrations, no profile', async () => {
  const env = await aws.seed('capture-alone', { instances: 1 });
  const out = await acts['ec2.captureInstance']({ instanceId: env.instances[0].instanceId });
  expect(out.autoScaling).toBeUndefined();
  expect(out.targetGroups).toEqual([]);
  expect(out.instanceProfile).toBeUndefined();
});
