/**
 * Instance-level containment: stop/start, evidence preservation (shutdown behaviour `stop`, volumes kept on
 * termination), and the instance profile (detach or replace, and restore).
 *
 * Each change first records the value it replaces in a `firebreak:*-before` tag on the instance (unless a record is
 * already there), so a retry after the change reports the original value, and the restoring action removes the record.
 */
import {
  AssociateIamInstanceProfileCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DisassociateIamInstanceProfileCommand,
  ModifyInstanceAttributeCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import type { AwsClients } from './clients';
import type { Ec2Activities } from './ec2';
import { describeInstance, MAX_TAG_VALUE, RECORD_TAG, tagRecord, toTags } from './ec2-common';
import { awsCall } from './errors';
import { CallPlan } from './plan';

type InstanceActionName =
  | 'ec2.stopInstance'
  | 'ec2.startInstance'
  | 'ec2.preserveInstance'
  | 'ec2.restorePreservation'
  | 'ec2.detachInstanceProfile'
  | 'ec2.restoreInstanceProfile';

type ShutdownBehavior = 'stop' | 'terminate';
interface VolumeSetting {
  deviceName: string;
  volumeId?: string;
  deleteOnTermination: boolean;
}

const STOPPED_OR_GOING = ['stopping', 'stopped', 'shutting-down', 'terminated'];
const RUNNING_OR_GOING = ['pending', 'running'];

/** `shutdown=terminate;/dev/xvda=1;/dev/sdf=0`: short enough for a tag value on ordinary instances. */
export function encodePreservation(shutdown: ShutdownBehavior, volumes: VolumeSetting[]): string {
  return [`shutdown=${shutdown}`, ...volumes.map((v) => `${v.deviceName}=${v.deleteOnTermination ? 1 : 0}`)].join(';');
}

function decodePreservation(value: string): { shutdownBehavior: ShutdownBehavior; volumes: VolumeSetting[] } {
  const [first, ...rest] = value.split(';');
  const shutdownBehavior = first === 'shutdown=terminate' ? 'terminate' : 'stop';
  const volumes = rest.map((part) => {
    const i = part.lastIndexOf('=');
    return { deviceName: part.slice(0, i), deleteOnTermination: part.slice(i + 1) === '1' };
  });
  return { shutdownBehavior, volumes };
}

function volumesOf(instance: Instance): VolumeSetting[] {
  return (instance.BlockDeviceMappings ?? [])
    .filter((b) => b.DeviceName && b.Ebs)
    .map((b) => ({
      deviceName: b.DeviceName!,
      volumeId: b.Ebs!.VolumeId,
      deleteOnTermination: b.Ebs!.DeleteOnTermination ?? false,
    }));
}

export function createEc2InstanceActivities(clients: Pick<AwsClients, 'ec2'>): Pick<Ec2Activities, InstanceActionName> {
  const { ec2 } = clients;

  /** Records `value` under `key` unless a record is there already (a tag value too long is not recorded). */
  async function record(plan: CallPlan, what: string, instance: Instance, key: string, value: string) {
    if (key in tagRecord(instance.Tags) || value.length > MAX_TAG_VALUE) return;
    const cmd = new CreateTagsCommand({ Resources: [instance.InstanceId!], Tags: toTags({ [key]: value }) });
    await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), `instance ${instance.InstanceId}`));
  }

  async function forget(plan: CallPlan, what: string, instance: Instance, key: string) {
    if (!(key in tagRecord(instance.Tags))) return;
    const cmd = new DeleteTagsCommand({ Resources: [instance.InstanceId!], Tags: [{ Key: key }] });
    await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), `instance ${instance.InstanceId}`));
  }

  async function shutdownBehavior(what: string, instanceId: string): Promise<ShutdownBehavior> {
    const out = await awsCall(
      what,
      () =>
        ec2.send(
          new DescribeInstanceAttributeCommand({
            InstanceId: instanceId,
            Attribute: 'instanceInitiatedShutdownBehavior',
          }),
        ),
      `instance ${instanceId}`,
    );
    return out.InstanceInitiatedShutdownBehavior?.Value === 'terminate' ? 'terminate' : 'stop';
  }

  /** Brings the instance to the wanted shutdown behaviour and DeleteOnTermination values; reports whether it changed. */
  async function applyPreservation(
    plan: CallPlan,
    what: string,
    instanceId: string,
    current: { shutdown: ShutdownBehavior; volumes: VolumeSetting[] },
    wanted: { shutdown: ShutdownBehavior; deleteOnTermination: (deviceName: string) => boolean | undefined },
  ): Promise<boolean> {
    const resource = `instance ${instanceId}`;
    let changed = false;
    if (current.shutdown !== wanted.shutdown) {
      // The Attribute/Value form: what moto implements, and equally valid on EC2.
      const cmd = new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        Attribute: 'instanceInitiatedShutdownBehavior',
        Value: wanted.shutdown,
      });
      await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), resource));
      changed = true;
    }
    const mappings = current.volumes
      .map((v) => ({ v, want: wanted.deleteOnTermination(v.deviceName) }))
      .filter(({ v, want }) => want !== undefined && want !== v.deleteOnTermination)
      .map(({ v, want }) => ({ DeviceName: v.deviceName, Ebs: { DeleteOnTermination: want } }));
    if (mappings.length > 0) {
      const cmd = new ModifyInstanceAttributeCommand({ InstanceId: instanceId, BlockDeviceMappings: mappings });
      await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), resource));
      changed = true;
    }
    return changed;
  }

  async function association(what: string, instanceId: string) {
    const out = await awsCall(
      what,
      () =>
        ec2.send(
          new DescribeIamInstanceProfileAssociationsCommand({
            Filters: [
              { Name: 'instance-id', Values: [instanceId] },
              { Name: 'state', Values: ['associating', 'associated'] },
            ],
          }),
        ),
      `instance profile association of ${instanceId}`,
    );
    return out.IamInstanceProfileAssociations?.find((a) => a.InstanceId === instanceId);
  }

  /** Makes the instance's profile `wanted` (undefined = none); reports the profile it found. */
  async function setProfile(plan: CallPlan, what: string, instanceId: string, wanted?: string) {
    const assoc = await association(what, instanceId);
    const current = assoc?.IamInstanceProfile?.Arn;
    if (current === wanted) return { current, changed: false };
    const resource = `instance ${instanceId} (profile ${wanted ?? 'none'})`;
    if (!wanted) {
      const cmd = new DisassociateIamInstanceProfileCommand({ AssociationId: assoc!.AssociationId });
      await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), resource));
    } else if (assoc) {
      const cmd = new ReplaceIamInstanceProfileAssociationCommand({
        AssociationId: assoc.AssociationId,
        IamInstanceProfile: { Arn: wanted },
      });
      await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), resource));
    } else {
      const cmd = new AssociateIamInstanceProfileCommand({
        InstanceId: instanceId,
        IamInstanceProfile: { Arn: wanted },
      });
      await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), resource));
    }
    return { current, changed: true };
  }

  return {
    async 'ec2.stopInstance'({ instanceId, force, dryRun }) {
      const what = 'ec2.stopInstance';
      const plan = new CallPlan(dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const state = instance.State?.Name ?? 'unknown';
      const recorded = tagRecord(instance.Tags)[RECORD_TAG.stateBefore];
      const previousState = recorded ?? state;
      if (STOPPED_OR_GOING.includes(state)) {
        return { instanceId, previousState, currentState: state, changed: recorded !== undefined, ...plan.fields() };
      }
      await record(plan, what, instance, RECORD_TAG.stateBefore, state);
      const cmd = new StopInstancesCommand({ InstanceIds: [instanceId], Force: force });
      const out = await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), `instance ${instanceId}`));
      const currentState = out?.StoppingInstances?.[0]?.CurrentState?.Name ?? (plan.dryRun ? state : 'stopping');
      return { instanceId, previousState, currentState, changed: true, ...plan.fields() };
    },

    async 'ec2.startInstance'({ instanceId, previousState: before, dryRun }) {
      const what = 'ec2.startInstance';
      const plan = new CallPlan(dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const state = instance.State?.Name ?? 'unknown';
      const unchanged = { instanceId, previousState: state, currentState: state, changed: false };
      // It was not running before the stop: starting it would not restore anything.
      if (before !== undefined && !RUNNING_OR_GOING.includes(before)) return { ...unchanged, ...plan.fields() };
      let currentState = state;
      if (state === 'stopping') {
        // Retryable: Temporal tries again with back-off until the stop has finished.
        throw ApplicationFailure.retryable(
          `${what}: instance ${instanceId} is still stopping`,
          'InstanceStillStopping',
        );
      }
      if (state === 'stopped') {
        const cmd = new StartInstancesCommand({ InstanceIds: [instanceId] });
        const out = await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), `instance ${instanceId}`));
        currentState = out?.StartingInstances?.[0]?.CurrentState?.Name ?? (plan.dryRun ? state : 'pending');
      }
      await forget(plan, what, instance, RECORD_TAG.stateBefore);
      return { ...unchanged, currentState, changed: currentState !== state, ...plan.fields() };
    },

    async 'ec2.preserveInstance'({ instanceId, dryRun }) {
      const what = 'ec2.preserveInstance';
      const plan = new CallPlan(dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const shutdown = await shutdownBehavior(what, instanceId);
      const volumes = volumesOf(instance);
      const recorded = tagRecord(instance.Tags)[RECORD_TAG.preservationBefore];
      const previous = recorded
        ? decodePreservation(recorded)
        : { shutdownBehavior: shutdown, volumes: volumes.map((v) => ({ ...v })) };
      // A record has no volume IDs: name them from the current mappings.
      for (const v of previous.volumes) v.volumeId ??= volumes.find((c) => c.deviceName === v.deviceName)?.volumeId;
      const needed = shutdown !== 'stop' || volumes.some((v) => v.deleteOnTermination);
      if (needed)
        await record(plan, what, instance, RECORD_TAG.preservationBefore, encodePreservation(shutdown, volumes));
      const changed = await applyPreservation(
        plan,
        what,
        instanceId,
        { shutdown, volumes },
        { shutdown: 'stop', deleteOnTermination: () => false },
      );
      return { instanceId, previous, changed: changed || recorded !== undefined, ...plan.fields() };
    },

    async 'ec2.restorePreservation'({ instanceId, shutdownBehavior: wantedShutdown, volumes: wanted, dryRun }) {
      const what = 'ec2.restorePreservation';
      const plan = new CallPlan(dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const shutdown = await shutdownBehavior(what, instanceId);
      const byDevice = new Map(wanted.map((v) => [v.deviceName, v.deleteOnTermination]));
      const changed = await applyPreservation(
        plan,
        what,
        instanceId,
        { shutdown, volumes: volumesOf(instance) },
        { shutdown: wantedShutdown, deleteOnTermination: (d) => byDevice.get(d) },
      );
      await forget(plan, what, instance, RECORD_TAG.preservationBefore);
      return { instanceId, changed, ...plan.fields() };
    },

    async 'ec2.detachInstanceProfile'({ instanceId, replacementProfileArn, dryRun }) {
      const what = 'ec2.detachInstanceProfile';
      const plan = new CallPlan(dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const recorded = tagRecord(instance.Tags)[RECORD_TAG.instanceProfileBefore];
      const current = (await association(what, instanceId))?.IamInstanceProfile?.Arn;
      if (current !== replacementProfileArn) {
        await record(plan, what, instance, RECORD_TAG.instanceProfileBefore, current ?? '');
      }
      const set = await setProfile(plan, what, instanceId, replacementProfileArn);
      // An empty record means "had none".
      const previousProfileArn = recorded !== undefined ? recorded || undefined : set.current;
      return {
        instanceId,
        previousProfileArn,
        currentProfileArn: replacementProfileArn,
        changed: set.changed || recorded !== undefined,
        ...plan.fields(),
      };
    },

    async 'ec2.restoreInstanceProfile'({ instanceId, instanceProfileArn, dryRun }) {
      const what = 'ec2.restoreInstanceProfile';
      const plan = new CallPlan(dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const set = await setProfile(plan, what, instanceId, instanceProfileArn);
      await forget(plan, what, instance, RECORD_TAG.instanceProfileBefore);
      return {
        instanceId,
        previousProfileArn: set.current,
        currentProfileArn: instanceProfileArn,
        changed: set.changed,
        ...plan.fields(),
      };
    },
  };
}
