/**
 * Configuration from environment variables, validated once at start. Every variable is documented in README.md.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseTokenEntries } from '../api/tokens';
import type { Duration } from '@temporalio/common';
import { durationMs } from '../runbooks/dsl/duration';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object({
  temporalAddress: Type.String({ minLength: 1 }),
  temporalNamespace: Type.String({ minLength: 1 }),
  taskQueue: Type.String({ minLength: 1 }),
  awsRegion: Type.String({ minLength: 1 }),
  /** Endpoint override for every AWS client (the moto emulator); unset means real AWS with the default chain. */
  awsEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Accounts besides the worker's own that executions may act in (through AssumeRole). */
  targetAccounts: Type.Array(Type.String({ pattern: '^[0-9]{12}$' })),
  /** The role assumed in a target account. */
  assumeRoleName: Type.String({ pattern: '^[\\w+=,.@-]{1,64}$' }),
  /** ExternalId passed to AssumeRole, when the target roles' trust policies require one. */
  assumeRoleExternalId: Type.Optional(Type.String({ pattern: '^[\\w+=,.@:/-]{2,1224}$' })),
  apiHost: Type.String(),
  apiPort: Port,
  /** Base URL that notifications use to link to executions and approvals. */
  publicUrl: Type.String({ pattern: '^https?://' }),
  /** `token` (bearer: static tokens or OIDC JWTs) or `none` (local emulator stack: every caller has every role). */
  authMode: Type.Union([Type.Literal('none'), Type.Literal('token')]),
  /** Static API tokens as hashes: `sha256:<hex>=<name>:<role>+<role>,…`. */
  apiTokens: Type.String(),
  /** A JSON file of `{ name, roles, sha256 }` entries, besides (or instead of) apiTokens. */
  apiTokensFile: Type.Optional(Type.String({ minLength: 1 })),
  /** OIDC JWTs: on when an issuer is set. */
  oidc: Type.Optional(
    Type.Object({
      issuer: Type.String({ minLength: 1 }),
      audience: Type.String({ minLength: 1 }),
      jwksUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
      jwksFile: Type.Optional(Type.String({ minLength: 1 })),
      rolesClaim: Type.String({ minLength: 1 }),
      principalClaim: Type.String({ minLength: 1 }),
      clockSkewSec: Type.Integer({ minimum: 0, maximum: 600 }),
      algorithms: Type.Array(Type.String({ pattern: '^(RS|PS|ES)(256|384|512)$|^EdDSA$' }), { minItems: 1 }),
    }),
  ),
  /** `none` on a non-loopback address is refused unless this is set: anyone who can reach it would act as admin. */
  allowInsecure: Type.Boolean(),
  /** SNS topics for incident notifications by severity: `SEV1=arn,SEV2=arn,default=arn`. */
  notifyTopics: Type.Record(
    Type.String({ pattern: '^(SEV[1-4]|default)$' }),
    Type.String({ pattern: '^arn:aws[a-z-]*:sns:' }),
  ),
  /** Topics whose SNS deliveries the API accepts (exact ARNs or `*` patterns); empty accepts none. */
  snsTopics: Type.Array(Type.String({ minLength: 1 })),
  /** SNS signature verification; only an explicit `false` turns it off (the local emulator cannot sign). */
  snsVerify: Type.Boolean(),
  /** Shared secret for EventBridge API destinations and webhooks; empty refuses those deliveries. */
  webhookSecret: Type.String(),
  webhookHeader: Type.String({ pattern: '^[a-z0-9-]+$' }),
  /** Signed SNS messages older than this (by their Timestamp) are refused as replays. */
  snsMaxAgeSec: Type.Integer({ minimum: 60, maximum: 86_400 }),
  /** How far in the future an SNS Timestamp may be (clock skew between SNS and this host). */
  snsClockSkewSec: Type.Integer({ minimum: 0, maximum: 3_600 }),
  /**
   * Proxies in front of the API whose X-Forwarded-For is believed (addresses or CIDRs, comma-separated), so that the
   * per-address rate limit sees the client's address rather than the load balancer's. Empty: none.
   */
  trustProxy: Type.String({ pattern: '^[0-9A-Fa-f:./, ]*$' }),
  /** Requests per window: per principal, per source address, per source address to the alert endpoints. */
  rateLimit: Type.Object({
    windowSec: Type.Integer({ minimum: 1, maximum: 3_600 }),
    perPrincipal: Type.Integer({ minimum: 1 }),
    perAddress: Type.Integer({ minimum: 1 }),
    alertsPerAddress: Type.Integer({ minimum: 1 }),
  }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  /**
   * Worker: how long a stopping worker lets in-flight activities finish before it cancels them (Temporal then retries
   * them on another worker). At least the longest step (snapshots: 10 minutes); docker-compose's stop_grace_period
   * must be longer still.
   */
  workerShutdownGraceMs: Type.Integer({ minimum: 0 }),
  /**
   * Worker capacity: activity slots on the task queue (fast actions) and on `<taskQueue>-slow` (actions that poll or
   * wait, workflows/task-queues.ts), and workflow task slots. Separate slots keep slow evidence steps from holding
   * every slot while a containment step or a notification waits to start.
   */
  workerMaxActivities: Type.Integer({ minimum: 1, maximum: 10_000 }),
  workerMaxSlowActivities: Type.Integer({ minimum: 1, maximum: 10_000 }),
  workerMaxWorkflowTasks: Type.Integer({ minimum: 2, maximum: 10_000 }),
  workerMaxCachedWorkflows: Type.Integer({ minimum: 0, maximum: 100_000 }),
  /** Which queues this worker process serves: both (default), or one, to scale each queue's workers on its own. */
  workerQueues: Type.Union([Type.Literal('all'), Type.Literal('fast'), Type.Literal('slow')]),
  /** API: how long a resolved incident stays open, so that its alert firing again re-opens it (0: close at once). */
  incidentReopenGraceMs: Type.Integer({ minimum: 0 }),
  /**
   * TLS to Temporal (an existing cluster or Temporal Cloud): PEM file paths for mTLS (cert and key together), a CA for
   * a private server certificate, and the server name to check. On when any is set, or with an API key.
   */
  temporalTls: Type.Optional(
    Type.Object({
      certPath: Type.Optional(Type.String({ minLength: 1 })),
      keyPath: Type.Optional(Type.String({ minLength: 1 })),
      caPath: Type.Optional(Type.String({ minLength: 1 })),
      serverName: Type.Optional(Type.String({ minLength: 1 })),
    }),
  ),
  /** Temporal Cloud API key (sent as a bearer token, over TLS). */
  temporalApiKey: Type.Optional(Type.String({ minLength: 1 })),
  /** Worker: port of its own /metrics (step durations) and /healthz; unset: not served. */
  workerMetricsPort: Type.Optional(Port),
  /** Worker: `host:port` where the Temporal SDK's runtime serves its Prometheus metrics; unset: not served. */
  temporalMetricsAddress: Type.Optional(Type.String({ pattern: '^[^\\s:]+:[0-9]{1,5}$' })),
  /** API: how long the gauges computed from Temporal's visibility store are reused between scrapes. */
  metricsCacheMs: Type.Integer({ minimum: 0 }),
  /** OpenTelemetry tracing: on when the standard OTLP endpoint variable is set (OTLP over HTTP). */
  otlpEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Drills: the AWS emulator (moto) they seed throw-away accounts in; unset: drills refuse to run. */
  drillEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Worker: the evidence store, a folder each closed incident's evidence bundle is archived into (writable). */
  evidenceDir: Type.String({ minLength: 1 }),
  /**
   * Worker: the namespace retention it sets at start (how long Temporal keeps closed histories); unset: left as it
   * is. Temporal accepts 1 day or more.
   */
  namespaceRetentionMs: Type.Optional(Type.Integer({ minimum: 24 * 60 * 60 * 1000 })),
});
export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    readonly details: string[],
  ) {
    super(message);
  }
}

export const DEFAULT_WORKER_SHUTDOWN_GRACE = '10m';
export const DEFAULT_INCIDENT_REOPEN_GRACE = '2m';
export const DEFAULT_METRICS_CACHE = '15s';
export const DEFAULT_WORKER_MAX_ACTIVITIES = 100;
export const DEFAULT_WORKER_MAX_SLOW_ACTIVITIES = 50;
export const DEFAULT_WORKER_MAX_WORKFLOW_TASKS = 40;
/**
 * Workflows kept in the worker's memory between their tasks. Most of firebreak's workflows wait for days (a gate, a
 * rollback window, an open incident) and each cached one costs about a megabyte of worker memory (docs/BENCHMARKS.md);
 * one evicted from the cache is replayed from its history at its next task instead.
 */
export const DEFAULT_WORKER_MAX_CACHED_WORKFLOWS = 400;
export const DEFAULT_EVIDENCE_DIR = '.data/evidence';

/** A duration in the `ms` format (`90s`, `10m`, or plain milliseconds) as milliseconds; NaN when unreadable. */
function duration(v: string | undefined, fallback: string): number {
  try {
    return durationMs((v === undefined || v === '' ? fallback : /^\d+$/.test(v) ? Number(v) : v) as Duration);
  } catch {
    return NaN;
  }
}

function int(v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  return /^\d+$/.test(v) ? Number(v) : NaN;
}

/**
 * Reads and validates the configuration; throws ConfigError naming every bad variable. `api: true` also checks that
 * the API's authentication settings make a working, closed API (the worker does not serve requests).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { api?: boolean } = {}): Config {
  const apiPort = int(env.FIREBREAK_API_PORT, 3000);
  const apiHost = env.FIREBREAK_API_HOST || '127.0.0.1';
  // Read whether or not an issuer is set, so every variable shows up where the configuration is enumerated.
  const oidc = {
    issuer: env.FIREBREAK_OIDC_ISSUER,
    audience: env.FIREBREAK_OIDC_AUDIENCE ?? '',
    jwksUrl: env.FIREBREAK_OIDC_JWKS_URL || undefined,
    jwksFile: env.FIREBREAK_OIDC_JWKS_FILE || undefined,
    rolesClaim: env.FIREBREAK_OIDC_ROLES_CLAIM || 'roles',
    principalClaim: env.FIREBREAK_OIDC_PRINCIPAL_CLAIM || 'sub',
    clockSkewSec: int(env.FIREBREAK_OIDC_CLOCK_SKEW_S, 60),
    algorithms: (env.FIREBREAK_OIDC_ALGORITHMS || 'RS256,ES256')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
  };
  const tls = {
    certPath: env.FIREBREAK_TEMPORAL_TLS_CERT || undefined,
    keyPath: env.FIREBREAK_TEMPORAL_TLS_KEY || undefined,
    caPath: env.FIREBREAK_TEMPORAL_TLS_CA || undefined,
    serverName: env.FIREBREAK_TEMPORAL_TLS_SERVER_NAME || undefined,
  };
  const cfg = {
    temporalAddress: env.FIREBREAK_TEMPORAL_ADDRESS || '127.0.0.1:7233',
    temporalNamespace: env.FIREBREAK_TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.FIREBREAK_TASK_QUEUE || 'firebreak',
    awsRegion: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    awsEndpoint: env.FIREBREAK_AWS_ENDPOINT || undefined,
    targetAccounts: (env.FIREBREAK_TARGET_ACCOUNTS ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    assumeRoleName: env.FIREBREAK_ASSUME_ROLE_NAME || 'firebreak-responder',
    assumeRoleExternalId: env.FIREBREAK_ASSUME_ROLE_EXTERNAL_ID || undefined,
    apiHost,
    apiPort,
    publicUrl: env.FIREBREAK_PUBLIC_URL || `http://${apiHost}:${apiPort}`,
    authMode: env.FIREBREAK_AUTH_MODE || 'token',
    apiTokens: env.FIREBREAK_API_TOKENS || '',
    apiTokensFile: env.FIREBREAK_API_TOKENS_FILE || undefined,
    oidc: env.FIREBREAK_OIDC_ISSUER ? oidc : undefined,
    allowInsecure: env.FIREBREAK_ALLOW_INSECURE === 'true',
    notifyTopics: parsePairs(env.FIREBREAK_NOTIFY_TOPICS),
    snsTopics: (env.FIREBREAK_SNS_TOPICS ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    snsVerify: env.FIREBREAK_SNS_VERIFY !== 'false',
    webhookSecret: env.FIREBREAK_WEBHOOK_SECRET ?? '',
    webhookHeader: (env.FIREBREAK_WEBHOOK_HEADER || 'x-firebreak-secret').toLowerCase(),
    snsMaxAgeSec: int(env.FIREBREAK_SNS_MAX_AGE_S, 3600),
    snsClockSkewSec: int(env.FIREBREAK_SNS_CLOCK_SKEW_S, 300),
    trustProxy: env.FIREBREAK_TRUST_PROXY ?? '',
    rateLimit: {
      windowSec: int(env.FIREBREAK_RATE_LIMIT_WINDOW_S, 60),
      perPrincipal: int(env.FIREBREAK_RATE_LIMIT_PRINCIPAL, 600),
      perAddress: int(env.FIREBREAK_RATE_LIMIT_ADDRESS, 1200),
      alertsPerAddress: int(env.FIREBREAK_RATE_LIMIT_ALERTS, 6000),
    },
    logLevel: env.LOG_LEVEL || 'info',
    workerShutdownGraceMs: duration(env.FIREBREAK_WORKER_SHUTDOWN_GRACE, DEFAULT_WORKER_SHUTDOWN_GRACE),
    workerMaxActivities: int(env.FIREBREAK_WORKER_MAX_ACTIVITIES, DEFAULT_WORKER_MAX_ACTIVITIES),
    workerMaxSlowActivities: int(env.FIREBREAK_WORKER_MAX_SLOW_ACTIVITIES, DEFAULT_WORKER_MAX_SLOW_ACTIVITIES),
    workerMaxWorkflowTasks: int(env.FIREBREAK_WORKER_MAX_WORKFLOW_TASKS, DEFAULT_WORKER_MAX_WORKFLOW_TASKS),
    workerMaxCachedWorkflows: int(env.FIREBREAK_WORKER_MAX_CACHED_WORKFLOWS, DEFAULT_WORKER_MAX_CACHED_WORKFLOWS),
    workerQueues: env.FIREBREAK_WORKER_QUEUES || 'all',
    incidentReopenGraceMs: duration(env.FIREBREAK_INCIDENT_REOPEN_GRACE, DEFAULT_INCIDENT_REOPEN_GRACE),
    temporalTls: tls.certPath || tls.keyPath || tls.caPath || tls.serverName ? tls : undefined,
    temporalApiKey: env.FIREBREAK_TEMPORAL_API_KEY || undefined,
    workerMetricsPort: env.FIREBREAK_WORKER_METRICS_PORT ? int(env.FIREBREAK_WORKER_METRICS_PORT, 0) : undefined,
    temporalMetricsAddress: env.FIREBREAK_TEMPORAL_METRICS_ADDRESS || undefined,
    metricsCacheMs: duration(env.FIREBREAK_METRICS_CACHE, DEFAULT_METRICS_CACHE),
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    drillEndpoint: env.FIREBREAK_DRILL_AWS_ENDPOINT || undefined,
    evidenceDir: path.resolve(env.FIREBREAK_EVIDENCE_DIR || DEFAULT_EVIDENCE_DIR),
    namespaceRetentionMs: env.FIREBREAK_NAMESPACE_RETENTION
      ? duration(env.FIREBREAK_NAMESPACE_RETENTION, '0')
      : undefined,
  };
  const names: Record<string, string> = {
    temporalAddress: 'FIREBREAK_TEMPORAL_ADDRESS',
    temporalNamespace: 'FIREBREAK_TEMPORAL_NAMESPACE',
    taskQueue: 'FIREBREAK_TASK_QUEUE',
    awsRegion: 'AWS_REGION',
    awsEndpoint: 'FIREBREAK_AWS_ENDPOINT',
    targetAccounts: 'FIREBREAK_TARGET_ACCOUNTS',
    assumeRoleName: 'FIREBREAK_ASSUME_ROLE_NAME',
    assumeRoleExternalId: 'FIREBREAK_ASSUME_ROLE_EXTERNAL_ID',
    apiHost: 'FIREBREAK_API_HOST',
    apiPort: 'FIREBREAK_API_PORT',
    publicUrl: 'FIREBREAK_PUBLIC_URL',
    authMode: 'FIREBREAK_AUTH_MODE',
    apiTokens: 'FIREBREAK_API_TOKENS',
    apiTokensFile: 'FIREBREAK_API_TOKENS_FILE',
    oidc: 'FIREBREAK_OIDC_*',
    allowInsecure: 'FIREBREAK_ALLOW_INSECURE',
    notifyTopics: 'FIREBREAK_NOTIFY_TOPICS',
    snsTopics: 'FIREBREAK_SNS_TOPICS',
    snsVerify: 'FIREBREAK_SNS_VERIFY',
    webhookSecret: 'FIREBREAK_WEBHOOK_SECRET',
    webhookHeader: 'FIREBREAK_WEBHOOK_HEADER',
    snsMaxAgeSec: 'FIREBREAK_SNS_MAX_AGE_S',
    snsClockSkewSec: 'FIREBREAK_SNS_CLOCK_SKEW_S',
    trustProxy: 'FIREBREAK_TRUST_PROXY',
    rateLimit: 'FIREBREAK_RATE_LIMIT_*',
    logLevel: 'LOG_LEVEL',
    workerShutdownGraceMs: 'FIREBREAK_WORKER_SHUTDOWN_GRACE',
    workerMaxActivities: 'FIREBREAK_WORKER_MAX_ACTIVITIES',
    workerMaxSlowActivities: 'FIREBREAK_WORKER_MAX_SLOW_ACTIVITIES',
    workerMaxWorkflowTasks: 'FIREBREAK_WORKER_MAX_WORKFLOW_TASKS',
    workerMaxCachedWorkflows: 'FIREBREAK_WORKER_MAX_CACHED_WORKFLOWS',
    workerQueues: 'FIREBREAK_WORKER_QUEUES',
    incidentReopenGraceMs: 'FIREBREAK_INCIDENT_REOPEN_GRACE',
    temporalTls: 'FIREBREAK_TEMPORAL_TLS_*',
    temporalApiKey: 'FIREBREAK_TEMPORAL_API_KEY',
    workerMetricsPort: 'FIREBREAK_WORKER_METRICS_PORT',
    temporalMetricsAddress: 'FIREBREAK_TEMPORAL_METRICS_ADDRESS',
    metricsCacheMs: 'FIREBREAK_METRICS_CACHE',
    otlpEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    drillEndpoint: 'FIREBREAK_DRILL_AWS_ENDPOINT',
    evidenceDir: 'FIREBREAK_EVIDENCE_DIR',
    namespaceRetentionMs: 'FIREBREAK_NAMESPACE_RETENTION',
  };
  const rateLimitNames: Record<string, string> = {
    windowSec: 'FIREBREAK_RATE_LIMIT_WINDOW_S',
    perPrincipal: 'FIREBREAK_RATE_LIMIT_PRINCIPAL',
    perAddress: 'FIREBREAK_RATE_LIMIT_ADDRESS',
    alertsPerAddress: 'FIREBREAK_RATE_LIMIT_ALERTS',
  };
  const durationKeys = ['workerShutdownGraceMs', 'incidentReopenGraceMs', 'metricsCacheMs', 'namespaceRetentionMs'];
  const countKeys = [
    'workerMaxActivities',
    'workerMaxSlowActivities',
    'workerMaxWorkflowTasks',
    'workerMaxCachedWorkflows',
  ];
  const raw = (key: string) =>
    durationKeys.includes(key) || countKeys.includes(key)
      ? env[names[key]] // the value as written, not its NaN
      : (cfg as Record<string, unknown>)[key];
  const errors = [...Value.Errors(ConfigSchema, cfg)].map((e) => {
    const [, key = '', sub = ''] = e.path.split('/');
    if (key === 'rateLimit' && rateLimitNames[sub]) {
      return `${rateLimitNames[sub]}: ${e.message} (got ${JSON.stringify(cfg.rateLimit[sub as keyof typeof cfg.rateLimit])})`;
    }
    const what = !Number.isNaN((cfg as Record<string, unknown>)[key])
      ? e.message
      : countKeys.includes(key)
        ? 'expected a whole number'
        : 'expected a duration such as 90s or 10m';
    return `${names[key] ?? key}: ${what} (got ${JSON.stringify(raw(key))})`;
  });
  if (env.FIREBREAK_SNS_VERIFY !== undefined && !['true', 'false'].includes(env.FIREBREAK_SNS_VERIFY)) {
    errors.push(`FIREBREAK_SNS_VERIFY: must be true or false (got ${JSON.stringify(env.FIREBREAK_SNS_VERIFY)})`);
  }
  if (cfg.webhookSecret && cfg.webhookSecret.length < 16)
    errors.push('FIREBREAK_WEBHOOK_SECRET: at least 16 characters');
  errors.push(...tlsProblems(tls));
  errors.push(...evidenceDirProblems(cfg.evidenceDir));
  if (opts.api) errors.push(...authProblems(cfg as Config, env));
  if (errors.length > 0) throw new ConfigError(`invalid configuration: ${errors.join('; ')}`, errors);
  return cfg as Config;
}

/** `KEY=value,KEY2=value2` into a record; a malformed entry becomes a key the schema rejects. */
function parsePairs(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of (spec ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const i = entry.indexOf('=');
    if (i <= 0) out[`invalid entry "${entry}"`] = '';
    else out[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return out;
}

/** mTLS needs the certificate and its key together, and every named file must be readable now, not at first call. */
function tlsProblems(tls: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  if (!tls.certPath !== !tls.keyPath) {
    out.push('FIREBREAK_TEMPORAL_TLS_CERT / FIREBREAK_TEMPORAL_TLS_KEY: set both (mTLS) or neither');
  }
  const files = { FIREBREAK_TEMPORAL_TLS_CERT: tls.certPath, FIREBREAK_TEMPORAL_TLS_KEY: tls.keyPath };
  for (const [name, file] of Object.entries({ ...files, FIREBREAK_TEMPORAL_TLS_CA: tls.caPath })) {
    if (!file) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      out.push(`${name}: cannot read ${JSON.stringify(file)}`);
    }
  }
  return out;
}

/** The evidence store must be a folder the worker can write, or creatable in one it can: checked now, not at a close. */
function evidenceDirProblems(dir: string): string[] {
  let existing = dir;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    if (!statSync(existing).isDirectory())
      return [`FIREBREAK_EVIDENCE_DIR: ${JSON.stringify(existing)} is not a folder`];
    accessSync(existing, constants.W_OK);
  } catch {
    return [`FIREBREAK_EVIDENCE_DIR: cannot write in ${JSON.stringify(existing)}`];
  }
  return [];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Authentication settings that only make sense together; fail closed with a message that says what to set. */
function authProblems(cfg: Config, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (cfg.authMode === 'token') {
    if (!cfg.apiTokens && !cfg.apiTokensFile && !cfg.oidc) {
      out.push(
        'FIREBREAK_API_TOKENS: FIREBREAK_AUTH_MODE=token (the default) needs FIREBREAK_API_TOKENS, ' +
          'FIREBREAK_API_TOKENS_FILE or FIREBREAK_OIDC_ISSUER (`npm run token -- <name> <role>` makes a token)',
      );
    }
    if (cfg.apiTokens) {
      try {
        parseTokenEntries(cfg.apiTokens);
      } catch (err) {
        out.push(`FIREBREAK_API_TOKENS: ${(err as Error).message}`);
      }
    }
    if (cfg.oidc && !cfg.oidc.jwksUrl === !cfg.oidc.jwksFile) {
      out.push(
        'FIREBREAK_OIDC_JWKS_URL / FIREBREAK_OIDC_JWKS_FILE: exactly one is required with FIREBREAK_OIDC_ISSUER',
      );
    }
  } else if (!LOOPBACK.test(cfg.apiHost) && !cfg.allowInsecure) {
    out.push(
      `FIREBREAK_AUTH_MODE=none on ${cfg.apiHost} would let anyone who reaches it act as admin: listen on 127.0.0.1, ` +
        'use FIREBREAK_AUTH_MODE=token, or set FIREBREAK_ALLOW_INSECURE=true',
    );
  }
  for (const name of ['FIREBREAK_ALLOW_INSECURE']) {
    const v = env[name];
    if (v !== undefined && v !== '' && !['true', 'false'].includes(v)) out.push(`${name}: must be true or false`);
  }
  return out;
}
