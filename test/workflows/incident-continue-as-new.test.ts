/**
 * A noisy incident's history stays bounded: 5,000 alerts (mostly redeliveries and re-firings) through the API make
 * the incident continue as new several times, with every count exact across runs (a redelivery of an ID from an
 * earlier run is still a duplicate inside the dedup window, and a re-firing outside it), the incident readable,
 * listable and resolvable throughout, its runbook execution's approval carried and its outcome learnt by a later run,
 * each run's history small, and each run's history replaying.
 */
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Worker } from '@temporalio/worker';
import { temporal as proto } from '@temporalio/proto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { defineRunbook, expr } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { approvalUpdate } from '../../workflows/messages';
import { testAws, unique, type TestAws } from '../stack/aws';
import { commander, testTemporal, withWorker, type TestTemporal } from '../stack/temporal';
import { poll } from '../stack/poll';

const SECRET = 'continue-as-new-secret-0123456789';
const LIMITS = { maxUpdates: 20, dedupMaxIds: 1_000 };

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('continue-as-new', { instances: 1 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

/** Tags the instance (undone by a rollback), then waits for an approval that stays pending while the alerts pour in. */
const gated = defineRunbook({
  id: 'noisy',
  version: '1.0.0',
  title: 'noisy alarm runbook',
  description: 'tag, then ask',
  incidentType: 'noisy',
  severity: 'SEV3',
  params: Type.Object({ instanceId: Type.String() }),
  resource: { type: 'ec2:instance', param: 'instanceId' },
  triggers: [{ sources: ['generic'], alarmNames: ['noisy-*'], params: { instanceId: expr('alert.resource.id') } }],
  steps: [
    {
      id: 'tag',
      kind: 'action',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('params.instanceId'), tags: { noisy: 'on' } },
      rollback: { action: 'ec2.tagInstance', with: { instanceId: expr('params.instanceId'), tags: { noisy: 'off' } } },
    },
    { id: 'approve', kind: 'approval', title: 'Go on?', timeout: '1h', onTimeout: 'reject' },
  ],
});

/** Every run of the workflow ID, as visibility lists them (continued-as-new ones included). */
async function runsOf(workflowId: string) {
  const runs: { runId: string; status: string }[] = [];
  for await (const w of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runs.push({ runId: w.runId, status: w.status.name });
  return runs;
}

test('5,000 alerts on one incident: it continues as new, counts stay exact, and it keeps working', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api: FastifyInstance = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([gated]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      auth: { mode: 'none' },
      logger: false,
      notifyTopics: { default: env.topicArn },
      alerts: { webhookSecret: SECRET, webhookHeader: 'x-firebreak-secret' },
      incidentHistory: LIMITS,
    });
    const name = unique('noisy');
    const instanceId = env.instances[0].instanceId;
    const post = async (id: string) => {
      const res = await api.inject({
        method: 'POST',
        url: '/v1/alerts',
        headers: { 'x-firebreak-secret': SECRET },
        payload: { id, name, state: 'firing', resource: { type: 'ec2:instance', id: instanceId } },
      });
      expect(res.statusCode).toBe(202);
      const ack = res.json().results[0] as { incidentId: string; outcome: string };
      expect(ack.outcome).toBe('accepted');
      return ack;
    };
    const get = async (id: string) => (await api.inject({ method: 'GET', url: `/v1/incidents/${id}` })).json();
    const pick = (from: string[], n: number) => Array.from({ length: n }, (_, i) => from[(i * 7919) % from.length]);
    const sent: string[] = [];
    let id = '';
    /**
     * Sends in chunks of 250 concurrent deliveries (the API coalesces them into signals of up to 50), each chunk once
     * the incident handled the one before (admission does not wait for it; pacing keeps each run's history small).
     * Returns the incident once it handled them all.
     */
    const send = async (ids: string[]) => {
      let state;
      for (let i = 0; i < ids.length; i += 250) {
        const chunk = ids.slice(i, i + 250);
        sent.push(...chunk);
        const acks = await Promise.all(chunk.map(post));
        id ||= acks[0].incidentId;
        state = await poll(
          `${sent.length} handled`,
          () => get(id),
          (b) => b.alertCount + b.duplicateCount === sent.length,
        );
      }
      return state;
    };

    // The opening alert; its runbook waits for approval through everything that follows.
    const openerId = randomUUID();
    const opened = await send([openerId]);
    expect(opened.lastDelivery).toMatchObject({ deliveryId: openerId, outcome: 'opened' });
    const executionId = opened.automation.executionId;
    const first = await poll(
      'approval pending',
      () => get(id),
      (b) => b.automation.status === 'waiting-approval',
    );
    expect(executionId).toBe(`${id}-run-${first.occurrence}`);

    // A: 1,000 re-firings (new delivery IDs) and 2,000 redeliveries of them.
    const a = Array.from({ length: 1_000 }, () => randomUUID());
    const afterA = await send([...a, ...pick(a, 2_000)]);
    expect(afterA.run).toBeGreaterThan(1);

    // B1: redeliveries of A's IDs, the first of which a run before the current one saw: still duplicates.
    const afterB1 = await send([...a.slice(0, 250), ...pick(a, 750)]);
    expect(afterB1.alertCount).toBe(afterA.alertCount);
    expect(afterB1.duplicateCount).toBe(afterA.duplicateCount + 1_000);

    // B2: 600 more re-firings (they push the oldest IDs out of the 1,000-ID window) and 398 redeliveries of them.
    const b2 = Array.from({ length: 600 }, () => randomUUID());
    await send([...b2, ...pick(b2, 398)]);
    // The opening alert's ID again: outside the window now, so a re-firing, not a duplicate.
    const late = await send([openerId]);
    expect(late.lastDelivery).toMatchObject({ deliveryId: openerId, outcome: 'refired' });
    expect(sent).toHaveLength(5_000);

    // Counts are exact across runs: each distinct ID once while in the window, plus the one that fell out of it.
    const distinct = 1 + a.length + b2.length + 1;
    const state = await get(id);
    expect({
      alertCount: state.alertCount,
      refiredCount: state.refiredCount,
      duplicateCount: state.duplicateCount,
    }).toEqual({ alertCount: distinct, refiredCount: distinct - 1, duplicateCount: sent.length - distinct });
    // Same occurrence, same runbook execution, its approval still pending; at least three continue-as-new.
    expect(state).toMatchObject({
      workflowStatus: 'RUNNING',
      occurrence: first.occurrence,
      automation: { executionId, status: 'waiting-approval', pendingApproval: { stepId: 'approve' } },
    });
    expect(state.run).toBeGreaterThanOrEqual(4);
    expect(state.timeline.filter((t: any) => t.message.startsWith('continuing as new'))).not.toHaveLength(0);

    // The API still works on the latest run: severity, one occurrence, listed once.
    const severity = await api.inject({
      method: 'POST',
      url: `/v1/incidents/${id}/severity`,
      payload: { severity: 'SEV2', reason: 'noisy' },
    });
    expect(severity.statusCode).toBe(200);
    const viewed = await poll(
      'one occurrence',
      () => get(id),
      (b) => b.occurrences?.length === 1 && b.occurrences[0].runId === b.runId,
      20_000,
    );
    expect(viewed.occurrences[0]).toMatchObject({ occurrence: first.occurrence, current: true });
    expect(viewed.runId).not.toBe(first.runId);
    const listed = await poll(
      'list',
      async () =>
        (await api.inject({ method: 'GET', url: `/v1/incidents?resource=ec2:instance/${instanceId}` })).json().items,
      (items: any[]) => items.some((i) => i.id === id && i.runId === viewed.runId),
      20_000,
    );
    expect(listed.filter((i: any) => i.id === id)).toHaveLength(1);

    // The runbook is rejected now, long after the run that started it continued as new: the incident learns it.
    await temporal.client.workflow.getHandle(executionId).executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve', decision: 'reject', decidedBy: commander }],
    });
    const settled = await poll(
      'rolled back',
      () => get(id),
      (b) => b.automation.finished === true,
    );
    expect(settled).toMatchObject({ status: 'rolled-back', automation: { status: 'rolled-back', finished: true } });
    const resolved = await api.inject({
      method: 'POST',
      url: `/v1/incidents/${id}/resolve`,
      payload: { reason: 'ok' },
    });
    expect(resolved.statusCode).toBe(200);
    const closed = await poll(
      'closed',
      () => get(id),
      (b) => b.status === 'closed',
    );
    expect(closed).toMatchObject({ occurrence: first.occurrence, alertCount: distinct, severity: 'SEV2' });

    // Each run's history is small, and replays against today's code.
    const runs = await poll(
      'runs',
      () => runsOf(id),
      (r) => r.some((x) => x.status === 'COMPLETED'),
      20_000,
    );
    expect(runs.filter((r) => r.status === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(3);
    const histories = await Promise.all(
      runs.map(async (r) => ({ ...r, history: await temporal.client.workflow.getHandle(id, r.runId).fetchHistory() })),
    );
    for (const h of histories) {
      const bytes = proto.api.history.v1.History.encode(h.history).finish().length;
      const events = h.history.events?.length ?? 0;
      // At most 20 signals or Updates of up to 50 compacted alerts (and an Update's acks) (~650 B an alert; the default 512 KiB bound
      // usually ends a run first), the state handed over twice: far below Temporal's limits (50 MB, 51,200 events)
      // and below the 1 MB each run is meant to stay under.
      expect({ run: h.runId, small: bytes < 1_000_000 && events < 400 }).toEqual({ run: h.runId, small: true });
    }
    const bundle = { workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } };
    for (const h of histories) await Worker.runReplayHistory(bundle, h.history, id);
    await api.close();
  });
}, 150_000);
