/**
 * The API over the real stack: Fastify `inject()` against the dev server and moto, plus one test over a real socket.
 */
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { ownTargetOf } from '../../activities/resource';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import type { SeedResult } from '../../scripts/seed';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('api', { instances: 3 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

function app(taskQueue: string, registry = new RunbookRegistry([ec2Compromise])): Promise<FastifyInstance> {
  return buildApp({
    client: temporal.client,
    registry,
    taskQueue,
    publicUrl: 'http://firebreak.test',
    ownTarget: ownTargetOf(aws.clients.sts, 'us-east-1'),
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
const asAlice = { authorization: 'Bearer commander-token-0123456789' };
const asBob = { authorization: 'Bearer viewer-token-0123456789abc' };
const asCarol = { authorization: 'Bearer security-lead-token-01234567' };

async function poll(api: FastifyInstance, id: string, predicate: (body: any) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.inject({ method: 'GET', url: `/v1/executions/${id}`, headers: asAlice });
    const body = res.json();
    if (res.statusCode === 200 && predicate(body)) return body;
    if (Date.now() > deadline) throw new Error(`timed out; last ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function start(api: FastifyInstance, instance = 0, extra: Record<string, unknown> = {}) {
  return api.inject({
    method: 'POST',
    url: '/v1/runbooks/ec2-compromise/executions',
    headers: asAlice,
    payload: {
      params: { instanceId: env.instances[instance].instanceId, notifyTopicArn: env.topicArn, ...extra },
      reason: 'test',
    },
  });
}

test('runbooks: list, detail, unknown, and authentication required', async () => {
  const api = await app('unused');
  const list = await api.inject({ method: 'GET', url: '/v1/runbooks', headers: asBob });
  expect(list.statusCode).toBe(200);
  const loadedDigest = new RunbookRegistry([ec2Compromise]).get('ec2-compromise')!.digest;
  expect(list.json().runbooks).toEqual([expect.objectContaining({ id: 'ec2-compromise', digest: loadedDigest })]);

  const detail = await api.inject({ method: 'GET', url: '/v1/runbooks/ec2-compromise', headers: asBob });
  expect(detail.statusCode).toBe(200);
  expect(detail.json().steps.map((s: { id: string }) => s.id)).toEqual(ec2Compromise.steps.map((s) => s.id));
  expect(detail.json().steps.find((s: { id: string }) => s.id === 'isolate').rollbackAction).toBe(
    'ec2.restoreSecurityGroups',
  );
  expect(detail.json().params.properties.instanceId.pattern).toBeDefined();
  expect(detail.json().steps.find((s: { id: string }) => s.id === 'approve-isolation')).toMatchObject({
    policy: { roles: ['incident-commander', 'security-lead'], min: 1, fourEyes: true },
    escalation: [{ after: '30m' }],
  });
  expect(detail.json().release).toEqual({ roles: ['incident-commander', 'security-lead'], source: 'gate-roles' });

  const missing = await api.inject({ method: 'GET', url: '/v1/runbooks/nope', headers: asBob });
  expect(missing.statusCode).toBe(404);
  expect(missing.json()).toEqual({
    error: { code: 'NOT_FOUND', message: 'no runbook "nope"', requestId: missing.headers['x-request-id'] },
  });

  const anonymous = await api.inject({ method: 'GET', url: '/v1/runbooks' });
  expect(anonymous.statusCode).toBe(401);
  expect(anonymous.json().error.code).toBe('UNAUTHENTICATED');
  expect((await api.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
  expect((await api.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  const openapi = await api.inject({ method: 'GET', url: '/docs/json' });
  expect(Object.keys(openapi.json().paths)).toEqual(
    expect.arrayContaining([
      '/v1/runbooks/{id}/executions',
      '/v1/executions/{id}/approvals/{stepId}',
      '/v1/executions/{id}/rollback',
      '/v1/approvals/',
    ]),
  );
  await api.close();
});

test('start: 400 with per-field errors for invalid params, 404 for an unknown runbook, 400 for a malformed body', async () => {
  const api = await app('unused');
  const bad = await api.inject({
    method: 'POST',
    url: '/v1/runbooks/ec2-compromise/executions',
    headers: asAlice,
    payload: { params: { instanceId: 'web-1' } },
  });
  expect(bad.statusCode).toBe(400);
  expect(bad.json().error.code).toBe('VALIDATION_FAILED');
  expect(bad.json().error.details).toEqual(
    expect.arrayContaining([
      { path: '/instanceId', message: 'must match pattern "^i-[0-9a-f]{8,17}$"' },
      { path: '/notifyTopicArn', message: 'is required' },
    ]),
  );
  const unknown = await api.inject({
    method: 'POST',
    url: '/v1/runbooks/nope/executions',
    headers: asAlice,
    payload: { params: {} },
  });
  expect(unknown.statusCode).toBe(404);
  const malformed = await api.inject({
    method: 'POST',
    url: '/v1/runbooks/ec2-compromise/executions',
    headers: { ...asAlice, 'content-type': 'application/json' },
    payload: '{"params": ',
  });
  expect(malformed.statusCode).toBe(400);
  expect(malformed.json().error).toBeDefined();
  await api.close();
});

test('approve through the API (not the starter: four-eyes), 403/404/409 for refused decisions, then roll back and 409 once closed', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const started = await start(api, 0);
    expect(started.statusCode).toBe(201);
    const { executionId, digest, status } = started.json();
    expect(status).toBe('running');
    expect(digest).toMatch(/^sha256:/);

    const waiting = await poll(api, executionId, (b) => b.status === 'waiting-approval');
    expect(waiting.pendingApproval.approveUrl).toBe(
      `http://firebreak.test/v1/executions/${executionId}/approvals/approve-isolation`,
    );
    expect(waiting.pageUrl).toBe(`http://firebreak.test/console/executions/${executionId}`);
    expect(waiting.startedBy).toEqual({ id: 'user:alice', roles: ['responder', 'incident-commander'] });
    expect(waiting.pendingApproval).toMatchObject({
      policy: { roles: ['incident-commander', 'security-lead'], min: 1, fourEyes: true },
      approvedBy: [],
      approvalsNeeded: 1,
      next: [
        {
          stepId: 'detach-asg',
          action: 'autoscaling.detachInstance',
          resource: `ec2:instance/${env.instances[0].instanceId}`,
        },
        { stepId: 'deregister-targets', action: 'elbv2.deregisterInstance' },
        { stepId: 'isolate', action: 'ec2.isolateInstanceTwoPhase' },
        { stepId: 'tag-quarantined', action: 'ec2.tagInstance' },
        { stepId: 'notify-contained', action: 'sns.publish' },
      ],
    });

    const approve = (stepId: string, headers = asCarol, decision = 'approve') =>
      api.inject({
        method: 'POST',
        url: `/v1/executions/${executionId}/approvals/${stepId}`,
        headers,
        payload: { decision, comment: 'ok' },
      });
    expect((await approve('nope')).statusCode).toBe(404);
    expect((await approve('approve-isolation', asBob)).statusCode).toBe(403);
    expect((await approve('approve-isolation', asCarol, 'maybe')).statusCode).toBe(400);
    // Four-eyes: alice started the execution, so she may not approve its gate although she holds the role.
    const own = await approve('approve-isolation', asAlice);
    expect(own.statusCode).toBe(403);
    expect(own.json().error).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'SelfApproval' } });
    const ok = await approve('approve-isolation');
    expect(ok.statusCode).toBe(200);
    // The identity is the authenticated caller's, never taken from the body.
    expect(ok.json()).toMatchObject({
      stepId: 'approve-isolation',
      decision: 'approve',
      decidedBy: { id: 'user:carol' },
      via: 'human',
      gate: 'approved',
      approvalsNeeded: 0,
    });
    const again = await approve('approve-isolation');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toMatch(/already decided/);

    const done = await poll(api, executionId, (b) => b.status === 'succeeded');
    expect(done.steps.map((s: { status: string }) => s.status).every((s: string) => s === 'succeeded')).toBe(true);
    const instanceId = env.instances[0].instanceId;
    const described = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const groups = described.Reservations![0].Instances![0].NetworkInterfaces![0].Groups!.map((g) => g.GroupName);
    expect(groups).toEqual(['firebreak-quarantine']);

    expect(
      (
        await api.inject({
          method: 'POST',
          url: `/v1/executions/${executionId}/rollback`,
          headers: asAlice,
          payload: {},
        })
      ).statusCode,
    ).toBe(400);
    const rb = await api.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/rollback`,
      headers: asAlice,
      payload: { reason: 'release' },
    });
    expect(rb.statusCode).toBe(202);
    expect(rb.json()).toMatchObject({ executionId, accepted: true });
    const rolled = await poll(api, executionId, (b) => b.status === 'rolled-back' && b.workflowStatus === 'COMPLETED');
    expect(rolled.rollback).toMatchObject({ trigger: 'requested', requestedBy: { id: 'user:alice' }, complete: true });
    expect(rolled.release).toMatchObject({ requestedBy: { id: 'user:alice' }, reason: 'release' });
    const after = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(after.Reservations![0].Instances![0].NetworkInterfaces![0].Groups!.map((g) => g.GroupId).sort()).toEqual(
      [...env.instances[0].groupIds].sort(),
    );
    const protection = await aws.clients.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
    );
    expect(protection.DisableApiTermination?.Value).toBe(false);

    // Closed: further rollbacks and approvals conflict.
    const closed = await api.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/rollback`,
      headers: asAlice,
      payload: { reason: 'again' },
    });
    expect(closed.statusCode).toBe(409);
    expect((await approve('approve-isolation')).statusCode).toBe(409);
    expect(
      (await api.inject({ method: 'GET', url: '/v1/executions/no-such-execution', headers: asAlice })).statusCode,
    ).toBe(404);
    await api.close();
  });
});

test('editing a runbook after start does not change the running execution (pinned definition and digest)', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const original = new RunbookRegistry([ec2Compromise]);
    const api = await app(taskQueue, original);
    const { executionId, digest } = (await start(api, 1)).json();
    await poll(api, executionId, (b) => b.status === 'waiting-approval');

    // The runbook file is edited: the approval is gone and a step is added. A new registry (a restarted API) serves it.
    const edited: RunbookDefinition = {
      ...ec2Compromise,
      version: '1.1.0',
      steps: [
        ...ec2Compromise.steps.filter((s) => s.kind !== 'approval'),
        {
          id: 'extra',
          kind: 'action',
          action: 'ec2.tagInstance',
          with: { instanceId: 'i-00000000', tags: { x: 'y' } },
        },
      ],
    };
    const editedRegistry = new RunbookRegistry([edited]);
    expect(editedRegistry.get('ec2-compromise')!.digest).not.toBe(digest);
    const api2 = await app(taskQueue, editedRegistry);
    const view = await poll(api2, executionId, (b) => b.status === 'waiting-approval');
    expect(view.digest).toBe(digest);
    expect(view.runbookVersion).toBe(ec2Compromise.version);
    expect(view.steps.map((s: { id: string }) => s.id)).toEqual(ec2Compromise.steps.map((s) => s.id));
    const approved = await api2.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/approvals/approve-isolation`,
      headers: asCarol,
      payload: { decision: 'approve' },
    });
    expect(approved.statusCode).toBe(200);
    const done = await poll(api2, executionId, (b) => b.status === 'succeeded');
    expect(done.steps.map((s: { id: string }) => s.id)).not.toContain('extra');
    await temporal.client.workflow.getHandle(executionId).terminate('test done');
    await Promise.all([api.close(), api2.close()]);
  });
});

test('start by hand on a resource another execution holds: 409 naming the holder; free again once it let go', async () => {
  const own = await aws.seed('api-held', { instances: 1 });
  const params = { instanceId: own.instances[0].instanceId, notifyTopicArn: own.topicArn };
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const startIt = () =>
      api.inject({
        method: 'POST',
        url: '/v1/runbooks/ec2-compromise/executions',
        headers: asAlice,
        payload: { params, reason: 'test' },
      });
    // No record for the instance yet: free.
    const first = await startIt();
    expect(first.statusCode).toBe(201);
    const holder = first.json().executionId;
    await poll(api, holder, (b) => b.status === 'waiting-approval' && b.resourceLock?.status === 'held');

    const refused = await startIt();
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'ResourceHeld', holder: { executionId: holder, runbookId: 'ec2-compromise' } },
    });
    expect(refused.json().error.message).toContain(`held by execution ${holder}`);

    // The holder is cancelled (rolled back, lock released): the next start is accepted.
    await temporal.client.workflow.getHandle(holder).cancel();
    await poll(api, holder, (b) => b.status === 'cancelled');
    const next = await startIt();
    expect(next.statusCode).toBe(201);
    await temporal.client.workflow.getHandle(next.json().executionId).terminate('test done');
    await api.close();
  });
});

test('over a real socket: start and read an execution; 503 from /readyz when Temporal is unreachable', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const address = await api.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${address}/v1/runbooks/ec2-compromise/executions`, {
      method: 'POST',
      headers: { ...asAlice, 'content-type': 'application/json' },
      body: JSON.stringify({ params: { instanceId: env.instances[2].instanceId, notifyTopicArn: env.topicArn } }),
    });
    expect(res.status).toBe(201);
    const { executionId } = (await res.json()) as { executionId: string };
    const read = await fetch(`${address}/v1/executions/${executionId}`, { headers: asAlice });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { runbookId: string }).runbookId).toBe('ec2-compromise');
    await temporal.client.workflow.getHandle(executionId).terminate('test done');
    await api.close();
  });

  // A client on a port where nothing listens: the API still starts, and says it is not ready.
  const dead = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
  const api = await buildApp({
    client: new Client({ connection: dead }),
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue: 'x',
    publicUrl: 'http://x',
    auth: { mode: 'none' },
  });
  const ready = await api.inject({ method: 'GET', url: '/readyz' });
  expect(ready.statusCode).toBe(503);
  expect(ready.json().error.code).toBe('UNAVAILABLE');
  await api.close();
});
