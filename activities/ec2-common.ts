/**
 * Helpers the EC2 activity files share: tags as records, and describing one instance with a clear NotFound.
 */
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Instance,
  type NetworkInterface,
  type SecurityGroup,
  type Tag,
} from '@aws-sdk/client-ec2';
import { awsCall, refuse } from './errors';

/**
 * Tags in which the newer EC2 actions keep the value from before firebreak first changed something, written before the
 * change so that a retry after it still reports the original, and removed by the action that restores it.
 */
export const RECORD_TAG = {
  stateBefore: 'firebreak:state-before',
  preservationBefore: 'firebreak:preservation-before',
  instanceProfileBefore: 'firebreak:instance-profile-before',
  /** On a network ACL: `firebreak:nacl-deny:<ingress|egress>:<rule number>` = the CIDR of the entry firebreak made. */
  naclDenyPrefix: 'firebreak:nacl-deny:',
} as const;

/** EC2 limits tag values to 256 characters. */
export const MAX_TAG_VALUE = 256;

/** Tags as a plain record. */
export function tagRecord(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

export function toTags(record: Record<string, string>): Tag[] {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
}

/** One instance; an unknown ID fails non-retryable with `InvalidInstanceID.NotFound` naming it. */
export async function describeInstance(ec2: EC2Client, what: string, instanceId: string): Promise<Instance> {
  const out = await awsCall(
    what,
    () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
    `instance ${instanceId}`,
  );
  const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  // Real EC2 answers an unknown ID with this error; an empty answer means the same thing.
  if (!instance) return refuse(what, `instance ${instanceId} not found`, 'InvalidInstanceID.NotFound');
  return instance;
}

/** The ENIs by ID, in the order asked (missing ones left out). */
export async function describeNetworkInterfaces(
  ec2: Pick<EC2Client, 'send'>,
  what: string,
  ids: string[],
): Promise<NetworkInterface[]> {
  if (ids.length === 0) return [];
  const out = await awsCall(
    what,
    () => ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids })),
    `network interfaces ${ids.join(', ')}`,
  );
  const byId = new Map((out.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId, n]));
  return ids.map((id) => byId.get(id)).filter((n): n is NetworkInterface => !!n);
}

/** The security group of that name in the VPC, if there is one. */
export async function findSecurityGroup(
  ec2: Pick<EC2Client, 'send'>,
  what: string,
  vpcId: string,
  name: string,
): Promise<SecurityGroup | undefined> {
  const out = await awsCall(
    what,
    () =>
      ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: 'group-name', Values: [name] },
            { Name: 'vpc-id', Values: [vpcId] },
          ],
        }),
      ),
    `security group ${name} in ${vpcId}`,
  );
  return out.SecurityGroups?.[0];
}
