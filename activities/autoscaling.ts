/**
 * Auto Scaling activities: take an instance out of its group (detach, or Standby) and put it back.
 *
 * No surprises: desired capacity always drops by one, so the group launches no replacement (an attacker's instance
 * being "replaced" would double the fleet's exposure and hide the change), and putting it back raises it by one again,
 * so capacity ends where it started. When desired capacity is already at the group's minimum, the minimum is lowered
 * by one first and restored by the rollback.
 *
 * The group, mode and original minimum are recorded in a `firebreak:asg-before` tag on the instance before the change,
 * so a retry after the detach (when the instance is no longer in any group) still reports them.
 */
import {
  AttachInstancesCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetInstanceProtectionCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingInstanceDetails,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { routeByTarget, type AwsClients, type ClientSource } from './clients';
import { describeInstance, MAX_TAG_VALUE, tagRecord, toTags } from './ec2-common';
import { awsCall, refuse } from './errors';
import { CallPlan } from './plan';
import type { ActionName, ActionOutput, ActivityInput } from './schemas';

type AsgActionName = Extract<ActionName, `autoscaling.${string}`>;
export type AutoScalingActivities = {
  [A in AsgActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>>;
};

export const ASG_BEFORE_TAG = 'firebreak:asg-before';
type Mode = 'detach' | 'standby';

/**
 * `<mode>[+protected];<min size before, or empty>;<group name>`: the group name last, as it may hold `;`. `+protected`:
 * the instance was protected from scale-in, which a detach loses and the reattach must set again.
 */
function encode(mode: Mode, minSizeBefore: number | undefined, group: string, protectedFromScaleIn = false): string {
  return `${mode}${protectedFromScaleIn ? '+protected' : ''};${minSizeBefore ?? ''};${group}`;
}

function decode(
  value: string | undefined,
): { mode: Mode; minSizeBefore?: number; group: string; protectedFromScaleIn: boolean } | undefined {
  const m = value?.match(/^(detach|standby)(\+protected)?;(\d*);(.+)$/);
  if (!m) return undefined;
  return {
    mode: m[1] as Mode,
    protectedFromScaleIn: m[2] !== undefined,
    minSizeBefore: m[3] ? Number(m[3]) : undefined,
    group: m[4],
  };
}

/** The instance's Auto Scaling membership (group, lifecycle state, scale-in protection), or undefined. */
export async function asgMembership(
  autoScaling: AwsClients['autoScaling'],
  what: string,
  instanceId: string,
): Promise<AutoScalingInstanceDetails | undefined> {
  const out = await awsCall(
    what,
    () => autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] })),
    `Auto Scaling membership of ${instanceId}`,
  );
  return out.AutoScalingInstances?.find((i) => i.InstanceId === instanceId);
}

export function createAutoScalingActivities(source: ClientSource): AutoScalingActivities {
  return routeByTarget(source, build);
}

function build(clients: Pick<AwsClients, 'autoScaling' | 'ec2'>): AutoScalingActivities {
  const { autoScaling, ec2 } = clients;

  const membership = (what: string, instanceId: string) => asgMembership(autoScaling, what, instanceId);

  async function group(what: string, name: string) {
    const out = await awsCall(
      what,
      () => autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
      `Auto Scaling group ${name}`,
    );
    const g = out.AutoScalingGroups?.[0];
    if (!g) return refuse(what, `Auto Scaling group ${name} not found`, 'AutoScalingGroupNotFound');
    return { desired: g.DesiredCapacity ?? 0, min: g.MinSize ?? 0 };
  }

  return {
    async 'autoscaling.detachInstance'({ instanceId, mode = 'detach', dryRun }) {
      const what = 'autoscaling.detachInstance';
      const plan = new CallPlan(dryRun);
      const member = await membership(what, instanceId);
      const instance = await describeInstance(ec2, what, instanceId);
      const recorded = decode(tagRecord(instance.Tags)[ASG_BEFORE_TAG]);
      const name = member?.AutoScalingGroupName;
      const inService = member && (mode === 'detach' || member.LifecycleState === 'InService');

      if (!name || !inService) {
        // Already out (a retry after the change, or someone else's doing): report what the record says, if any.
        if (recorded) {
          const { group: autoScalingGroupName, minSizeBefore } = recorded;
          return {
            instanceId,
            autoScalingGroupName,
            mode: recorded.mode,
            minSizeBefore,
            changed: true,
            ...plan.fields(),
          };
        }
        // No group named: the rollback must not undo a Standby someone else chose.
        return { instanceId, mode, changed: false, ...plan.fields() };
      }

      const { desired, min } = await group(what, name);
      const minSizeBefore = desired - 1 < min ? min : undefined;
      const resource = `instance ${instanceId} in Auto Scaling group ${name}`;
      // Detaching loses scale-in protection (attaching gives the group's default): recorded, so the reattach restores it.
      const value = encode(mode, minSizeBefore, name, mode === 'detach' && member.ProtectedFromScaleIn === true);
      if (!recorded && value.length <= MAX_TAG_VALUE) {
        const tag = new CreateTagsCommand({ Resources: [instanceId], Tags: toTags({ [ASG_BEFORE_TAG]: value }) });
        await plan.call('ec2', tag, () => awsCall(what, () => ec2.send(tag), resource));
      }
      if (minSizeBefore !== undefined) {
        const lower = new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: desired - 1 });
        await plan.call('autoscaling', lower, () => awsCall(what, () => autoScaling.send(lower), resource));
      }
      const move =
        mode === 'detach'
          ? new DetachInstancesCommand({
              AutoScalingGroupName: name,
              InstanceIds: [instanceId],
              ShouldDecrementDesiredCapacity: true,
            })
          : new EnterStandbyCommand({
              AutoScalingGroupName: name,
              InstanceIds: [instanceId],
              ShouldDecrementDesiredCapacity: true,
            });
      await plan.call('autoscaling', move, () =>
        awsCall(what, () => autoScaling.send(move as DetachInstancesCommand), resource),
      );
      return { instanceId, autoScalingGroupName: name, mode, minSizeBefore, changed: true, ...plan.fields() };
    },

    async 'autoscaling.reattachInstance'({ instanceId, autoScalingGroupName: name, mode, minSizeBefore, dryRun }) {
      const what = 'autoscaling.reattachInstance';
      const plan = new CallPlan(dryRun);
      if (!name) return { instanceId, changed: false, ...plan.fields() };
      const member = await membership(what, instanceId);
      const resource = `instance ${instanceId} in Auto Scaling group ${name}`;
      if (member && member.AutoScalingGroupName !== name) {
        return refuse(
          what,
          `instance ${instanceId} is in group ${member.AutoScalingGroupName}`,
          'InstanceInOtherGroup',
        );
      }
      let changed = false;
      if (mode === 'detach' && !member) {
        const attach = new AttachInstancesCommand({ AutoScalingGroupName: name, InstanceIds: [instanceId] });
        await plan.call('autoscaling', attach, () => awsCall(what, () => autoScaling.send(attach), resource));
        changed = true;
      } else if (mode === 'standby') {
        if (!member) return refuse(what, `instance ${instanceId} is no longer in group ${name}`, 'InstanceNotInGroup');
        if (member.LifecycleState === 'Standby') {
          const exit = new ExitStandbyCommand({ AutoScalingGroupName: name, InstanceIds: [instanceId] });
          await plan.call('autoscaling', exit, () => awsCall(what, () => autoScaling.send(exit), resource));
          changed = true;
        }
      }
      // Attaching (or leaving Standby) raised desired capacity by one again, so the old minimum fits once more.
      if (minSizeBefore !== undefined && (await group(what, name)).min < minSizeBefore) {
        const raise = new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: minSizeBefore });
        await plan.call('autoscaling', raise, () => awsCall(what, () => autoScaling.send(raise), resource));
        changed = true;
      }
      const instance = await describeInstance(ec2, what, instanceId);
      if (mode === 'detach' && decode(tagRecord(instance.Tags)[ASG_BEFORE_TAG])?.protectedFromScaleIn) {
        const now = plan.dryRun ? undefined : await membership(what, instanceId);
        if (now?.ProtectedFromScaleIn !== true) {
          const protect = new SetInstanceProtectionCommand({
            AutoScalingGroupName: name,
            InstanceIds: [instanceId],
            ProtectedFromScaleIn: true,
          });
          await plan.call('autoscaling', protect, () => awsCall(what, () => autoScaling.send(protect), resource));
          changed = true;
        }
      }
      if (ASG_BEFORE_TAG in tagRecord(instance.Tags)) {
        const untag = new DeleteTagsCommand({ Resources: [instanceId], Tags: [{ Key: ASG_BEFORE_TAG }] });
        await plan.call('ec2', untag, () => awsCall(what, () => ec2.send(untag), resource));
      }
      return { instanceId, autoScalingGroupName: name, changed, ...plan.fields() };
    },
  };
}
