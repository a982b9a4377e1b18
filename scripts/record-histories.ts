/**
 * `npm run histories:record`: records the replay corpus of this release into test/histories/<version>/.
 *
 * Starts its own Temporal dev server and moto on free ports, seeds moto, runs a worker with today's workflow code, and
 * drives real executions of every runbook ending and incident path (scripts/histories/*-scenarios.ts). Each closed
 * history is written as Temporal's JSON (what `temporal workflow show --output json` and the Web UI export, and what
 * the SDK's replayer reads), with MANIFEST.json naming each file's workflow type, workflow ID, event count and
 * SHA-256. CI never runs this; it replays the committed files (test/workflows/replay-corpus.test.ts).
 *
 * A release folder is written once: if test/histories/<version>/ exists, the script refuses and changes nothing.
 * Bump package.json's version first. It records into a scratch folder and renames it at the end, so a failed run
 * leaves no half-written release.
 *
 * Every run of each recorded workflow ID is written, oldest first: an incident that continued as new, or whose
 * fingerprint opened a new occurrence after it closed, gives `<scenario>.run-1.json`, `<scenario>.run-2.json`, ...
 * (one run keeps `<scenario>.json`). Each run is its own history: the replayer replays them one by one.
 *
 * `npm run histories:record -- --only <scenario>[,<scenario>...]` runs just those scenarios and writes them to
 * .data/record-histories/trial/ (never to test/histories/): for working on a scenario. `--out <dir>` writes to that
 * folder instead (it must not exist).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../activities/clients';
import { MANIFEST, sha256, type Manifest, type ManifestEntry } from '../forensics/corpus';
import { createWorker } from '../worker/worker';
import { until, type Recorded, type Scenario, type ScenarioContext } from './histories/context';
import { incidentScenarios } from './histories/incident-scenarios';
import { runbookScenarios } from './histories/runbook-scenarios';
import { seedEnvironment } from './seed';
import { EMULATOR_CREDENTIALS, freePort, ROOT, startMoto, startTemporal, toolPath, type Started } from './stack';

const HISTORIES = path.join(ROOT, 'test', 'histories');
const REGION = 'us-east-1';
const TASK_QUEUE = 'firebreak';
export const ALL_SCENARIOS: Scenario[] = [...runbookScenarios, ...incidentScenarios];

function packageVersion(dir: string, name = 'package.json'): string {
  return (JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { version: string }).version;
}

/** The history as the Temporal CLI exports it (all pages); the form the SDK's replayer and the Web UI read. */
async function exportHistory(address: string, workflowId: string, runId: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    toolPath('temporal'),
    ['workflow', 'show', '--address', address, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  // Normalised to two-space JSON with a final newline, whatever layout the CLI version prints.
  return `${JSON.stringify(JSON.parse(stdout), null, 2)}\n`;
}

/** One run of a workflow ID, as visibility lists it. */
interface ListedRun {
  runId: string;
  type: string;
  status: string;
  startTime: number;
}

/**
 * Every run of the workflow ID, oldest first, once all of them are closed and visibility lists the latest one
 * (visibility may trail a close by a moment): continued-as-new runs and earlier occurrences included.
 */
async function runsOf(client: Client, workflowId: string): Promise<ListedRun[]> {
  const latest = (await client.workflow.getHandle(workflowId).describe()).runId;
  return until(`every run of ${workflowId} listed and closed`, async () => {
    const runs: ListedRun[] = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      runs.push({ runId: w.runId, type: w.type, status: w.status.name, startTime: w.startTime.getTime() });
    }
    if (!runs.some((r) => r.runId === latest) || runs.some((r) => r.status === 'RUNNING')) return undefined;
    return runs.sort((a, b) => a.startTime - b.startTime);
  });
}

export interface RecordOptions {
  client: Client;
  /** The dev server's address (the Temporal CLI exports the histories from it). */
  address: string;
  connection: NativeConnection;
  clients: AwsClients;
  sqs: SQSClient;
  scenarios: Scenario[];
  /** Folder to write the histories and MANIFEST.json into (created). */
  dir: string;
  version: string;
  /** Folder the archive activity writes the closed incidents' evidence bundles into. */
  evidenceDir: string;
  taskQueue?: string;
  /** A prebuilt workflow bundle (tests); else the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  log?: (line: string) => void;
}

/** Runs the scenarios with a worker of today's code and writes every run of every recorded workflow to `dir`. */
export async function recordCorpus(opts: RecordOptions): Promise<Manifest> {
  const { client, scenarios, dir, version } = opts;
  const log = opts.log ?? (() => undefined);
  const taskQueue = opts.taskQueue ?? TASK_QUEUE;
  mkdirSync(dir, { recursive: true });
  const env = await seedEnvironment({
    ec2: opts.clients.ec2 as EC2Client,
    sns: opts.clients.sns as SNSClient,
    sqs: opts.sqs,
    name: `corpus-${version.replace(/[^\w-]/g, '-')}-${process.pid}`,
    instances: scenarios.length,
  });
  const instances = env.instances.map((i) => i.instanceId);
  log('starting a worker');
  const worker = await createWorker({
    config: {
      temporalAddress: opts.address,
      temporalNamespace: 'default',
      taskQueue,
      awsRegion: REGION,
      evidenceDir: opts.evidenceDir,
    },
    connection: opts.connection,
    clients: opts.clients,
    workflowBundle: opts.workflowBundle,
  });
  const ctx: ScenarioContext = {
    client,
    taskQueue,
    env,
    nextInstance: () => {
      const id = instances.shift();
      if (!id) throw new Error('no seeded instance left: seed one per scenario');
      return id;
    },
  };

  const recorded: Recorded[] = [];
  await worker.runUntil(async () => {
    for (const s of scenarios) {
      const t0 = Date.now();
      recorded.push(...(await s.run(ctx)));
      log(`  ${s.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  });

  const entries: ManifestEntry[] = [];
  for (const r of recorded) {
    const runs = await runsOf(client, r.workflowId);
    for (const [i, run] of runs.entries()) {
      const json = await exportHistory(opts.address, r.workflowId, run.runId);
      const scenario = runs.length === 1 ? r.scenario : `${r.scenario}.run-${i + 1}`;
      const file = `${scenario}.json`;
      writeFileSync(path.join(dir, file), json);
      entries.push({
        scenario,
        file,
        description: runs.length === 1 ? r.description : `${r.description} (run ${i + 1} of ${runs.length})`,
        workflowType: run.type,
        workflowId: r.workflowId,
        runId: run.runId,
        status: run.status,
        eventCount: (JSON.parse(json) as { events: unknown[] }).events.length,
        sha256: sha256(json),
      });
    }
  }
  const manifest: Manifest = {
    version,
    recordedAt: new Date().toISOString(),
    temporalSdk: packageVersion(path.join(ROOT, 'node_modules', '@temporalio', 'worker')),
    histories: entries,
  };
  writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function outArgument(argv: string[]): string | undefined {
  const i = argv.indexOf('--out');
  if (i < 0) return undefined;
  const dir = argv[i + 1];
  if (!dir) {
    console.error('--out needs a folder');
    process.exit(2);
  }
  return path.resolve(dir);
}

function onlyArgument(argv: string[]): string[] | undefined {
  const i = argv.indexOf('--only');
  if (i < 0) return undefined;
  const names = (argv[i + 1] ?? '').split(',').filter(Boolean);
  const known = ALL_SCENARIOS.map((s) => s.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (names.length === 0 || unknown.length > 0) {
    console.error(`--only needs scenario names; unknown: ${unknown.join(', ') || '(none given)'}`);
    console.error(`known: ${known.join(', ')}`);
    process.exit(2);
  }
  return names;
}

async function main(): Promise<void> {
  const version = packageVersion(ROOT);
  const argv = process.argv.slice(2);
  const only = onlyArgument(argv);
  const out = outArgument(argv);
  const logs = path.join(ROOT, '.data', 'record-histories');
  const target = out ?? (only ? path.join(logs, 'trial') : path.join(HISTORIES, version));
  if (only && !out) rmSync(target, { recursive: true, force: true });
  if (existsSync(target)) {
    console.error(
      out
        ? `${target} already exists: --out writes a new folder.`
        : `test/histories/${version}/ already exists: the corpus of a release is never overwritten.\n` +
            'Bump "version" in package.json, then record again; each release adds its own folder.',
    );
    process.exit(1);
  }
  const scratch = path.join(path.dirname(target), `.recording-${version}-${process.pid}`);
  mkdirSync(logs, { recursive: true });
  Object.assign(process.env, EMULATOR_CREDENTIALS, {
    AWS_REGION: REGION,
    // The SDK warns once per process that it will need Node 22 from 2027: noise here.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });

  const started: Started[] = [];
  let ok = false;
  try {
    const [temporalPort, motoPort] = [await freePort(), await freePort()];
    const address = `127.0.0.1:${temporalPort}`;
    const endpoint = `http://127.0.0.1:${motoPort}`;
    console.log(`starting Temporal on ${address} and moto on ${endpoint} (logs in ${path.relative(ROOT, logs)}/)`);
    started.push(await startTemporal({ port: temporalPort, logFile: path.join(logs, 'temporal.log') }));
    started.push(await startMoto({ port: motoPort, logFile: path.join(logs, 'moto.log') }));

    const cfg = { region: REGION, endpoint };
    const clients = createAwsClients(cfg);
    const sqs = new SQSClient(cfg);
    const connection = await NativeConnection.connect({ address });
    const clientConnection = await Connection.connect({ address });
    const client = new Client({ connection: clientConnection });
    const evidenceDir = path.join(logs, 'evidence');
    rmSync(evidenceDir, { recursive: true, force: true });
    console.log('bundling the workflows');
    const manifest = await recordCorpus({
      client,
      address,
      connection,
      clients,
      sqs,
      scenarios: only ? ALL_SCENARIOS.filter((s) => only.includes(s.name)) : ALL_SCENARIOS,
      dir: scratch,
      version,
      evidenceDir,
      log: (line) => console.log(line),
    });
    renameSync(scratch, target);
    ok = true;
    console.log(`wrote ${manifest.histories.length} histories to ${path.relative(ROOT, target)}/`);

    await clientConnection.close();
    await connection.close();
    destroyAwsClients(clients);
    sqs.destroy();
  } finally {
    if (!ok) rmSync(scratch, { recursive: true, force: true });
    await Promise.all(started.map((s) => s.stop()));
    await Runtime.instance().shutdown();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`recording failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
