/**
 * EC2 activities: capture, isolate, restore, termination protection, evidence snapshots, tags; and, from
 * ec2-network.ts, ec2-instance.ts and ec2-isolation.ts, network ACL deny entries, stop/start, evidence preservation,
 * instance profiles, two-phase isolation and console output.
 *
 * Every mutating activity is written to be retried by Temporal: it looks before it acts, and where a retry could not
 * otherwise tell what an earlier attempt saw, it leaves a `firebreak:*` tag on the resource first and reads it back.
 */
import {
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeSnapshotsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type Instance,
  type InstanceNetworkInterface,
  type IpPermission,
  type SecurityGroup,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import {
  activityContext,
  heartbeatIfActive,
  reportPartial,
  routeByTarget,
  type AwsClients,
  type ClientFactory,
} from './clients';
import {
  describeInstance as describeOne,
  describeNetworkInterfaces,
  findSecurityGroup,
  MAX_TAG_VALUE,
  RECORD_TAG,
  tagRecord,
  toTags,
} from './ec2-common';
import { createEc2InstanceActivities } from './ec2-instance';
import { createEc2IsolationActivities } from './ec2-isolation';
import { createEc2NetworkActivities } from './ec2-network';
import { awsCall, classifyAwsError, describeAwsError } from './errors';
import type { ActionName, ActionOutput, ActivityInput, StepContext } from './schemas';

export { tagRecord } from './ec2-common';

/** Default quarantine group name (one per VPC). */
export const DEFAULT_QUARANTINE_GROUP = 'firebreak-quarantine';

/** Tag keys firebreak writes. */
export const TAG = {
  managed: 'firebreak:managed',
  terminationProtectionBefore: 'firebreak:termination-protection-before',
  groupsBefore: 'firebreak:groups-before',
  isolatedBy: 'firebreak:isolated-by',
  executionId: 'firebreak:execution-id',
  incidentId: 'firebreak:incident-id',
  stepId: 'firebreak:step-id',
  runbookId: 'firebreak:runbook-id',
  sourceVolume: 'firebreak:source-volume',
  sourceInstance: 'firebreak:source-instance',
  createdAt: 'firebreak:created-at',
  ...RECORD_TAG,
} as const;

type Ec2ActionName = Extract<ActionName, `ec2.${string}`>;
export type Ec2Activities = { [A in Ec2ActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>> };
type BaseActionName =
  | 'ec2.captureInstance'
  | 'ec2.isolateInstance'
  | 'ec2.restoreSecurityGroups'
  | 'ec2.setTerminationProtection'
  | 'ec2.snapshotVolumes'
  | 'ec2.tagInstance';

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

function enisOf(instance: Instance): InstanceNetworkInterface[] {
  // Device order, so outputs are stable and the primary ENI comes first.
  return [...(instance.NetworkInterfaces ?? [])].sort(
    (x, y) => (x.Attachment?.DeviceIndex ?? 0) - (y.Attachment?.DeviceIndex ?? 0),
  );
}

function groupIdsOf(eni: { Groups?: { GroupId?: string }[] }): string[] {
  return (eni.Groups ?? []).map((g) => g.GroupId).filter((id): id is string => !!id);
}

/** Identifies the execution step a retry must recognise as its own. */
function stepKey(ctx: StepContext | undefined): string | undefined {
  return ctx ? `${ctx.executionId}/${ctx.stepId}`.slice(0, MAX_TAG_VALUE) : undefined;
}

/**
 * Creates the EC2 activities, keyed by action name.
 *
 * @param source fixed clients, or the factory that gives each step its target's clients; only `ec2` is used
 */
export function createEc2Activities(source: Pick<AwsClients, 'ec2'> | ClientFactory): Ec2Activities {
  return routeByTarget(source, (clients) => ({
    ...baseActivities(clients),
    ...createEc2NetworkActivities(clients),
    ...createEc2InstanceActivities(clients),
    ...createEc2IsolationActivities(clients),
  }));
}

function baseActivities(clients: Pick<AwsClients, 'ec2'>): Pick<Ec2Activities, BaseActionName> {
  const { ec2 } = clients;
  const describeInstance = (what: string, instanceId: string): Promise<Instance> => describeOne(ec2, what, instanceId);

  async function terminationProtection(what: string, instanceId: string): Promise<boolean> {
    const out = await awsCall(
      what,
      () =>
        ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' })),
      `instance ${instanceId}`,
    );
    return out.DisableApiTermination?.Value ?? false;
  }

  const describeEnis = (what: string, ids: string[]) => describeNetworkInterfaces(ec2, what, ids);
  const findGroup = (what: string, vpcId: string, name: string) => findSecurityGroup(ec2, what, vpcId, name);

  /**
   * Finds the quarantine group of the VPC, creating it only when absent. A group this call creates is returned with
   * the allow-all IPv4 egress rule EC2 gives every new group, so that it gets revoked even when a describe right after
   * the create does not see the group yet (EC2 is eventually consistent); rules the describe does see are added.
   */
  async function findOrCreateQuarantineGroup(
    what: string,
    vpcId: string,
    name: string,
  ): Promise<{ group: SecurityGroup; created: boolean }> {
    const resource = `security group ${name} in ${vpcId}`;
    const existing = await findGroup(what, vpcId, name);
    if (existing) return { group: existing, created: false };
    let groupId: string;
    try {
      const out = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          VpcId: vpcId,
          Description: 'firebreak quarantine: no ingress, no egress',
          TagSpecifications: [{ ResourceType: 'security-group', Tags: toTags({ [TAG.managed]: 'true', Name: name }) }],
        }),
      );
      groupId = out.GroupId!;
    } catch (err) {
      // Another isolation in the same VPC won the race: use its group.
      if (describeAwsError(err).name === 'InvalidGroup.Duplicate') {
        const group = await findGroup(what, vpcId, name);
        if (group) return { group, created: false };
      }
      return classifyAwsError(err, what, resource);
    }
    const seen = await findGroup(what, vpcId, name);
    const defaultEgress: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
    const egress = seen?.IpPermissionsEgress?.length ? seen.IpPermissionsEgress : [defaultEgress];
    return {
      group: {
        ...seen,
        GroupId: groupId,
        GroupName: name,
        VpcId: vpcId,
        Tags: toTags({ [TAG.managed]: 'true' }),
        IpPermissionsEgress: egress,
      },
      created: true,
    };
  }

  /** Removes every rule of a firebreak-managed quarantine group (a new group comes with an allow-all egress rule). */
  async function ensureNoRules(what: string, group: SecurityGroup): Promise<void> {
    const groupId = group.GroupId!;
    const ingress = group.IpPermissions ?? [];
    const egress = group.IpPermissionsEgress ?? [];
    if (ingress.length === 0 && egress.length === 0) return;
    if (tagRecord(group.Tags)[TAG.managed] !== 'true') {
      // A group of that name that firebreak did not create: stripping its rules could break whatever uses it, and
      // isolating into it would not isolate. Stop and let a human choose another name.
      throw ApplicationFailure.nonRetryable(
        `${what}: security group ${groupId} (${group.GroupName}) is not managed by firebreak and has rules; ` +
          'refusing to use it as quarantine group',
        'QuarantineGroupNotEmpty',
      );
    }
    const revoke = async (kind: 'ingress' | 'egress', perms: IpPermission[]) => {
      if (perms.length === 0) return;
      try {
        if (kind === 'egress') {
          await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: perms }));
        } else {
          await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: perms }));
        }
      } catch (err) {
        // A concurrent isolation revoked it first: the goal (no rule) is met.
        if (describeAwsError(err).name === 'InvalidPermission.NotFound') return;
        classifyAwsError(err, what, `${kind} rules of security group ${groupId}`);
      }
    };
    await revoke('ingress', ingress);
    await revoke('egress', egress);
  }

  const activities: Pick<Ec2Activities, BaseActionName> = {
    async 'ec2.captureInstance'({ instanceId }) {
      const what = 'ec2.captureInstance';
      const instance = await describeInstance(what, instanceId);
      const protection = await terminationProtection(what, instanceId);
      return {
        instanceId,
        state: instance.State?.Name ?? 'unknown',
        // Terminated instances lose their VPC and ENIs; they are reported with an empty VPC rather than failing.
        vpcId: instance.VpcId ?? '',
        subnetId: instance.SubnetId,
        privateIpAddress: instance.PrivateIpAddress,
        networkInterfaces: enisOf(instance).map((n) => ({
          networkInterfaceId: n.NetworkInterfaceId!,
          groupIds: groupIdsOf(n),
        })),
        volumes: (instance.BlockDeviceMappings ?? [])
          .filter((b) => b.Ebs?.VolumeId)
          .map((b) => ({ volumeId: b.Ebs!.VolumeId!, deviceName: b.DeviceName })),
        tags: tagRecord(instance.Tags),
        terminationProtection: protection,
      };
    },

    /**
     * Reported previous groups: the groups an ENI had when this call found it. An ENI already holding only the
     * quarantine group reports the groups recorded in its `firebreak:groups-before` tag when the tag was written by
     * this same execution step (a retry after a partial attempt), and otherwise the quarantine group itself: it was
     * isolated by someone else, and undoing that is not this step's rollback.
     *
     * Each ENI it moves (or finds moved by an earlier attempt of this step) is reported as it goes (reportPartial), so
     * a failure after the first ENI leaves the workflow the list of ENIs to restore.
     */
    async 'ec2.isolateInstance'({ instanceId, quarantineGroupName, ctx }) {
      const what = 'ec2.isolateInstance';
      const instance = await describeInstance(what, instanceId);
      const vpcId = instance.VpcId;
      const eniIds = enisOf(instance).map((n) => n.NetworkInterfaceId!);
      if (!vpcId || eniIds.length === 0) {
        throw ApplicationFailure.nonRetryable(
          `${what}: instance ${instanceId} has no VPC network interface to isolate (state ${instance.State?.Name})`,
          'InstanceNotIsolatable',
        );
      }
      const name = quarantineGroupName ?? DEFAULT_QUARANTINE_GROUP;
      const { group, created } = await findOrCreateQuarantineGroup(what, vpcId, name);
      await ensureNoRules(what, group);
      const quarantineGroupId = group.GroupId!;
      const key = stepKey(ctx);

      const networkInterfaces = [];
      const moved: { networkInterfaceId: string; groupIds: string[] }[] = [];
      const report = () =>
        reportPartial({
          instanceId,
          vpcId,
          quarantineGroupId,
          quarantineGroupCreated: created,
          networkInterfaces: moved,
        });
      for (const eni of await describeEnis(what, eniIds)) {
        const eniId = eni.NetworkInterfaceId!;
        const seen = groupIdsOf(eni);
        if (sameSet(seen, [quarantineGroupId])) {
          const tags = tagRecord(eni.TagSet);
          const recorded = tags[TAG.groupsBefore];
          const ours = key !== undefined && tags[TAG.isolatedBy] === key && recorded;
          networkInterfaces.push({ networkInterfaceId: eniId, groupIds: ours ? recorded.split(',') : seen });
          if (ours) {
            moved.push({ networkInterfaceId: eniId, groupIds: recorded.split(',') });
            report();
          }
          continue;
        }
        // Record the groups on the ENI before moving it, so a retry after the move can still report them.
        const recorded = seen.join(',');
        if (key !== undefined && recorded.length <= MAX_TAG_VALUE) {
          await awsCall(
            what,
            () =>
              ec2.send(
                new CreateTagsCommand({
                  Resources: [eniId],
                  Tags: toTags({ [TAG.groupsBefore]: recorded, [TAG.isolatedBy]: key }),
                }),
              ),
            `network interface ${eniId}`,
          );
        }
        await awsCall(
          what,
          () =>
            ec2.send(
              new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [quarantineGroupId] }),
            ),
          `network interface ${eniId}`,
        );
        networkInterfaces.push({ networkInterfaceId: eniId, groupIds: seen });
        moved.push({ networkInterfaceId: eniId, groupIds: seen });
        report();
      }
      return { instanceId, vpcId, quarantineGroupId, quarantineGroupCreated: created, networkInterfaces };
    },

    async 'ec2.restoreSecurityGroups'({ instanceId, networkInterfaces }) {
      const what = 'ec2.restoreSecurityGroups';
      const enis = await describeEnis(
        what,
        networkInterfaces.map((n) => n.networkInterfaceId),
      );
      const byId = new Map(enis.map((e) => [e.NetworkInterfaceId!, e]));
      const restored = [];
      for (const wanted of networkInterfaces) {
        const eniId = wanted.networkInterfaceId;
        const eni = byId.get(eniId);
        const attachedTo = eni?.Attachment?.InstanceId;
        if (attachedTo && attachedTo !== instanceId) {
          throw ApplicationFailure.nonRetryable(
            `${what}: network interface ${eniId} is attached to ${attachedTo}, not ${instanceId}`,
            'NetworkInterfaceNotAttached',
          );
        }
        heartbeatIfActive({ networkInterfaceId: eniId });
        const change = !eni || !sameSet(groupIdsOf(eni), wanted.groupIds);
        if (change) {
          await awsCall(
            what,
            () =>
              ec2.send(
                new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: wanted.groupIds }),
              ),
            `network interface ${eniId}`,
          );
        }
        // The isolation record goes once the ENI leaves quarantine, or once it holds the recorded groups again (a
        // retry after the move). A no-op restore (putting back the quarantine group an ENI was found in) keeps the
        // record of whoever isolated it.
        const tags = tagRecord(eni?.TagSet);
        const recorded = tags[TAG.groupsBefore];
        const undone = change || (recorded !== undefined && sameSet(recorded.split(','), wanted.groupIds));
        if (undone && (recorded !== undefined || TAG.isolatedBy in tags)) {
          await awsCall(
            what,
            () =>
              ec2.send(
                new DeleteTagsCommand({
                  Resources: [eniId],
                  Tags: [{ Key: TAG.groupsBefore }, { Key: TAG.isolatedBy }],
                }),
              ),
            `network interface ${eniId}`,
          );
        }
        restored.push({ networkInterfaceId: eniId, groupIds: [...wanted.groupIds] });
      }
      return { instanceId, restored };
    },

    /**
     * The value before firebreak first changed it is kept in the `firebreak:termination-protection-before` tag
     * (written before the change, so a retry after the change still reports it). A call that sets the value back to
     * the recorded one is a rollback: it reports the value it found and removes the tag.
     */
    async 'ec2.setTerminationProtection'({ instanceId, enabled }) {
      const what = 'ec2.setTerminationProtection';
      const instance = await describeInstance(what, instanceId);
      const current = await terminationProtection(what, instanceId);
      const recordedTag = tagRecord(instance.Tags)[TAG.terminationProtectionBefore];
      const recorded = recordedTag === undefined ? undefined : recordedTag === 'true';
      const restoring = recorded !== undefined && recorded === enabled;
      const previous = recorded !== undefined && !restoring ? recorded : current;

      if (recorded === undefined && current !== enabled) {
        await awsCall(
          what,
          () =>
            ec2.send(
              new CreateTagsCommand({
                Resources: [instanceId],
                Tags: toTags({ [TAG.terminationProtectionBefore]: String(current) }),
              }),
            ),
          `instance ${instanceId}`,
        );
      }
      if (current !== enabled) {
        await awsCall(
          what,
          () =>
            ec2.send(
              new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: enabled } }),
            ),
          `instance ${instanceId}`,
        );
      }
      if (restoring) {
        await awsCall(
          what,
          () =>
            ec2.send(
              new DeleteTagsCommand({ Resources: [instanceId], Tags: [{ Key: TAG.terminationProtectionBefore }] }),
            ),
          `instance ${instanceId}`,
        );
      }
      return { instanceId, previous, current: enabled };
    },

    /**
     * Idempotency key: the step context's execution and step IDs, which a retry carries unchanged. Without a step
     * context, the Temporal workflow ID and activity ID stand in when running as an activity; a plain call uses the
     * fixed key `manual`/`ec2.snapshotVolumes`, so repeated plain calls reuse the first snapshot of each volume.
     */
    async 'ec2.snapshotVolumes'({ instanceId, tags, ctx }) {
      const what = 'ec2.snapshotVolumes';
      const info = activityContext()?.info;
      const executionId = ctx?.executionId ?? info?.workflowExecution?.workflowId ?? 'manual';
      const stepId = ctx?.stepId ?? info?.activityId ?? what;
      const instance = await describeInstance(what, instanceId);
      const volumes = (instance.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId).filter((v): v is string => !!v);

      const snapshots = [];
      for (const volumeId of volumes) {
        heartbeatIfActive({ volumeId });
        const found = await awsCall(
          what,
          () =>
            ec2.send(
              new DescribeSnapshotsCommand({
                OwnerIds: ['self'],
                Filters: [
                  { Name: `tag:${TAG.executionId}`, Values: [executionId] },
                  { Name: `tag:${TAG.stepId}`, Values: [stepId] },
                  { Name: `tag:${TAG.sourceVolume}`, Values: [volumeId] },
                ],
              }),
            ),
          `snapshots of volume ${volumeId}`,
        );
        const usable = (found.Snapshots ?? [])
          .filter((s) => s.State !== 'error')
          .sort((a, b) => (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0));
        const existing: Snapshot | undefined = usable[0];
        if (existing?.SnapshotId) {
          snapshots.push({ volumeId, snapshotId: existing.SnapshotId, created: false });
          continue;
        }
        // Evidence tags last, so that caller tags cannot overwrite them.
        const evidence: Record<string, string> = {
          ...tags,
          [TAG.executionId]: executionId.slice(0, MAX_TAG_VALUE),
          [TAG.stepId]: stepId.slice(0, MAX_TAG_VALUE),
          [TAG.sourceVolume]: volumeId,
          [TAG.sourceInstance]: instanceId,
          [TAG.createdAt]: new Date().toISOString(),
        };
        if (ctx?.runbookId) evidence[TAG.runbookId] = ctx.runbookId.slice(0, MAX_TAG_VALUE);
        if (ctx?.incidentId) evidence[TAG.incidentId] = ctx.incidentId.slice(0, MAX_TAG_VALUE);
        const created = await awsCall(
          what,
          () =>
            ec2.send(
              new CreateSnapshotCommand({
                VolumeId: volumeId,
                Description: `firebreak evidence of ${instanceId} ${volumeId} (${executionId}/${stepId})`.slice(0, 255),
                // Tagged in the same call, so a snapshot never exists without the tags a retry looks it up by.
                TagSpecifications: [{ ResourceType: 'snapshot', Tags: toTags(evidence) }],
              }),
            ),
          `volume ${volumeId}`,
        );
        snapshots.push({ volumeId, snapshotId: created.SnapshotId!, created: true });
      }
      return { instanceId, snapshots };
    },

    async 'ec2.tagInstance'({ instanceId, tags }) {
      const what = 'ec2.tagInstance';
      // Describe first: some endpoints accept tags for IDs that do not exist, and a clear NotFound is worth a call.
      await describeInstance(what, instanceId);
      await awsCall(
        what,
        () => ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: toTags(tags) })),
        `instance ${instanceId}`,
      );
      return { instanceId, tags: { ...tags } };
    },
  };
  return activities;
}
