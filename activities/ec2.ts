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
import { membershipsOf } from './ec2-membership';
import { createEc2NetworkActivities } from './ec2-network';
import { awsCall, classifyAwsError, describeAwsError } from './errors';
import { CallPlan } from './plan';
import { sendOnce } from './send-once';
import type { ActionName, ActionOutput, ActivityInput, StepContext } from './schemas';

export { tagRecord } from './ec2-common';

/** Default quarantine group name (one per VPC). */
export const DEFAULT_QUARANTINE_GROUP = 'firebreak-quarantine';

/** Placeholder IDs in a dry run's output and calls for what a real run would create. */
export const DRY_RUN_ID = { group: 'sg-(created)', snapshot: 'snap-(created)' } as const;

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
 * @param source fixed clients, or the factory that gives each step its target's clients; `ec2`, and `autoScaling` and
 *   `elbv2` for the capture of the instance's memberships (left out of the capture without them)
 */
export function createEc2Activities(
  source: (Pick<AwsClients, 'ec2'> & Partial<Pick<AwsClients, 'autoScaling' | 'elbv2'>>) | ClientFactory,
): Ec2Activities {
  return routeByTarget(source, (clients) => ({
    ...baseActivities(clients),
    ...createEc2NetworkActivities(clients),
    ...createEc2InstanceActivities(clients),
    ...createEc2IsolationActivities(clients),
  }));
}

function baseActivities(
  clients: Pick<AwsClients, 'ec2'> & Partial<Pick<AwsClients, 'autoScaling' | 'elbv2'>>,
): Pick<Ec2Activities, BaseActionName> {
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

  /**
   * The evidence snapshots an earlier attempt of this step took, by source volume (the oldest usable one of each): one
   * tag-filtered DescribeSnapshots for every volume at once (paged), not one per volume.
   */
  async function earlierSnapshots(
    what: string,
    executionId: string,
    stepId: string,
    volumeIds: string[],
  ): Promise<Map<string, string>> {
    const found: Snapshot[] = [];
    if (volumeIds.length === 0) return new Map();
    let nextToken: string | undefined;
    do {
      const page = await awsCall(
        what,
        () =>
          ec2.send(
            new DescribeSnapshotsCommand({
              OwnerIds: ['self'],
              Filters: [
                { Name: `tag:${TAG.executionId}`, Values: [executionId.slice(0, MAX_TAG_VALUE)] },
                { Name: `tag:${TAG.stepId}`, Values: [stepId.slice(0, MAX_TAG_VALUE)] },
                { Name: `tag:${TAG.sourceVolume}`, Values: volumeIds },
              ],
              NextToken: nextToken,
            }),
          ),
        `snapshots of volumes ${volumeIds.join(', ')}`,
      );
      found.push(...(page.Snapshots ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    const usable = found
      .filter((s) => s.State !== 'error' && s.SnapshotId)
      .sort((a, b) => (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0));
    const byVolume = new Map<string, string>();
    for (const s of usable) {
      const volumeId = tagRecord(s.Tags)[TAG.sourceVolume];
      if (volumeId && volumeIds.includes(volumeId) && !byVolume.has(volumeId)) byVolume.set(volumeId, s.SnapshotId!);
    }
    return byVolume;
  }
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
    plan: CallPlan,
  ): Promise<{ group: SecurityGroup; created: boolean }> {
    const resource = `security group ${name} in ${vpcId}`;
    const existing = await findGroup(what, vpcId, name);
    if (existing) return { group: existing, created: false };
    let groupId: string;
    try {
      const create = new CreateSecurityGroupCommand({
        GroupName: name,
        VpcId: vpcId,
        Description: 'firebreak quarantine: no ingress, no egress',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: toTags({ [TAG.managed]: 'true', Name: name }) }],
      });
      const out = await plan.call('ec2', create, () => ec2.send(create));
      groupId = out?.GroupId ?? DRY_RUN_ID.group;
    } catch (err) {
      // Another isolation in the same VPC won the race: use its group.
      if (describeAwsError(err).name === 'InvalidGroup.Duplicate') {
        const group = await findGroup(what, vpcId, name);
        if (group) return { group, created: false };
      }
      return classifyAwsError(err, what, resource);
    }
    const seen = plan.dryRun ? undefined : await findGroup(what, vpcId, name);
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
  async function ensureNoRules(what: string, group: SecurityGroup, plan: CallPlan): Promise<void> {
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
          const cmd = new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: perms });
          await plan.call('ec2', cmd, () => ec2.send(cmd));
        } else {
          const cmd = new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: perms });
          await plan.call('ec2', cmd, () => ec2.send(cmd));
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
        ...(await membershipsOf(clients, what, instance)),
      };
    },

    /**
     * Reported previous groups: the groups an ENI had when this call found it. An ENI already holding only the
     * quarantine group reports the groups recorded in its `firebreak:groups-before` tag when the tag was written by
     * this same execution step (a retry after a partial attempt), and otherwise the quarantine group itself: it was
     * isolated by someone else, and undoing that is not this step's rollback.
     *
     * Each ENI it moves (or finds moved by an earlier attempt of this step) is reported as it goes (reportPartial), so
     * a failure after the first ENI leaves the workflow the list of ENIs to restore. A dry run reports nothing as it
     * goes (nothing moves) and returns the groups each ENI has now.
     */
    async 'ec2.isolateInstance'({ instanceId, quarantineGroupName, ctx, dryRun }) {
      const what = 'ec2.isolateInstance';
      const plan = new CallPlan(dryRun);
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
      const { group, created } = await findOrCreateQuarantineGroup(what, vpcId, name, plan);
      await ensureNoRules(what, group, plan);
      const quarantineGroupId = group.GroupId!;
      const key = stepKey(ctx);

      const networkInterfaces = [];
      const moved: { networkInterfaceId: string; groupIds: string[] }[] = [];
      const report = () => {
        // A dry run moves nothing, so there is no partial result for a rollback to undo.
        if (plan.dryRun) return;
        reportPartial({
          instanceId,
          vpcId,
          quarantineGroupId,
          quarantineGroupCreated: created,
          networkInterfaces: moved,
        });
      };
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
          const tag = new CreateTagsCommand({
            Resources: [eniId],
            Tags: toTags({ [TAG.groupsBefore]: recorded, [TAG.isolatedBy]: key }),
          });
          await plan.call('ec2', tag, () => awsCall(what, () => ec2.send(tag), `network interface ${eniId}`));
        }
        const move = new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eniId,
          Groups: [quarantineGroupId],
        });
        await plan.call('ec2', move, () => awsCall(what, () => ec2.send(move), `network interface ${eniId}`));
        networkInterfaces.push({ networkInterfaceId: eniId, groupIds: seen });
        moved.push({ networkInterfaceId: eniId, groupIds: seen });
        report();
      }
      return {
        instanceId,
        vpcId,
        quarantineGroupId,
        quarantineGroupCreated: created,
        networkInterfaces,
        ...plan.fields(),
      };
    },

    async 'ec2.restoreSecurityGroups'({ instanceId, networkInterfaces, dryRun }) {
      const what = 'ec2.restoreSecurityGroups';
      const plan = new CallPlan(dryRun);
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
          const cmd = new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: eniId,
            Groups: wanted.groupIds,
          });
          await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), `network interface ${eniId}`));
        }
        // The isolation record goes once the ENI leaves quarantine, or once it holds the recorded groups again (a
        // retry after the move). A no-op restore (putting back the quarantine group an ENI was found in) keeps the
        // record of whoever isolated it.
        const tags = tagRecord(eni?.TagSet);
        const recorded = tags[TAG.groupsBefore];
        const undone = change || (recorded !== undefined && sameSet(recorded.split(','), wanted.groupIds));
        if (undone && (recorded !== undefined || TAG.isolatedBy in tags)) {
          const untag = new DeleteTagsCommand({
            Resources: [eniId],
            Tags: [{ Key: TAG.groupsBefore }, { Key: TAG.isolatedBy }],
          });
          await plan.call('ec2', untag, () => awsCall(what, () => ec2.send(untag), `network interface ${eniId}`));
        }
        restored.push({ networkInterfaceId: eniId, groupIds: [...wanted.groupIds] });
      }
      return { instanceId, restored, ...plan.fields() };
    },

    /**
     * The value before firebreak first changed it is kept in the `firebreak:termination-protection-before` tag
     * (written before the change, so a retry after the change still reports it). A call that sets the value back to
     * the recorded one is a rollback: it reports the value it found and removes the tag.
     */
    async 'ec2.setTerminationProtection'({ instanceId, enabled, dryRun }) {
      const what = 'ec2.setTerminationProtection';
      const plan = new CallPlan(dryRun);
      const resource = `instance ${instanceId}`;
      const instance = await describeInstance(what, instanceId);
      const current = await terminationProtection(what, instanceId);
      const recordedTag = tagRecord(instance.Tags)[TAG.terminationProtectionBefore];
      const recorded = recordedTag === undefined ? undefined : recordedTag === 'true';
      const restoring = recorded !== undefined && recorded === enabled;
      const previous = recorded !== undefined && !restoring ? recorded : current;

      if (recorded === undefined && current !== enabled) {
        const tag = new CreateTagsCommand({
          Resources: [instanceId],
          Tags: toTags({ [TAG.terminationProtectionBefore]: String(current) }),
        });
        await plan.call('ec2', tag, () => awsCall(what, () => ec2.send(tag), resource));
      }
      if (current !== enabled) {
        const cmd = new ModifyInstanceAttributeCommand({
          InstanceId: instanceId,
          DisableApiTermination: { Value: enabled },
        });
        await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), resource));
      }
      if (restoring) {
        const untag = new DeleteTagsCommand({
          Resources: [instanceId],
          Tags: [{ Key: TAG.terminationProtectionBefore }],
        });
        await plan.call('ec2', untag, () => awsCall(what, () => ec2.send(untag), resource));
      }
      return { instanceId, previous, current: enabled, ...plan.fields() };
    },

    /**
     * Idempotency key: the step context's execution and step IDs, which a retry carries unchanged. Without a step
     * context, the Temporal workflow ID and activity ID stand in when running as an activity; a plain call uses the
     * fixed key `manual`/`ec2.snapshotVolumes`, so repeated plain calls reuse the first snapshot of each volume.
     */
    async 'ec2.snapshotVolumes'({ instanceId, tags, ctx, dryRun }) {
      const what = 'ec2.snapshotVolumes';
      const plan = new CallPlan(dryRun);
      const info = activityContext()?.info;
      const executionId = ctx?.executionId ?? info?.workflowExecution?.workflowId ?? 'manual';
      const stepId = ctx?.stepId ?? info?.activityId ?? what;
      const instance = await describeInstance(what, instanceId);
      const volumes = (instance.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId).filter((v): v is string => !!v);

      const earlier = await earlierSnapshots(what, executionId, stepId, volumes);
      const snapshots = [];
      for (const volumeId of volumes) {
        heartbeatIfActive({ volumeId });
        const existing = earlier.get(volumeId);
        if (existing) {
          snapshots.push({ volumeId, snapshotId: existing, created: false });
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
        const create = sendOnce(
          new CreateSnapshotCommand({
            VolumeId: volumeId,
            Description: `firebreak evidence of ${instanceId} ${volumeId} (${executionId}/${stepId})`.slice(0, 255),
            // Tagged in the same call, so a snapshot never exists without the tags a retry looks it up by.
            TagSpecifications: [{ ResourceType: 'snapshot', Tags: toTags(evidence) }],
          }),
        );
        const created = await plan.call('ec2', create, () =>
          awsCall(what, () => ec2.send(create), `volume ${volumeId}`).catch(async (err: unknown) => {
            // A 5xx or a dropped connection can come after EC2 took the snapshot: look for it before this attempt
            // fails (the step's retry would find it too, but only after spending one of its attempts).
            if (!(err instanceof ApplicationFailure) || err.nonRetryable) throw err;
            const taken = (await earlierSnapshots(what, executionId, stepId, [volumeId])).get(volumeId);
            if (!taken) throw err;
            return { SnapshotId: taken };
          }),
        );
        snapshots.push({ volumeId, snapshotId: created?.SnapshotId ?? DRY_RUN_ID.snapshot, created: true });
      }
      return { instanceId, snapshots, ...plan.fields() };
    },

    async 'ec2.tagInstance'({ instanceId, tags, dryRun }) {
      const what = 'ec2.tagInstance';
      const plan = new CallPlan(dryRun);
      // Describe first: some endpoints accept tags for IDs that do not exist, and a clear NotFound is worth a call.
      await describeInstance(what, instanceId);
      const cmd = new CreateTagsCommand({ Resources: [instanceId], Tags: toTags(tags) });
      await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), `instance ${instanceId}`));
      return { instanceId, tags: { ...tags }, ...plan.fields() };
    },
  };
  return activities;
}
