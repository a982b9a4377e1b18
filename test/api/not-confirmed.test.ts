/**
 * With only the worker down, a change the API hands to Temporal is not "Temporal is unavailable": a rollback goes to
 * the server durably (a signal, once the Update went unconfirmed) and the API says so (202, confirmed: false,
 * pending-worker); the rollback is indeed applied once a worker is back, and a repeat of it is refused then.
 */
import { buildApp } from '../../api/app';
import { createActivities } from '../../activities';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { createWorker } from '../../worker/worker';
import { testAws, unique, type TestAws } from '../stack/aws';
import { testTemporal, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('not-confirmed', { instances: 1 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const worker = (taskQueue: string) =>
  createWorker({
    config: { temporalAddress: '', temporalNamespace: 'default', taskQueue, awsRegion: 'us-east-1' },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    clients: aws.clients,
    activities: createActivities(aws.clients),
  });

test('a rollback requested while no worker runs: 202 accepted pending a worker, then applied when one is back', async () => {
  const taskQueue = unique('nc-tq');
  const api = await buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
  });
  const get = async (id: string) => (await api.inject({ method: 'GET', url: `/v1/executions/${id}` })).json();
  const until = async (id: string, predicate: (b: { status: string }) => boolean) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const body = await get(id).catch(() => ({ status: 'unknown' }));
      if (predicate(body)) return body;
      if (Date.now() > deadline) throw new Error(`timed out; last ${JSON.stringify(body).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  let executionId = '';
  const first = await worker(taskQueue);
  await first.runUntil(async () => {
    const started = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/executions',
      payload: { params: { instanceId: env.instances[0].instanceId, notifyTopicArn: env.topicArn }, reason: 'test' },
    });
    expect(started.statusCode).toBe(201);
    executionId = started.json().executionId;
    await until(executionId, (b) => b.status === 'waiting-approval');
  });

  // No worker now: Temporal answers (describe works), but nobody runs the Update.
  const pending = await api.inject({
    method: 'POST',
    url: `/v1/executions/${executionId}/rollback`,
    payload: { reason: 'stop it' },
  });
  expect(pending.statusCode).toBe(202);
  expect(pending.json()).toEqual({ executionId, accepted: true, confirmed: false, status: 'pending-worker' });
  // A rollback of an execution that does not exist is still a 404, worker or not.
  const missing = await api.inject({
    method: 'POST',
    url: `/v1/executions/${executionId}-nope/rollback`,
    payload: { reason: 'stop it' },
  });
  expect(missing.statusCode).toBe(404);

  const second = await worker(taskQueue);
  await second.runUntil(async () => {
    const done = await until(executionId, (b) => b.status === 'rolled-back');
    expect(done).toMatchObject({ status: 'rolled-back', rollback: { trigger: 'requested', reason: 'stop it' } });
    // Both the unconfirmed Update and the signal reached the execution: it rolled back once, and the request's
    // signal was no refusal of its own Update.
    expect((await get(executionId)).refusedRequests ?? []).toEqual([]);
    // A repeat is refused as one, not applied twice.
    const retry = await api.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/rollback`,
      payload: { reason: 'stop it' },
    });
    expect(retry.statusCode).toBe(409);
  });
  await api.close();
});
