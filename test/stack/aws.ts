/**
 * Shared setup for the activity tests: AWS clients on the moto server the jest global setup started, and unique
 * names so that test files running in parallel never share resources.
 */
import { randomBytes } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../activities/clients';
import { seedEnvironment, type SeedOptions, type SeedResult } from '../../scripts/seed';
import type { StepContext } from '../../activities/schemas';

export interface TestAws {
  clients: AwsClients;
  sqs: SQSClient;
  seed(name: string, opts?: Omit<SeedOptions, 'ec2' | 'sns' | 'sqs' | 'name'>): Promise<SeedResult>;
  close(): void;
}

/** moto's default account: what the test credentials act in. */
export const DEFAULT_ACCOUNT = '123456789012';

export function emulatorConfig() {
  const endpoint = process.env.FIREBREAK_AWS_ENDPOINT;
  if (!endpoint) throw new Error('FIREBREAK_AWS_ENDPOINT is not set: the jest global setup should have started moto');
  return {
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
    } as TestCredentials,
  };
}

/** Clients on the test moto server (its default account and region unless told). */
export function testAws(cfg: ReturnType<typeof emulatorConfig> = emulatorConfig()): TestAws {
  const clients = createAwsClients(cfg);
  const sqs = new SQSClient(cfg);
  return {
    clients,
    sqs,
    seed: (name, opts = {}) =>
      seedEnvironment({
        ec2: clients.ec2 as EC2Client,
        sns: clients.sns as SNSClient,
        sqs,
        name: unique(name),
        ...opts,
      }),
    close() {
      destroyAwsClients(clients);
      sqs.destroy();
    },
  };
}

/**
 * Clients acting in another moto account and/or region, to seed and inspect it. moto answers AssumeRole into any
 * account with credentials that act in that account; the role need not exist (moto docs, "Multi-Account support").
 */
export async function testAwsIn(where: { account?: string; region?: string }): Promise<TestAws> {
  const base = emulatorConfig();
  const region = where.region ?? base.region;
  let credentials: TestCredentials = base.credentials;
  if (where.account) {
    const sts = new STSClient(base);
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${where.account}:role/test-seeder`,
        RoleSessionName: 'test-seeder',
      }),
    );
    sts.destroy();
    const c = out.Credentials!;
    credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken };
  }
  return testAws({ ...base, region, credentials });
}

type TestCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** A name no other test (or test run against the same moto) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A step context with a unique execution ID. */
export function stepContext(stepId: string, extra: Partial<StepContext> = {}): StepContext {
  return { executionId: unique('exec'), runbookId: 'test-runbook', stepId, ...extra };
}

/**
 * Creates an IAM instance profile in moto's default account. No IAM SDK client is installed, so this speaks IAM's
 * query protocol; moto routes by the credential scope's service name and does not check the signature.
 */
export async function createInstanceProfile(name: string): Promise<string> {
  const { endpoint, region } = emulatorConfig();
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20250101/${region}/iam/aws4_request, SignedHeaders=host, Signature=0`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ Action: 'CreateInstanceProfile', InstanceProfileName: name, Version: '2010-05-08' }),
  });
  const text = await res.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!res.ok || !arn) throw new Error(`CreateInstanceProfile ${name}: ${res.status} ${text.slice(0, 300)}`);
  return arn;
}
