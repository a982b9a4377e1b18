/**
 * ELBv2 activities: take an instance out of every target group it is registered in, and put it back on the same ports.
 *
 * The groups are found, not given: every instance-type target group of the instance's VPC is asked for its targets.
 * Before deregistering, the ports are recorded in a `firebreak:deregistered:<instance>` tag on the target group, so a
 * retry after the deregistration (when the instance is in no group any more) still reports every registration.
 */
import {
  AddTagsCommand,
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  RemoveTagsCommand,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { routeByTarget, type AwsClients, type ClientSource } from './clients';
import { describeInstance } from './ec2-common';
import { awsCall } from './errors';
import { CallPlan } from './plan';
import type { ActionName, ActionOutput, ActivityInput } from './schemas';

type ElbActionName = Extract<ActionName, `elbv2.${string}`>;
export type Elbv2Activities = { [A in ElbActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>> };

interface Registration {
  targetGroupArn: string;
  port?: number;
  availabilityZone?: string;
}

export const deregisteredTagKey = (instanceId: string) => `firebreak:deregistered:${instanceId}`;

/** `80,8080@us-east-1a`: ports (and AZ for IP-less cross-zone registrations) of one target group. */
const encode = (regs: Registration[]) =>
  regs.map((r) => `${r.port ?? ''}${r.availabilityZone ? `@${r.availabilityZone}` : ''}`).join(',');
function decode(targetGroupArn: string, value: string): Registration[] {
  return value
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const [port, az] = part.split('@');
      return { targetGroupArn, port: port ? Number(port) : undefined, availabilityZone: az || undefined };
    });
}

/**
 * A listed target is registered unless it is draining (being deregistered). `unused` ones count: a stopped instance or
 * a group behind no load balancer is still registered, and the rollback must put it back.
 */
const isRegistered = (state: string | undefined) => state !== 'draining';

type Elbv2 = AwsClients['elbv2'];

/** Every instance-type target group (of the VPC, when given). */
async function targetGroupsOf(elbv2: Elbv2, what: string, vpcId: string | undefined): Promise<TargetGroup[]> {
  const out: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall(
      what,
      () => elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker })),
      'target groups',
    );
    out.push(...(page.TargetGroups ?? []));
    marker = page.NextMarker;
  } while (marker);
  return out.filter((g) => (g.TargetType ?? 'instance') === 'instance' && (!vpcId || g.VpcId === vpcId));
}

/** The instance's registrations in one target group, with the health each reports. */
async function registrationsIn(
  elbv2: Elbv2,
  what: string,
  arn: string,
  instanceId: string,
): Promise<(Registration & { state?: string })[]> {
  const out = await awsCall(
    what,
    () => elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
    `target group ${arn}`,
  );
  return (out.TargetHealthDescriptions ?? [])
    .filter((d) => d.Target?.Id === instanceId && isRegistered(d.TargetHealth?.State))
    .map((d) => ({
      targetGroupArn: arn,
      port: d.Target!.Port,
      availabilityZone: d.Target!.AvailabilityZone,
      state: d.TargetHealth?.State,
    }));
}

/**
 * Where the instance is registered now: every target group of its VPC, each port (what a release re-registers) and
 * its health. For the capture step (activities/ec2.ts): read only.
 */
export async function targetRegistrations(
  elbv2: Elbv2,
  what: string,
  instanceId: string,
  vpcId: string | undefined,
): Promise<(Registration & { state?: string })[]> {
  const found: (Registration & { state?: string })[] = [];
  for (const g of await targetGroupsOf(elbv2, what, vpcId)) {
    found.push(...(await registrationsIn(elbv2, what, g.TargetGroupArn!, instanceId)));
  }
  return found;
}

export function createElbv2Activities(source: ClientSource): Elbv2Activities {
  return routeByTarget(source, build);
}

function build(clients: Pick<AwsClients, 'elbv2' | 'ec2'>): Elbv2Activities {
  const { elbv2, ec2 } = clients;

  const targetGroups = (what: string, vpcId: string | undefined) => targetGroupsOf(elbv2, what, vpcId);
  const registrations = async (what: string, arn: string, instanceId: string): Promise<Registration[]> =>
    (await registrationsIn(elbv2, what, arn, instanceId)).map(({ state: _state, ...r }) => r);

  /** The record tag of each target group that has one. */
  async function records(what: string, arns: string[], key: string): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (let i = 0; i < arns.length; i += 20) {
      const chunk = arns.slice(i, i + 20);
      const out = await awsCall(
        what,
        () => elbv2.send(new DescribeTagsCommand({ ResourceArns: chunk })),
        // Named, so that an unknown group in a rollback's batch is named in the failure.
        `target group ${chunk.join(', ')}`,
      );
      for (const d of out.TagDescriptions ?? []) {
        const tag = d.Tags?.find((t) => t.Key === key);
        if (d.ResourceArn && tag) found.set(d.ResourceArn, tag.Value ?? '');
      }
    }
    return found;
  }

  return {
    async 'elbv2.deregisterInstance'({ instanceId, dryRun }) {
      const what = 'elbv2.deregisterInstance';
      const plan = new CallPlan(dryRun);
      const instance = await describeInstance(ec2, what, instanceId);
      const groups = await targetGroups(what, instance.VpcId);
      const key = deregisteredTagKey(instanceId);
      const recorded = await records(
        what,
        groups.map((g) => g.TargetGroupArn!),
        key,
      );
      const targets: Registration[] = [];
      for (const g of groups) {
        const arn = g.TargetGroupArn!;
        const current = await registrations(what, arn, instanceId);
        if (current.length === 0) {
          // Out already: a retry after the deregistration reports what it recorded.
          if (recorded.has(arn)) targets.push(...decode(arn, recorded.get(arn)!));
          continue;
        }
        const seen = recorded.has(arn) ? decode(arn, recorded.get(arn)!) : [];
        const all = [...seen, ...current.filter((c) => !seen.some((s) => s.port === c.port))];
        const resource = `instance ${instanceId} in target group ${arn}`;
        const tag = new AddTagsCommand({ ResourceArns: [arn], Tags: [{ Key: key, Value: encode(all) }] });
        await plan.call('elbv2', tag, () => awsCall(what, () => elbv2.send(tag), resource));
        const dereg = new DeregisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: current.map((c) => ({ Id: instanceId, Port: c.port, AvailabilityZone: c.availabilityZone })),
        });
        await plan.call('elbv2', dereg, () => awsCall(what, () => elbv2.send(dereg), resource));
        targets.push(...all);
      }
      return { instanceId, targets, ...plan.fields() };
    },

    async 'elbv2.registerInstance'({ instanceId, targets, dryRun }) {
      const what = 'elbv2.registerInstance';
      const plan = new CallPlan(dryRun);
      const key = deregisteredTagKey(instanceId);
      const arns = [...new Set(targets.map((t) => t.targetGroupArn))];
      // The groups' records in one look-up (20 groups a call), not one per group; registering changes no tag.
      const recorded = await records(what, arns, key);
      for (const arn of arns) {
        const resource = `instance ${instanceId} in target group ${arn}`;
        const current = await registrations(what, arn, instanceId);
        const missing = targets.filter((t) => t.targetGroupArn === arn && !current.some((c) => c.port === t.port));
        if (missing.length > 0) {
          const reg = new RegisterTargetsCommand({
            TargetGroupArn: arn,
            Targets: missing.map((t) => ({ Id: instanceId, Port: t.port, AvailabilityZone: t.availabilityZone })),
          });
          await plan.call('elbv2', reg, () => awsCall(what, () => elbv2.send(reg), resource));
        }
        if (recorded.has(arn)) {
          const untag = new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: [key] });
          await plan.call('elbv2', untag, () => awsCall(what, () => elbv2.send(untag), resource));
        }
      }
      return { instanceId, registered: targets.map((t) => ({ ...t })), ...plan.fields() };
    },
  };
}
