/**
 * The AWS SDK clients the activities use, the factory that gives each step the clients of the account and region it
 * acts in, and the small runtime helpers the activity modules share (activity context detection, heartbeats that are
 * no-ops outside an activity).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { activityContext } from './activity-context';
import { AwsHttpHandler } from './aws-http';
import { AssumeRoleError, classifyAwsError, describeAwsError, TargetNotAllowedError } from './errors';
import type { ExecutionTarget, StepContext } from './schemas';

export interface AwsClients {
  ec2: EC2Client;
  ssm: SSMClient;
  sns: SNSClient;
  autoScaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  wafv2: WAFV2Client;
  cloudWatch: CloudWatchClient;
  sts: STSClient;
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date };

export interface AwsClientOptions {
  region: string;
  /** Endpoint override for every client (the moto emulator); unset means real AWS endpoints. */
  endpoint?: string;
  /** Static credentials or a provider; unset means the SDK default chain (env, profile, SSO, instance role...). */
  credentials?: Credentials | (() => Promise<Credentials>);
  /** SDK-level attempts per call; default 3. */
  maxAttempts?: number;
}

/**
 * Creates one client per service.
 *
 * SDK retries are kept low (3 attempts by default) because Temporal retries the whole activity too: long SDK
 * back-off would only hide throttling from the activity's retry policy and eat its start-to-close timeout.
 */
export function createAwsClients(opts: AwsClientOptions): AwsClients {
  const config = () => ({
    region: opts.region,
    maxAttempts: opts.maxAttempts ?? 3,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    // Deadlines, and the activity's cancellation reaching the call (activities/aws-http.ts); one per client, as the
    // SDK's default handler is (each its own socket pool).
    requestHandler: new AwsHttpHandler(),
  });
  return {
    ec2: new EC2Client(config()),
    ssm: new SSMClient(config()),
    sns: new SNSClient(config()),
    autoScaling: new AutoScalingClient(config()),
    elbv2: new ElasticLoadBalancingV2Client(config()),
    wafv2: new WAFV2Client(config()),
    cloudWatch: new CloudWatchClient(config()),
    sts: new STSClient(config()),
  };
}

/** Releases the clients' sockets (tests and worker shutdown). */
export function destroyAwsClients(clients: AwsClients): void {
  for (const client of Object.values(clients)) client.destroy();
}

// ---- where a step acts -----------------------------------------------------------------------------------------------

export interface ClientFactoryOptions extends AwsClientOptions {
  /** Accounts besides the worker's own that steps may act in. */
  targetAccounts?: string[];
  /** Role assumed in another account; default `firebreak-responder`. */
  assumeRoleName?: string;
  assumeRoleExternalId?: string;
  /** Assumed credentials are renewed this long before they expire; default 5 minutes. */
  refreshMarginMs?: number;
  /** Lifetime asked of AssumeRole; default 1 hour (the most a role chained from another role may have). */
  sessionDurationSec?: number;
  /** The worker's own clients in its own region, when already built (tests). */
  own?: AwsClients;
  now?: () => number;
}

/** Gives each step the clients of the account and region it acts in. */
export interface ClientFactory {
  /** The worker's own clients in its configured region. */
  readonly own: AwsClients;
  /**
   * Clients for the step's target: the worker's own credentials for its own account, AssumeRole into the configured
   * role for another allow-listed account.
   *
   * @throws ApplicationFailure `TargetAccountNotAllowed` (non-retryable) before any call to the target account;
   *   `AssumeRoleFailed` when the role cannot be assumed (non-retryable unless throttled or a server/network fault)
   */
  forStep(ctx: Pick<StepContext, 'executionId' | 'target'> | undefined): Promise<AwsClients>;
  /** The worker's own account ID (STS GetCallerIdentity, asked once). */
  ownAccount(): Promise<string>;
  destroy(): void;
}

export const DEFAULT_ASSUME_ROLE_NAME = 'firebreak-responder';

/** STS allows `[\w+=,.@-]`, 2 to 64 characters, in a role session name. */
export function roleSessionName(executionId: string | undefined): string {
  return `firebreak-${executionId ?? 'manual'}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** At most this many assumed sessions are kept; the oldest go first (each execution has its own session). */
const MAX_SESSIONS = 256;

export function createClientFactory(opts: ClientFactoryOptions): ClientFactory {
  const now = opts.now ?? Date.now;
  const margin = opts.refreshMarginMs ?? 5 * 60_000;
  const roleName = opts.assumeRoleName || DEFAULT_ASSUME_ROLE_NAME;
  const allowed = new Set(opts.targetAccounts ?? []);
  const base = { endpoint: opts.endpoint, maxAttempts: opts.maxAttempts };
  const own = opts.own ?? createAwsClients({ ...base, region: opts.region, credentials: opts.credentials });
  const ownByRegion = new Map<string, AwsClients>([[opts.region, own]]);
  const sessions = new Map<string, { clients: AwsClients; provider: () => Promise<Credentials> }>();
  let identity: Promise<string> | undefined;

  const ownAccount = (): Promise<string> => {
    identity ??= own.sts.send(new GetCallerIdentityCommand({})).then(
      (out) => out.Account!,
      (err) => {
        identity = undefined; // not cached: the next step asks again
        return classifyAwsError(err, 'sts.GetCallerIdentity', 'the worker identity');
      },
    );
    return identity;
  };

  const ownIn = (region: string): AwsClients => {
    let clients = ownByRegion.get(region);
    if (!clients) {
      clients = createAwsClients({ ...base, region, credentials: opts.credentials });
      ownByRegion.set(region, clients);
    }
    return clients;
  };

  const assume = async (account: string, region: string, sessionName: string): Promise<Credentials> => {
    const roleArn = `arn:${partitionOf(region)}:iam::${account}:role/${roleName}`;
    try {
      const out = await own.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName,
          ExternalId: opts.assumeRoleExternalId || undefined,
          DurationSeconds: opts.sessionDurationSec ?? 3600,
        }),
      );
      const c = out.Credentials!;
      return {
        accessKeyId: c.AccessKeyId!,
        secretAccessKey: c.SecretAccessKey!,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
    } catch (err) {
      const info = describeAwsError(err);
      const cause = new AssumeRoleError(`cannot assume ${roleArn} as ${sessionName}: ${info.name}`, roleArn, err);
      throw ApplicationFailure.create({
        message: `${cause.message} (${(err as Error)?.message ?? err})`,
        type: cause.name,
        // Denied, missing role, wrong external ID: retrying does not help. Throttling and faults may pass.
        nonRetryable: !info.retryable,
        cause,
        details: [{ roleArn, account, region, awsError: info }],
      });
    }
  };

  const fresh = (c: Credentials | undefined) => !!c && (!c.expiration || c.expiration.getTime() - margin > now());

  const session = (account: string, region: string, sessionName: string) => {
    const key = `${account}/${region}/${sessionName}`;
    let entry = sessions.get(key);
    if (!entry) {
      let credentials: Credentials | undefined;
      let pending: Promise<Credentials> | undefined;
      // The SDK asks the provider again when its credentials near expiry; the provider renews them once for all.
      const provider = async (): Promise<Credentials> => {
        if (fresh(credentials)) return credentials!;
        pending ??= assume(account, region, sessionName).finally(() => (pending = undefined));
        credentials = await pending;
        return credentials;
      };
      entry = { clients: createAwsClients({ ...base, region, credentials: provider }), provider };
      sessions.set(key, entry);
      if (sessions.size > MAX_SESSIONS) {
        const [oldestKey, oldest] = sessions.entries().next().value!;
        sessions.delete(oldestKey);
        destroyAwsClients(oldest.clients);
      }
    }
    return entry;
  };

  return {
    own,
    ownAccount,
    async forStep(ctx) {
      const target: ExecutionTarget = ctx?.target ?? {};
      const region = target.region ?? opts.region;
      if (target.account === undefined) return ownIn(region);
      if (!/^[0-9]{12}$/.test(target.account)) {
        throw ApplicationFailure.create({
          message: `target account "${target.account}" is not a 12-digit AWS account ID`,
          type: TargetNotAllowedError.type,
          nonRetryable: true,
        });
      }
      const mine = await ownAccount();
      if (target.account === mine) return ownIn(region);
      if (!allowed.has(target.account)) {
        const cause = new TargetNotAllowedError(target.account);
        throw ApplicationFailure.create({ message: cause.message, type: cause.name, nonRetryable: true, cause });
      }
      const entry = session(target.account, region, roleSessionName(ctx?.executionId));
      // Assume now, so a refusal surfaces as AssumeRoleFailed before the step's first call.
      await entry.provider();
      return entry.clients;
    },
    destroy() {
      for (const clients of ownByRegion.values()) if (clients !== opts.own) destroyAwsClients(clients);
      for (const { clients } of sessions.values()) destroyAwsClients(clients);
      sessions.clear();
    },
  };
}

/** What activity modules are built on: fixed clients (tests, scripts) or a factory choosing them per step. */
export type ClientSource = AwsClients | ClientFactory;

export function isClientFactory(source: object): source is ClientFactory {
  return typeof (source as ClientFactory).forStep === 'function';
}

type ActivityFns = Record<string, (input: any) => Promise<unknown>>;

/**
 * Builds a module's activities so that each call runs on the clients of its step's target (`input.ctx.target`).
 * With fixed clients, the module is built once on them and targets are ignored.
 *
 * @param source fixed clients (only the services the module uses), or the factory
 * @param build the module's activities on one set of clients
 */
export function routeByTarget<C extends Partial<AwsClients>, T extends object>(
  source: C | ClientFactory,
  build: (clients: C) => T,
): T {
  if (!isClientFactory(source)) return build(source);
  const factory = source;
  const built = new WeakMap<AwsClients, T>();
  const on = (clients: AwsClients): T => {
    let acts = built.get(clients);
    if (!acts) built.set(clients, (acts = build(clients as unknown as C)));
    return acts;
  };
  const routed: ActivityFns = {};
  for (const name of Object.keys(on(factory.own))) {
    routed[name] = async (input: { ctx?: StepContext } | undefined) =>
      (on(await factory.forStep(input?.ctx)) as ActivityFns)[name](input);
  }
  return routed as unknown as T;
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

/** What each running activity changed so far, shaped like its output (reportPartial). */
const partials = new WeakMap<Context, unknown>();

/**
 * For an action that changes several resources one by one: reports what it changed so far, shaped like its output,
 * as it goes. The report is heartbeated (so a step whose worker dies leaves it in its last heartbeat), and a failure
 * carries it in its details (activities/envelope.ts), so the workflow compensates these partial changes too.
 */
export function reportPartial(partial: unknown): void {
  const ctx = activityContext();
  if (!ctx) return;
  partials.set(ctx, partial);
  heartbeatIfActive({ partial });
}

/** The running activity's last partial report, if any. */
export function partialReported(): unknown {
  const ctx = activityContext();
  return ctx ? partials.get(ctx) : undefined;
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

// Where activity modules have always found them.
export { activityContext, cancellationRequestedByWorkflow } from './activity-context';
