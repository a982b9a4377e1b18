/**
 * ELBv2 activities against moto, checked through DescribeTargetHealth. moto keys a target group's targets by ID, so
 * one instance is registered on one port per group here; the two groups use different ports.
 */
import {
  CreateTargetGroupCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createElbv2Activities, deregisteredTagKey } from '../../activities/elbv2';
import type { SeedResult } from '../../scripts/seed';
import { stepContext, testAws, unique, type TestAws } from '../stack/aws';
import { awsError, failWhen } from '../workflows/fixtures/aws-faults';

let aws: TestAws;
let acts: ReturnType<typeof createElbv2Activities>;
beforeAll(() => {
  aws = testAws();
  acts = createElbv2Activities(aws.clients);
});
afterAll(() => aws.close());

async function targetGroup(vpcId: string, port: number): Promise<string> {
  const out = await aws.clients.elbv2.send(
    new CreateTargetGroupCommand({
      Name: unique('tg').slice(0, 32),
      Protocol: 'HTTP',
      Port: port,
      VpcId: vpcId,
      TargetType: 'instance',
    }),
  );
  return out.TargetGroups![0].TargetGroupArn!;
}

/** `instance:port` of every registered target of a group. */
async function targetsOf(arn: string): Promise<string[]> {
  const out = await aws.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  return (out.TargetHealthDescriptions ?? [])
    .filter((d) => d.TargetHealth?.State !== 'draining')
    .map((d) => `${d.Target!.Id}:${d.Target!.Port}`)
    .sort();
}

async function tagKeys(arn: string): Promise<string[]> {
  const out = await aws.clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return (out.TagDescriptions?.[0]?.Tags ?? []).map((t) => t.Key!);
}

describe('elbv2.deregisterInstance and elbv2.registerInstance', () => {
  let env: SeedResult;
  let web: string;
  let api: string;
  let empty: string;
  beforeEach(async () => {
    env = await aws.seed('elb', { instances: 2 });
    [web, api, empty] = await Promise.all([
      targetGroup(env.vpcId, 80),
      targetGroup(env.vpcId, 8080),
      targetGroup(env.vpcId, 443),
    ]);
    const [one, two] = env.instances.map((i) => i.instanceId);
    await aws.clients.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: web,
        Targets: [
          { Id: one, Port: 80 },
          { Id: two, Port: 80 },
        ],
      }),
    );
    await aws.clients.elbv2.send(
      new RegisterTargetsCommand({ TargetGroupArn: api, Targets: [{ Id: one, Port: 8080 }] }),
    );
  });

  it('finds and leaves every target group, once across a retry; the rollback registers the same ports again', async () => {
    const [one, two] = env.instances.map((i) => i.instanceId);
    const ctx = stepContext('lb');

    const out = await acts['elbv2.deregisterInstance']({ instanceId: one, ctx });

    const byGroup = (t: { targetGroupArn: string }) => t.targetGroupArn;
    expect([...out.targets].sort((x, y) => byGroup(x).localeCompare(byGroup(y)))).toEqual(
      [
        { targetGroupArn: web, port: 80 },
        { targetGroupArn: api, port: 8080 },
      ].sort((x, y) => byGroup(x).localeCompare(byGroup(y))),
    );
    expect(await targetsOf(web)).toEqual([`${two}:80`]);
    expect(await targetsOf(api)).toEqual([]);
    expect(await targetsOf(empty)).toEqual([]);

    const retry = await acts['elbv2.deregisterInstance']({ instanceId: one, ctx });
    expect(retry.targets).toEqual(expect.arrayContaining(out.targets));
    expect(retry.targets).toHaveLength(2);

    const back = await acts['elbv2.registerInstance']({ instanceId: one, targets: retry.targets, ctx });
    expect(back.registered).toEqual(retry.targets);
    expect(await targetsOf(web)).toEqual([`${one}:80`, `${two}:80`].sort());
    expect(await targetsOf(api)).toEqual([`${one}:8080`]);
    for (const arn of [web, api]) expect(await tagKeys(arn)).not.toContain(deregisteredTagKey(one));
  });

  it('a rollback retried after it failed midway registers each group once and clears every record', async () => {
    const [one, two] = env.instances.map((i) => i.instanceId);
    const ctx = stepContext('lb');
    const out = await acts['elbv2.deregisterInstance']({ instanceId: one, ctx });
    // The rollback's second RegisterTargets fails (once), after the first group has its target back.
    const faulty = testAws();
    let registers = 0;
    failWhen(faulty.clients.elbv2 as never, 'RegisterTargetsCommand', () =>
      ++registers === 2 ? awsError('InternalFailure', 'server') : undefined,
    );
    const rollback = createElbv2Activities(faulty.clients);
    try {
      await expect(rollback['elbv2.registerInstance']({ instanceId: one, targets: out.targets, ctx })).rejects.toThrow(
        /InternalFailure/,
      );
      const back = await rollback['elbv2.registerInstance']({ instanceId: one, targets: out.targets, ctx });
      expect(back.registered).toEqual(out.targets);
    } finally {
      faulty.close();
    }
    expect(await targetsOf(web)).toEqual([`${one}:80`, `${two}:80`].sort());
    expect(await targetsOf(api)).toEqual([`${one}:8080`]);
    for (const arn of [web, api]) expect(await tagKeys(arn)).not.toContain(deregisteredTagKey(one));
  });

  it('an instance in no target group: nothing to do', async () => {
    const seeded = await aws.seed('elb-none', { instances: 1 });
    const none = await acts['elbv2.deregisterInstance']({ instanceId: seeded.instances[0].instanceId });
    expect(none).toEqual({ instanceId: seeded.instances[0].instanceId, targets: [] });
  });

  it('dry run: reads only, lists the calls, changes nothing', async () => {
    const one = env.instances[0].instanceId;
    const out = await acts['elbv2.deregisterInstance']({ instanceId: one, dryRun: true });
    expect(out.dryRun).toBe(true);
    expect(out.targets).toHaveLength(2);
    expect(out.calls?.map((c) => c.operation).sort()).toEqual(
      ['AddTags', 'AddTags', 'DeregisterTargets', 'DeregisterTargets'].sort(),
    );
    expect(
      out.calls?.find(
        (c) => c.operation === 'DeregisterTargets' && (c.input as { TargetGroupArn?: string }).TargetGroupArn === api,
      ),
    ).toMatchObject({ input: { Targets: [{ Id: one, Port: 8080 }] } });
    expect(await targetsOf(web)).toContain(`${one}:80`);
    expect(await targetsOf(api)).toEqual([`${one}:8080`]);
    expect(await tagKeys(web)).not.toContain(deregisteredTagKey(one));
  });

  it('names an unknown target group in the rollback, non-retryable', async () => {
    const err = await acts['elbv2.registerInstance']({
      instanceId: env.instances[0].instanceId,
      targets: [{ targetGroupArn: web.replace(/\/[0-9a-f]+$/, '/0000000000000000'), port: 80 }],
    }).then(
      () => undefined,
      (e: unknown) => e as { nonRetryable?: boolean; message: string },
    );
    expect(err?.nonRetryable).toBe(true);
    expect(err?.message).toMatch(
      /elbv2.registerInstance: target group arn:aws:elasticloadbalancing:.*0000000000000000/,
    );
  });
});
