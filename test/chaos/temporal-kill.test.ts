/**
 * Chaos 2: `kill -9` of the Temporal dev server mid-run, restarted on the same SQLite file and port each time, while
 * ec2-compromise runs go on. No execution may be lost or restarted: each keeps the run ID it started with and ends as
 * it should, with its effects in moto once. The server here is the scenario's own (a file, not the jest stack's
 * in-memory one); the worker is a process of its own, started again should it give up while the server is away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, startTemporal, type Started } from '../../scripts/stack';
import { testAws, type TestAws } from '../stack/aws';
import { uniqueId } from '../stack/temporal';
import { pause, randomBetween, recordRow, retrying, size, Tally, FULL } from './chaos';
import { checkRun, checkVpcs, closeRuns, driveRun, FATES, startRun, type Run } from './ec2-runs';
import { killAll, startWorkerProcess, type Child } from './processes';

const KILLS = size(2, 10);
/** Runs under way at each kill: new ones start whenever fewer are unfinished. */
const LIVE = 2;

let aws: TestAws;
let dir: string;
let server: Started | undefined;

beforeAll(() => {
  aws = testAws();
  dir = mkdtempSync(path.join(tmpdir(), 'firebreak-chaos-'));
});
afterAll(async () => {
  killAll();
  await server?.stop();
  aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

test(
  `kill -9 of the Temporal server ${KILLS} times mid-run: no execution lost or restarted`,
  async () => {
    const started = Date.now();
    const tally = new Tally();
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const opts = { port, dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log') };
    server = await startTemporal(opts);
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    const taskQueue = uniqueId('tq-chaos-temporal');
    const workerEnv = { FIREBREAK_TEMPORAL_ADDRESS: address };
    let worker: Child = await startWorkerProcess(taskQueue, workerEnv);
    let workerRestarts = 0;
    const env = await aws.seed('chaos-temporal', { instances: LIVE * (KILLS + 1) });
    const runs: Run[] = [];
    const driving: Promise<unknown>[] = [];
    let next = 0;
    for (let k = 0; k < KILLS; k++) {
      while (runs.filter((r) => !r.final && !r.error).length < LIVE && next < env.instances.length) {
        const run = await startRun(client, taskQueue, {
          instance: env.instances[next],
          vpcId: env.vpcId,
          topicArn: env.topicArn,
          fate: FATES[next++ % FATES.length],
        });
        runs.push(run);
        driving.push(driveRun(client, run, 10 * 60_000).catch((err) => (run.error = String(err))));
      }
      await pause(randomBetween(500, 5000));
      server.proc.kill('SIGKILL');
      await new Promise((r) => server!.proc.once('exit', r));
      tally.faults++;
      await pause(randomBetween(0, 2000));
      server = await startTemporal(opts);
      if (worker.proc.exitCode !== null || worker.proc.signalCode !== null) {
        workerRestarts++;
        worker = await startWorkerProcess(taskQueue, workerEnv);
      }
    }
    await Promise.all(driving);

    // Same run IDs: the execution that started is the one that finished, not a new run of the same ID.
    for (const run of runs) {
      const desc = await retrying(() => client.workflow.getHandle(run.executionId).describe(), 30_000, 'describe');
      if (desc.runId !== run.runId) tally.double(`${run.executionId}: run ${desc.runId}, started as ${run.runId}`);
      await checkRun(aws.clients, run, tally);
    }
    await checkVpcs(aws.clients.ec2, runs, tally);
    await closeRuns(client, runs);
    await worker.kill9();
    await connection.close();
    recordRow({
      scenario: 'Temporal server kill -9',
      faults: tally.faults,
      runs: runs.length,
      lost: tally.lost.length,
      doubled: tally.doubled.length,
      notes: `restarted on the same SQLite file and port; the worker process gave up and was restarted ${workerRestarts} times`,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expect(tally.lost).toEqual([]);
    expect(tally.doubled).toEqual([]);
    expect(tally.faults).toBe(KILLS);
  },
  (FULL ? 40 : 5) * 60_000,
);
