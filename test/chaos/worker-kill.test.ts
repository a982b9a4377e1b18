/**
 * Chaos 1: `kill -9` of the worker at random moments (during activities, between steps, during rollbacks) across
 * many ec2-compromise runs, each approved, approved then released, or rejected; a new worker process starts after
 * each kill. Every run must reach its end, and moto must show each effect once: nothing missing, nothing doubled.
 * Quick under plain jest; `npm run chaos` runs the full size.
 */
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, uniqueId, type TestTemporal } from '../stack/temporal';
import { stateQuery, type ExecutionState } from '../../workflows/messages';
import { FULL, pause, randomBetween, recordRow, size, Tally } from './chaos';
import { checkRuns, checkVpcs, closeRuns, driveRun, FATES, startRun, type Run } from './ec2-runs';
import { killAll, startWorkerProcess } from './processes';

const RUNS = size(5, 100);
const BATCH = FULL ? 20 : RUNS;
/**
 * Kills per batch of runs. Each kill costs the runs a heartbeat or workflow task timeout (10–15 s) and a worker start,
 * so kills are spread out rather than back to back (which would only stall every run).
 */
const KILLS_PER_BATCH = FULL ? 4 : 2;
const RUN_TIMEOUT_MS = 10 * 60_000;

let aws: TestAws;
let temporal: TestTemporal;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  killAll();
  await temporal?.close();
  aws?.close();
});

/** What the runs were doing at the moment of a kill (asked of the worker about to die, briefly). */
async function phaseOf(runs: Run[]): Promise<'activity' | 'rollback' | 'between-steps'> {
  const states = await Promise.all(
    runs
      .filter((r) => !r.final)
      .map((r) =>
        Promise.race([
          temporal.client.workflow
            .getHandle(r.executionId)
            .query(stateQuery)
            .catch(() => undefined),
          pause(2000).then(() => undefined),
        ]),
      ),
  );
  const live = states.filter((s): s is ExecutionState => !!s);
  if (live.some((s) => s.status === 'rolling-back')) return 'rollback';
  if (live.some((s) => s.steps.some((st) => st.status === 'running'))) return 'activity';
  return 'between-steps';
}

test(
  `kill -9 of the worker at random moments across ${RUNS} ec2-compromise runs: all complete, no effect doubled`,
  async () => {
    const started = Date.now();
    const tally = new Tally();
    const phases: Record<string, number> = { activity: 0, 'between-steps': 0, rollback: 0 };
    const taskQueue = uniqueId('tq-chaos-worker');
    let worker = await startWorkerProcess(taskQueue);
    const runs: Run[] = [];
    for (let first = 0; first < RUNS; first += BATCH) {
      const env = await aws.seed('chaos-kill', { instances: Math.min(BATCH, RUNS - first) });
      const batch = await Promise.all(
        env.instances.map((instance, i) =>
          startRun(temporal.client, taskQueue, {
            instance,
            vpcId: env.vpcId,
            topicArn: env.topicArn,
            fate: FATES[(first + i) % FATES.length],
          }),
        ),
      );
      runs.push(...batch);
      let done = false;
      const driving = Promise.all(
        batch.map((r) =>
          driveRun(temporal.client, r, RUN_TIMEOUT_MS).catch((err) => {
            r.error = String(err);
          }),
        ),
      ).finally(() => (done = true));
      // Kill at random moments while the batch runs; each kill is followed by a fresh worker process.
      for (let k = 0; k < KILLS_PER_BATCH && !done; k++) {
        if (k === 0) {
          // The first kill lands while a step runs (a fast machine can finish a batch before a random pause ends).
          while (!done && (await phaseOf(batch)) !== 'activity') await Promise.race([pause(100), driving]);
        } else {
          await Promise.race([pause(randomBetween(1000, 15_000)), driving]);
        }
        if (done) break;
        phases[await phaseOf(batch)]++;
        await worker.kill9();
        tally.faults++;
        worker = await startWorkerProcess(taskQueue);
      }
      await driving;
    }
    await worker.kill9();

    await checkRuns(aws.clients, runs, tally);
    await checkVpcs(aws.clients.ec2, runs, tally);
    await closeRuns(temporal.client, runs);
    const fates = FATES.map((f) => `${runs.filter((r) => r.fate === f).length} ${f}`).join(', ');
    recordRow({
      scenario: 'worker kill -9',
      faults: tally.faults,
      runs: runs.length,
      lost: tally.lost.length,
      doubled: tally.doubled.length,
      notes:
        `kills during an activity ${phases.activity}, between steps ${phases['between-steps']}, ` +
        `during a rollback ${phases.rollback}; runs: ${fates}`,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expect(tally.lost).toEqual([]);
    expect(tally.doubled).toEqual([]);
    expect(tally.faults).toBeGreaterThan(0);
  },
  (FULL ? 90 : 6) * 60_000,
);
