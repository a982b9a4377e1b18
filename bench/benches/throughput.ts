/**
 * Bench 2, throughput: runbooks reaching their first gate per second, sustained, and incidents started. Each of
 * `CONCURRENCY` senders sends one alert (an EventBridge finding on its own instance) and waits until its runbook is at
 * ec2-compromise's approval gate, then sends the next: a closed loop over the whole path, so the rate is what the
 * engine sustains, and at the end of the window only the senders' last alerts are still in flight (an open loop would
 * leave a backlog of thousands that takes far longer than the window to drain). A runbook is at its gate when the
 * fake AWS sees the last call before it (preserve's DeleteOnTermination change). Beside it, the baseline: the same
 * closed loop of update-with-start of a bare parent whose child runs one no-op activity, through when that activity's
 * call arrives. Then the same loop with SNS alarms routed to bench-gated, whose one action before its gate is the
 * baseline's shape: through when that action's call arrives (the point the baseline is timed at); visibility then
 * confirms every one of them waits at its gate.
 */
import { randomUUID } from 'node:crypto';
import { eventBridgeFinding, newInstanceId, post, snsAlarm } from '../alerts';
import { baselineAlert } from '../baseline/alert';
import { BENCH_ACCOUNT, BENCH_REGION, executionOfIncident, type Bench } from '../bench';
import { historyCounts, type HistoryCounts } from '../breakdown';
import { now, type FakeCall } from '../fake-aws';
import { figure, progress, until } from '../report';
import { cpuNow, cpuSpent, type BenchStack } from '../stack';
import { watch } from '../watch';
import { resourceWorkflowId } from '../../workflows/resource-messages';
import { SA } from '../../workflows/search-attributes';

const CONCURRENCY = 20;
/** An alert not through by then counts as lost to the loop (reported); its sender goes on. */
const THROUGH_TIMEOUT_MS = 120_000;

type Outcome = 'through' | 'late' | 'refused';

/**
 * Runs `concurrency` closed loops for `seconds`: each sends one item and waits for its outcome before the next. The
 * rate counts items through within the window; the ones in flight at its end are waited for (not counted), so the
 * next phase starts on a quiet worker.
 */
async function closedLoop(stack: BenchStack, seconds: number, concurrency: number, send: () => Promise<Outcome>) {
  const cpuBefore = await cpuNow(stack);
  const start = now();
  const end = start + seconds * 1000;
  const counts: Record<Outcome, number> = { through: 0, late: 0, refused: 0 };
  let inWindow = 0;
  let sent = 0;
  const lane = async () => {
    while (now() < end) {
      sent++;
      const outcome = await send();
      counts[outcome]++;
      if (outcome === 'through' && now() <= end) inWindow++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const drainedAt = now();
  // Every process's CPU from the first send until the last item through: with `through`, the cost of one.
  const cpuMs = cpuSpent(cpuBefore, await cpuNow(stack));
  return { start, windowMs: end - start, drainedAt, sent, ...counts, inWindow, rate: inWindow / seconds, cpuMs };
}

export const throughput: Bench = {
  name: 'throughput',
  summary:
    'runbooks reaching their approval gate per second in a closed loop over the whole path, sustained, vs baseline',
  async run(stack, { quick, size }) {
    // `size`: seconds of each loop (the smoke test's few).
    const seconds = size ?? (quick ? 10 : 60);
    const r2 = (v: number) => Math.round(v * 100) / 100;
    const through = (arrived: Promise<boolean>) => arrived.then((ok): Outcome => (ok ? 'through' : 'late'));

    // One item of each loop, whose histories say what the server stored and dispatched for it.
    let baseSample = '';
    const samples: Record<'ec2-compromise' | 'bench-gated', { incidentId?: string; instanceId: string }> = {
      'ec2-compromise': { instanceId: '' },
      'bench-gated': { instanceId: '' },
    };
    const marks = watch(stack, (c: FakeCall) => c.service === 'mark');
    const base = await closedLoop(stack, seconds, CONCURRENCY, async () => {
      const key = `bl-${randomUUID()}`;
      baseSample = key;
      await baselineAlert(stack, key);
      return through(marks.arrived(key, THROUGH_TIMEOUT_MS));
    });
    marks.stop();
    progress(`baseline: ${base.through} through (${base.inWindow} in the window), ${base.late} late`);

    // The last call before ec2-compromise's gate: preserve sets DeleteOnTermination (the fake reports it true).
    const gates = watch(
      stack,
      (c) => c.service === 'ec2' && c.action === 'ModifyInstanceAttribute' && c.detail === 'BlockDeviceMapping',
    );
    const refusals: Record<string, number> = {};
    const fb = await closedLoop(stack, seconds, CONCURRENCY, async () => {
      const instanceId = newInstanceId();
      const res = await post(stack.apiUrl, eventBridgeFinding({ instanceId }), now);
      // Admitted (signal-with-start); each delivery names a new instance, so each opens an incident.
      if (res.status !== 202 || res.body?.outcome !== 'accepted') {
        const why = `${res.status} ${res.body?.error?.code ?? res.body?.outcome ?? ''}`.trim();
        refusals[why] = (refusals[why] ?? 0) + 1;
        return 'refused';
      }
      samples['ec2-compromise'] = { instanceId, incidentId: res.body?.incidentId };
      return through(gates.arrived(instanceId, THROUGH_TIMEOUT_MS));
    });
    gates.stop();
    const opened = fb.through + fb.late;
    progress(`ec2-compromise: ${opened} opened, ${fb.through} at the gate (${fb.inWindow} in the window)`);

    // The same loop with the baseline's shape: bench-gated's one action (capture, its DescribeInstances) before its
    // gate, so the ratio is the engine's overhead rather than ec2-compromise's ~40 AWS calls.
    const shapeStart = new Date().toISOString();
    const actions = watch(stack, (c) => c.service === 'ec2' && c.action === 'DescribeInstances');
    const sg = await closedLoop(stack, seconds, CONCURRENCY, async () => {
      const instanceId = newInstanceId();
      const res = await post(
        stack.apiUrl,
        snsAlarm(stack.cert, { alarm: `bench-gate-tp-${randomUUID()}`, instanceId }),
        now,
      );
      if (res.status !== 202 || res.body?.outcome !== 'accepted') return 'refused';
      samples['bench-gated'] = { instanceId, incidentId: res.body?.incidentId };
      return through(actions.arrived(instanceId, THROUGH_TIMEOUT_MS));
    });
    actions.stop();
    const shaped = sg.through + sg.late;
    const waitingQuery =
      `${SA.runbookId.name} = 'bench-gated' AND ${SA.status.name} = 'waiting-approval' ` +
      `AND StartTime >= '${shapeStart}'`;
    const shapedAtGate = await until(
      async () => {
        const { count } = await stack.client.workflow.count(waitingQuery);
        return count >= shaped ? count : undefined;
      },
      120_000,
      250,
    );
    progress(
      `bench-gated: ${shaped} opened, ${sg.through} through (${sg.inWindow} in the window), ${shapedAtGate ?? 'not all'} at the gate`,
    );

    const loop = (l: Awaited<ReturnType<typeof closedLoop>>) => ({
      sent: l.sent,
      through: l.through,
      throughInWindow: l.inWindow,
      late: l.late,
      refused: l.refused,
      windowMs: l.windowMs,
      drainedAfterMs: Math.round(l.drainedAt - l.start),
      cpuMs: l.cpuMs,
      // The worker that ran this loop's workflows (firebreak's or the baseline's) and the server, per item through.
      cpuMsPerItem: {
        worker: Math.round((l === base ? l.cpuMs.baselineWorker : l.cpuMs.worker) / Math.max(1, l.through)),
        server: Math.round(l.cpuMs.server / Math.max(1, l.through)),
      },
    });
    for (const [name, l] of [
      ['baseline', base],
      ['ec2-compromise', fb],
      ['bench-gated', sg],
    ] as const) {
      progress(
        `${name}: CPU ms per item through ${JSON.stringify(loop(l).cpuMsPerItem)}, phase ${JSON.stringify(l.cpuMs)}`,
      );
    }
    // Per item: the baseline's parent and child; firebreak's incident, runbook and resource record.
    const perItem: Record<string, HistoryCounts | undefined> = {
      baseline: baseSample ? await historyCounts(stack, [baseSample, `${baseSample}-child`]) : undefined,
    };
    for (const [name, sample] of Object.entries(samples)) {
      const executionId = sample.incidentId ? await executionOfIncident(stack.apiUrl, sample.incidentId) : undefined;
      const record = resourceWorkflowId({
        account: BENCH_ACCOUNT,
        region: BENCH_REGION,
        resource: `ec2:instance/${sample.instanceId}`,
      });
      perItem[name] =
        sample.incidentId && executionId
          ? await historyCounts(stack, [sample.incidentId, executionId, record])
          : undefined;
      progress(`${name}: one item's histories ${JSON.stringify(perItem[name])}`);
    }
    progress(`baseline: one item's histories ${JSON.stringify(perItem.baseline)}`);
    return {
      figures: [
        figure({
          name: 'runbooks at first gate',
          value: r2(fb.rate),
          unit: '/s',
          baseline: r2(base.rate),
          target: 'ratio >= 0.8',
          met: fb.rate >= 0.8 * base.rate && fb.late === 0 && fb.refused === 0,
        }),
        figure({
          name: 'runbooks at first gate, one action before it (bench-gated)',
          value: r2(sg.rate),
          unit: '/s',
          baseline: r2(base.rate),
          target: 'ratio >= 0.8',
          met: sg.rate >= 0.8 * base.rate && sg.late === 0 && shapedAtGate !== undefined,
        }),
        figure({
          // Each incident is opened by one alert and its runbook started with it: the same loop's rate.
          name: 'incidents started',
          value: r2((opened / fb.windowMs) * 1000),
          unit: '/s',
          baseline: r2((base.sent / base.windowMs) * 1000),
          target: 'ratio >= 0.8',
          met: opened >= 0.8 * base.sent * (fb.windowMs / base.windowMs),
        }),
      ],
      details: {
        seconds,
        concurrency: CONCURRENCY,
        loop: 'closed over the whole path: each sender waits for its alert to get through before the next',
        baseline: loop(base),
        firebreak: { ...loop(fb), opened, refusals },
        benchGated: { ...loop(sg), opened: shaped, atGate: shapedAtGate },
        historiesPerItem: perItem,
      },
    };
  },
};
