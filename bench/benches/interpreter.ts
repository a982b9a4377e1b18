/**
 * Bench 3, interpreter overhead: the eight-step bench runbook (bench/runbooks.ts, interpreted by the runbook
 * workflow) against the same eight actions in a hand-written Temporal workflow (bench/baseline/workflows.ts), each run
 * one at a time, alternating. End-to-end time is read from each history (started to completed event, server clock);
 * worker CPU is each worker process's process.cpuUsage() across each of its runs.
 */
import { WorkflowClient } from '@temporalio/client';
import { HANDWRITTEN } from '../baseline/workflows';
import { BENCH_TOPIC, type Bench } from '../bench';
import { historyPhases, meanPhases, type HistoryPhases } from '../breakdown';
import { figure, percentiles } from '../report';
import type { BenchStack, Proc } from '../stack';

/** Events per history (the last run's), kept to explain a gap: more workflow tasks mean more round trips. */
const eventCounts: Record<string, number[]> = { interpreted: [], handwritten: [] };
/** Where each run's time went (workflow tasks, activities: waiting and running), from its history. */
const phases: Record<string, HistoryPhases[]> = { interpreted: [], handwritten: [] };

async function historySpanMs(client: WorkflowClient, workflowId: string, kind: string): Promise<number> {
  const history = await client.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  eventCounts[kind].push(events.length);
  phases[kind].push(historyPhases(events));
  const ms = (e: (typeof events)[number]) => {
    const t = e.eventTime!;
    return Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;
  };
  return ms(events[events.length - 1]) - ms(events[0]);
}

async function cpuOf(proc: Proc, body: () => Promise<void>): Promise<number> {
  const before = (await proc.stats()).cpu;
  await body();
  const after = (await proc.stats()).cpu;
  return (after.user - before.user + after.system - before.system) / 1000;
}

async function interpreted(stack: BenchStack, instances: string[]) {
  const n = instances.length;
  const spans: number[] = [];
  const cpuMs = await cpuOf(stack.worker, async () => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${stack.apiUrl}/v1/runbooks/bench-eight-steps/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ params: { instanceId: instances[i], notifyTopicArn: BENCH_TOPIC } }),
      });
      const body = (await res.json()) as { executionId?: string };
      if (res.status !== 202 && res.status !== 201) throw new Error(`start: ${res.status} ${JSON.stringify(body)}`);
      const state = (await stack.client.workflow.getHandle(body.executionId!).result()) as { status: string };
      if (state.status !== 'succeeded') throw new Error(`bench-eight-steps ended ${state.status}`);
      spans.push(await historySpanMs(stack.client.workflow, body.executionId!, 'interpreted'));
    }
  });
  return { spans, cpuMs };
}

async function handwritten(stack: BenchStack, instances: string[]) {
  const n = instances.length;
  const spans: number[] = [];
  const cpuMs = await cpuOf(stack.baselineWorker, async () => {
    for (let i = 0; i < n; i++) {
      const id = `handwritten-${instances[i]}-${Date.now().toString(36)}`;
      await stack.client.workflow.execute(HANDWRITTEN, {
        workflowId: id,
        taskQueue: stack.baselineTaskQueue,
        args: [{ instanceId: instances[i], topicArn: BENCH_TOPIC }],
      });
      spans.push(await historySpanMs(stack.client.workflow, id, 'handwritten'));
    }
  });
  return { spans, cpuMs };
}

export const interpreter: Bench = {
  name: 'interpreter',
  summary: 'an 8-step runbook interpreted vs the same steps hand-written: end-to-end time and worker CPU',
  moto: true,
  async run(stack, { quick, size }) {
    const n = size ?? (quick ? 5 : 50);
    const instances = await stack.instances(2 * n + 2);
    for (const kind of ['interpreted', 'handwritten']) {
      phases[kind] = [];
      eventCounts[kind] = [];
    }
    // One warm-up of each (bundles loaded, connections open), not counted.
    await interpreted(stack, [instances[0]]);
    await handwritten(stack, [instances[1]]);
    // Alternating, one run of each at a time: whatever drifts during the sitting (moto's state grows with every
    // snapshot, the machine's load) weighs on both sides alike.
    const base = { spans: [] as number[], cpuMs: 0 };
    const fb = { spans: [] as number[], cpuMs: 0 };
    for (let i = 0; i < n; i++) {
      for (const [side, run] of [
        [base, await handwritten(stack, [instances[2 + 2 * i]])],
        [fb, await interpreted(stack, [instances[3 + 2 * i]])],
      ] as const) {
        side.spans.push(...run.spans);
        side.cpuMs += run.cpuMs;
      }
    }
    // The warm-up runs' phases are not counted.
    const measured = (kind: string) => meanPhases(phases[kind].slice(1));
    const pb = percentiles(base.spans);
    const pf = percentiles(fb.spans);
    const cpuBase = Math.round((base.cpuMs / n) * 10) / 10;
    const cpuFb = Math.round((fb.cpuMs / n) * 10) / 10;
    return {
      figures: [
        figure({
          name: `end-to-end p50 (n=${n})`,
          value: pf.p50,
          unit: 'ms',
          baseline: pb.p50,
          target: 'ratio <= 1.10',
          met: pf.p50 <= 1.1 * pb.p50,
        }),
        figure({
          name: 'end-to-end mean',
          value: pf.mean,
          unit: 'ms',
          baseline: pb.mean,
          target: 'ratio <= 1.10',
          met: pf.mean <= 1.1 * pb.mean,
        }),
        figure({
          name: 'worker CPU per run',
          value: cpuFb,
          unit: 'ms',
          baseline: cpuBase,
          target: 'ratio <= 1.10',
          met: cpuFb <= 1.1 * cpuBase,
        }),
      ],
      details: {
        historyEvents: { interpreted: eventCounts.interpreted.at(-1), handwritten: eventCounts.handwritten.at(-1) },
        runs: n,
        interpreted: pf,
        handwritten: pb,
        cpuMs: { interpreted: fb.cpuMs, handwritten: base.cpuMs },
        phases: { interpreted: measured('interpreted'), handwritten: measured('handwritten') },
      },
    };
  },
};
