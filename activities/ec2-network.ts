/**
 * Network ACL deny entries: the hard cut. A security-group change leaves tracked connections open; a network ACL entry
 * interrupts established traffic at once (AWS's connection-tracking documentation).
 *
 * Rule numbers are managed, never clobbered: the first free number from `minRuleNumber` is taken, and a number taken
 * by someone else between the describe and the create makes the action pick again. The entry firebreak made is named
 * in a tag on the ACL (`firebreak:nacl-deny:<direction>:<number>` = CIDR), written before the create, so a retry knows
 * the entry it finds is its own and its rollback may remove it; an identical entry that was already there is reported
 * `created: false` and left alone by the rollback.
 */
import {
  CreateNetworkAclEntryCommand,
  CreateTagsCommand,
  DeleteNetworkAclEntryCommand,
  DeleteTagsCommand,
  DescribeNetworkAclsCommand,
  type NetworkAcl,
  type NetworkAclEntry,
} from '@aws-sdk/client-ec2';
import type { AwsClients } from './clients';
import type { Ec2Activities } from './ec2';
import { describeInstance, RECORD_TAG, tagRecord, toTags } from './ec2-common';
import { awsCall, classifyAwsError, describeAwsError, refuse } from './errors';
import { CallPlan } from './plan';

type NetworkActionName = 'ec2.denyCidrInNetworkAcl' | 'ec2.removeNetworkAclEntry';

const MAX_RULE_NUMBER = 32766;
/** Times the create is tried again after losing a rule number to a concurrent writer. */
const MAX_RACES = 5;

export function naclTagKey(egress: boolean, ruleNumber: number): string {
  return `${RECORD_TAG.naclDenyPrefix}${egress ? 'egress' : 'ingress'}:${ruleNumber}`;
}

const isIpv6 = (cidr: string) => cidr.includes(':');
const cidrOf = (e: NetworkAclEntry) => e.CidrBlock ?? e.Ipv6CidrBlock;

/** A deny-everything entry for exactly this CIDR. */
function isDenyFor(e: NetworkAclEntry, cidr: string): boolean {
  return e.RuleAction === 'deny' && e.Protocol === '-1' && cidrOf(e)?.toLowerCase() === cidr.toLowerCase();
}

export function createEc2NetworkActivities(clients: Pick<AwsClients, 'ec2'>): Pick<Ec2Activities, NetworkActionName> {
  const { ec2 } = clients;

  async function describeAcl(what: string, filter: { subnetId?: string; aclId?: string }): Promise<NetworkAcl> {
    const resource = filter.subnetId ? `network ACL of subnet ${filter.subnetId}` : `network ACL ${filter.aclId}`;
    const out = await awsCall(
      what,
      () =>
        ec2.send(
          new DescribeNetworkAclsCommand(
            filter.subnetId
              ? { Filters: [{ Name: 'association.subnet-id', Values: [filter.subnetId] }] }
              : { NetworkAclIds: [filter.aclId!] },
          ),
        ),
      resource,
    );
    const acl = out.NetworkAcls?.[0];
    if (!acl?.NetworkAclId) return refuse(what, `${resource} not found`, 'InvalidNetworkAclID.NotFound');
    return acl;
  }

  return {
    async 'ec2.denyCidrInNetworkAcl'({ subnetId, instanceId, cidr, egress = false, minRuleNumber = 1, dryRun }) {
      const what = 'ec2.denyCidrInNetworkAcl';
      const plan = new CallPlan(dryRun);
      let subnet = subnetId;
      if (!subnet) {
        if (!instanceId) return refuse(what, 'needs subnetId or instanceId', 'InvalidInput');
        const instance = await describeInstance(ec2, what, instanceId);
        subnet = instance.SubnetId ?? refuse(what, `instance ${instanceId} is in no subnet`, 'InstanceNotInSubnet');
      }
      for (let race = 0; ; race++) {
        const acl = await describeAcl(what, { subnetId: subnet });
        const aclId = acl.NetworkAclId!;
        const entries = (acl.Entries ?? []).filter((e) => (e.Egress ?? false) === egress);
        const result = { networkAclId: aclId, subnetId: subnet, egress, cidr };
        const same = entries.find((e) => isDenyFor(e, cidr));
        if (same?.RuleNumber !== undefined) {
          const ours = tagRecord(acl.Tags)[naclTagKey(egress, same.RuleNumber)] === cidr;
          return { ...result, ruleNumber: same.RuleNumber, created: ours, ...plan.fields() };
        }
        const used = new Set(entries.map((e) => e.RuleNumber));
        let ruleNumber = minRuleNumber;
        while (used.has(ruleNumber)) ruleNumber++;
        if (ruleNumber > MAX_RULE_NUMBER) {
          return refuse(what, `no free rule number from ${minRuleNumber} in network ACL ${aclId}`, 'NetworkAclFull');
        }
        const resource = `network ACL ${aclId} rule ${ruleNumber}`;
        const tag = new CreateTagsCommand({
          Resources: [aclId],
          Tags: toTags({ [naclTagKey(egress, ruleNumber)]: cidr }),
        });
        await plan.call('ec2', tag, () => awsCall(what, () => ec2.send(tag), resource));
        const create = new CreateNetworkAclEntryCommand({
          NetworkAclId: aclId,
          RuleNumber: ruleNumber,
          Egress: egress,
          Protocol: '-1',
          RuleAction: 'deny',
          ...(isIpv6(cidr) ? { Ipv6CidrBlock: cidr } : { CidrBlock: cidr }),
        });
        try {
          await plan.call('ec2', create, () => ec2.send(create));
        } catch (err) {
          // Someone took the number since the describe: look again and pick another.
          if (describeAwsError(err).name === 'NetworkAclEntryAlreadyExists' && race < MAX_RACES) continue;
          return classifyAwsError(err, what, resource);
        }
        return { ...result, ruleNumber, created: true, ...plan.fields() };
      }
    },

    /** Removes the entry only when it is still the deny for that CIDR: a number reused by another rule is left. */
    async 'ec2.removeNetworkAclEntry'({ networkAclId, ruleNumber, egress, cidr, created, dryRun }) {
      const what = 'ec2.removeNetworkAclEntry';
      const plan = new CallPlan(dryRun);
      const result = { networkAclId, ruleNumber };
      if (created === false) return { ...result, removed: false, ...plan.fields() };
      const acl = await describeAcl(what, { aclId: networkAclId });
      const entry = acl.Entries?.find((e) => e.RuleNumber === ruleNumber && (e.Egress ?? false) === egress);
      const resource = `network ACL ${networkAclId} rule ${ruleNumber}`;
      if (entry && isDenyFor(entry, cidr)) {
        const del = new DeleteNetworkAclEntryCommand({
          NetworkAclId: networkAclId,
          RuleNumber: ruleNumber,
          Egress: egress,
        });
        await plan.call('ec2', del, () =>
          ec2.send(del).catch((err) => {
            // Gone since the describe (a concurrent rollback): the goal is met.
            if (describeAwsError(err).name === 'InvalidNetworkAclEntry.NotFound') return undefined;
            return classifyAwsError(err, what, resource);
          }),
        );
      }
      const key = naclTagKey(egress, ruleNumber);
      if (key in tagRecord(acl.Tags)) {
        const untag = new DeleteTagsCommand({ Resources: [networkAclId], Tags: [{ Key: key }] });
        await plan.call('ec2', untag, () => awsCall(what, () => ec2.send(untag), resource));
      }
      // The entry this rollback is about is gone now, whether this call or an earlier attempt removed it.
      return { ...result, removed: !entry || isDenyFor(entry, cidr), ...plan.fields() };
    },
  };
}
