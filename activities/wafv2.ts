/**
 * WAFv2 activities: add an address to an IP set (a block list) and take it out again.
 *
 * UpdateIPSet replaces the whole address list and takes the lock token of the version it was computed from; a
 * concurrent change makes it fail with WAFOptimisticLockException, and the action then reads the set again and retries
 * on the new version. An address firebreak adds is named in a `firebreak:blocked:<cidr>` tag on the IP set, written
 * before the update, so a retry that finds the address already there knows it is its own; an address that was in the
 * set before is reported `added: false` and the rollback leaves it.
 */
import {
  GetIPSetCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateIPSetCommand,
  type IPSet,
} from '@aws-sdk/client-wafv2';
import { ApplicationFailure } from '@temporalio/common';
import { routeByTarget, type AwsClients, type ClientSource } from './clients';
import { awsCall, classifyAwsError, describeAwsError, refuse } from './errors';
import { CallPlan } from './plan';
import type { ActionName, ActionOutput, ActivityInput } from './schemas';

type WafActionName = Extract<ActionName, `wafv2.${string}`>;
export type Wafv2Activities = { [A in WafActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>> };

/** Read-modify-write attempts per call before handing the conflict to Temporal's retry policy. */
export const MAX_LOCK_ATTEMPTS = 5;

export const blockedTagKey = (cidr: string) => `firebreak:blocked:${cidr}`;

/** A bare address becomes a one-address CIDR, as IP sets store them. */
export function toCidr(address: string): string {
  const a = address.trim().toLowerCase();
  if (a.includes('/')) return a;
  return a.includes(':') ? `${a}/128` : `${a}/32`;
}

interface IpSetRef {
  ipSetName: string;
  ipSetId: string;
  scope: 'REGIONAL' | 'CLOUDFRONT';
}

export function createWafv2Activities(source: ClientSource): Wafv2Activities {
  return routeByTarget(source, build);
}

function build(clients: Pick<AwsClients, 'wafv2'>): Wafv2Activities {
  const { wafv2 } = clients;

  async function get(what: string, ref: IpSetRef): Promise<{ set: IPSet; lockToken: string; tags: Set<string> }> {
    const resource = `IP set ${ref.ipSetName} (${ref.ipSetId}, ${ref.scope})`;
    const out = await awsCall(
      what,
      () => wafv2.send(new GetIPSetCommand({ Name: ref.ipSetName, Id: ref.ipSetId, Scope: ref.scope })),
      resource,
    );
    if (!out.IPSet?.ARN || !out.LockToken) return refuse(what, `${resource} not found`, 'WAFNonexistentItemException');
    const tagged = await awsCall(
      what,
      () => wafv2.send(new ListTagsForResourceCommand({ ResourceARN: out.IPSet!.ARN })),
      resource,
    );
    const tags = new Set((tagged.TagInfoForResource?.TagList ?? []).map((t) => t.Key!));
    return { set: out.IPSet, lockToken: out.LockToken, tags };
  }

  /** UpdateIPSet on the version read; false when another writer changed the set since (read again and retry). */
  async function update(
    plan: CallPlan,
    what: string,
    ref: IpSetRef,
    set: IPSet,
    lockToken: string,
    addresses: string[],
  ) {
    const cmd = new UpdateIPSetCommand({
      Name: ref.ipSetName,
      Id: ref.ipSetId,
      Scope: ref.scope,
      // UpdateIPSet replaces every mutable field: the description goes back as it was.
      Description: set.Description,
      Addresses: addresses,
      LockToken: lockToken,
    });
    try {
      await plan.call('wafv2', cmd, () => wafv2.send(cmd));
      return true;
    } catch (err) {
      if (describeAwsError(err).name === 'WAFOptimisticLockException') return false;
      return classifyAwsError(err, what, `IP set ${ref.ipSetName} (${ref.ipSetId})`);
    }
  }

  const conflict = (what: string, ref: IpSetRef) =>
    ApplicationFailure.retryable(
      `${what}: IP set ${ref.ipSetName} kept changing under ${MAX_LOCK_ATTEMPTS} attempts (WAFOptimisticLockException)`,
      'WAFOptimisticLockException',
    );

  return {
    async 'wafv2.blockAddress'({ ipSetName, ipSetId, scope, address, dryRun }) {
      const what = 'wafv2.blockAddress';
      const ref = { ipSetName, ipSetId, scope };
      const plan = new CallPlan(dryRun);
      const cidr = toCidr(address);
      const key = blockedTagKey(cidr);
      for (let attempt = 1; attempt <= MAX_LOCK_ATTEMPTS; attempt++) {
        const { set, lockToken, tags } = await get(what, ref);
        const addresses = set.Addresses ?? [];
        const result = { ipSetArn: set.ARN!, address: cidr };
        if (addresses.some((a) => a.toLowerCase() === cidr))
          return { ...result, added: tags.has(key), ...plan.fields() };
        if (!tags.has(key)) {
          const tag = new TagResourceCommand({ ResourceARN: set.ARN, Tags: [{ Key: key, Value: 'firebreak' }] });
          await plan.call('wafv2', tag, () => awsCall(what, () => wafv2.send(tag), `IP set ${ipSetName}`));
        }
        if (await update(plan, what, ref, set, lockToken, [...addresses, cidr])) {
          return { ...result, added: true, ...plan.fields() };
        }
      }
      throw conflict(what, ref);
    },

    async 'wafv2.unblockAddress'({ ipSetName, ipSetId, scope, address, added, dryRun }) {
      const what = 'wafv2.unblockAddress';
      const ref = { ipSetName, ipSetId, scope };
      const plan = new CallPlan(dryRun);
      const cidr = toCidr(address);
      const key = blockedTagKey(cidr);
      for (let attempt = 1; attempt <= MAX_LOCK_ATTEMPTS; attempt++) {
        const { set, lockToken, tags } = await get(what, ref);
        const result = { ipSetArn: set.ARN!, address: cidr };
        // Not firebreak's to remove: it was in the block list before.
        if (added === false) return { ...result, removed: false, ...plan.fields() };
        const addresses = set.Addresses ?? [];
        const rest = addresses.filter((a) => a.toLowerCase() !== cidr);
        if (rest.length !== addresses.length && !(await update(plan, what, ref, set, lockToken, rest))) continue;
        if (tags.has(key)) {
          const untag = new UntagResourceCommand({ ResourceARN: set.ARN, TagKeys: [key] });
          await plan.call('wafv2', untag, () => awsCall(what, () => wafv2.send(untag), `IP set ${ipSetName}`));
        }
        return { ...result, removed: true, ...plan.fields() };
      }
      throw conflict(what, ref);
    },
  };
}
