/**
 * Approval policies through the API on the real stack (dev server + moto): four-eyes, N distinct approvers, decisions
 * racing each other and the deadline, releases, and `GET /v1/approvals`. Refused decisions leave no trace in the
 * history and are logged by the API.
 */
import { Writable } from 'node:stream';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { expr, type ApprovalStep, type RunbookDefinition } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';
import { recordRow } from '../chaos/chaos';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('approvals', { instances: 2 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const TOKENS = {
  'sam-token-0123456789abcdef': { id: 'user:sam', roles: ['responder', 'incident-commander'] },
  'alice-token-0123456789abcd': { id: 'user:alice', roles: ['incident-commander'] },
  'carol-token-0123456789abcd': { id: 'user:carol', roles: ['security-lead'] },
  'dave-token-0123456789abcde': { id: 'user:dave', roles: ['incident-commander'] },
  'bob-token-0123456789abcdef': { id: 'user:bob', roles: ['viewer'] },
  'rory-token-0123456789abcde': { id: 'user:rory', roles: ['responder'] },
};
type Who = 'sam' | 'alice' | 'carol' | 'dave' | 'bob' | 'rory';
const header = (who: Who) => ({
  authorization: `Bearer ${Object.keys(TOKENS).find((t) => t.startsWith(`${who}-`))!}`,
});

const params = Type.Object({ instanceId: Type.String() }, { additionalProperties: false });

/** A gate (incident-commander or security-lead) and, unless `gateOnly`, a tag step with a compensation after it. */
function gated(id: string, gate: Partial<ApprovalStep> = {}, extra: Partial<RunbookDefinition> = {}) {
  const steps: RunbookDefinition['steps'] = [
    {
      id: 'approve',
      kind: 'approval',
      title: 'Tag the instance?',
      instructions: 'Approving tags the instance as handled.',
      approvers: { roles: ['incident-commander', 'security-lead'] },
      timeout: '10m',
      onTimeout: 'reject',
      ...gate,
    },
    {
      id: 'tag',
      kind: 'action',
      title: 'Tag the instance',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('params.instanceId'), tags: { [`firebreak:${id}`]: 'tagged' } },
      rollback: {
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { [`firebreak:${id}`]: 'released' } },
      },
    },
  ];
  const def: RunbookDefinition = {
    id,
    version: '1.0.0',
    title: `Approval test ${id}`,
    description: 'approval policy tests',
    incidentType: 'test',
    severity: 'SEV3',
    params,
    resource: { type: 'ec2:instance', param: 'instanceId' },
    steps,
    ...extra,
  };
  return def;
}

/**
 * The gate alone: the execution ends as soon as the gate is decided. It changes no resource, so it declares none and
 * takes no resource lock: the 50× races run their executions side by side, not one after the other.
 */
function gateOnly(id: string, gate: Partial<ApprovalStep> = {}) {
  const def = gated(id, gate);
  return { ...def, resource: undefined, steps: def.steps.slice(0, 1) };
}

const RUNBOOKS = [
  gated('one-of-two'),
  gated('two-of-three', { approvers: { roles: ['incident-commander', 'security-lead'], min: 2 } }),
  gateOnly('race'),
  gateOnly('deadline', { timeout: '2s' }),
  gated('releasable', {}, { rollbackWindow: '1h' }),
];

function app(taskQueue: string, logs?: string[]): Promise<FastifyInstance> {
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs?.push(String(chunk));
      done();
    },
  });
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry(RUNBOOKS),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    logger: logs ? { level: 'info', stream } : false,
    auth: { mode: 'token', tokens: TokenStore.fromPlain(TOKENS) },
  });
}

async function start(api: FastifyInstance, runbook: string, who: Who = 'sam', instance = 0): Promise<string> {
  const res = await api.inject({
    method: 'POST',
    url: `/v1/runbooks/${runbook}/executions`,
    headers: header(who),
    payload: { params: { instanceId: env.instances[instance].instanceId }, reason: 'test' },
  });
  expect(res.statusCode).toBe(201);
  return res.json().executionId;
}

async function poll(api: FastifyInstance, id: string, predicate: (body: any) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.inject({ method: 'GET', url: `/v1/executions/${id}`, headers: header('bob') });
    const body = res.json();
    if (res.statusCode === 200 && predicate(body)) return body;
    if (Date.now() > deadline) throw new Error(`timed out; last ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function decide(api: FastifyInstance, id: string, who: Who, decision: 'approve' | 'reject' = 'approve') {
  return api.inject({
    method: 'POST',
    url: `/v1/executions/${id}/approvals/approve`,
    headers: header(who),
    payload: { decision, comment: `${decision} by ${who}` },
  });
}

/** The pending gates listed for `who`, polled until `done` holds (visibility is eventually consistent). */
async function approvals(api: FastifyInstance, who: Who, query: string, done: (items: any[]) => boolean) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await api.inject({ method: 'GET', url: `/v1/approvals${query}`, headers: header(who) });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as any[];
    if (done(items) || Date.now() > deadline) return items;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How many Updates the execution's history accepted: a refused decision must not be among them. */
async function acceptedUpdates(id: string): Promise<number> {
  const history = await temporal.client.workflow.getHandle(id).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

async function instanceTag(instance: number, key: string): Promise<string | undefined> {
  const out = await aws.clients.ec2.send(
    new DescribeInstancesCommand({ InstanceIds: [env.instances[instance].instanceId] }),
  );
  return out.Reservations![0].Instances![0].Tags?.find((t) => t.Key === key)?.Value;
}

test('four-eyes: the starter cannot approve (403, logged, no trace in history); the approvals list shows who may', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const logs: string[] = [];
    const api = await app(taskQueue, logs);
    const id = await start(api, 'one-of-two', 'sam');
    const waiting = await poll(api, id, (b) => b.status === 'waiting-approval');
    expect(waiting.pendingApproval).toMatchObject({
      policy: { roles: ['incident-commander', 'security-lead'], min: 1, fourEyes: true },
      approvalsNeeded: 1,
    });

    const own = await decide(api, id, 'sam');
    expect(own.statusCode).toBe(403);
    expect(own.json().error).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'SelfApproval' } });
    expect(own.json().error.message).toMatch(/four-eyes/);
    const viewer = await decide(api, id, 'bob');
    expect(viewer.statusCode).toBe(403); // at the route: a viewer may not decide anything
    const noRole = await decide(api, id, 'rory');
    expect(noRole.statusCode).toBe(403); // at the route too: a responder holds no gate role
    expect(await acceptedUpdates(id)).toBe(0);
    const refusal = logs.map((l) => JSON.parse(l)).find((l) => l.event === 'approval.refused');
    expect(refusal).toMatchObject({
      principal: 'user:sam',
      executionId: id,
      stepId: 'approve',
      decision: 'approve',
      status: 403,
      reason: expect.stringContaining('four-eyes'),
    });

    // Alice may decide it: listed with what she needs to know. Sam (four-eyes) and Bob (viewer) get nothing.
    const mine = await approvals(api, 'alice', '?mine=true', (items) => items.some((i) => i.executionId === id));
    expect(mine.find((i) => i.executionId === id)).toEqual({
      executionId: id,
      runbookId: 'one-of-two',
      runbookVersion: '1.0.0',
      runbookTitle: 'Approval test one-of-two',
      severity: 'SEV3',
      resource: `ec2:instance/${env.instances[0].instanceId}`,
      startedBy: { id: 'user:sam', roles: ['responder', 'incident-commander'] },
      reason: 'test',
      stepId: 'approve',
      title: 'Tag the instance?',
      instructions: 'Approving tags the instance as handled.',
      deadline: waiting.pendingApproval.deadline,
      onTimeout: 'reject',
      policy: { roles: ['incident-commander', 'security-lead'], min: 1, fourEyes: true },
      approvedBy: [],
      approvalsNeeded: 1,
      next: [
        {
          stepId: 'tag',
          title: 'Tag the instance',
          action: 'ec2.tagInstance',
          resource: `ec2:instance/${env.instances[0].instanceId}`,
        },
      ],
      escalations: [],
      approveUrl: `http://firebreak.test/v1/executions/${id}/approvals/approve`,
      executionUrl: `http://firebreak.test/v1/executions/${id}`,
      pageUrl: `http://firebreak.test/console/executions/${id}`,
    });
    expect((await approvals(api, 'sam', '?mine=true', () => true)).map((i) => i.executionId)).not.toContain(id);
    expect(await approvals(api, 'bob', '?mine=true', () => true)).toEqual([]);
    // Without mine, a reader sees every pending gate.
    expect((await approvals(api, 'bob', '', () => true)).map((i) => i.executionId)).toContain(id);
    // A query outside the vocabulary is refused.
    const bad = await api.inject({ method: 'GET', url: '/v1/approvals?mine=perhaps', headers: header('alice') });
    expect(bad.statusCode).toBe(400);

    const ok = await decide(api, id, 'alice');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ decidedBy: { id: 'user:alice' }, gate: 'approved', approvalsNeeded: 0 });
    const done = await poll(api, id, (b) => b.status === 'succeeded');
    expect(done.steps[0].approval).toMatchObject({ decision: 'approve', decidedBy: { id: 'user:alice' } });
    expect(await instanceTag(0, 'firebreak:one-of-two')).toBe('tagged');
    const after = await approvals(api, 'alice', '?mine=true', (items) => !items.some((i) => i.executionId === id));
    expect(after.map((i) => i.executionId)).not.toContain(id);
    await api.close();
  });
});

test('two of three: distinct approvers; the same principal twice is a 409; the gate passes at the minimum', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const id = await start(api, 'two-of-three', 'sam', 1);
    await poll(api, id, (b) => b.status === 'waiting-approval');

    const first = await decide(api, id, 'alice');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ decidedBy: { id: 'user:alice' }, gate: 'pending', approvalsNeeded: 1 });
    const twice = await decide(api, id, 'alice');
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error).toMatchObject({ code: 'CONFLICT', details: { reason: 'DuplicateDecision' } });
    expect((await decide(api, id, 'sam')).statusCode).toBe(403); // four-eyes still

    const view = await poll(api, id, (b) => b.pendingApproval?.approvalsNeeded === 1);
    expect(view.pendingApproval.approvedBy).toEqual([
      { id: 'user:alice', at: expect.any(String), comment: 'approve by alice' },
    ]);
    // Alice approved already: not hers any more. Carol's, with Alice's approval shown.
    const carols = await approvals(api, 'carol', '?mine=true', (items) => items.some((i) => i.executionId === id));
    expect(carols.find((i) => i.executionId === id)).toMatchObject({
      approvedBy: [{ id: 'user:alice' }],
      approvalsNeeded: 1,
      policy: { min: 2 },
    });
    expect((await approvals(api, 'alice', '?mine=true', () => true)).map((i) => i.executionId)).not.toContain(id);

    const second = await decide(api, id, 'carol');
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ decidedBy: { id: 'user:carol' }, gate: 'approved', approvalsNeeded: 0 });
    const late = await decide(api, id, 'dave');
    expect(late.statusCode).toBe(409);

    const done = await poll(api, id, (b) => b.status === 'succeeded');
    expect(done.steps[0].approvals.map((a: any) => a.decidedBy.id)).toEqual(['user:alice', 'user:carol']);
    expect(done.steps[0].approval.decidedBy.id).toBe('user:carol');
    expect(await instanceTag(1, 'firebreak:two-of-three')).toBe('tagged');
    expect(await acceptedUpdates(id)).toBe(2);
    await api.close();
  });
});

test('one reject decides the gate whatever approvals came before', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const id = await start(api, 'two-of-three', 'sam', 1);
    await poll(api, id, (b) => b.status === 'waiting-approval');
    expect((await decide(api, id, 'alice')).json()).toMatchObject({ gate: 'pending' });
    const no = await decide(api, id, 'carol', 'reject');
    expect(no.statusCode).toBe(200);
    expect(no.json()).toMatchObject({ gate: 'rejected', decision: 'reject', approvalsNeeded: 0 });
    expect((await decide(api, id, 'dave')).statusCode).toBe(409);
    const done = await poll(api, id, (b) => b.status === 'rolled-back');
    expect(done.rollback).toMatchObject({ trigger: 'rejected', reason: expect.stringContaining('user:carol') });
    expect(done.steps[1].status).toBe('pending');
    await api.close();
  });
});

test('50× two approvers at the same moment: exactly one 200 and one 409, the gate approved by the accepted one', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const started = Date.now();
    const recorded: number[] = [];
    const round = async () => {
      const id = await start(api, 'race');
      await poll(api, id, (b) => b.status === 'waiting-approval');
      const [a, c] = await Promise.all([decide(api, id, 'alice'), decide(api, id, 'carol')]);
      const statuses = [a.statusCode, c.statusCode].sort();
      expect(statuses).toEqual([200, 409]);
      const winner = a.statusCode === 200 ? a.json() : c.json();
      const final = await poll(api, id, (b) => b.workflowStatus === 'COMPLETED');
      recorded.push(final.steps[0].approvals.length);
      expect(final.status).toBe('succeeded');
      expect(final.steps[0].approval.decidedBy).toEqual(winner.decidedBy);
      expect(final.steps[0].approvals).toHaveLength(1);
      return winner.decidedBy.id as string;
    };
    const winners: string[] = [];
    for (let batch = 0; batch < 5; batch++) winners.push(...(await Promise.all(Array.from({ length: 10 }, round))));
    expect(winners).toHaveLength(50);
    // The chaos report's row (npm run chaos): each race's gate recorded one decision, not none, not two.
    recordRow({
      scenario: 'approval race: two approvers',
      faults: winners.length,
      runs: winners.length,
      lost: recorded.filter((n) => n === 0).length,
      doubled: recorded.filter((n) => n > 1).length,
      notes: `both decisions sent at once; accepted: alice ${winners.filter((w) => w === 'user:alice').length}, carol ${winners.filter((w) => w === 'user:carol').length}; the other answered 409`,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    await api.close();
  });
});

test('50× a decision as the deadline fires: either the human decision or the timeout, never both, and the API agrees', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const decisions: number[] = [];
    const round = async () => {
      const id = await start(api, 'deadline');
      const waiting = await poll(api, id, (b) => b.status === 'waiting-approval');
      // Aim around the deadline: from 400 ms before to 1.6 s after it (the dev server fires timers a few hundred ms
      // after their nominal time, so the race's edge lies a little after the deadline).
      const at = Date.parse(waiting.pendingApproval.deadline) - 400 + Math.random() * 2000;
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      const res = await decide(api, id, 'alice');
      const final = await poll(api, id, (b) => b.workflowStatus === 'COMPLETED');
      const gate = final.steps[0];
      // Decisions that took effect: the human ones on the gate, and the deadline's.
      decisions.push((gate.approvals ?? []).length + (gate.approval?.via === 'timeout' ? 1 : 0));
      if (res.statusCode === 200) {
        expect(gate.approval).toMatchObject({ via: 'human', decidedBy: { id: 'user:alice' } });
        expect(final.status).toBe('succeeded');
        return 'human';
      }
      expect(res.statusCode).toBe(409);
      expect(gate.approval).toMatchObject({ via: 'timeout', decidedBy: { id: 'system:deadline' } });
      expect(gate.approvals ?? []).toEqual([]);
      expect(final.status).toBe('rolled-back');
      return 'timeout';
    };
    const started = Date.now();
    const outcomes: string[] = [];
    for (let batch = 0; batch < 5; batch++) outcomes.push(...(await Promise.all(Array.from({ length: 10 }, round))));
    expect(outcomes).toHaveLength(50);
    // Both sides of the race were exercised.
    expect(new Set(outcomes)).toEqual(new Set(['human', 'timeout']));
    // The chaos report's row (npm run chaos): each round ended with exactly one of the two decisions.
    recordRow({
      scenario: 'approval race: decision at the deadline',
      faults: outcomes.length,
      runs: outcomes.length,
      lost: decisions.filter((n) => n === 0).length,
      doubled: decisions.filter((n) => n > 1).length,
      notes: `human decision won ${outcomes.filter((o) => o === 'human').length}, deadline won ${outcomes.filter((o) => o === 'timeout').length}; never both (checked per round)`,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    await api.close();
  });
});

test('release: a viewer is refused at the route, a responder without the gate role by the workflow, the gate role releases', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const logs: string[] = [];
    const api = await app(taskQueue, logs);
    const id = await start(api, 'releasable', 'sam');
    await poll(api, id, (b) => b.status === 'waiting-approval');
    expect((await decide(api, id, 'alice')).statusCode).toBe(200);
    await poll(api, id, (b) => b.status === 'succeeded' && b.rollbackWindowUntil);
    expect(await instanceTag(0, 'firebreak:releasable')).toBe('tagged');

    const release = (who: Who) =>
      api.inject({
        method: 'POST',
        url: `/v1/executions/${id}/rollback`,
        headers: header(who),
        payload: { reason: `release by ${who}` },
      });
    const viewer = await release('bob');
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().error.message).toMatch(/executions:rollback is required/);
    const responder = await release('rory');
    expect(responder.statusCode).toBe(403);
    expect(responder.json().error).toMatchObject({
      code: 'FORBIDDEN',
      message: 'releasing this execution needs one of the roles incident-commander, security-lead',
      details: { reason: 'Forbidden' },
    });
    expect(logs.map((l) => JSON.parse(l)).find((l) => l.event === 'rollback.refused')).toMatchObject({
      principal: 'user:rory',
      executionId: id,
      status: 403,
    });
    expect(await acceptedUpdates(id)).toBe(1); // the approval only

    const ok = await release('carol');
    expect(ok.statusCode).toBe(202);
    const rolled = await poll(api, id, (b) => b.status === 'rolled-back' && b.workflowStatus === 'COMPLETED');
    expect(rolled.release).toEqual({
      requestedBy: { id: 'user:carol', roles: ['security-lead'] },
      requestedAt: expect.any(String),
      reason: 'release by carol',
      roles: ['incident-commander', 'security-lead'],
    });
    expect(rolled.rollback).toMatchObject({ trigger: 'requested', requestedBy: { id: 'user:carol' } });
    expect(await instanceTag(0, 'firebreak:releasable')).toBe('released');
    await api.close();
  });
});
