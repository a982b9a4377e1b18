/**
 * The AWS SDK clients the activities use, built once per worker, and the small runtime helpers the activity modules
 * share (activity context detection, heartbeats that are no-ops outside an activity).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Context } from '@temporalio/activity';

export interface AwsClients {
  ec2: EC2Client;
  ssm: SSMClient;
  sns: SNSClient;
}

export interface AwsClientOptions {
  region: string;
  /** Endpoint override for every client (the moto emulator); unset means real AWS endpoints. */
  endpoint?: string;
  /** Static credentials; unset means the SDK default credential chain (env, profile, SSO, instance role...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK-level attempts per call; default 3. */
  maxAttempts?: number;
}

/**
 * Creates the EC2, SSM and SNS clients.
 *
 * SDK retries are kept low (3 attempts by default) because Temporal retries the whole activity too: long SDK
 * back-off would only hide throttling from the activity's retry policy and eat its start-to-close timeout.
 */
export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const config = {
    region: opts.region,
    maxAttempts: opts.maxAttempts ?? 3,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  };
  return { ec2: new EC2Client(config), ssm: new SSMClient(config), sns: new SNSClient(config) };
}

/** Releases the clients' sockets (tests and worker shutdown). */
export function destroyAwsClients(clients: AwsClients): void {
  clients.ec2.destroy();
  clients.ssm.destroy();
  clients.sns.destroy();
}

/**
 * The Temporal activity context when running inside an activity, else undefined (plain calls from tests or scripts).
 */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats when running inside an activity; a no-op for plain calls. */
export function heartbeatIfActive(details?: unknown): void {
  activityContext()?.heartbeat(details);
}
