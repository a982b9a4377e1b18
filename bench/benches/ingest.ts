/**
 * Bench 5, ingest: signed SNS deliveries (signature verification on, against the bench's own certificate) at a fixed
 * concurrency, 90 % of them redeliveries of one alarm's notification (the same message, as SNS redelivers it) and the
 * rest distinct alarms, each on its own instance: requests per second, latency percentiles, and that exactly one
 * incident and one execution exist per distinct fingerprint (asserted; the bench fails otherwise).
 */
import { newInstanceId, post, snsAlarm, type Delivery } from '../alerts';
import type { Bench } from '../bench';
import { now } from '../fake-aws';
import { figure, percentiles, pool, until } from '../report';
import type { BenchStack } from '../stack';

const CONCURRENCY = 50;
const MAX_ATTEMPTS = 5;

async function count(stack: BenchStack, query: string): Promise<number> {
  return (await stack.client.workflow.count(query)).count;
}

export const ingest: Bench = {
  name: 'ingest',
  summary: '90% SNS redeliveries of one alarm plus distinct alarms, signatures verified, concurrency 50',
  async run(stack, { quick }) {
    const total = quick ? 500 : 5000;
    const distinct = Math.round(total * 0.1);
    const run = `ingest-${Date.now().toString(36)}`;
    // Alarm names route to ec2-compromise (`*compromise*`): every incident starts one execution.
    const repeated = snsAlarm(stack.cert, { alarm: `${run}-compromise-repeated`, instanceId: newInstanceId() });
    const deliveries: Delivery[] = [];
    for (let i = 0; i < total - distinct; i++) deliveries.push(repeated);
    for (let i = 0; i < distinct; i++)
      deliveries.push(snsAlarm(stack.cert, { alarm: `${run}-compromise-${i}`, instanceId: newInstanceId() }));
    // Interleaved deterministically: every tenth delivery is a distinct alarm.
    const ordered = deliveries.map((_, i) =>
      i % 10 === 9 ? deliveries[total - distinct + Math.floor(i / 10)] : deliveries[i - Math.floor(i / 10)],
    );

    const incidentsBefore = await count(stack, `FirebreakKind='incident' AND ExecutionStatus != 'ContinuedAsNew'`);
    const executionsBefore = await count(
      stack,
      `FirebreakKind='runbook' AND FirebreakRunbookId='ec2-compromise' AND ExecutionStatus != 'ContinuedAsNew'`,
    );
    const t0 = now();
    // A refused delivery (5xx) is redelivered, as SNS does, so every alert is finally admitted exactly once.
    let redeliveries = 0;
    const results = await pool(ordered, CONCURRENCY, async (d) => {
      let res = await post(stack.apiUrl, d, now);
      for (let attempt = 1; res.status >= 500 && attempt < MAX_ATTEMPTS; attempt++) {
        redeliveries++;
        res = await post(stack.apiUrl, d, now);
      }
      return res;
    });
    const elapsed = now() - t0;
    const latency = percentiles(results.map((r) => r.answeredAt - r.sentAt));
    const statuses: Record<string, number> = {};
    const outcomes: Record<string, number> = {};
    for (const r of results) {
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      const o = r.body?.outcome ?? 'none';
      outcomes[o] = (outcomes[o] ?? 0) + 1;
    }
    const fingerprints = new Set(results.map((r) => r.body?.fingerprint).filter(Boolean)).size;
    const expected = distinct + 1;
    // Visibility lags a little behind the starts: wait for the counts to reach the expected value, then re-read.
    const incidents = await until(
      async () => {
        const c =
          (await count(stack, `FirebreakKind='incident' AND ExecutionStatus != 'ContinuedAsNew'`)) - incidentsBefore;
        return c >= expected ? c : undefined;
      },
      120_000,
      250,
    );
    const executions = await until(
      async () => {
        const c =
          (await count(
            stack,
            `FirebreakKind='runbook' AND FirebreakRunbookId='ec2-compromise' AND ExecutionStatus != 'ContinuedAsNew'`,
          )) - executionsBefore;
        return c >= expected ? c : undefined;
      },
      300_000,
      250,
    );
    const rps = Math.round((total / (elapsed / 1000)) * 10) / 10;
    const exact = fingerprints === expected && incidents === expected && executions === expected;
    const result = {
      figures: [
        figure({ name: `requests/s (n=${total}, c=${CONCURRENCY})`, value: rps, unit: '/s' }),
        figure({ name: 'latency p50', value: latency.p50, unit: 'ms' }),
        figure({ name: 'latency p99', value: latency.p99, unit: 'ms' }),
        figure({
          name: 'executions = distinct fingerprints',
          value: executions ?? -1,
          unit: '',
          target: `= ${expected}`,
          met: exact,
        }),
      ],
      details: {
        total,
        distinctAlarms: distinct,
        fingerprints,
        incidents: incidents ?? 'fewer than expected',
        executions: executions ?? 'fewer than expected',
        statuses,
        redeliveriesAfter5xx: redeliveries,
        outcomes,
        latency,
        elapsedMs: Math.round(elapsed),
      },
    };
    if (!exact)
      throw Object.assign(new Error(`ingest: expected ${expected} of each, got ${JSON.stringify(result.details)}`), {
        result,
      });
    return result;
  },
};
