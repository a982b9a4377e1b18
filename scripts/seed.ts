/**
 * Seeds the AWS emulator (moto) with a small demo environment for runbooks to act on, and reads back the
 * notifications firebreak publishes. Used by `npm start` and by the tests (each test seeds its own, uniquely named).
 *
 * CLI: `tsx scripts/seed.ts [name]` seeds the emulator at FIREBREAK_AWS_ENDPOINT and prints the result as JSON.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';

export interface SeedOptions {
  ec2: EC2Client;
  sns: SNSClient;
  sqs: SQSClient;
  /** Number of instances; default 3. */
  instances?: number;
  /** Makes every name unique (tests seed in parallel); letters, digits and `-`; default `demo`. */
  name?: string;
  /** Extra ENIs per instance besides the primary one (same subnet and groups); default 0. */
  extraNetworkInterfaces?: number;
}

export interface SeededInstance {
  instanceId: string;
  /** Root volume first, then the data volume. */
  volumeIds: string[];
  /** The groups every ENI of the instance starts with: web, ssh-admin. */
  groupIds: string[];
  /** Primary ENI first. */
  networkInterfaceIds: string[];
  tags: Record<string, string>;
}

export interface SeedResult {
  name: string;
  vpcId: string;
  subnetIds: string[];
  /** web, ssh-admin. */
  securityGroupIds: string[];
  instances: SeededInstance[];
  topicArn: string;
  queueUrl: string;
  queueArn: string;
}

/** An SNS notification as delivered to an SQS queue (the SNS envelope), with the message parsed when it is JSON. */
export interface SnsNotification {
  messageId: string;
  topicArn: string;
  subject?: string;
  /** The raw message text. */
  message: string;
  /** The message parsed as JSON, when it is JSON. */
  json?: unknown;
  timestamp?: string;
  messageAttributes: Record<string, { Type: string; Value: string }>;
}

export interface ReadNotificationsOptions {
  /** Stop once this many notifications were read; default 1. */
  count?: number;
  /** Give up after this long and return what was read; default 10 s. */
  timeoutMs?: number;
  /** Delete what was read from the queue, so the next read does not see it again; default true. */
  deleteAfterRead?: boolean;
}

const APPS = ['web', 'api', 'worker'];

function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!s) throw new Error(`seed name ${JSON.stringify(name)} has no letters or digits`);
  // SQS queue names stop at 80 characters; keep room for the prefix.
  return s.length <= 48 ? s : `${s.slice(0, 39)}-${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;
}

function tags(record: Record<string, string>): Array<{ Key: string; Value: string }> {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
}

/** A Linux AMI the emulator knows: the newest Amazon Linux 2 image, else any available image. */
async function pickImage(ec2: EC2Client): Promise<{ imageId: string; rootDeviceName: string }> {
  const linux = await ec2.send(
    new DescribeImagesCommand({
      Owners: ['amazon'],
      Filters: [
        { Name: 'name', Values: ['amzn2-ami-hvm-*-x86_64-gp2'] },
        { Name: 'state', Values: ['available'] },
      ],
    }),
  );
  let images = linux.Images ?? [];
  if (images.length === 0) images = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images ?? [];
  const image = [...images].sort((a, b) => (b.Name ?? '').localeCompare(a.Name ?? ''))[0];
  if (!image?.ImageId) throw new Error('no AMI found in the emulator');
  return { imageId: image.ImageId, rootDeviceName: image.RootDeviceName ?? '/dev/xvda' };
}

/**
 * Creates the demo environment: a VPC (10.x.0.0/16, tagged `firebreak:demo=true`), two subnets in two zones, the
 * security groups `web` (80 and 443 from anywhere) and `ssh-admin` (22 from 10.0.0.0/8), N instances with a root and
 * a data volume and both groups, and an SNS topic `firebreak-notifications-<name>` delivering to an SQS queue.
 */
export async function seedEnvironment(opts: SeedOptions): Promise<SeedResult> {
  const { ec2, sns, sqs } = opts;
  const name = slug(opts.name ?? 'demo');
  const count = opts.instances ?? 3;
  const common = { 'firebreak:demo': 'true', 'firebreak:seed': name, env: 'demo' };
  // A second octet per name only makes the environments easier to tell apart; moto allows overlapping VPCs anyway.
  const octet = (createHash('sha256').update(name).digest()[0] % 250) + 1;

  const vpc = await ec2.send(
    new CreateVpcCommand({
      CidrBlock: `10.${octet}.0.0/16`,
      TagSpecifications: [{ ResourceType: 'vpc', Tags: tags({ ...common, Name: `firebreak-${name}` }) }],
    }),
  );
  const vpcId = vpc.Vpc!.VpcId!;

  const zones = await ec2.send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }),
  );
  const zoneNames = (zones.AvailabilityZones ?? []).map((z) => z.ZoneName!).filter(Boolean);
  const subnetIds: string[] = [];
  for (const i of [0, 1]) {
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: `10.${octet}.${i + 1}.0/24`,
        AvailabilityZone: zoneNames[i % Math.max(zoneNames.length, 1)],
        TagSpecifications: [{ ResourceType: 'subnet', Tags: tags({ ...common, Name: `firebreak-${name}-${i + 1}` }) }],
      }),
    );
    subnetIds.push(subnet.Subnet!.SubnetId!);
  }

  const groups: Array<{ role: string; description: string; ingress: IpPermission[] }> = [
    {
      role: 'web',
      description: 'HTTP and HTTPS from anywhere',
      ingress: [80, 443].map((port) => ({
        IpProtocol: 'tcp',
        FromPort: port,
        ToPort: port,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'public' }],
      })),
    },
    {
      role: 'ssh-admin',
      description: 'SSH from the internal network',
      ingress: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'admins' }] },
      ],
    },
  ];
  const securityGroupIds: string[] = [];
  for (const g of groups) {
    const groupName = `firebreak-${name}-${g.role}`;
    const created = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: groupName,
        Description: g.description,
        VpcId: vpcId,
        TagSpecifications: [
          { ResourceType: 'security-group', Tags: tags({ ...common, Name: groupName, role: g.role }) },
        ],
      }),
    );
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: created.GroupId, IpPermissions: g.ingress }));
    securityGroupIds.push(created.GroupId!);
  }

  const image = await pickImage(ec2);
  const extraEnis = opts.extraNetworkInterfaces ?? 0;
  const instances: SeededInstance[] = [];
  for (let i = 0; i < count; i++) {
    const subnetId = subnetIds[i % subnetIds.length];
    const instanceTags = { ...common, Name: `firebreak-${name}-${i + 1}`, app: APPS[i % APPS.length] };
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: image.imageId,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        // Groups go on the ENIs, not SecurityGroupIds: moto 5.2.1 reports an ENI's groups as the union of its own and
        // the instance's launch groups, so with SecurityGroupIds an isolated ENI would still show its old groups.
        // On real EC2 both forms launch the same thing.
        NetworkInterfaces: Array.from({ length: 1 + extraEnis }, (_, n) => ({
          DeviceIndex: n,
          SubnetId: subnetId,
          Groups: securityGroupIds,
          DeleteOnTermination: true,
        })),
        BlockDeviceMappings: [
          { DeviceName: image.rootDeviceName, Ebs: { VolumeSize: 8, VolumeType: 'gp3', DeleteOnTermination: true } },
          { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'gp3', DeleteOnTermination: true } },
        ],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags(instanceTags) },
          { ResourceType: 'volume', Tags: tags({ ...common, instance: instanceTags.Name }) },
        ],
      }),
    );
    const instance = run.Instances![0];
    const byDevice = new Map((instance.BlockDeviceMappings ?? []).map((b) => [b.DeviceName, b.Ebs?.VolumeId]));
    instances.push({
      instanceId: instance.InstanceId!,
      volumeIds: [byDevice.get(image.rootDeviceName), byDevice.get('/dev/sdf')].filter((v): v is string => !!v),
      groupIds: [...securityGroupIds],
      networkInterfaceIds: [...(instance.NetworkInterfaces ?? [])]
        .sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0))
        .map((n) => n.NetworkInterfaceId!),
      tags: instanceTags,
    });
  }

  const topic = await sns.send(
    new CreateTopicCommand({ Name: `firebreak-notifications-${name}`, Tags: tags({ ...common }) }),
  );
  const topicArn = topic.TopicArn!;
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `firebreak-notifications-${name}` }));
  const queueUrl = queue.QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = attrs.Attributes!.QueueArn!;
  // Real SQS accepts SNS deliveries only with this policy; moto does not check it.
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  };
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));

  return { name, vpcId, subnetIds, securityGroupIds, instances, topicArn, queueUrl, queueArn };
}

function parseEnvelope(body: string): SnsNotification | undefined {
  let env: Record<string, unknown>;
  try {
    env = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (env.Type !== 'Notification' || typeof env.Message !== 'string') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(env.Message);
  } catch {
    json = undefined;
  }
  return {
    messageId: String(env.MessageId ?? ''),
    topicArn: String(env.TopicArn ?? ''),
    subject: typeof env.Subject === 'string' ? env.Subject : undefined,
    message: env.Message,
    json,
    timestamp: typeof env.Timestamp === 'string' ? env.Timestamp : undefined,
    messageAttributes: (env.MessageAttributes ?? {}) as SnsNotification['messageAttributes'],
  };
}

/**
 * Reads SNS notifications from a subscribed SQS queue, waiting until `count` arrived or `timeoutMs` passed.
 * Queue messages that are not SNS notifications are skipped (and deleted too when `deleteAfterRead`).
 */
export async function readNotifications(
  sqs: SQSClient,
  queueUrl: string,
  opts: ReadNotificationsOptions = {},
): Promise<SnsNotification[]> {
  const count = opts.count ?? 1;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const out: SnsNotification[] = [];
  while (out.length < count && Date.now() < deadline) {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - out.length),
        WaitTimeSeconds: Math.min(left, 2),
      }),
    );
    const messages = res.Messages ?? [];
    for (const m of messages) {
      const n = m.Body ? parseEnvelope(m.Body) : undefined;
      if (n) out.push(n);
    }
    if (messages.length > 0 && opts.deleteAfterRead !== false) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  return out;
}

async function main(): Promise<void> {
  const endpoint = process.env.FIREBREAK_AWS_ENDPOINT;
  if (!endpoint) {
    console.error('FIREBREAK_AWS_ENDPOINT is not set: seeding is for the AWS emulator only');
    process.exit(2);
  }
  const cfg = {
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint,
    // The emulator accepts any credentials; use the environment's when set.
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'testing',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'testing',
    },
  };
  const [ec2, sns, sqs] = [new EC2Client(cfg), new SNSClient(cfg), new SQSClient(cfg)];
  try {
    const result = await seedEnvironment({ ec2, sns, sqs, name: process.argv[2] || process.env.FIREBREAK_SEED_NAME });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    ec2.destroy();
    sns.destroy();
    sqs.destroy();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`seeding failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
