/**
 * The benchmarks' stack, started afresh for each sitting: a Temporal dev server (scripts/stack.ts, the .tools binary),
 * the fake AWS endpoint in this process (for realism, a recording proxy in front of moto), firebreak's worker and the
 * baseline's worker each in its own process, and the API in its own process, all on loopback ports. The driver (this
 * process) only sends load and reads clocks.
 */
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { BUNDLE_LOGGER, bundleWorkflows } from '../worker/bundle';
import { seedEnvironment } from '../scripts/seed';
import { EMULATOR_CREDENTIALS, freePort, ROOT, startMoto, startTemporal, stopProcess } from '../scripts/stack';
import { selfSignedCertificate, type TestCertificate } from '../test/alerts/helpers';
import { newInstanceId } from './alerts';
import { BENCH_ACCOUNT, BENCH_REGION, BENCH_TOPIC } from './bench';
import { startFakeAws, type FakeAws } from './fake-aws';
import type { WorkerStats } from './worker-proc';

export const DATA_DIR = path.join(ROOT, '.data', 'bench');

export interface Proc {
  proc: ChildProcess;
  stats(): Promise<WorkerStats>;
  stop(): Promise<void>;
}

export interface BenchStack {
  aws: 'fake' | 'moto';
  temporalAddress: string;
  client: Client;
  /** The fake endpoint; with moto, the recording proxy in front of it (and still the baseline's marks). */
  fake: FakeAws;
  /**
   * `n` instances for alerts to name: with the fake, new IDs (it answers for any); with moto, instances launched there
   * first (scripts/seed.ts: a VPC, two subnets, two groups, a root and a data volume each), outside any timing.
   */
  instances(n: number): Promise<string[]>;
  awsEndpoint: string;
  apiUrl: string;
  firebreakTaskQueue: string;
  baselineTaskQueue: string;
  /** The firebreak workflow bundle the worker runs (the replay bench replays against it). */
  firebreakBundle: string;
  worker: Proc;
  baselineWorker: Proc;
  api: Proc;
  cert: TestCertificate;
  /** The Temporal dev server's resident memory (bytes). */
  serverRss(): number;
  /** The Temporal dev server's CPU time so far (user + system, ms). */
  serverCpuMs(): number;
  stop(): Promise<void>;
}

/** Writes a bundle to DATA_DIR: firebreak's as the worker builds it (worker/bundle.ts), the baseline's plain. */
async function bundle(built: Promise<{ code: string }>, out: string): Promise<string> {
  const { code } = await built;
  const target = path.join(DATA_DIR, out);
  writeFileSync(target, code);
  return target;
}

function startProc(script: string, env: NodeJS.ProcessEnv, log: string): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const proc = fork(path.join(__dirname, script), [], {
      // BENCH_CPU_PROF=<dir>: each process writes a V8 CPU profile there on exit (what a missed target is profiled with).
      execArgv: [
        '--import',
        'tsx',
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ],
      env: {
        ...process.env,
        ...EMULATOR_CREDENTIALS,
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const lines: string[] = [];
    const keep = (b: Buffer) => {
      lines.push(b.toString());
      if (lines.length > 200) lines.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const pending: ((s: WorkerStats) => void)[] = [];
    proc.on('message', (m: any) => {
      if (m?.ready) {
        resolve({
          proc,
          stats: () =>
            new Promise((res) => {
              pending.push(res);
              proc.send('stats');
            }),
          stop: async () => {
            writeFileSync(path.join(DATA_DIR, log), lines.join(''));
            if (proc.exitCode !== null) return;
            proc.send('stop');
            await stopProcess(proc, 20_000);
          },
        });
      } else if (m?.stats) pending.shift()?.(m.stats);
    });
    proc.once('exit', (code) => {
      writeFileSync(path.join(DATA_DIR, log), lines.join(''));
      reject(new Error(`${script} exited (${code}) before it was ready; see .data/bench/${log}`));
    });
  });
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/** With moto: the notification topic the bench API names, and a function that launches instances to alert on. */
async function motoInstances(endpoint: string): Promise<(n: number) => Promise<string[]>> {
  const config = {
    region: BENCH_REGION,
    endpoint,
    credentials: {
      accessKeyId: EMULATOR_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: EMULATOR_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
  };
  const [ec2, sns, sqs] = [new EC2Client(config), new SNSClient(config), new SQSClient(config)];
  const topic = await sns.send(new CreateTopicCommand({ Name: BENCH_TOPIC.split(':').pop()! }));
  if (topic.TopicArn !== BENCH_TOPIC)
    throw new Error(`moto made ${topic.TopicArn}, the bench API names ${BENCH_TOPIC}`);
  let batch = 0;
  return async (n) => {
    const seeded = await seedEnvironment({ ec2, sns, sqs, instances: n, name: `bench-${process.pid}-${++batch}` });
    return seeded.instances.map((i) => i.instanceId);
  };
}

let clockTicks: number | undefined;
/** A process's CPU time so far (user + system, ms), from /proc (in clock ticks, `getconf CLK_TCK` per second). */
export function cpuMsOf(pid: number): number {
  clockTicks ??= Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim());
  // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

export interface CpuMs {
  worker: number;
  baselineWorker: number;
  api: number;
  server: number;
  /** This process: the senders and the fake AWS endpoint. */
  driver: number;
}

/** CPU time so far of every process of the sitting (user + system, ms); subtract two readings for a phase's. */
export async function cpuNow(stack: BenchStack): Promise<CpuMs> {
  const ms = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  const [worker, baselineWorker, api] = await Promise.all([
    stack.worker.stats(),
    stack.baselineWorker.stats(),
    stack.api.stats(),
  ]);
  return {
    worker: ms(worker.cpu),
    baselineWorker: ms(baselineWorker.cpu),
    api: ms(api.cpu),
    server: stack.serverCpuMs(),
    driver: ms(process.cpuUsage()),
  };
}

/** CPU used between two readings, rounded (ms). */
export function cpuSpent(before: CpuMs, after: CpuMs): CpuMs {
  const d = (k: keyof CpuMs) => Math.round(after[k] - before[k]);
  return {
    worker: d('worker'),
    baselineWorker: d('baselineWorker'),
    api: d('api'),
    server: d('server'),
    driver: d('driver'),
  };
}

export interface StackOptions {
  aws: 'fake' | 'moto';
  /** An already running dev server (the smoke test reuses jest's); by default one is started for this sitting. */
  temporalAddress?: string;
  /** A prebuilt firebreak workflow bundle (the smoke test reuses jest's); by default bundled now. */
  firebreakBundle?: string;
}

export async function startStack(opts: StackOptions): Promise<BenchStack> {
  mkdirSync(DATA_DIR, { recursive: true });
  const [temporalPort, apiPort, motoPort] = [await freePort(), await freePort(), await freePort()];
  const motoUrl = `http://127.0.0.1:${motoPort}`;
  // With moto, the fake becomes a recording proxy in front of it: the benches' clocks stay where they are.
  const fake = await startFakeAws(opts.aws === 'moto' ? { upstream: motoUrl } : {});
  const [temporal, moto, firebreakBundle, baselineBundle] = await Promise.all([
    opts.temporalAddress
      ? undefined
      : startTemporal({ port: temporalPort, logFile: path.join(DATA_DIR, 'temporal.log') }),
    opts.aws === 'moto'
      ? // The alerts' account (the fixtures', as the fake answers): moto acts in it, so no alert needs rewriting.
        startMoto({ port: motoPort, logFile: path.join(DATA_DIR, 'moto.log'), accountId: BENCH_ACCOUNT })
      : undefined,
    opts.firebreakBundle ?? bundle(bundleWorkflows({ logger: BUNDLE_LOGGER }), 'firebreak-bundle.js'),
    bundle(
      bundleWorkflowCode({ workflowsPath: require.resolve('./baseline/workflows'), logger: BUNDLE_LOGGER }),
      `baseline-bundle-${process.pid}.js`,
    ),
  ]);
  const temporalAddress = opts.temporalAddress ?? `127.0.0.1:${temporalPort}`;
  const awsEndpoint = fake.endpoint;
  const cert = selfSignedCertificate();
  // Unique queues: a shared dev server (the smoke test's) may hold other runs' workers.
  const run = `${Date.now().toString(36)}-${process.pid}`;
  const firebreakTaskQueue = `firebreak-bench-${run}`;
  const baselineTaskQueue = `baseline-bench-${run}`;
  const common = { BENCH_TEMPORAL_ADDRESS: temporalAddress, BENCH_AWS_ENDPOINT: awsEndpoint };
  const started: Proc[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop().catch(() => undefined)));
    await temporal?.stop();
    await moto?.stop();
    await fake.close();
  };
  try {
    const [worker, baselineWorker, api] = await Promise.all([
      startProc(
        'worker-proc.ts',
        { ...common, BENCH_ROLE: 'firebreak', BENCH_TASK_QUEUE: firebreakTaskQueue, BENCH_BUNDLE: firebreakBundle },
        'worker.log',
      ).then((p) => (started.push(p), p)),
      startProc(
        'worker-proc.ts',
        {
          ...common,
          // The baseline's marks go to the fake even when the catalogue's calls go to moto.
          BENCH_AWS_ENDPOINT: awsEndpoint,
          BENCH_MARK_ENDPOINT: fake.endpoint,
          BENCH_ROLE: 'baseline',
          BENCH_TASK_QUEUE: baselineTaskQueue,
          BENCH_BUNDLE: baselineBundle,
        },
        'baseline-worker.log',
      ).then((p) => (started.push(p), p)),
      startProc(
        'api-proc.ts',
        {
          ...common,
          BENCH_TASK_QUEUE: firebreakTaskQueue,
          BENCH_API_PORT: String(apiPort),
          BENCH_SNS_CERT: cert.certPem,
        },
        'api.log',
      ).then((p) => (started.push(p), p)),
    ]);
    const connection = await Connection.connect({ address: temporalAddress, connectTimeout: '60s' });
    const client = new Client({ connection });
    const instances = moto
      ? await motoInstances(motoUrl)
      : async (n: number) => Array.from({ length: n }, newInstanceId);
    return {
      aws: opts.aws,
      instances,
      temporalAddress,
      client,
      fake,
      awsEndpoint,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      firebreakTaskQueue,
      baselineTaskQueue,
      firebreakBundle,
      worker,
      baselineWorker,
      api,
      cert,
      // A shared server (not started here) is not this sitting's to report.
      serverRss: () => (temporal ? rssOf(temporal.proc.pid!) : NaN),
      serverCpuMs: () => (temporal ? cpuMsOf(temporal.proc.pid!) : NaN),
      stop: async () => {
        await connection.close();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
