/**
 * Bench 2, throughput: incidents started, and runbooks reaching their first gate, per second, while EventBridge
 * findings (each on its own instance) arrive as fast as a closed loop of concurrent senders gets them accepted, for a
 * sustained period. A runbook has reached ec2-compromise's approval gate when the fake AWS sees the last call before
 * it (preserve's DeleteOnTermination change); visibility confirms the count at the end. Beside it, the baseline: the
 * same closed loop of update-with-start of a bare parent whose child runs one no-op activity, counted at the endpoint.
 * Then the same loop with SNS alarms routed to bench-gated (one action before its gate, the baseline's shape), whose
 * arrival at the gate visibility counts: the engine's own rate, apart from ec2-compromise's many AWS calls.
 */
import { randomUUID } from 'node:crypto';
import { eventBridgeFinding, newInstanceId, post, snsAlarm } from '../alerts';
import { baselineAlert } from '../baseline/alert';
import type { Bench } from '../bench';
import { now, type FakeCall } from '../fake-aws';
import { figure, progress, until } from '../report';
import type { BenchStack } from '../stack';
import { SA } from '../../workflows/search-attributes';

const CONCURRENCY = 20;

/** Runs `send` in `concurrency` closed loops for `seconds`; returns how many sends succeeded and when they ran. */
async function closedLoop(seconds: number, concurrency: number, send: () => Promise<boolean>) {
  const start = now();
  const end = start + seconds * 1000;
  let ok = 0;
  let failed = 0;
  const lane = async () => {
    while (now() < end) {
      if (await send()) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { start, sendEnd: now(), ok, failed };
}

/** Counts fake AWS calls matching `match` from now on, with the time of the last one. */
function counter(stack: BenchStack, match: (c: FakeCall) => boolean) {
  const state = { count: 0, last: 0 };
  const prev = stack.fake.onCall;
  stack.fake.onCall = (c) => {
    prev?.(c);
    if (match(c)) {
      state.count++;
      state.last = c.at;
    }
  };
  return { state, stop: () => (stack.fake.onCall = prev) };
}

export const throughput: Bench = {
  name: 'throughput',
  summary: 'incidents started and runbooks reaching their approval gate per second, sustained, vs baseline',
  async run(stack, { quick }) {
    const seconds = quick ? 10 : 60;

    // Only this bench's own keys count: earlier benches' work may still be arriving.
    const sent = new Set<string>();
    const marks = counter(stack, (c) => c.service === 'mark' && sent.has(c.key!));
    const base = await closedLoop(seconds, CONCURRENCY, async () => {
      const key = `bl-${randomUUID()}`;
      sent.add(key);
      await baselineAlert(stack, key);
      return true;
    });
    await until(() => (marks.state.count >= base.ok ? true : undefined), 300_000);
    marks.stop();
    const baseStartRate = base.ok / ((base.sendEnd - base.start) / 1000);
    const baseDoneRate = marks.state.count / ((marks.state.last - base.start) / 1000);
    progress(`baseline: ${base.ok} started, ${marks.state.count} child activities`);

    // The last call before ec2-compromise's gate: preserve sets DeleteOnTermination (the fake reports it true).
    const gates = counter(
      stack,
      (c) =>
        c.service === 'ec2' &&
        c.action === 'ModifyInstanceAttribute' &&
        c.detail === 'BlockDeviceMapping' &&
        sent.has(c.key!),
    );
    let opened = 0;
    const refusals: Record<string, number> = {};
    const fb = await closedLoop(seconds, CONCURRENCY, async () => {
      const instanceId = newInstanceId();
      sent.add(instanceId);
      const res = await post(stack.apiUrl, eventBridgeFinding({ instanceId }), now);
      // Admitted (signal-with-start); each delivery names a new instance, so each opens an incident.
      if (res.status === 202 && res.body?.outcome === 'accepted') opened++;
      else {
        const why = `${res.status} ${res.body?.error?.code ?? res.body?.outcome ?? ''}`.trim();
        refusals[why] = (refusals[why] ?? 0) + 1;
      }
      return res.status === 202;
    });
    const reached = await until(() => (gates.state.count >= opened ? true : undefined), 600_000, 250);
    gates.stop();
    const startRate = opened / ((fb.sendEnd - fb.start) / 1000);
    const gateRate = gates.state.count / ((gates.state.last - fb.start) / 1000);
    const r2 = (v: number) => Math.round(v * 100) / 100;
    progress(`ec2-compromise: ${opened} opened, ${gates.state.count} at the gate`);

    // The same loop with the baseline's shape: bench-gated's one action before its gate (plus the resource lock),
    // so the ratio is the engine's overhead rather than ec2-compromise's ~40 AWS calls.
    const shapeStart = new Date().toISOString();
    let shaped = 0;
    const sg = await closedLoop(seconds, CONCURRENCY, async () => {
      const res = await post(
        stack.apiUrl,
        snsAlarm(stack.cert, { alarm: `bench-gate-tp-${randomUUID()}`, instanceId: newInstanceId() }),
        now,
      );
      if (res.status === 202 && res.body?.outcome === 'accepted') shaped++;
      return res.status === 202;
    });
    const waitingQuery =
      `${SA.runbookId.name} = 'bench-gated' AND ${SA.status.name} = 'waiting-approval' ` +
      `AND StartTime >= '${shapeStart}'`;
    let shapedAt = 0;
    const shapedReached = await until(
      async () => {
        const { count } = await stack.client.workflow.count(waitingQuery);
        if (count < shaped) return undefined;
        shapedAt = now();
        return count;
      },
      600_000,
      250,
    );
    const shapedRate = (shapedReached ?? 0) / ((shapedAt - sg.start) / 1000);
    progress(`bench-gated: ${shaped} opened, ${shapedReached ?? 'not all'} at the gate`);
    return {
      figures: [
        figure({
          name: 'incidents started',
          value: r2(startRate),
          unit: '/s',
          baseline: r2(baseStartRate),
          target: 'ratio >= 0.8',
          met: startRate >= 0.8 * baseStartRate,
        }),
        figure({
          name: 'runbooks at first gate',
          value: r2(gateRate),
          unit: '/s',
          baseline: r2(baseDoneRate),
          target: 'ratio >= 0.8',
          met: gateRate >= 0.8 * baseDoneRate && reached !== undefined,
        }),
        figure({
          name: 'runbooks at first gate, one action before it (bench-gated)',
          value: r2(shapedRate),
          unit: '/s',
          baseline: r2(baseDoneRate),
          target: 'ratio >= 0.8',
          met: shapedRate >= 0.8 * baseDoneRate && shapedReached !== undefined,
        }),
      ],
      details: {
        seconds,
        concurrency: CONCURRENCY,
        baseline: { started: base.ok, childActivities: marks.state.count, sendMs: base.sendEnd - base.start },
        firebreak: {
          accepted: fb.ok,
          refused: fb.failed,
          refusals,
          opened,
          atGate: gates.state.count,
          allReachedGate: reached !== undefined,
          sendMs: fb.sendEnd - fb.start,
          lastGateAfterMs: gates.state.last - fb.start,
        },
        benchGated: {
          opened: shaped,
          atGate: shapedReached,
          sendMs: sg.sendEnd - sg.start,
          lastGateAfterMs: shapedAt - sg.start,
        },
      },
    };
  },
};
