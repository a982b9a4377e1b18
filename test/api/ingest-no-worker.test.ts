/**
 * Alert admission does not wait for a worker: with none running, a burst of alerts over distinct and redelivered
 * fingerprints is admitted (202 `accepted`, no 5xx) by signal-with-start, durably at the server. Once a worker runs,
 * each fingerprint has exactly one incident and its counts are exact (re-firings vs redeliveries).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { RunbookRegistry } from '../../runbooks/registry';
import { createWorker } from '../../worker/worker';
import { testAws, unique, type TestAws } from '../stack/aws';
import { testTemporal, type TestTemporal } from '../stack/temporal';

const SECRET = 'no-worker-test-secret-0123456789';
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

/** Runs `tasks` with at most `limit` in flight; results in order. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

test('with no worker, 100 alerts at concurrency 50 are all admitted; a worker then makes one incident each, counted exactly', async () => {
  const taskQueue = unique('no-worker-tq');
  const api: FastifyInstance = await buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
    logger: false,
    alerts: { webhookSecret: SECRET },
  });
  // 10 fingerprints × (7 distinct deliveries + 3 redeliveries of the first of them) = 100 alerts, shuffled.
  const names = Array.from({ length: 10 }, (_, i) => unique(`burst-${i}`));
  const payloads = names.flatMap((name) => {
    const ids = Array.from({ length: 7 }, () => randomUUID());
    return [...ids, ids[0], ids[0], ids[0]].map((id) => ({ id, name, state: 'firing', severity: 'SEV4' }));
  });
  for (let i = payloads.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [payloads[i], payloads[j]] = [payloads[j], payloads[i]];
  }

  const responses = await pool(
    payloads.map(
      (payload) => () =>
        api.inject({ method: 'POST', url: '/v1/alerts', headers: { 'x-firebreak-secret': SECRET }, payload }),
    ),
    50,
  );
  expect(responses.map((r) => r.statusCode).filter((c) => c !== 202)).toEqual([]);
  const acks = responses.map((r) => r.json().results[0]);
  expect(acks.filter((a) => a.outcome !== 'accepted')).toEqual([]);
  const incidentIds = [...new Set(acks.map((a) => a.incidentId as string))];
  expect(incidentIds).toHaveLength(10);
  // An alarm that fires and clears before any worker runs: both signals wait in the new run's first task.
  const flapping = unique('flapping');
  const flap = [];
  for (const state of ['firing', 'resolved'])
    flap.push(
      await api.inject({
        method: 'POST',
        url: '/v1/alerts',
        headers: { 'x-firebreak-secret': SECRET },
        payload: { id: randomUUID(), name: flapping, state, severity: 'SEV4' },
      }),
    );
  expect(flap.map((r) => [r.statusCode, r.json().results[0].outcome])).toEqual([
    [202, 'accepted'],
    [202, 'accepted'],
  ]);
  const flapId = flap[0].json().results[0].incidentId;
  // Nothing has run yet: the incident cannot be read without a worker, and the API says so (not that it is missing).
  const unread = await api.inject({ method: 'GET', url: `/v1/incidents/${incidentIds[0]}` });
  expect(unread.statusCode).toBe(503);
  expect(unread.json().error.message).toMatch(/worker/);

  const worker = await createWorker({
    config: { temporalAddress: '', temporalNamespace: 'default', taskQueue, awsRegion: 'us-east-1' },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    clients: aws.clients,
  });
  await worker.runUntil(async () => {
    for (const id of incidentIds) {
      const deadline = Date.now() + 90_000;
      let body = (await api.inject({ method: 'GET', url: `/v1/incidents/${id}` })).json();
      while (!(body.alertCount + body.duplicateCount >= 10) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        body = (await api.inject({ method: 'GET', url: `/v1/incidents/${id}` })).json();
      }
      expect(body).toMatchObject({ alertCount: 7, refiredCount: 6, duplicateCount: 3, workflowStatus: 'RUNNING' });
      expect(['opened', 'refired', 'duplicate']).toContain(body.lastDelivery.outcome);
      // Exactly one run of the fingerprint's workflow: the 10 signal-with-starts started it once.
      const runs = [];
      for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(run);
      expect(runs).toHaveLength(1);
    }
    // Opened and resolved in its first task, then closed (no runbook, no grace): nothing lost, nothing failed.
    const deadline = Date.now() + 60_000;
    let flapped = (await api.inject({ method: 'GET', url: `/v1/incidents/${flapId}` })).json();
    while (flapped.status !== 'closed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      flapped = (await api.inject({ method: 'GET', url: `/v1/incidents/${flapId}` })).json();
    }
    expect(flapped).toMatchObject({
      status: 'closed',
      workflowStatus: 'COMPLETED',
      alertCount: 2,
      resolvedBy: { kind: 'alert' },
      lastDelivery: { outcome: 'resolved' },
    });
  });
  for (const id of incidentIds) await temporal.client.workflow.getHandle(id).terminate('test done');
  await api.close();
}, 180_000);
