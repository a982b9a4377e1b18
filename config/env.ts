/**
 * Configuration from environment variables, validated once at start. Every variable is documented in README.md.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object({
  temporalAddress: Type.String({ minLength: 1 }),
  temporalNamespace: Type.String({ minLength: 1 }),
  taskQueue: Type.String({ minLength: 1 }),
  awsRegion: Type.String({ minLength: 1 }),
  /** Endpoint override for every AWS client (the moto emulator); unset means real AWS with the default chain. */
  awsEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
  apiHost: Type.String(),
  apiPort: Port,
  /** Base URL that notifications use to link to executions and approvals. */
  publicUrl: Type.String({ pattern: '^https?://' }),
  /** `token` (bearer tokens from apiTokens) or `none` (local development: every caller has every role). */
  authMode: Type.Union([Type.Literal('none'), Type.Literal('token')]),
  apiTokens: Type.String(),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
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

function int(v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  return /^\d+$/.test(v) ? Number(v) : NaN;
}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const apiPort = int(env.FIREBREAK_API_PORT, 3000);
  const apiHost = env.FIREBREAK_API_HOST || '127.0.0.1';
  const cfg = {
    temporalAddress: env.FIREBREAK_TEMPORAL_ADDRESS || '127.0.0.1:7233',
    temporalNamespace: env.FIREBREAK_TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.FIREBREAK_TASK_QUEUE || 'firebreak',
    awsRegion: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    awsEndpoint: env.FIREBREAK_AWS_ENDPOINT || undefined,
    apiHost,
    apiPort,
    publicUrl: env.FIREBREAK_PUBLIC_URL || `http://${apiHost}:${apiPort}`,
    authMode: env.FIREBREAK_AUTH_MODE || 'none',
    apiTokens: env.FIREBREAK_API_TOKENS || '',
    logLevel: env.LOG_LEVEL || 'info',
  };
  const names: Record<string, string> = {
    temporalAddress: 'FIREBREAK_TEMPORAL_ADDRESS',
    temporalNamespace: 'FIREBREAK_TEMPORAL_NAMESPACE',
    taskQueue: 'FIREBREAK_TASK_QUEUE',
    awsRegion: 'AWS_REGION',
    awsEndpoint: 'FIREBREAK_AWS_ENDPOINT',
    apiHost: 'FIREBREAK_API_HOST',
    apiPort: 'FIREBREAK_API_PORT',
    publicUrl: 'FIREBREAK_PUBLIC_URL',
    authMode: 'FIREBREAK_AUTH_MODE',
    apiTokens: 'FIREBREAK_API_TOKENS',
    logLevel: 'LOG_LEVEL',
  };
  const errors = [...Value.Errors(ConfigSchema, cfg)].map((e) => {
    const key = e.path.split('/')[1] ?? '';
    return `${names[key] ?? key}: ${e.message} (got ${JSON.stringify((cfg as Record<string, unknown>)[key])})`;
  });
  if (cfg.authMode === 'token' && !cfg.apiTokens) errors.push('FIREBREAK_API_TOKENS: required when FIREBREAK_AUTH_MODE=token');
  if (errors.length > 0) throw new ConfigError(`invalid configuration: ${errors.join('; ')}`, errors);
  return cfg as Config;
}
