/**
 * With only the worker down, a change the API hands to Temporal is not "Temporal is unavailable": the server admitted
 * it and a worker will run it later. The API says exactly that (503 NOT_CONFIRMED, safe to retry), and the change is
 * indeed applied once a worker is back.
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

test('a rollback requested while no worker runs: 503 NOT_CONFIRMED, then applied when a worker is back', async () => {
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
  const refused = await api.inject({
    method: 'POST',
    url: `/v1/executions/${executionId}/rollback`,
    payload: { reason: 'stop it' },
  });
  expect(refused.statusCode).toBe(503);
  expect(refused.json().error).toMatchObject({
    code: 'NOT_CONFIRMED',
    message: expect.stringMatching(/may still be applied/),
  });

  const second = await worker(taskQueue);
  await second.runUntil(async () => {
    const done = await until(executionId, (b) => b.status === 'rolled-back');
    expect(done).toMatchObject({ status: 'rolled-back', rollback: { trigger: 'requested', reason: 'stop it' } });
    // The retry the 503 invites is refused as a repeat, not applied twice.
    const retry = await api.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/rollback`,
      payload: { reason: 'stop it' },
    });
    expect(retry.statusCode).toBe(409);
  });
  await api.close();
});
