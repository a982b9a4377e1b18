/**
 * Bench 4, open incidents: N signed SNS alarms (each its own instance) open N incidents whose bench-gated runbooks
 * (bench/runbooks.ts) all wait at their approval gate; then the worker's, the API's and the Temporal server's RSS,
 * and the time to approve every gate through the API and drain (every runbook execution completed).
 */
import { newInstanceId, post, snsAlarm } from '../alerts';
import { executionOfIncident, type Bench } from '../bench';
import { now } from '../fake-aws';
import { figure, pool, progress, until } from '../report';
import type { BenchStack } from '../stack';

const MB = 1024 * 1024;

async function count(stack: BenchStack, query: string): Promise<number> {
  return (await stack.client.workflow.count(query)).count;
}

async function rss(stack: BenchStack) {
  const [worker, api] = await Promise.all([stack.worker.stats(), stack.api.stats()]);
  return { worker: worker.rss, api: api.rss, server: stack.serverRss() };
}

const mb = (b: number) => Math.round(b / MB);

export const openIncidents: Bench = {
  name: 'open-incidents',
  summary: '1,000 executions waiting on approval: worker/API/server RSS, time to approve all and drain',
  async run(stack, { quick }) {
    const n = quick ? 100 : 1000;
    const idle = await rss(stack);
    const gated = `FirebreakRunbookId='bench-gated'`;
    const before = {
      waiting: await count(stack, `${gated} AND FirebreakStatus='waiting-approval'`),
      done: await count(stack, `${gated} AND ExecutionStatus='Completed'`),
    };

    const t0 = now();
    const refusals: Record<string, number> = {};
    let redeliveries = 0;
    const executions = (
      await pool(
        Array.from({ length: n }, (_, i) => i),
        20,
        async (i) => {
          const instanceId = newInstanceId();
          const delivery = snsAlarm(stack.cert, { alarm: `bench-gate-${i}`, instanceId });
          // Refused (5xx) deliveries are redelivered, as SNS does: every alarm is meant to end up waiting.
          let res = await post(stack.apiUrl, delivery, now);
          for (let attempt = 1; res.status >= 500 && attempt < 5; attempt++) {
            redeliveries++;
            res = await post(stack.apiUrl, delivery, now);
          }
          if (res.status === 202) return executionOfIncident(stack.apiUrl, res.body?.incidentId as string, 300_000);
          const why = `${res.status} ${res.body?.error?.code ?? ''}`.trim();
          refusals[why] = (refusals[why] ?? 0) + 1;
          return undefined;
        },
      )
    ).filter((id): id is string => !!id);
    const waiting = await until(
      async () => {
        const c = (await count(stack, `${gated} AND FirebreakStatus='waiting-approval'`)) - before.waiting;
        return c >= executions.length ? c : undefined;
      },
      600_000,
      500,
    );
    const openMs = now() - t0;
    progress(`${executions.length} executions started, ${waiting ?? 'not all'} waiting at the gate`);
    const open = await rss(stack);

    const t1 = now();
    const decided = await pool(executions, 20, async (id) => {
      const res = await fetch(`${stack.apiUrl}/v1/executions/${encodeURIComponent(id)}/approvals/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve', comment: 'bench' }),
      });
      await res.text();
      return res.status === 200;
    });
    const approvedMs = now() - t1;
    // Only the gates whose approval was acknowledged can be waited for (a refused one is reported below).
    const approved = decided.filter(Boolean).length;
    const drained = await until(
      async () => {
        const c = (await count(stack, `${gated} AND ExecutionStatus='Completed'`)) - before.done;
        return c >= approved ? c : undefined;
      },
      600_000,
      250,
    );
    const drainMs = Math.round(now() - t1);
    const after = await rss(stack);
    return {
      figures: [
        figure({
          name: `worker RSS, ${waiting ?? 0} waiting`,
          value: mb(open.worker),
          unit: 'MB',
          target: '<= 1024 MB',
          met: open.worker <= 1024 * MB,
        }),
        figure({ name: `API RSS, ${waiting ?? 0} waiting`, value: mb(open.api), unit: 'MB' }),
        figure({ name: `server RSS, ${waiting ?? 0} waiting`, value: mb(open.server), unit: 'MB' }),
        figure({
          name: `approve all and drain (${approved})`,
          value: drainMs,
          unit: 'ms',
          target: '<= 30000 ms',
          met: drained !== undefined && drainMs <= 30_000,
        }),
      ],
      details: {
        executions: n,
        started: executions.length,
        refusals,
        redeliveriesAfter5xx: redeliveries,
        reachedGate: waiting ?? 'timed out',
        openMs: Math.round(openMs),
        approved,
        approveRequestsMs: Math.round(approvedMs),
        drained: drained ?? 'timed out',
        rssMB: {
          idle: { worker: mb(idle.worker), api: mb(idle.api), server: mb(idle.server) },
          open: { worker: mb(open.worker), api: mb(open.api), server: mb(open.server) },
          drained: { worker: mb(after.worker), api: mb(after.api), server: mb(after.server) },
        },
      },
    };
  },
};
