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

/** The details of each running activity's last heartbeat, which the background heartbeat repeats. */
const lastDetails = new WeakMap<Context, unknown>();

/** Heartbeats when running inside an activity; a no-op for plain calls. */
export function heartbeatIfActive(details?: unknown): void {
  const ctx = activityContext();
  if (!ctx) return;
  lastDetails.set(ctx, details);
  ctx.heartbeat(details);
}

/**
 * Runs `work` while heartbeating in the background (a third of the heartbeat timeout apart, repeating the last
 * details the activity gave), when the activity has a heartbeat timeout. A step whose worker dies stops heartbeating
 * with it, so Temporal retries the step after the heartbeat timeout, even while one long AWS call was in flight.
 */
export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const ctx = activityContext();
  const timeoutMs = ctx?.info.heartbeatTimeoutMs;
  if (!ctx || !timeoutMs) return work();
  const timer = setInterval(() => ctx.heartbeat(lastDetails.get(ctx)), Math.max(200, Math.floor(timeoutMs / 3)));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * True when the workflow asked for the activity's cancellation; false for a cancellation by the worker's shutdown, a
 * timeout or a lost activity, after which Temporal retries the step (on another worker) and it must resume its work.
 */
export function cancellationRequestedByWorkflow(): boolean {
  return activityContext()?.cancellationDetails?.cancelRequested === true;
}
