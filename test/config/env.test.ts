/**
 * The API's authentication settings fail closed: the default mode needs credentials, plain tokens are refused, and
 * `none` never listens beyond loopback unless explicitly allowed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { authOptions } from '../../api/auth-options';
import { newToken, parseTokenEntries, readTokenFile, sha256Hex } from '../../api/tokens';
import {
  ConfigError,
  DEFAULT_WORKER_MAX_ACTIVITIES,
  DEFAULT_WORKER_MAX_SLOW_ACTIVITIES,
  DEFAULT_WORKER_MAX_WORKFLOW_TASKS,
  DEFAULT_WORKER_MAX_CACHED_WORKFLOWS,
  loadConfig,
} from '../../config/env';

const api = (env: Record<string, string>) => loadConfig(env, { api: true });
const problems = (env: Record<string, string>): string[] => {
  try {
    api(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.details;
    throw err;
  }
};

test('token mode is the default and needs credentials; the worker does not', () => {
  expect(loadConfig({}).authMode).toBe('token');
  expect(problems({})).toEqual([expect.stringMatching(/^FIREBREAK_API_TOKENS: .*npm run token/)]);
  const { entry } = newToken('alice', ['responder']);
  expect(api({ FIREBREAK_API_TOKENS: entry }).authMode).toBe('token');
});

test('plain tokens, bad hashes, names and roles are refused with the entry named', () => {
  expect(problems({ FIREBREAK_API_TOKENS: 'my-plain-token-0123456789=alice:responder' })).toEqual([
    expect.stringMatching(/entry 1 is not sha256:<hex>=<name>:<role>\+<role> \(plain tokens are not accepted/),
  ]);
  const hash = sha256Hex('x');
  expect(problems({ FIREBREAK_API_TOKENS: `sha256:${hash}=alice:responder,sha256:abc=bob:viewer` })).toEqual([
    expect.stringMatching(/entry 2: sha256 must be 64 hex/),
  ]);
  expect(problems({ FIREBREAK_API_TOKENS: `sha256:${hash}=alice:*` })).toEqual([expect.stringMatching(/roles must/)]);
  expect(parseTokenEntries(`sha256:${hash}=alice:responder+security-lead`)).toEqual([
    { sha256: hash, principal: { id: 'user:alice', roles: ['responder', 'security-lead'] } },
  ]);
});

test('a token file and a generated token authenticate their principal; the store keeps no plain token', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fbk-tokens-'));
  const file = path.join(dir, 'tokens.json');
  const { token, entry } = newToken('carol', ['viewer']);
  writeFileSync(file, JSON.stringify([{ name: 'dave', roles: ['admin'], sha256: sha256Hex('dave-token-0123456789') }]));
  expect(readTokenFile(file)).toEqual([expect.objectContaining({ principal: { id: 'user:dave', roles: ['admin'] } })]);
  const auth = authOptions(api({ FIREBREAK_API_TOKENS: entry, FIREBREAK_API_TOKENS_FILE: file }));
  if (auth.mode !== 'token') throw new Error('expected token mode');
  expect(auth.tokens.authenticate(token)).toEqual({ id: 'user:carol', roles: ['viewer'] });
  expect(auth.tokens.authenticate('dave-token-0123456789')).toEqual({ id: 'user:dave', roles: ['admin'] });
  expect(auth.tokens.authenticate(`${token}x`)).toBeUndefined();
  expect(JSON.stringify(auth.tokens)).not.toContain(token);
  expect(auth.jwt).toBeUndefined();
});

test('OIDC needs an audience and exactly one JWKS source', () => {
  const base = { FIREBREAK_OIDC_ISSUER: 'https://idp.test/', FIREBREAK_OIDC_AUDIENCE: 'firebreak' };
  expect(problems(base)).toEqual([expect.stringMatching(/exactly one is required/)]);
  expect(
    problems({ ...base, FIREBREAK_OIDC_JWKS_URL: 'https://idp.test/jwks', FIREBREAK_OIDC_JWKS_FILE: '/x' }),
  ).toEqual([expect.stringMatching(/exactly one is required/)]);
  expect(
    problems({ FIREBREAK_OIDC_ISSUER: 'https://idp.test/', FIREBREAK_OIDC_JWKS_URL: 'https://idp.test/jwks' }),
  ).toEqual([expect.stringMatching(/^FIREBREAK_OIDC_\*/)]);
  const cfg = api({ ...base, FIREBREAK_OIDC_JWKS_URL: 'https://idp.test/jwks', FIREBREAK_OIDC_ROLES_CLAIM: 'groups' });
  expect(cfg.oidc).toMatchObject({ rolesClaim: 'groups', clockSkewSec: 60, algorithms: ['RS256', 'ES256'] });
});

test('mode none listens on loopback only, unless FIREBREAK_ALLOW_INSECURE=true', () => {
  expect(problems({ FIREBREAK_AUTH_MODE: 'none' })).toEqual([]);
  expect(problems({ FIREBREAK_AUTH_MODE: 'none', FIREBREAK_API_HOST: '::1' })).toEqual([]);
  expect(problems({ FIREBREAK_AUTH_MODE: 'none', FIREBREAK_API_HOST: '0.0.0.0' })).toEqual([
    expect.stringMatching(/FIREBREAK_AUTH_MODE=none on 0.0.0.0 would let anyone/),
  ]);
  expect(
    problems({ FIREBREAK_AUTH_MODE: 'none', FIREBREAK_API_HOST: '0.0.0.0', FIREBREAK_ALLOW_INSECURE: 'true' }),
  ).toEqual([]);
  expect(problems({ FIREBREAK_AUTH_MODE: 'none', FIREBREAK_ALLOW_INSECURE: 'yes' })).toEqual([
    expect.stringMatching(/FIREBREAK_ALLOW_INSECURE: must be true or false/),
  ]);
});

test('target accounts and the assumed role are validated, with the defaults documented in the README', () => {
  const cfg = loadConfig({});
  expect(cfg).toMatchObject({ targetAccounts: [], assumeRoleName: 'firebreak-responder' });
  expect(cfg.assumeRoleExternalId).toBeUndefined();
  expect(
    loadConfig({
      FIREBREAK_TARGET_ACCOUNTS: ' 111122223333, 444455556666 ',
      FIREBREAK_ASSUME_ROLE_NAME: 'ir-responder',
      FIREBREAK_ASSUME_ROLE_EXTERNAL_ID: 'firebreak-ext',
    }),
  ).toMatchObject({
    targetAccounts: ['111122223333', '444455556666'],
    assumeRoleName: 'ir-responder',
    assumeRoleExternalId: 'firebreak-ext',
  });
  const bad = () =>
    loadConfig({ FIREBREAK_TARGET_ACCOUNTS: '1111-2222-3333', FIREBREAK_ASSUME_ROLE_NAME: 'no spaces allowed' });
  expect(bad).toThrow(ConfigError);
  expect(bad).toThrow(/FIREBREAK_TARGET_ACCOUNTS: .*FIREBREAK_ASSUME_ROLE_NAME: /);
});

test('rate limits, the SNS window and trusted proxies: defaults, and bad values named', () => {
  const cfg = loadConfig({});
  expect(cfg.rateLimit).toEqual({ windowSec: 60, perPrincipal: 600, perAddress: 1200, alertsPerAddress: 6000 });
  expect([cfg.snsMaxAgeSec, cfg.snsClockSkewSec, cfg.trustProxy]).toEqual([3600, 300, '']);
  const set = loadConfig({
    FIREBREAK_RATE_LIMIT_PRINCIPAL: '100',
    FIREBREAK_SNS_MAX_AGE_S: '900',
    FIREBREAK_TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
  });
  expect([set.rateLimit.perPrincipal, set.snsMaxAgeSec, set.trustProxy]).toEqual([100, 900, '10.0.0.0/8, 192.168.1.1']);
  const bad = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as ConfigError).details;
    }
    return [];
  };
  expect(bad({ FIREBREAK_RATE_LIMIT_ALERTS: '0' })).toEqual([expect.stringMatching(/^FIREBREAK_RATE_LIMIT_ALERTS: /)]);
  expect(bad({ FIREBREAK_RATE_LIMIT_WINDOW_S: 'a minute' })).toEqual([
    expect.stringMatching(/^FIREBREAK_RATE_LIMIT_WINDOW_S: /),
  ]);
  expect(bad({ FIREBREAK_SNS_MAX_AGE_S: '10' })).toEqual([expect.stringMatching(/^FIREBREAK_SNS_MAX_AGE_S: /)]);
  expect(bad({ FIREBREAK_SNS_CLOCK_SKEW_S: '-1' })).toEqual([expect.stringMatching(/^FIREBREAK_SNS_CLOCK_SKEW_S: /)]);
  expect(bad({ FIREBREAK_TRUST_PROXY: 'true' })).toEqual([expect.stringMatching(/^FIREBREAK_TRUST_PROXY: /)]);
});

test('worker capacity: slot limits per queue and the queues served, with defaults, and bad values named', () => {
  const cfg = loadConfig({});
  expect([cfg.workerMaxActivities, cfg.workerMaxSlowActivities, cfg.workerMaxWorkflowTasks, cfg.workerQueues]).toEqual([
    DEFAULT_WORKER_MAX_ACTIVITIES,
    DEFAULT_WORKER_MAX_SLOW_ACTIVITIES,
    DEFAULT_WORKER_MAX_WORKFLOW_TASKS,
    'all',
  ]);
  const set = loadConfig({
    FIREBREAK_WORKER_MAX_ACTIVITIES: '30',
    FIREBREAK_WORKER_MAX_SLOW_ACTIVITIES: '8',
    FIREBREAK_WORKER_MAX_WORKFLOW_TASKS: '20',
    FIREBREAK_WORKER_QUEUES: 'slow',
  });
  expect([set.workerMaxActivities, set.workerMaxSlowActivities, set.workerMaxWorkflowTasks, set.workerQueues]).toEqual([
    30,
    8,
    20,
    'slow',
  ]);
  const details = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as ConfigError).details;
    }
    return [];
  };
  expect(
    details({
      FIREBREAK_WORKER_MAX_ACTIVITIES: '0',
      FIREBREAK_WORKER_MAX_SLOW_ACTIVITIES: 'many',
      FIREBREAK_WORKER_MAX_WORKFLOW_TASKS: '1',
      FIREBREAK_WORKER_QUEUES: 'both',
    }),
  ).toEqual([
    expect.stringMatching(/^FIREBREAK_WORKER_MAX_ACTIVITIES: .* \(got "0"\)$/),
    'FIREBREAK_WORKER_MAX_SLOW_ACTIVITIES: expected a whole number (got "many")',
    // The SDK needs two workflow task slots (the sticky and the normal queue).
    expect.stringMatching(/^FIREBREAK_WORKER_MAX_WORKFLOW_TASKS: .* \(got "1"\)$/),
    expect.stringMatching(/^FIREBREAK_WORKER_QUEUES: .* \(got "both"\)$/),
  ]);
  // The workflow cache: a whole number, 0 (no cache: every task replays) allowed.
  expect(cfg.workerMaxCachedWorkflows).toBe(DEFAULT_WORKER_MAX_CACHED_WORKFLOWS);
  expect(loadConfig({ FIREBREAK_WORKER_MAX_CACHED_WORKFLOWS: '0' }).workerMaxCachedWorkflows).toBe(0);
  expect(details({ FIREBREAK_WORKER_MAX_CACHED_WORKFLOWS: '-1' })).toEqual([
    expect.stringMatching(/^FIREBREAK_WORKER_MAX_CACHED_WORKFLOWS: .* \(got "-1"\)$/),
  ]);
});

test('the evidence store is a folder the worker can write, and the namespace retention a duration of a day or more', () => {
  const details = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as ConfigError).details;
    }
    return [];
  };
  expect(loadConfig({}).evidenceDir).toBe(path.resolve('.data/evidence'));
  expect(loadConfig({}).namespaceRetentionMs).toBeUndefined();
  const dir = mkdtempSync(path.join(tmpdir(), 'firebreak-env-'));
  // Not there yet, but creatable inside a writable folder.
  expect(loadConfig({ FIREBREAK_EVIDENCE_DIR: path.join(dir, 'store', 'evidence') }).evidenceDir).toBe(
    path.join(dir, 'store', 'evidence'),
  );
  const file = path.join(dir, 'a-file');
  writeFileSync(file, 'x');
  expect(details({ FIREBREAK_EVIDENCE_DIR: path.join(file, 'evidence') })).toEqual([
    expect.stringMatching(/^FIREBREAK_EVIDENCE_DIR: .*a-file" is not a folder/),
  ]);
  expect(loadConfig({ FIREBREAK_NAMESPACE_RETENTION: '30d' }).namespaceRetentionMs).toBe(30 * 86_400_000);
  expect(details({ FIREBREAK_NAMESPACE_RETENTION: '2h' })).toEqual([
    expect.stringMatching(/^FIREBREAK_NAMESPACE_RETENTION: .*"2h"/),
  ]);
  expect(details({ FIREBREAK_NAMESPACE_RETENTION: 'a month' })).toEqual([
    expect.stringMatching(/^FIREBREAK_NAMESPACE_RETENTION: expected a duration/),
  ]);
});
