/**
 * Bench 1, alert → first containment call: the time from POSTing an alert (SNS- or EventBridge-format) to the first
 * AWS call of the routed ec2-compromise runbook, as the fake AWS endpoint timestamps it (the `capture` step's
 * DescribeInstances; its first mutating call, protect-termination's CreateTags, is reported too), at fixed arrival
 * rates. Beside it, the baseline: update-with-start (and signal-with-start) of a bare parent that starts a child running
 * one no-op activity, timed from the call to the activity's arrival at the same endpoint.
 */
import { randomUUID } from 'node:crypto';
import { eventBridgeFinding, post, snsAlarm, type Delivery } from '../alerts';
import { baselineAlert } from '../baseline/alert';
import { executionOfIncident, type Bench } from '../bench';
import { now } from '../fake-aws';
import { figure, percentiles, progress, type Figure, type Percentiles } from '../report';
import type { BenchStack } from '../stack';
import { historyBreakdown } from '../breakdown';
import { watch } from '../watch';

const RATES = [1, 10, 50];

/** Alerts per rate: at least 500 in the full run (the size); a handful in the quick one. */
const sizeFor = (rate: number, quick: boolean) => (quick ? Math.max(5, rate * 2) : 500);

/** Sends `n` requests at `rate` per second (open loop: a slow answer does not delay the next send). */
async function atRate<R>(n: number, rate: number, send: (i: number) => Promise<R>): Promise<R[]> {
  const start = Date.now();
  const all: Promise<R>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    all.push(send(i));
  }
  return Promise.all(all);
}

interface Run {
  latency: Percentiles;
  mutating?: Percentiles;
  /** Requests not answered 202, and alerts whose first call never came. */
  refused: number;
  /** Status and error code of each refused request. */
  refusals?: string[];
  missing: number;
  /** The median alert's way: milliseconds after its POST of each step in the incident's and runbook's histories. */
  breakdown?: string[];
}

async function firebreakRun(stack: BenchStack, format: 'sns' | 'eventbridge', rate: number, n: number): Promise<Run> {
  const first = watch(stack, (c) => c.service === 'ec2');
  const mutating = watch(stack, (c) => c.service === 'ec2' && c.action === 'CreateTags');
  try {
    const instances = await stack.instances(n);
    const results = await atRate(n, rate, async (i) => {
      const instanceId = instances[i];
      const d: Delivery =
        format === 'sns'
          ? snsAlarm(stack.cert, { alarm: `bench-compromise-${i}-${instanceId}`, instanceId })
          : eventBridgeFinding({ instanceId });
      const res = await post(stack.apiUrl, d, now);
      if (res.status !== 202)
        return {
          refused: true,
          status: `${res.status} ${res.body?.error?.code ?? ''}`.trim(),
          sentAt: res.sentAt,
          instanceId,
        };
      const ok = await first.arrived(instanceId, 120_000);
      await mutating.arrived(instanceId, 60_000);
      const automation = res.body?.automation as { executionId?: string } | undefined;
      return {
        refused: false,
        ok,
        sentAt: res.sentAt,
        answeredAt: res.answeredAt,
        instanceId,
        incidentId: res.body?.incidentId as string,
        executionId: automation?.executionId,
      };
    });
    const done = results.filter((r) => r.ok);
    const lat = done.map((r) => first.first.get(r.instanceId)! - r.sentAt);
    // Where the time of the median alert went, from the histories (same machine: the server's clock is ours).
    const median = done.map((r) => ({ r, l: first.first.get(r.instanceId)! - r.sentAt })).sort((a, b) => a.l - b.l)[
      Math.floor(done.length / 2)
    ]?.r;
    const medianExecution =
      median && 'incidentId' in median
        ? (median.executionId ?? (await executionOfIncident(stack.apiUrl, median.incidentId!)))
        : undefined;
    const breakdown =
      median && 'incidentId' in median && medianExecution
        ? await historyBreakdown(stack, median.sentAt, {
            answered: median.answeredAt!,
            firstAwsCall: first.first.get(median.instanceId)!,
            incidentId: median.incidentId!,
            executionId: medianExecution,
          })
        : undefined;
    const mut = results
      .filter((r) => mutating.first.has(r.instanceId))
      .map((r) => mutating.first.get(r.instanceId)! - r.sentAt);
    return {
      latency: percentiles(lat),
      mutating: percentiles(mut),
      breakdown,
      refused: results.filter((r) => r.refused).length,
      refusals: results.flatMap((r) => ('status' in r && r.status ? [r.status] : [])),
      missing: results.filter((r) => !r.refused && !r.ok).length,
    };
  } finally {
    mutating.stop();
    first.stop();
  }
}

async function baselineRun(stack: BenchStack, how: 'update' | 'signal', rate: number, n: number): Promise<Run> {
  const marks = watch(stack, (c) => c.service === 'mark');
  try {
    const results = await atRate(n, rate, async () => {
      const key = `bl-${randomUUID()}`;
      const sentAt = now();
      await baselineAlert(stack, key, how);
      const ok = await marks.arrived(key, 120_000);
      return { ok, sentAt, key };
    });
    return {
      latency: percentiles(results.filter((r) => r.ok).map((r) => marks.first.get(r.key)! - r.sentAt)),
      refused: 0,
      missing: results.filter((r) => !r.ok).length,
    };
  } finally {
    marks.stop();
  }
}

export const alertLatency: Bench = {
  name: 'alert-latency',
  moto: true,
  summary: 'POST of an SNS/EventBridge alert to the runbook’s first AWS call, at 1, 10 and 50 alerts/s, vs baseline',
  async run(stack, { quick }) {
    const figures: Figure[] = [];
    const details: Record<string, unknown> = { rates: RATES, runs: {} };
    const runs = details.runs as Record<string, Run>;
    // Warm-up, not counted: the first workflow tasks load the bundles, the first activities open their connections.
    await baselineRun(stack, 'update', 5, 3);
    await baselineRun(stack, 'signal', 5, 3);
    await firebreakRun(stack, 'sns', 5, 3);
    await firebreakRun(stack, 'eventbridge', 5, 3);
    for (const rate of RATES) {
      const n = sizeFor(rate, quick);
      // Baseline first at each rate, then firebreak, in the same sitting on the same server.
      const upd = await baselineRun(stack, 'update', rate, n);
      const sig = await baselineRun(stack, 'signal', rate, n);
      progress(`baseline update-with-start @${rate}/s: p50 ${upd.latency.p50} p99 ${upd.latency.p99} ms`);
      progress(`baseline signal-with-start @${rate}/s: p50 ${sig.latency.p50} p99 ${sig.latency.p99} ms`);
      runs[`baseline-update-with-start@${rate}`] = upd;
      runs[`baseline-signal-with-start@${rate}`] = sig;
      for (const format of ['sns', 'eventbridge'] as const) {
        const r = await firebreakRun(stack, format, rate, n);
        runs[`${format}@${rate}`] = r;
        progress(
          `${format} @${rate}/s: p50 ${r.latency.p50} p99 ${r.latency.p99} ms; refused ${r.refused}, missing ${r.missing}`,
        );
        figures.push(
          figure({
            name: `${format} ${rate}/s p50 (n=${r.latency.n})`,
            value: r.latency.p50,
            unit: 'ms',
            baseline: upd.latency.p50,
            target: '<= 100 ms',
            met: r.latency.p50 <= 100 && r.missing === 0 && r.refused === 0,
          }),
          figure({ name: `${format} ${rate}/s p95`, value: r.latency.p95, unit: 'ms', baseline: upd.latency.p95 }),
          figure({
            name: `${format} ${rate}/s p99`,
            value: r.latency.p99,
            unit: 'ms',
            baseline: upd.latency.p99,
            target: 'ratio <= 1.5',
            met: r.latency.p99 <= 1.5 * upd.latency.p99,
          }),
        );
      }
      figures.push(
        figure({
          name: `baseline signal-with-start ${rate}/s p99`,
          value: sig.latency.p99,
          unit: 'ms',
          baseline: upd.latency.p99,
        }),
      );
    }
    return { figures, details };
  },
};
