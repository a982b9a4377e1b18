/**
 * The demo environment `npm start` puts in the emulator: once in moto's default account and the stack's region, and
 * once in a second account and region (moto is multi-account: AssumeRole into another account's role acts in that
 * account, the role need not exist), so a cross-account, cross-region containment can be tried at once. Seeded only
 * when the emulator does not hold it yet (a restart finds it).
 */
import { DescribeInstancesCommand, DescribeVpcsCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { seedEnvironment } from './seed';
import { EMULATOR_CREDENTIALS } from './stack';

/** Seed name of the demo environment (scripts/seed.ts makes every name unique with it). */
export const DEMO_NAME = 'demo';
/** The second demo account: a made-up ID, as moto accepts any. */
export const DEMO_SECOND_ACCOUNT = '210987654321';

/** The second demo region: another one than the stack's own. */
export function demoSecondRegion(region: string): string {
  return region === 'eu-west-1' ? 'us-west-2' : 'eu-west-1';
}

export interface DemoTarget {
  vpcId?: string;
  instanceId?: string;
  topicArn?: string;
}

export interface DemoPlace {
  /** The emulator's endpoint. */
  endpoint: string;
  region: string;
  /** Another account than moto's default: entered by AssumeRole into the worker's responder role there. */
  account?: string;
  roleName?: string;
}

/** @returns the demo environment in that account and region, and whether it was seeded now (else found). */
export async function seedDemo(place: DemoPlace): Promise<DemoTarget & { seeded: boolean }> {
  const base = {
    region: place.region,
    endpoint: place.endpoint,
    credentials: {
      accessKeyId: EMULATOR_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: EMULATOR_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    } as { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  };
  if (place.account) {
    const sts = new STSClient(base);
    try {
      const out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${place.account}:role/${place.roleName ?? 'firebreak-responder'}`,
          RoleSessionName: 'firebreak-demo-seed',
        }),
      );
      const c = out.Credentials!;
      base.credentials = {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken,
      };
    } finally {
      sts.destroy();
    }
  }
  const ec2 = new EC2Client(base);
  const sns = new SNSClient(base);
  const sqs = new SQSClient(base);
  try {
    const existing = await findSeeded(ec2, sns);
    if (existing) return { ...existing, seeded: false };
    const seeded = await seedEnvironment({ ec2, sns, sqs, name: DEMO_NAME });
    return {
      vpcId: seeded.vpcId,
      instanceId: seeded.instances[0]?.instanceId,
      topicArn: seeded.topicArn,
      seeded: true,
    };
  } finally {
    ec2.destroy();
    sns.destroy();
    sqs.destroy();
  }
}

/**
 * The demo environment when the emulator already holds it, else undefined: scripts/seed.ts tags what it creates
 * `firebreak:demo=true` and `firebreak:seed=<name>`, and names the topic `firebreak-notifications-<name>`.
 */
async function findSeeded(ec2: EC2Client, sns: SNSClient): Promise<DemoTarget | undefined> {
  const vpcs = await ec2.send(
    new DescribeVpcsCommand({
      Filters: [
        { Name: 'tag:firebreak:demo', Values: ['true'] },
        { Name: 'tag:firebreak:seed', Values: [DEMO_NAME] },
      ],
    }),
  );
  const vpcId = vpcs.Vpcs?.[0]?.VpcId;
  if (!vpcId) return undefined;
  const res = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    }),
  );
  const instances = (res.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  const name = (i: Instance) => i.Tags?.find((t) => t.Key === 'Name')?.Value ?? '';
  instances.sort(
    (a, b) =>
      (a.LaunchTime?.getTime() ?? 0) - (b.LaunchTime?.getTime() ?? 0) ||
      name(a).localeCompare(name(b), 'en', { numeric: true }),
  );
  const arns = (await sns.send(new ListTopicsCommand({}))).Topics?.map((t) => t.TopicArn ?? '') ?? [];
  const topicArn =
    arns.find((arn) => arn.endsWith(`:firebreak-notifications-${DEMO_NAME}`)) ??
    arns.find((a) => a.includes('firebreak'));
  return { vpcId, instanceId: instances[0]?.InstanceId, topicArn };
}
