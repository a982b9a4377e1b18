/**
 * Chaos 4: AWS misbehaving under the worker. Its clients reach moto through test/chaos/fault-proxy.ts, which throttles
 * calls, answers 5xx in bursts, loses answers after moto acted, and holds calls until their connection drops; in some
 * runs it also refuses one call for good mid-runbook (tagging the contained instance), which must roll the run back
 * completely. Every run must end as it should, with each effect in moto once.
 */
import { createAwsClients, destroyAwsClients } from '../../activities/clients';
import { emulatorConfig, testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';
import { FULL, recordRow, size, Tally } from './chaos';
import { checkRun, checkVpcs, closeRuns, driveRun, startRun, type Fate, type Run } from './ec2-runs';
import { startFaultProxy, type FaultKind, type FaultPlan } from './fault-proxy';

const RUNS = size(3, 20);
const FAILING = FULL ? 4 : 1;
/** The share of calls that meet a transient fault; a 5xx starts a burst of this many more. */
const RATE = 0.12;
const BURST = 3;

let aws: TestAws;
let temporal: TestTemporal;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

test(
  `throttling, 5xx bursts, lost answers, timeouts and a permanent error across ${RUNS + FAILING} ec2-compromise runs`,
  async () => {
    const started = Date.now();
    const tally = new Tally();
    const env = await aws.seed('chaos-aws', { instances: RUNS + FAILING });
    const failing = new Set(env.instances.slice(RUNS).map((i) => i.instanceId));
    const bursts = new Map<string, number>();
    const transient: FaultKind[] = ['throttle', 'server-error', 'lost-response', 'timeout'];
    const plan: FaultPlan = ({ action, body }) => {
      // The permanent fault: tagging a failing run's instance as quarantined, after it was isolated.
      if (action === 'CreateTags' && body.includes('quarantined') && [...failing].some((id) => body.includes(id)))
        return 'permanent';
      const left = bursts.get(action) ?? 0;
      if (left > 0) {
        bursts.set(action, left - 1);
        return 'server-error';
      }
      if (Math.random() >= RATE) return undefined;
      const kind = transient[Math.floor(Math.random() * transient.length)];
      if (kind === 'server-error') bursts.set(action, BURST);
      return kind;
    };
    const proxy = await startFaultProxy(emulatorConfig().endpoint, plan, { holdMs: FULL ? 3000 : 1500 });
    const { region, credentials } = emulatorConfig();
    const clients = createAwsClients({ region, credentials, endpoint: proxy.url });
    const runs: Run[] = [];
    try {
      await withWorker(temporal, { clients }, async ({ taskQueue }) => {
        for (const instance of env.instances) {
          const fate: Fate = failing.has(instance.instanceId) ? 'fail' : runs.length % 3 === 2 ? 'release' : 'approve';
          runs.push(
            await startRun(temporal.client, taskQueue, { instance, vpcId: env.vpcId, topicArn: env.topicArn, fate }),
          );
        }
        await Promise.all(
          // Within the test's own timeout, so a run that stalls is reported with its state, not as a jest timeout.
          runs.map((r) =>
            driveRun(temporal.client, r, (FULL ? 25 : 4) * 60_000).catch((err) => (r.error = String(err))),
          ),
        );
      });
    } finally {
      destroyAwsClients(clients);
      await proxy.close();
    }
    for (const r of runs) {
      await checkRun(aws.clients, r, tally);
      if (r.fate === 'fail' && r.final?.failure?.stepId !== 'tag-quarantined')
        tally.lose(
          `${r.executionId}: failed at ${r.final?.failure?.stepId} (${r.final?.failure?.message}), not at tag-quarantined`,
        );
    }
    await checkVpcs(aws.clients.ec2, runs, tally);
    await closeRuns(temporal.client, runs);
    tally.faults = Object.values(proxy.injected).reduce((a, b) => a + b, 0);
    const calls = [...proxy.calls.values()].reduce((a, b) => a + b, 0);
    recordRow({
      scenario: 'AWS faults (fault proxy)',
      faults: tally.faults,
      runs: runs.length,
      lost: tally.lost.length,
      doubled: tally.doubled.length,
      notes:
        `${calls} AWS calls; ` +
        Object.entries(proxy.injected)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') +
        `; ${FAILING} runs refused for good mid-runbook, rolled back`,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    expect(tally.lost).toEqual([]);
    expect(tally.doubled).toEqual([]);
    for (const kind of ['throttle', 'server-error', 'permanent'] as const)
      expect(proxy.injected[kind]).toBeGreaterThan(0);
  },
  (FULL ? 30 : 5) * 60_000,
);
