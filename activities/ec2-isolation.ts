/**
 * Two-phase security-group isolation, and the console output as evidence.
 *
 * Why two phases: a security group only filters new flows. A connection it tracked stays open after the ENI's groups
 * change, so a plain swap to a no-rule group leaves an attacker's established session alive. A flow that an allow-all
 * rule pair (all traffic in and out, 0.0.0.0/0 and ::/0) permits is not tracked; so each ENI first goes into such an
 * "untracked" group, which turns its tracked flows untracked, and then into the no-rule quarantine group, which drops
 * them (AWS Security Incident Response Guide; EC2 User Guide, "Security group connection tracking"). Some flows are
 * always tracked (ICMP, and flows whose rule is not allow-all): a network ACL deny (ec2.denyCidrInNetworkAcl) is the
 * hard cut that interrupts established traffic at once.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  GetConsoleOutputCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { heartbeatIfActive, reportPartial, type AwsClients } from './clients';
import type { Ec2Activities } from './ec2';
import {
  describeInstance,
  describeNetworkInterfaces,
  findSecurityGroup,
  MAX_TAG_VALUE,
  tagRecord,
  toTags,
} from './ec2-common';
import { awsCall, classifyAwsError, describeAwsError, refuse } from './errors';
import { CallPlan } from './plan';
import { sha256 } from './ssm-common';
import type { StepContext } from './schemas';

export const DEFAULT_UNTRACKED_GROUP = 'firebreak-untracked';

/** The tags ec2.isolateInstance writes too, so that ec2.restoreSecurityGroups clears them after either. */
const ISOLATION_TAG = {
  managed: 'firebreak:managed',
  groupsBefore: 'firebreak:groups-before',
  isolatedBy: 'firebreak:isolated-by',
} as const;

/** Every rule of the untracked group: all traffic, every address, both families. */
const ALLOW_ALL: IpPermission = {
  IpProtocol: '-1',
  IpRanges: [{ CidrIp: '0.0.0.0/0' }],
  Ipv6Ranges: [{ CidrIpv6: '::/0' }],
};
/** Placeholder group ID in a dry run's calls for a group that would be created. */
const TO_CREATE = 'sg-(created)';

type IsolationActionName = 'ec2.isolateInstanceTwoPhase' | 'ec2.getConsoleOutput';

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

function groupIdsOf(eni: { Groups?: { GroupId?: string }[] }): string[] {
  return (eni.Groups ?? []).map((g) => g.GroupId).filter((id): id is string => !!id);
}

function stepKey(ctx: StepContext | undefined): string | undefined {
  return ctx ? `${ctx.executionId}/${ctx.stepId}`.slice(0, MAX_TAG_VALUE) : undefined;
}

const allTraffic = (perms: IpPermission[] | undefined) => (perms ?? []).filter((p) => p.IpProtocol === '-1');
const allows4 = (perms: IpPermission[] | undefined) =>
  allTraffic(perms).some((p) => p.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0'));
const allows6 = (perms: IpPermission[] | undefined) =>
  allTraffic(perms).some((p) => p.Ipv6Ranges?.some((r) => r.CidrIpv6 === '::/0'));

/** True when the rules allow all traffic to and from 0.0.0.0/0 and ::/0. */
function allowsAll(perms: IpPermission[] | undefined): boolean {
  return allows4(perms) && allows6(perms);
}

export function createEc2IsolationActivities(
  clients: Pick<AwsClients, 'ec2'>,
): Pick<Ec2Activities, IsolationActionName> {
  const { ec2 } = clients;
  const what = 'ec2.isolateInstanceTwoPhase';

  const findGroup = (vpcId: string, name: string) => findSecurityGroup(ec2, what, vpcId, name);

  /** Runs a rule change; a rule already there (or already gone) is the goal met, e.g. a concurrent isolation's. */
  async function ruleChange(plan: CallPlan, cmd: { input: unknown; constructor: { name: string } }, groupId: string) {
    await plan.call('ec2', cmd, async () => {
      try {
        await ec2.send(cmd as never);
      } catch (err) {
        const name = describeAwsError(err).name;
        if (name === 'InvalidPermission.Duplicate' || name === 'InvalidPermission.NotFound') return;
        classifyAwsError(err, what, `rules of security group ${groupId}`);
      }
    });
  }

  /**
   * Finds or creates the VPC's group of that name and brings its rules to the kind's: allow-all both ways
   * (`untracked`) or none (`quarantine`). A group of that name that firebreak did not create is used only when its
   * rules already are the kind's; changing someone else's group could break whatever else uses it.
   */
  async function ensureGroup(
    plan: CallPlan,
    vpcId: string,
    name: string,
    kind: 'untracked' | 'quarantine',
  ): Promise<string> {
    let group = await findGroup(vpcId, name);
    let created = false;
    if (!group) {
      const create = new CreateSecurityGroupCommand({
        GroupName: name,
        VpcId: vpcId,
        Description:
          kind === 'untracked'
            ? 'firebreak isolation phase 1: allow-all, so tracked connections become untracked'
            : 'firebreak quarantine: no ingress, no egress',
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: toTags({ [ISOLATION_TAG.managed]: 'true', Name: name }) },
        ],
      });
      let groupId: string | undefined;
      try {
        groupId = (await plan.call('ec2', create, () => ec2.send(create)))?.GroupId;
      } catch (err) {
        // Another isolation in the same VPC won the race: use its group.
        if (describeAwsError(err).name !== 'InvalidGroup.Duplicate') classifyAwsError(err, what, `group ${name}`);
      }
      if (plan.dryRun && !groupId) groupId = TO_CREATE;
      group = (groupId !== TO_CREATE && (await findGroup(vpcId, name))) || {
        GroupId: groupId,
        GroupName: name,
        // What EC2 gives every new group: allow-all IPv4 egress.
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      };
      created = true;
    }
    const groupId = group.GroupId!;
    const managed = created || tagRecord(group.Tags)[ISOLATION_TAG.managed] === 'true';
    const ingress = group.IpPermissions ?? [];
    const egress = group.IpPermissionsEgress ?? [];
    const ready =
      kind === 'untracked' ? allowsAll(ingress) && allowsAll(egress) : ingress.length === 0 && egress.length === 0;
    if (ready) return groupId;
    if (!managed) {
      throw ApplicationFailure.nonRetryable(
        `${what}: security group ${groupId} (${name}) is not managed by firebreak and its rules are not ` +
          `${kind === 'untracked' ? 'allow-all' : 'empty'}; refusing to use it`,
        'IsolationGroupNotUsable',
      );
    }
    if (kind === 'untracked') {
      if (!allowsAll(ingress)) {
        await ruleChange(
          plan,
          new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ALLOW_ALL] }),
          groupId,
        );
      }
      if (!allowsAll(egress)) {
        // A new group's IPv4 allow-all egress is there already; add what is missing, one family at a time.
        const missing = [
          ...(allows4(egress) ? [] : [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]),
          ...(allows6(egress) ? [] : [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }]),
        ];
        for (const perm of missing) {
          await ruleChange(
            plan,
            new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [perm] }),
            groupId,
          );
        }
      }
      return groupId;
    }
    if (ingress.length > 0) {
      await ruleChange(
        plan,
        new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ingress }),
        groupId,
      );
    }
    if (egress.length > 0) {
      await ruleChange(
        plan,
        new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: egress }),
        groupId,
      );
    }
    return groupId;
  }

  const describeEnis = (ids: string[]) => describeNetworkInterfaces(ec2, what, ids);

  async function setGroups(plan: CallPlan, eniId: string, groupId: string) {
    const cmd = new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [groupId] });
    await plan.call('ec2', cmd, () => awsCall(what, () => ec2.send(cmd), `network interface ${eniId}`));
  }

  return {
    /**
     * Reported previous groups, as ec2.isolateInstance reports them: what each ENI had when this step found it; for
     * an ENI already in the untracked or quarantine group, the groups recorded in its `firebreak:groups-before` tag
     * when this same step wrote it (a retry), else the groups it is in (someone else isolated it).
     */
    async 'ec2.isolateInstanceTwoPhase'(input) {
      const { instanceId, networkInterfaceIds, ctx } = input;
      const plan = new CallPlan(input.dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const vpcId = instance.VpcId;
      const attached = [...(instance.NetworkInterfaces ?? [])]
        .sort((x, y) => (x.Attachment?.DeviceIndex ?? 0) - (y.Attachment?.DeviceIndex ?? 0))
        .map((n) => n.NetworkInterfaceId!);
      const foreign = (networkInterfaceIds ?? []).filter((id) => !attached.includes(id));
      if (foreign.length > 0) {
        return refuse(
          what,
          `${foreign.join(', ')} not attached to instance ${instanceId}`,
          'NetworkInterfaceNotAttached',
        );
      }
      const eniIds = networkInterfaceIds ? attached.filter((id) => networkInterfaceIds.includes(id)) : attached;
      if (!vpcId || eniIds.length === 0) {
        return refuse(
          what,
          `instance ${instanceId} has no VPC network interface to isolate (state ${instance.State?.Name})`,
          'InstanceNotIsolatable',
        );
      }
      const untrackedGroupId = await ensureGroup(
        plan,
        vpcId,
        input.untrackedGroupName ?? DEFAULT_UNTRACKED_GROUP,
        'untracked',
      );
      const quarantineGroupId = await ensureGroup(
        plan,
        vpcId,
        input.quarantineGroupName ?? 'firebreak-quarantine',
        'quarantine',
      );
      const key = stepKey(ctx);

      const networkInterfaces = [];
      // Every ENI this step is about to move is reported first (reportPartial): if a later one fails, the rollback
      // restores exactly these to their captured groups (restoring one that did not move yet changes nothing).
      const touched: { networkInterfaceId: string; groupIds: string[] }[] = [];
      for (const eni of await describeEnis(eniIds)) {
        const eniId = eni.NetworkInterfaceId!;
        const seen = groupIdsOf(eni);
        const tags = tagRecord(eni.TagSet);
        const ours = key !== undefined && tags[ISOLATION_TAG.isolatedBy] === key && tags[ISOLATION_TAG.groupsBefore];
        heartbeatIfActive({ networkInterfaceId: eniId });
        const inQuarantine = sameSet(seen, [quarantineGroupId]);
        const inUntracked = sameSet(seen, [untrackedGroupId]);
        const before = (inQuarantine || inUntracked) && ours ? ours.split(',') : seen;
        networkInterfaces.push({ networkInterfaceId: eniId, groupIds: before });
        // Ours to undo: an ENI this step moves now, or one an earlier attempt of this step moved (its tag says so).
        if (!plan.dryRun && (!inQuarantine || ours)) {
          touched.push({ networkInterfaceId: eniId, groupIds: before });
          reportPartial({ instanceId, vpcId, untrackedGroupId, quarantineGroupId, networkInterfaces: touched });
        }
        if (inQuarantine) continue;
        if (!inUntracked || !ours) {
          // Record the groups on the ENI before moving it, so a retry after the move can still report them.
          const recorded = before.join(',');
          if (key !== undefined && recorded.length <= MAX_TAG_VALUE && !ours) {
            const tag = new CreateTagsCommand({
              Resources: [eniId],
              Tags: toTags({ [ISOLATION_TAG.groupsBefore]: recorded, [ISOLATION_TAG.isolatedBy]: key }),
            });
            await plan.call('ec2', tag, () => awsCall(what, () => ec2.send(tag), `network interface ${eniId}`));
          }
        }
        if (!inUntracked) await setGroups(plan, eniId, untrackedGroupId); // phase 1: tracked flows become untracked
        await setGroups(plan, eniId, quarantineGroupId); // phase 2: untracked flows are dropped
      }
      return { instanceId, vpcId, untrackedGroupId, quarantineGroupId, networkInterfaces, ...plan.fields() };
    },

    /** Read-only; the console buffer as EC2 keeps it (the last 64 KB), decoded, with its digest. */
    async 'ec2.getConsoleOutput'({ instanceId, latest }) {
      const action = 'ec2.getConsoleOutput';
      const out = await awsCall(
        action,
        () => ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: latest })),
        `instance ${instanceId}`,
      );
      const text = out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : '';
      return {
        instanceId,
        output: text,
        bytes: Buffer.byteLength(text),
        sha256: sha256(text),
        timestamp: out.Timestamp?.toISOString(),
        collectedAt: new Date().toISOString(),
      };
    },
  };
}
