/**
 * `npm start`: the whole local stack in one command, stopped by Ctrl-C.
 *
 *   1. Temporal dev server (state in .data/temporal.db, so executions survive a restart) with its Web UI;
 *   2. moto, the AWS emulator, seeded with the demo environment (scripts/seed.ts) unless it already holds it, and
 *      again in a second account and region (scripts/demo-seed.ts), which the worker is allowed to act in;
 *   3. the worker (worker/main.ts) and the API (api/server.ts), then waits for the API's /readyz;
 *   4. prints one `firebreak ready ...` line, a curl command that starts the demo incident, one that posts a GuardDuty
 *      finding for the demo instance (which opens an incident that starts ec2-compromise), one that contains the
 *      second account's demo instance through the execution's target, and where to look.
 *
 * Child output goes to .data/logs/<name>.log. Ctrl-C / SIGTERM / SIGHUP stops the worker and the API first, then
 * Temporal and moto, and exits 0; a second signal kills what is left. If a child dies on its own, the rest is stopped
 * and the exit code is 1, naming the child and its log. Invalid settings exit 2 before anything starts.
 *
 * Settings (environment):
 *   FIREBREAK_AWS_MODE       emulator (default): start moto on FIREBREAK_MOTO_PORT (5055), fake credentials, seed it.
 *                            With FIREBREAK_AWS_ENDPOINT already set, that emulator is used instead of starting moto.
 *                            aws: real AWS with the SDK's default credential chain; no moto, no seed, no endpoint.
 *   FIREBREAK_TEMPORAL_MODE  dev (default): start the dev server on FIREBREAK_TEMPORAL_PORT (7233), UI on
 *                            FIREBREAK_UI_PORT (8233). external: use FIREBREAK_TEMPORAL_ADDRESS, start nothing.
 *   FIREBREAK_API_HOST/PORT, AWS_REGION, FIREBREAK_DEMO_TOPIC_ARN (aws mode, optional) and everything else in
 *   config/env.ts are passed to the worker and the API as they are.
 *
 * Alert ingestion in emulator mode: unless set (non-empty), the worker and the API get FIREBREAK_SNS_VERIFY=false
 * (moto cannot sign), FIREBREAK_SNS_TOPICS=arn:aws:sns:*:<account of the demo topic>:*, FIREBREAK_NOTIFY_TOPICS=
 * default=<demo topic ARN>, and FIREBREAK_WEBHOOK_SECRET from .data/webhook-secret (32 random hex characters,
 * generated on the first start and kept, so that the printed curl stays valid across restarts). In aws mode nothing
 * is added: alert ingestion is configured by the user (config/env.ts).
 *
 * Process layout: Ctrl-C in a terminal signals the whole foreground process group. So that the worker and the API
 * can finish before Temporal goes away, this script re-runs itself as a supervisor in a new session and owns every
 * child from there; the front process only forwards signals and exits with the supervisor's code. When the front
 * process dies without a word (SIGKILL), the supervisor sees its IPC channel close and stops the stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { parseArn } from '../alerts/validate';
import { ConfigError, loadConfig } from '../config/env';
import { DEMO_SECOND_ACCOUNT, demoSecondRegion, seedDemo, type DemoTarget as BaseDemoTarget } from './demo-seed';
import { EMULATOR_CREDENTIALS, ROOT, startMoto, startTemporal, stopProcess, waitForPort } from './stack';

const SUPERVISOR_ENV = 'FIREBREAK_START_SUPERVISOR';
const DATA = path.join(ROOT, '.data');
const LOGS = path.join(DATA, 'logs');
/** Emulator mode: the webhook secret generated on the first start, reused by the next ones. */
const WEBHOOK_SECRET_FILE = path.join(DATA, 'webhook-secret');
/** Account of moto's resources, when the demo topic's ARN does not say. */
const MOTO_ACCOUNT = '123456789012';
const READY_TIMEOUT_MS = 120_000;
/** Starts each run's section in a child's log. */
const HEADER = '=== firebreak start';
/** Grace before SIGKILL: the worker may be finishing activities. */
const GRACE_MS = { worker: 20_000, api: 10_000, temporal: 10_000, moto: 5_000 } as const;
type ChildName = keyof typeof GRACE_MS;

// ---------------------------------------------------------------------------------------------------------------------
// Settings

export interface StartSettings {
  temporalMode: 'dev' | 'external';
  /** What the worker and the API connect to. */
  temporalAddress: string;
  temporalPort: number;
  uiPort: number;
  /** emulator mode: the emulator's endpoint; undefined in aws mode. */
  awsEndpoint?: string;
  /** True when this script starts moto (emulator mode without an external FIREBREAK_AWS_ENDPOINT). */
  startMoto: boolean;
  motoPort: number;
  region: string;
  apiHost: string;
  apiPort: number;
  /** The ports this script binds (variable name, port): distinct, and checked free before anything starts. */
  boundPorts: [string, number][];
  /** Environment of the worker and the API. */
  childEnv: NodeJS.ProcessEnv;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid settings:\n  - ${problems.join('\n  - ')}`);
  }
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(n >= 1 && n <= 65535)) problems.push(`${name} must be a port number 1-65535 (got ${JSON.stringify(raw)})`);
  return n;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], problems: string[]): T {
  const raw = env[name] || allowed[0];
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push(`${name} must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')} (got ${JSON.stringify(raw)})`);
  }
  return raw as T;
}

/** Reads and checks every setting, including the worker/API configuration they will be given; throws SettingsError. */
export function parseSettings(env: NodeJS.ProcessEnv): StartSettings {
  const problems: string[] = [];
  const awsMode = oneOf(env, 'FIREBREAK_AWS_MODE', ['emulator', 'aws'] as const, problems);
  const temporalMode = oneOf(env, 'FIREBREAK_TEMPORAL_MODE', ['dev', 'external'] as const, problems);
  const temporalPort = port(env, 'FIREBREAK_TEMPORAL_PORT', 7233, problems);
  const uiPort = port(env, 'FIREBREAK_UI_PORT', 8233, problems);
  const motoPort = port(env, 'FIREBREAK_MOTO_PORT', 5055, problems);
  const apiPort = port(env, 'FIREBREAK_API_PORT', 3000, problems);
  const apiHost = env.FIREBREAK_API_HOST || '127.0.0.1';
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';

  let temporalAddress = `127.0.0.1:${temporalPort}`;
  if (temporalMode === 'external') {
    if (!env.FIREBREAK_TEMPORAL_ADDRESS) {
      problems.push(
        'FIREBREAK_TEMPORAL_MODE=external needs FIREBREAK_TEMPORAL_ADDRESS (host:port of your Temporal frontend)',
      );
    } else temporalAddress = env.FIREBREAK_TEMPORAL_ADDRESS;
  }

  let awsEndpoint: string | undefined;
  let startsMoto = false;
  if (awsMode === 'aws') {
    if (env.FIREBREAK_AWS_ENDPOINT) {
      problems.push(
        `FIREBREAK_AWS_MODE=aws talks to real AWS, but FIREBREAK_AWS_ENDPOINT is set (${env.FIREBREAK_AWS_ENDPOINT}): unset it, or use FIREBREAK_AWS_MODE=emulator`,
      );
    }
  } else if (env.FIREBREAK_AWS_ENDPOINT) {
    awsEndpoint = env.FIREBREAK_AWS_ENDPOINT;
  } else {
    awsEndpoint = `http://127.0.0.1:${motoPort}`;
    startsMoto = true;
  }

  const bound: [string, number][] = [['FIREBREAK_API_PORT', apiPort]];
  if (temporalMode === 'dev') bound.push(['FIREBREAK_TEMPORAL_PORT', temporalPort], ['FIREBREAK_UI_PORT', uiPort]);
  if (startsMoto) bound.push(['FIREBREAK_MOTO_PORT', motoPort]);
  for (let i = 0; i < bound.length; i++) {
    for (let j = i + 1; j < bound.length; j++) {
      if (bound[i][1] === bound[j][1] && !Number.isNaN(bound[i][1])) {
        problems.push(`${bound[i][0]} and ${bound[j][0]} are both ${bound[i][1]}`);
      }
    }
  }

  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    FIREBREAK_TEMPORAL_ADDRESS: temporalAddress,
    FIREBREAK_API_HOST: apiHost,
    FIREBREAK_API_PORT: String(apiPort),
    AWS_REGION: region,
  };
  delete childEnv[SUPERVISOR_ENV];
  // The local stack runs without authentication unless the caller chose otherwise: an explicit setting always wins, so
  // the whole stack also runs with tokens (README: "Running the local stack with tokens").
  const authChosen = [
    'FIREBREAK_AUTH_MODE',
    'FIREBREAK_API_TOKENS',
    'FIREBREAK_API_TOKENS_FILE',
    'FIREBREAK_OIDC_ISSUER',
  ].some((k) => env[k] !== undefined && env[k] !== '');
  if (!authChosen) childEnv.FIREBREAK_AUTH_MODE = 'none';
  if (awsEndpoint) {
    Object.assign(childEnv, { FIREBREAK_AWS_ENDPOINT: awsEndpoint, ...EMULATOR_CREDENTIALS });
    // The emulator gets the fake keys only: no real session token or profile rides along.
    for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE']) delete childEnv[k];
    // The emulator cannot sign SNS messages. The topics and the webhook secret follow once the demo is seeded.
    if (!env.FIREBREAK_SNS_VERIFY) childEnv.FIREBREAK_SNS_VERIFY = 'false';
    // The second demo account (scripts/demo-seed.ts) is one the worker may act in, besides any the user allows.
    const allowed = (env.FIREBREAK_TARGET_ACCOUNTS ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    if (!allowed.includes(DEMO_SECOND_ACCOUNT)) {
      childEnv.FIREBREAK_TARGET_ACCOUNTS = [...allowed, DEMO_SECOND_ACCOUNT].join(',');
    }
  }
  if (problems.length === 0) {
    try {
      loadConfig(childEnv, { api: true });
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.details);
      else throw err;
    }
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return {
    temporalMode,
    temporalAddress,
    temporalPort,
    uiPort,
    awsEndpoint,
    startMoto: startsMoto,
    motoPort,
    region,
    apiHost,
    apiPort,
    boundPorts: bound,
    childEnv,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Supervisor

interface Child {
  name: ChildName;
  proc: ChildProcess;
  logFile: string;
}

type StopReason = { kind: 'signal'; signal: string } | { kind: 'died'; child: Child; how: string } | { kind: 'parent' };

const say = (msg: string): void => console.error(`firebreak: ${msg}`);
const rel = (file: string): string => path.relative(process.cwd(), file) || file;
const logOf = (name: ChildName): string => path.join(LOGS, `${name}.log`);

function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text
      .slice(Math.max(0, text.lastIndexOf(HEADER)), text.length) // this run only
      .slice(-8192)
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return '    | (no log)';
  }
}

function portFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function hostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1', Number(address.slice(i + 1))];
}

/** Host to reach a server listening on `host` (a wildcard bind is reached on loopback). */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

class Supervisor {
  private readonly children: Child[] = [];
  private reason: StopReason | undefined;
  private wake: (() => void) | undefined;
  private readonly stopped = new Promise<void>((resolve) => (this.wake = resolve));
  private forced = false;
  /** The webhook secret is the one in WEBHOOK_SECRET_FILE (so the printed curl may show it). */
  private generatedSecret = false;

  constructor(private readonly s: StartSettings) {}

  /** Ends the run; the first reason wins, a second signal kills every child at once. */
  requestStop(reason: StopReason): void {
    if (this.reason) {
      if (reason.kind === 'signal' && !this.forced) {
        this.forced = true;
        say(`${reason.signal} again: killing what is left`);
        for (const c of this.children)
          if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      }
      return;
    }
    this.reason = reason;
    this.wake?.();
  }

  private adopt(name: ChildName, proc: ChildProcess): void {
    const child: Child = { name, proc, logFile: logOf(name) };
    this.children.push(child);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (!this.reason)
        this.requestStop({ kind: 'died', child, how: signal ? `killed by ${signal}` : `exit code ${code}` });
    };
    if (proc.exitCode !== null || proc.signalCode !== null) onExit(proc.exitCode, proc.signalCode);
    else proc.once('exit', onExit);
    proc.once('error', (err) => {
      if (!this.reason) this.requestStop({ kind: 'died', child, how: err.message });
    });
  }

  /** Last resort on a bug in this script: signal every child and leave. */
  abandon(): void {
    for (const c of this.children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
  }

  private spawnTs(name: ChildName, entry: string): void {
    const logFile = logOf(name);
    const fd = openSync(logFile, 'a');
    // `node --import tsx` is what `tsx` runs, without its signal-relaying wrapper process: SIGTERM reaches the
    // worker itself, and a SIGKILL after the grace period leaves no orphaned grandchild behind.
    const proc = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env: this.s.childEnv,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.adopt(name, proc);
  }

  /** Runs the stack until a signal or a death; returns the exit code. */
  async run(): Promise<number> {
    try {
      await this.bringUp();
    } catch (err) {
      if (!this.reason) {
        say(err instanceof Error ? err.message : String(err));
        await this.shutdown();
        return 1;
      }
    }
    await this.stopped;
    return this.finish();
  }

  private async finish(): Promise<number> {
    const reason = this.reason!;
    if (reason.kind === 'died') {
      say(`${reason.child.name} stopped unexpectedly (${reason.how}); its log is ${rel(reason.child.logFile)}:`);
      console.error(tail(reason.child.logFile));
    }
    await this.shutdown();
    return reason.kind === 'died' ? 1 : 0;
  }

  private async shutdown(): Promise<void> {
    const live = (names: ChildName[]) =>
      this.children.filter((c) => names.includes(c.name) && c.proc.exitCode === null && c.proc.signalCode === null);
    for (const group of [
      ['worker', 'api'],
      ['temporal', 'moto'],
    ] as ChildName[][]) {
      const batch = live(group);
      if (batch.length === 0) continue;
      say(`stopping ${batch.map((c) => c.name).join(' and ')}`);
      await Promise.all(batch.map((c) => stopProcess(c.proc, GRACE_MS[c.name])));
    }
    if (this.children.length > 0) say('stopped');
  }

  private header(name: ChildName): void {
    appendFileSync(logOf(name), `\n${HEADER} ${new Date().toISOString()} ===\n`);
  }

  private async bringUp(): Promise<void> {
    const s = this.s;
    mkdirSync(LOGS, { recursive: true });
    for (const entry of ['worker/main.ts', 'api/server.ts']) {
      if (!existsSync(path.join(ROOT, entry))) throw new Error(`${entry} does not exist yet: nothing to start`);
    }
    const busy = [];
    for (const [name, p] of s.boundPorts) if (!(await portFree(p))) busy.push(`${p} (${name})`);
    if (busy.length > 0) {
      throw new Error(
        `${busy.length > 1 ? 'ports' : 'port'} ${busy.join(', ')} already in use: is another stack running? Stop it or choose other ports`,
      );
    }
    const names = [s.temporalMode === 'dev' && 'temporal', s.startMoto && 'moto', 'worker', 'api'].filter(Boolean);
    say(`logs in ${rel(LOGS)}/ (${names.map((n) => `${n}.log`).join(', ')})`);

    // Temporal and the emulator, in parallel.
    const starts: Promise<void>[] = [];
    if (s.temporalMode === 'dev') {
      this.header('temporal');
      starts.push(
        startTemporal({
          port: s.temporalPort,
          uiPort: s.uiPort,
          dbFile: path.join(DATA, 'temporal.db'),
          logFile: logOf('temporal'),
        }).then(
          (t) => this.adopt('temporal', t.proc),
          (err: Error) =>
            Promise.reject(
              new Error(
                `Temporal did not start (${err.message}); see ${rel(logOf('temporal'))}:\n${tail(logOf('temporal'))}`,
              ),
            ),
        ),
      );
    } else {
      const [host, p] = hostPort(s.temporalAddress);
      starts.push(
        waitForPort(p, host, 5_000).catch(() => {
          throw new Error(`FIREBREAK_TEMPORAL_MODE=external, but nothing answers at ${s.temporalAddress}`);
        }),
      );
    }
    if (s.startMoto) {
      this.header('moto');
      starts.push(
        startMoto({ port: s.motoPort, logFile: logOf('moto') }).then(
          (m) => this.adopt('moto', m.proc),
          (err: Error) =>
            Promise.reject(
              new Error(`moto did not start (${err.message}); see ${rel(logOf('moto'))}:\n${tail(logOf('moto'))}`),
            ),
        ),
      );
    } else if (s.awsEndpoint) {
      const url = new URL(s.awsEndpoint);
      starts.push(
        waitForPort(Number(url.port || (url.protocol === 'https:' ? 443 : 80)), url.hostname, 5_000).catch(() => {
          throw new Error(`FIREBREAK_AWS_ENDPOINT is ${s.awsEndpoint}, but nothing answers there`);
        }),
      );
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (this.reason) return;

    const demo = s.awsEndpoint ? await this.seed(s.awsEndpoint) : { topicArn: s.childEnv.FIREBREAK_DEMO_TOPIC_ARN };
    if (demo.topicArn) s.childEnv.FIREBREAK_DEMO_TOPIC_ARN = demo.topicArn;
    if (this.reason) return;
    if (s.awsEndpoint) this.alertDefaults(demo);

    for (const name of ['worker', 'api'] as const) this.header(name);
    this.spawnTs('worker', 'worker/main.ts');
    this.spawnTs('api', 'api/server.ts');
    const api = `http://${reachable(s.apiHost)}:${s.apiPort}`;
    say('waiting for the API to be ready');
    await Promise.race([this.waitReady(`${api}/readyz`), this.stopped]);
    if (this.reason) return;
    this.printReady(api, demo);
  }

  /**
   * Emulator mode: alert ingestion that works out of the box against the demo environment. Only what the user left
   * unset (or empty) is filled in; FIREBREAK_SNS_VERIFY=false was set by parseSettings.
   */
  private alertDefaults(demo: DemoTarget): void {
    const env = this.s.childEnv;
    const filled: string[] = [];
    if (env.FIREBREAK_SNS_VERIFY === 'false') filled.push('SNS signatures not verified');
    const arn = parseArn(demo.topicArn);
    if (demo.topicArn && arn) {
      if (!env.FIREBREAK_SNS_TOPICS) {
        env.FIREBREAK_SNS_TOPICS = `arn:${arn.partition}:sns:*:${arn.account}:*`;
        filled.push(`SNS topics ${env.FIREBREAK_SNS_TOPICS}`);
      }
      if (!env.FIREBREAK_NOTIFY_TOPICS) {
        env.FIREBREAK_NOTIFY_TOPICS = `default=${demo.topicArn}`;
        filled.push('notifications to the demo topic');
      }
    }
    if (!env.FIREBREAK_WEBHOOK_SECRET) {
      env.FIREBREAK_WEBHOOK_SECRET = webhookSecret();
      this.generatedSecret = true;
      filled.push(`webhook secret in ${rel(WEBHOOK_SECRET_FILE)}`);
    }
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) throw new Error(`emulator alert settings are invalid: ${err.details.join('; ')}`);
      throw err;
    }
    if (filled.length > 0) say(`emulator alert settings: ${filled.join(', ')}`);
  }

  private async seed(endpoint: string): Promise<DemoTarget> {
    try {
      const found = await seedDemo({ endpoint, region: this.s.region });
      say(
        found.seeded
          ? `seeded the demo environment: VPC ${found.vpcId}, instance ${found.instanceId}, topic ${found.topicArn}`
          : `demo environment already in the emulator (VPC ${found.vpcId}): not seeding again`,
      );
      // The second account and region: the worker acts there by AssumeRole (FIREBREAK_TARGET_ACCOUNTS allows it).
      const region = demoSecondRegion(this.s.region);
      const other = await seedDemo({
        endpoint,
        region,
        account: DEMO_SECOND_ACCOUNT,
        roleName: this.s.childEnv.FIREBREAK_ASSUME_ROLE_NAME || undefined,
      });
      say(
        `${other.seeded ? 'seeded' : 'found'} the second demo environment in account ${DEMO_SECOND_ACCOUNT}, ` +
          `region ${region}: instance ${other.instanceId}`,
      );
      return { ...found, second: { ...other, account: DEMO_SECOND_ACCOUNT, region } };
    } catch (err) {
      throw new Error(
        `seeding the emulator at ${endpoint} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private async waitReady(url: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer';
    while (!this.reason) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the API did not become ready within ${READY_TIMEOUT_MS / 1000}s (${url}: ${last}); see ${rel(logOf('api'))}:\n${tail(logOf('api'))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private printReady(api: string, demo: DemoTarget): void {
    const s = this.s;
    const ui = s.temporalMode === 'dev' ? `http://127.0.0.1:${s.uiPort}` : '-';
    const aws = s.awsEndpoint ?? `aws:${s.region}`;
    const instanceId = demo.instanceId ?? '<instance-id>';
    const body = JSON.stringify({
      params: { instanceId, notifyTopicArn: demo.topicArn ?? '<sns-topic-arn>' },
      reason: `demo: suspected compromise of ${instanceId}`,
    });
    // Through the AWS API, with no AWS CLI needed: scripts/instance-state.ts on the same endpoint as the worker.
    const awsState = `${s.awsEndpoint ? `FIREBREAK_AWS_ENDPOINT=${s.awsEndpoint} ` : ''}AWS_REGION=${s.region} npm run -s instance-state --`;
    const auth = s.childEnv.FIREBREAK_AUTH_MODE === 'token' ? ` -H 'authorization: Bearer <token>'` : '';
    const alert = s.awsEndpoint ? this.alertExample(api, auth, demo) : [];
    const lines = [
      `firebreak ready api=${api} temporal=${s.temporalAddress} ui=${ui} aws=${aws}`,
      '',
      `Start the demo incident${s.awsEndpoint ? '' : ' (fill in an instance of yours)'}:`,
      `  curl -sS -X POST ${api}/v1/runbooks/ec2-compromise/executions -H 'content-type: application/json'${auth} -d '${body}'`,
      ...alert,
      ...this.crossAccountExample(api, auth, demo),
      '',
      `Follow the execution (its executionId is in the answer${alert.length > 0 ? 's' : ''} above):`,
      `  curl -sS${auth} ${api}/v1/executions/<executionId>`,
      'Watch the instance being isolated, snapshotted and tagged:',
      `  ${awsState} ${instanceId}`,
      ...(ui !== '-'
        ? [`  ${ui}/namespaces/${s.childEnv.FIREBREAK_TEMPORAL_NAMESPACE || 'default'}/workflows  (Temporal UI)`]
        : []),
      '',
      `Logs: ${rel(LOGS)}/*.log. Ctrl-C stops everything.`,
      ...(s.childEnv.FIREBREAK_AUTH_MODE === 'none'
        ? [
            '',
            'WARNING: authentication is OFF for this local stack (FIREBREAK_AUTH_MODE=none): every caller acts as an',
            'admin. Set FIREBREAK_API_TOKENS (npm run token -- <name> <role>) to run it with tokens.',
          ]
        : []),
    ];
    console.log(lines.join('\n'));
  }

  /**
   * Emulator mode: the same containment in the second demo account and region, by its target: the worker assumes
   * its responder role there (moto answers AssumeRole for any account).
   */
  private crossAccountExample(api: string, auth: string, demo: DemoTarget): string[] {
    const other = demo.second;
    if (!other?.instanceId) return [];
    const body = JSON.stringify({
      // Notifications go out from the worker's own account: to the first demo's topic.
      params: { instanceId: other.instanceId, notifyTopicArn: demo.topicArn ?? '<sns-topic-arn>' },
      target: { account: other.account, region: other.region },
      reason: `demo: suspected compromise of ${other.instanceId} in ${other.account}/${other.region}`,
    });
    return [
      '',
      `Or across accounts: contain the demo instance of account ${other.account} in ${other.region} (allowed by`,
      'FIREBREAK_TARGET_ACCOUNTS; the worker assumes its responder role there); list what runs there:',
      `  curl -sS -X POST ${api}/v1/runbooks/ec2-compromise/executions -H 'content-type: application/json'${auth} -d '${body}'`,
      `  curl -sS${auth} '${api}/v1/executions?account=${other.account}&region=${other.region}'`,
    ];
  }

  /**
   * Emulator mode: a GuardDuty finding on the demo instance, as an EventBridge API destination posts it. The event id
   * is fixed in the printed command (made at start), so posting it twice is one delivery seen twice (`duplicate`).
   */
  private alertExample(api: string, auth: string, demo: DemoTarget): string[] {
    const s = this.s;
    const config = loadConfig(s.childEnv);
    if (!config.webhookSecret) return [];
    const instanceId = demo.instanceId ?? '<instance-id>';
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'GuardDuty Finding',
      source: 'aws.guardduty',
      account: parseArn(demo.topicArn)?.account || MOTO_ACCOUNT,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: s.region,
      resources: [],
      detail: {
        id: randomBytes(16).toString('hex'),
        type: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
        severity: 8,
        resource: { resourceType: 'Instance', instanceDetails: { instanceId } },
      },
    };
    const secret = this.generatedSecret ? config.webhookSecret : '<FIREBREAK_WEBHOOK_SECRET>';
    return [
      '',
      `Or let an alert do it: post a GuardDuty finding on ${instanceId} (as EventBridge delivers it). It opens an`,
      'incident, which starts ec2-compromise; posting it again is a redelivery of the same event id (duplicate):',
      `  curl -sS -X POST ${api}/v1/alerts/eventbridge -H 'content-type: application/json' -H '${config.webhookHeader}: ${secret}' -d '${JSON.stringify(event)}'`,
      'List the incidents, and read one (its incidentId is in the answer above):',
      `  curl -sS${auth} ${api}/v1/incidents`,
      `  curl -sS${auth} ${api}/v1/incidents/<incidentId>`,
    ];
  }
}

/**
 * The emulator's webhook secret: the one in WEBHOOK_SECRET_FILE, or a new one (32 random hex characters) written
 * there, owner-only, so that the curl printed at the last start still works after a restart.
 */
function webhookSecret(): string {
  try {
    const kept = readFileSync(WEBHOOK_SECRET_FILE, 'utf8').trim();
    if (/^[\x21-\x7e]{16,}$/.test(kept)) return kept;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(16).toString('hex');
  mkdirSync(DATA, { recursive: true });
  writeFileSync(WEBHOOK_SECRET_FILE, `${secret}\n`, { mode: 0o600 });
  return secret;
}

interface DemoTarget extends BaseDemoTarget {
  /** Emulator mode: the demo environment in the second account and region. */
  second?: BaseDemoTarget & { account: string; region: string };
}

async function supervise(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined); // terminal gone
  let settings: StartSettings;
  try {
    settings = parseSettings(process.env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    say(err.message);
    process.exit(2);
  }
  // The project runs on Node 20 on purpose; the SDK's "upgrade Node" notice would bury the ready message (the
  // worker and the API still log it). Set after parseSettings copies the environment for them.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sup = new Supervisor(settings);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => sup.requestStop({ kind: 'signal', signal }));
  process.on('uncaughtException', (err) => {
    console.error('firebreak: unexpected failure, stopping children', err);
    sup.abandon();
    process.exit(1);
  });
  if (process.channel) {
    process.channel.unref();
    process.on('disconnect', () => sup.requestStop({ kind: 'parent' }));
  }
  process.exit(await sup.run());
}

// ---------------------------------------------------------------------------------------------------------------------
// Front process: owns the terminal, forwards signals to the supervisor, exits with its code.

function front(): void {
  const child = spawn(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [SUPERVISOR_ENV]: '1' },
  });
  child.on('error', (err) => {
    console.error(`firebreak: could not start the supervisor: ${err.message}`);
    process.exit(1);
  });
  // One Ctrl-C can arrive twice: from the terminal (the whole process group) and again from the `tsx` wrapper of
  // `npm start`, which re-sends it when this process does not acknowledge it within 30 ms. Forwarded twice, the
  // supervisor would take it for an impatient second Ctrl-C and kill the worker mid-drain: a repeat within
  // ECHO_MS is that echo and is dropped.
  const ECHO_MS = 500;
  const forwarded = new Map<string, number>();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      const now = Date.now();
      if (now - (forwarded.get(signal) ?? -Infinity) < ECHO_MS) return;
      forwarded.set(signal, now);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? osConstants.signals[signal] : 0)));
}

if (require.main === module) {
  if (process.env[SUPERVISOR_ENV] === '1') {
    supervise().catch((err: unknown) => {
      console.error('firebreak: unexpected failure', err);
      process.exit(1);
    });
  } else {
    front();
  }
}
