/**
 * Bench 7, burst: the issue's burst targets. 100 and 300 alerts (half SNS alarms, half EventBridge findings, each on
 * its own instance, so each opens an incident and an ec2-compromise run) delivered by 50 concurrent senders at once.
 * Held to: no 5xx, POST p99 ≤ 1 s, and the first containment call of every runbook (capture's DescribeInstances at the
 * fake endpoint) within 5 s of its POST. Beside it, the baseline: the same burst of update-with-start of the bare
 * parent, timed from the call to its child activity's arrival at the endpoint. Between sizes the bench waits until
 * every runbook of the last burst has reached its approval gate, so one burst's tail does not weigh on the next.
 */
import { randomUUID } from 'node:crypto';
import { eventBridgeFinding, post, snsAlarm } from '../alerts';
import { baselineAlert } from '../baseline/alert';
import { executionOfIncident, type Bench } from '../bench';
import { historyBreakdown, workflowTasks } from '../breakdown';
import { now } from '../fake-aws';
import { figure, percentiles, pool, progress, until, type Figure, type Percentiles } from '../report';
import { cpuNow, cpuSpent, type BenchStack, type CpuMs } from '../stack';
import { watch } from '../watch';

const CONCURRENCY = 50;
const FIRST_CALL_TARGET_MS = 5_000;
const POST_P99_TARGET_MS = 1_000;

interface BurstRun {
  n: number;
  /** The POST's (or the baseline's update-with-start's) answer time. */
  answer: Percentiles;
  /** POST → first AWS call of the runbook (baseline: call → child activity at the endpoint). */
  firstCall: Percentiles;
  /** POST → the runbook's first mutating call (protect-termination's CreateTags); firebreak only. */
  firstMutation?: Percentiles;
  /** Answers by status (and error code), e.g. `{"202": 299, "503 temporal_unavailable": 1}`; the baseline's `ok` or
   * the error's name. */
  statuses: Record<string, number>;
  serverErrors: number;
  /** Accepted alerts whose runbook made no AWS call within the wait. */
  missing: number;
  /** Runbooks over the 5 s first-call target. */
  late: number;
  /** Accepted runbooks that did not reach their approval gate (firebreak only; a failed run, for one). */
  notAtGate?: number;
  /** From the first POST to the last runbook at its approval gate (firebreak only). */
  allAtGateMs?: number;
  /** The median and the slowest runbook's way to its first call (firebreak only): see bench/breakdown.ts. */
  breakdowns?: Record<string, string[]>;
  /** Workflow tasks the slowest run's incident and runbook took to its gate (firebreak only). */
  workflowTasks?: { incident: number; runbook: number };
  /** CPU each process used from the first POST to the last runbook at its gate (firebreak only), ms. */
  cpuMs?: CpuMs;
}

async function baselineBurst(stack: BenchStack, n: number): Promise<BurstRun> {
  const marks = watch(stack, (c) => c.service === 'mark');
  try {
    const keys = Array.from({ length: n }, () => `bl-burst-${randomUUID()}`);
    const sent = await pool(keys, CONCURRENCY, async (key) => {
      const sentAt = now();
      const status = await baselineAlert(stack, key).then(
        () => 'ok',
        (err: Error) => err.name,
      );
      return { key, sentAt, answeredAt: now(), status };
    });
    const ok = sent.filter((s) => s.status === 'ok');
    const arrived = await Promise.all(ok.map((s) => marks.arrived(s.key, 300_000)));
    const first = ok.filter((_, i) => arrived[i]).map((s) => marks.first.get(s.key)! - s.sentAt);
    const statuses: Record<string, number> = {};
    for (const s of sent) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    return {
      n,
      answer: percentiles(sent.map((s) => s.answeredAt - s.sentAt)),
      firstCall: percentiles(first),
      statuses,
      serverErrors: 0,
      missing: arrived.filter((a) => !a).length + (n - ok.length),
      late: first.filter((l) => l > FIRST_CALL_TARGET_MS).length,
    };
  } finally {
    marks.stop();
  }
}

/** When the watched call last arrived first for a key (the start of the watch, before any). */
function lastArrival(w: ReturnType<typeof watch>): number {
  return Math.max(w.since, ...w.first.values());
}

async function firebreakBurst(stack: BenchStack, n: number): Promise<BurstRun> {
  const first = watch(stack, (c) => c.service === 'ec2');
  const mutating = watch(stack, (c) => c.service === 'ec2' && c.action === 'CreateTags');
  // The last call before ec2-compromise's gate: preserve sets DeleteOnTermination.
  const gate = watch(
    stack,
    (c) => c.service === 'ec2' && c.action === 'ModifyInstanceAttribute' && c.detail === 'BlockDeviceMapping',
  );
  try {
    const tag = randomUUID().slice(0, 8);
    const instances = await stack.instances(n);
    const cpuBefore = await cpuNow(stack);
    const burstStart = now();
    const answers = await pool(instances, CONCURRENCY, async (instanceId, i) => {
      const delivery =
        i % 2 === 0
          ? snsAlarm(stack.cert, { alarm: `bench-burst-compromise-${tag}-${i}`, instanceId })
          : eventBridgeFinding({ instanceId });
      const res = await post(stack.apiUrl, delivery, now);
      const status = `${res.status}${res.status === 202 ? '' : ` ${res.body?.error?.code ?? ''}`}`.trim();
      return {
        instanceId,
        status,
        accepted: res.status === 202,
        sentAt: res.sentAt,
        answeredAt: res.answeredAt,
        incidentId: res.body?.incidentId as string | undefined,
      };
    });
    const accepted = answers.filter((a) => a.accepted);
    const arrived = await Promise.all(accepted.map((a) => first.arrived(a.instanceId, 300_000)));
    const firstCalls = accepted.filter((_, i) => arrived[i]).map((a) => first.first.get(a.instanceId)! - a.sentAt);
    await Promise.all(accepted.map((a) => mutating.arrived(a.instanceId, 300_000)));
    // Until every runbook is at its gate, or none has arrived for a minute (a runbook that failed never will).
    await until(
      () =>
        accepted.every((a) => gate.first.has(a.instanceId)) || now() - lastArrival(gate) > 60_000 ? true : undefined,
      900_000,
      250,
    );
    const cpuAfter = await cpuNow(stack);
    const atGate = accepted.map((a) => gate.first.has(a.instanceId));
    const lastAtGate = Math.max(...accepted.filter((_, i) => atGate[i]).map((a) => gate.first.get(a.instanceId)!));
    // Where the time went for the median and the slowest runbook, from their histories.
    const byLatency = accepted
      .filter((a) => first.first.has(a.instanceId))
      .sort((a, b) => first.first.get(a.instanceId)! - a.sentAt - (first.first.get(b.instanceId)! - b.sentAt));
    const breakdowns: Record<string, string[]> = {};
    let tasks: BurstRun['workflowTasks'];
    for (const [label, a] of [
      ['median', byLatency[Math.floor(byLatency.length / 2)]],
      ['slowest', byLatency[byLatency.length - 1]],
    ] as const) {
      const executionId = a?.incidentId ? await executionOfIncident(stack.apiUrl, a.incidentId) : undefined;
      if (a?.incidentId && executionId)
        breakdowns[label] = await historyBreakdown(stack, a.sentAt, {
          answered: a.answeredAt,
          firstAwsCall: first.first.get(a.instanceId)!,
          incidentId: a.incidentId,
          executionId,
        });
      if (label === 'slowest' && a?.incidentId && executionId)
        tasks = {
          incident: await workflowTasks(stack, a.incidentId),
          runbook: await workflowTasks(stack, executionId),
        };
    }
    const statuses: Record<string, number> = {};
    for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    return {
      n,
      answer: percentiles(answers.map((a) => a.answeredAt - a.sentAt)),
      firstCall: percentiles(firstCalls),
      firstMutation: percentiles(
        accepted
          .filter((a) => mutating.first.has(a.instanceId))
          .map((a) => mutating.first.get(a.instanceId)! - a.sentAt),
      ),
      statuses,
      serverErrors: answers.filter((a) => a.status.startsWith('5')).length,
      missing: arrived.filter((a) => !a).length + (n - accepted.length),
      late: firstCalls.filter((l) => l > FIRST_CALL_TARGET_MS).length,
      notAtGate: atGate.filter((x) => !x).length,
      allAtGateMs: Number.isFinite(lastAtGate) ? Math.round(lastAtGate - burstStart) : undefined,
      breakdowns,
      workflowTasks: tasks,
      cpuMs: cpuSpent(cpuBefore, cpuAfter),
    };
  } finally {
    gate.stop();
    mutating.stop();
    first.stop();
  }
}

export const burst: Bench = {
  name: 'burst',
  moto: true,
  summary: '100 and 300 alerts at once from 50 senders: 5xx, POST p99, every runbook’s first AWS call, vs baseline',
  async run(stack, { quick, size }) {
    const sizes = size ? [size] : quick ? [100] : [100, 300];
    const figures: Figure[] = [];
    const runs: Record<string, BurstRun> = {};
    // Warm-up, not counted (bundles loaded, connections open).
    await baselineBurst(stack, 3);
    await firebreakBurst(stack, 3);
    for (const n of sizes) {
      const base = await baselineBurst(stack, n);
      progress(`baseline burst of ${n}: first activity p99 ${base.firstCall.p99} max ${base.firstCall.max} ms`);
      const fb = await firebreakBurst(stack, n);
      progress(
        `burst of ${n}: ${JSON.stringify(fb.statuses)}; POST p99 ${fb.answer.p99} ms; first call p99 ` +
          `${fb.firstCall.p99} max ${fb.firstCall.max} ms; ${fb.late} late, ${fb.missing} missing; ` +
          `CPU to the last gate (ms) ${JSON.stringify(fb.cpuMs)}; slowest run's workflow tasks ${JSON.stringify(fb.workflowTasks)}`,
      );
      runs[`baseline@${n}`] = base;
      runs[`firebreak@${n}`] = fb;
      figures.push(
        figure({
          name: `burst ${n}: 5xx answers`,
          value: fb.serverErrors,
          unit: '',
          target: '0',
          met: fb.serverErrors === 0,
        }),
        figure({
          name: `burst ${n}: POST p99`,
          value: fb.answer.p99,
          unit: 'ms',
          baseline: base.answer.p99,
          target: `<= ${POST_P99_TARGET_MS} ms`,
          met: fb.answer.p99 <= POST_P99_TARGET_MS,
        }),
        figure({
          name: `burst ${n}: first call p50`,
          value: fb.firstCall.p50,
          unit: 'ms',
          baseline: base.firstCall.p50,
        }),
        figure({
          name: `burst ${n}: first call p99`,
          value: fb.firstCall.p99,
          unit: 'ms',
          baseline: base.firstCall.p99,
        }),
        figure({
          name: `burst ${n}: first call, slowest runbook (${fb.late} late, ${fb.missing} missing)`,
          value: fb.firstCall.max,
          unit: 'ms',
          baseline: base.firstCall.max,
          target: `every one <= ${FIRST_CALL_TARGET_MS} ms`,
          met: fb.late === 0 && fb.missing === 0 && fb.firstCall.n === n,
        }),
        figure({ name: `burst ${n}: first mutating call p99`, value: fb.firstMutation?.p99 ?? NaN, unit: 'ms' }),
        figure({ name: `burst ${n}: last runbook at its gate`, value: fb.allAtGateMs ?? NaN, unit: 'ms' }),
      );
    }
    return { figures, details: { concurrency: CONCURRENCY, sizes, runs } };
  },
};
