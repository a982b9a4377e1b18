/**
 * Release mode and the rollback window over the real stack: POST /v1/executions/:id/release only for a succeeded
 * execution inside its window (else 409 pointing to /rollback), POST /v1/executions/:id/window extends the window for
 * the release roles with a reason and a bounded duration, and both are in the execution's history.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { tagRecord } from '../../activities/ec2';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { defineRunbook, expr } from '../../runbooks/dsl/types';
import { Type } from '@sinclair/typebox';
import type { SeedResult } from '../../scripts/seed';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;
beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('release', { instances: 2 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

/** Tags an instance; released by security leads only, inside a short window. */
const tagging = defineRunbook({
  id: 'tag-hold',
  version: '1.0.0',
  title: 'Hold an instance',
  description: 'Tag it held; releasing tags it free.',
  incidentType: 'test',
  severity: 'SEV3',
  rollbackWindow: '4s',
  release: { approvers: { roles: ['security-lead'] } },
  params: Type.Object({ instanceId: Type.String() }),
  steps: [
    {
      id: 'hold',
      kind: 'action',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('params.instanceId'), tags: { hold: 'yes' } },
      rollback: { action: 'ec2.tagInstance', with: { instanceId: expr('params.instanceId'), tags: { hold: 'no' } } },
    },
  ],
});

const asAlice = { authorization: 'Bearer commander-token-0123456789' };
const asBob = { authorization: 'Bearer viewer-token-0123456789abc' };
const asCarol = { authorization: 'Bearer security-lead-token-01234567' };

function app(taskQueue: string): Promise<FastifyInstance> {
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise, tagging]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: {
      mode: 'token',
      tokens: TokenStore.fromPlain({
        'commander-token-0123456789': { id: 'user:alice', roles: ['responder', 'incident-commander'] },
        'viewer-token-0123456789abc': { id: 'user:bob', roles: ['viewer'] },
        'security-lead-token-01234567': { id: 'user:carol', roles: ['security-lead'] },
      }),
    },
  });
}

async function poll(api: FastifyInstance, id: string, predicate: (body: any) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.inject({ method: 'GET', url: `/v1/executions/${id}`, headers: asAlice });
    if (res.statusCode === 200 && predicate(res.json())) return res.json();
    if (Date.now() > deadline) throw new Error(`timed out; last ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const post = (api: FastifyInstance, url: string, headers: Record<string, string>, payload: unknown) =>
  api.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });

test('release of an execution that is not succeeded-in-window is 409 and points to /rollback', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const started = await post(api, '/v1/runbooks/ec2-compromise/executions', asAlice, {
      params: { instanceId: env.instances[0].instanceId, notifyTopicArn: env.topicArn },
    });
    const id = started.json().executionId;
    await poll(api, id, (b) => b.status === 'waiting-approval');

    const refused = await post(api, `/v1/executions/${id}/release`, asCarol, { reason: 'done' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'NotInRollbackWindow', rollbackUrl: `http://firebreak.test/v1/executions/${id}/rollback` },
    });
    const window = await post(api, `/v1/executions/${id}/window`, asCarol, { reason: 'x', extendBy: '1d' });
    expect(window.statusCode).toBe(409);
    // The rollback route still serves it.
    expect((await post(api, `/v1/executions/${id}/rollback`, asAlice, { reason: 'not needed' })).statusCode).toBe(202);
    await poll(api, id, (b) => b.status === 'rolled-back');
    await api.close();
  });
});

test('the window: extended by a release role with a reason (bounded), kept open past its first end, then released', async () => {
  const instanceId = env.instances[1].instanceId;
  const tags = async () =>
    tagRecord(
      (await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]
        .Instances![0].Tags,
    );
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const started = await post(api, '/v1/runbooks/tag-hold/executions', asAlice, { params: { instanceId } });
    const id = started.json().executionId;
    const done = await poll(api, id, (b) => b.status === 'succeeded' && b.rollbackWindowUntil);
    const firstEnd = done.rollbackWindowUntil as string;
    const url = `/v1/executions/${id}/window`;

    expect((await post(api, url, asBob, { reason: 'r', extendBy: '1d' })).statusCode).toBe(403); // no permission
    const notRole = await post(api, url, asAlice, { reason: 'r', extendBy: '1d' }); // gate role, not a release role
    expect(notRole.statusCode).toBe(403);
    expect(notRole.json().error.message).toContain('security-lead');
    expect((await post(api, url, asCarol, { extendBy: '1d' })).statusCode).toBe(400);
    expect((await post(api, url, asCarol, { reason: 'r', extendBy: 'soon' })).statusCode).toBe(400);
    const tooLong = await post(api, url, asCarol, { reason: 'r', extendBy: '45d' });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toContain('30 days');

    const extended = await post(api, url, asCarol, { reason: 'forensics still running', extendBy: '1m' });
    expect(extended.statusCode).toBe(200);
    expect(extended.json()).toMatchObject({
      reason: 'forensics still running',
      extendBy: '1m',
      requestedBy: { id: 'user:carol' },
      previousUntil: firstEnd,
      until: new Date(Date.parse(firstEnd) + 60_000).toISOString(),
    });
    // Past the first end, the execution is still open and releasable.
    const past = await poll(api, id, () => Date.now() > Date.parse(firstEnd) + 1500, 30_000);
    expect(past).toMatchObject({ status: 'succeeded', rollbackWindowUntil: extended.json().until });
    expect(past.windowExtensions).toEqual([extended.json()]);

    const released = await post(api, `/v1/executions/${id}/release`, asCarol, { reason: 'cleared' });
    expect(released.statusCode).toBe(202);
    const rolled = await poll(api, id, (b) => b.status === 'rolled-back');
    expect(rolled.release).toMatchObject({ reason: 'cleared', requestedBy: { id: 'user:carol' } });
    expect(await tags()).toMatchObject({ hold: 'no' });

    // Both are in the history, as Updates with their arguments.
    const history = await temporal.client.workflow.getHandle(id).fetchHistory();
    const updates = (history.events ?? [])
      .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)
      .filter(Boolean);
    expect(updates).toEqual(['extendRollbackWindow', 'requestRollback']);
    expect((await post(api, url, asCarol, { reason: 'late', extendBy: '1d' })).statusCode).toBe(409);
    await api.close();
  });
});
