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
 * `npm run histories:record -- --only <scenario>[,<scenario>...]` runs just those scenarios and writes them to
 * .data/record-histories/trial/ (never to test/histories/): for working on a scenario.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createAwsClients, destroyAwsClients } from '../activities/clients';
import { MANIFEST, sha256, type Manifest, type ManifestEntry } from '../forensics/corpus';
import { createWorker } from '../worker/worker';
import type { Recorded, Scenario, ScenarioContext } from './histories/context';
import { incidentScenarios } from './histories/incident-scenarios';
import { runbookScenarios } from './histories/runbook-scenarios';
import { seedEnvironment } from './seed';
import { EMULATOR_CREDENTIALS, freePort, ROOT, startMoto, startTemporal, toolPath, type Started } from './stack';

const HISTORIES = path.join(ROOT, 'test', 'histories');
const REGION = 'us-east-1';
const TASK_QUEUE = 'firebreak';
const ALL_SCENARIOS: Scenario[] = [...runbookScenarios, ...incidentScenarios];

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
  const only = onlyArgument(process.argv.slice(2));
  const logs = path.join(ROOT, '.data', 'record-histories');
  const target = only ? path.join(logs, 'trial') : path.join(HISTORIES, version);
  if (only) rmSync(target, { recursive: true, force: true });
  if (existsSync(target)) {
    console.error(
      `test/histories/${version}/ already exists: the corpus of a release is never overwritten.\n` +
        'Bump "version" in package.json, then record again; each release adds its own folder.',
    );
    process.exit(1);
  }
  const scratch = path.join(path.dirname(target), `.recording-${version}-${process.pid}`);
  mkdirSync(logs, { recursive: true });
  mkdirSync(scratch, { recursive: true });
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
    const scenarios = only ? ALL_SCENARIOS.filter((s) => only.includes(s.name)) : ALL_SCENARIOS;
    const env = await seedEnvironment({
      ec2: clients.ec2 as EC2Client,
      sns: clients.sns as SNSClient,
      sqs,
      name: `corpus-${version}`,
      instances: scenarios.length,
    });
    const instances = env.instances.map((i) => i.instanceId);

    const connection = await NativeConnection.connect({ address });
    const clientConnection = await Connection.connect({ address });
    const client = new Client({ connection: clientConnection });
    console.log('bundling the workflows and starting a worker');
    const worker = await createWorker({
      config: { temporalAddress: address, temporalNamespace: 'default', taskQueue: TASK_QUEUE, awsRegion: REGION },
      connection,
      clients,
    });
    const ctx: ScenarioContext = {
      client,
      taskQueue: TASK_QUEUE,
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
        console.log(`  ${s.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    });

    const entries: ManifestEntry[] = [];
    for (const r of recorded) {
      const description = await client.workflow.getHandle(r.workflowId).describe();
      const json = await exportHistory(address, r.workflowId, description.runId);
      const file = `${r.scenario}.json`;
      writeFileSync(path.join(scratch, file), json);
      entries.push({
        scenario: r.scenario,
        file,
        description: r.description,
        workflowType: description.type,
        workflowId: r.workflowId,
        runId: description.runId,
        status: description.status.name,
        eventCount: (JSON.parse(json) as { events: unknown[] }).events.length,
        sha256: sha256(json),
      });
    }
    const manifest: Manifest = {
      version,
      recordedAt: new Date().toISOString(),
      temporalSdk: packageVersion(path.join(ROOT, 'node_modules', '@temporalio', 'worker')),
      histories: entries,
    };
    writeFileSync(path.join(scratch, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(scratch, target);
    ok = true;
    console.log(`wrote ${entries.length} histories to ${path.relative(ROOT, target)}/`);

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
