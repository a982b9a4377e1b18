/**
 * Incidents over their whole life: a finding that recurs after its incident closed, an alarm that flaps, an alert that
 * arrives while its incident closes, and runbooks that fail, are rejected or released, followed by the incident's
 * status and its notifications (read from an SQS queue subscribed to the moto SNS topic).
 */
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { ActionActivities } from '../../activities/schemas';
import { buildApp, type AppDeps } from '../../api/app';
import { defineRunbook, expr, type RunbookDefinition } from '../../runbooks/dsl/types';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { readNotifications, type SeedResult } from '../../scripts/seed';
import { approvalUpdate, rollbackUpdate } from '../../workflows/messages';
import { fixture } from '../alerts/helpers';
import { testAws, unique, type TestAws } from '../stack/aws';
import { commander, testTemporal, withWorker, type TestTemporal } from '../stack/temporal';
import { poll } from '../stack/poll';

const SECRET = 'incident-tests-shared-secret-0123';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('incidents', { instances: 2 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

/** A runbook on `generic` alerts named `<prefix>-*`: tag the instance (undone by a rollback), then `extra` steps. */
function taggingRunbook(
  id: string,
  extra: RunbookDefinition['steps'] = [],
  rollbackWindow?: string,
): RunbookDefinition {
  return defineRunbook({
    id,
    version: '1.0.0',
    title: `test runbook ${id}`,
    description: 'test runbook',
    incidentType: id,
    severity: 'SEV3',
    params: Type.Object({ instanceId: Type.String() }),
    resource: { type: 'ec2:instance', param: 'instanceId' },
    rollbackWindow: rollbackWindow as '1h' | undefined,
    triggers: [{ sources: ['generic'], alarmNames: [`${id}-*`], params: { instanceId: expr('alert.resource.id') } }],
    steps: [
      {
        id: 'tag',
        kind: 'action',
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { [id]: 'on' } },
        rollback: { action: 'ec2.tagInstance', with: { instanceId: expr('params.instanceId'), tags: { [id]: 'off' } } },
      },
      ...extra,
    ],
  });
}

const failing = taggingRunbook('fails', [
  { id: 'inspect-peer', kind: 'action', action: 'ec2.captureInstance', with: { instanceId: 'i-0000000000000dead' } },
]);
const gated = taggingRunbook('gated', [
  { id: 'approve', kind: 'approval', title: 'Go on?', timeout: '1h', onTimeout: 'reject' },
]);
const held = taggingRunbook('held', [], '1h');

function app(taskQueue: string, overrides: Partial<AppDeps> = {}): Promise<FastifyInstance> {
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise, failing, gated, held]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
    logger: false,
    notifyTopics: { default: env.topicArn },
    alerts: { webhookSecret: SECRET, webhookHeader: 'x-firebreak-secret' },
    ...overrides,
  });
}

/**
 * Posts a generic alert; once the incident handled it, returns what it made of it (the API answers `accepted` before:
 * the outcome and counts are the incident's, read back from GET /v1/incidents/:id).
 */
async function alert(api: FastifyInstance, name: string, state: 'firing' | 'resolved', instance = 0) {
  const ack = await post(api, name, state, instance);
  if (ack.outcome === 'no-open-incident') return ack;
  expect(ack).toMatchObject({
    outcome: 'accepted',
    incidentUrl: `http://firebreak.test/v1/incidents/${ack.incidentId}`,
  });
  const b = await incident(api, ack.incidentId, (i) => i.lastDelivery?.deliveryId === ack.deliveryId);
  return {
    ...ack,
    outcome: b.lastDelivery.outcome,
    status: b.status,
    severity: b.severity,
    refiredCount: b.refiredCount,
    duplicateCount: b.duplicateCount,
    automation: b.automation,
  };
}

async function post(api: FastifyInstance, name: string, state: 'firing' | 'resolved', instance = 0) {
  const res = await api.inject({
    method: 'POST',
    url: '/v1/alerts',
    headers: { 'x-firebreak-secret': SECRET },
    payload: {
      id: randomUUID(),
      name,
      state,
      resource: { type: 'ec2:instance', id: env.instances[instance].instanceId },
    },
  });
  expect(res.statusCode).toBe(202);
  return res.json().results[0];
}

const incident = (api: FastifyInstance, id: string, done: (b: any) => boolean, query = '') =>
  poll(
    `incident ${id}`,
    async () => (await api.inject({ method: 'GET', url: `/v1/incidents/${id}${query}` })).json(),
    done,
  );

/** Every incident notification read from the queue so far (the queue is shared by this file's tests). */
const received: any[] = [];
async function notifications(incidentId: string, events: string[], timeoutMs = 30_000): Promise<string[]> {
  const mine = () => received.filter((m) => m.incident?.id === incidentId).map((m) => m.event as string);
  return poll(
    `notifications of ${incidentId}`,
    async () => {
      const notes = await readNotifications(aws.sqs, env.queueUrl, { count: 10, timeoutMs: 1_000 });
      received.push(...notes.map((n) => (n.json as any)?.message).filter(Boolean));
      return mine();
    },
    (seen) => events.every((e) => seen.includes(e)),
    timeoutMs,
  );
}

test('a GuardDuty finding recurring after its incident closed opens a new occurrence with a working runbook', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const instanceId = env.instances[0].instanceId;
    const finding = fixture('eventbridge-guardduty-finding.json');
    finding.detail.id = unique('finding');
    finding.detail.resource.instanceDetails.instanceId = instanceId;
    const post = async () => {
      const ack = (
        await api.inject({
          method: 'POST',
          url: '/v1/alerts/eventbridge',
          headers: { 'x-firebreak-secret': SECRET },
          payload: { ...finding, id: randomUUID() },
        })
      ).json();
      expect(ack.outcome).toBe('accepted');
      const b = await incident(api, ack.incidentId, (i) => i.lastDelivery?.deliveryId === ack.deliveryId);
      return { ...ack, outcome: b.lastDelivery.outcome, automation: b.automation };
    };

    const first = await post();
    expect(first).toMatchObject({ outcome: 'opened', automation: { runbookId: 'ec2-compromise' } });
    const id = first.incidentId;
    const one = await incident(api, id, (b) => b.automation.status === 'waiting-approval');
    await temporal.client.workflow.getHandle(one.automation.executionId).executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-isolation', decision: 'approve', decidedBy: commander }],
    });
    await incident(api, id, (b) => b.status === 'contained');
    const resolved = await api.inject({
      method: 'POST',
      url: `/v1/incidents/${id}/resolve`,
      payload: { reason: 'ok' },
    });
    expect(resolved.statusCode).toBe(200);
    await incident(api, id, (b) => b.status === 'closed');
    // The first occurrence's runbook stays open in its rollback window.
    expect((await temporal.client.workflow.getHandle(one.automation.executionId).describe()).status.name).toBe(
      'RUNNING',
    );

    // The same finding again, as GuardDuty sends it with a new event id.
    const again = await post();
    expect(again).toMatchObject({ incidentId: id, outcome: 'opened' });
    expect(again.automation.executionId).not.toBe(one.automation.executionId);
    const two = await incident(api, id, (b) => b.automation.status === 'waiting-approval');
    expect(two.occurrence).not.toBe(one.occurrence);
    expect(two.automation.executionId).toBe(`${id}-run-${two.occurrence}`);
    expect(two.status).toBe('runbook-running');

    // The current occurrence links the earlier one, which can still be read.
    const linked = await incident(api, id, (b) => b.occurrences?.length === 2);
    expect(linked.occurrences.map((o: any) => [o.runId, o.current])).toEqual(
      expect.arrayContaining([
        [two.runId, true],
        [one.runId, false],
      ]),
    );
    const earlier = linked.occurrences.find((o: any) => !o.current);
    expect(earlier).toMatchObject({ workflowStatus: 'COMPLETED', status: 'closed' });
    const url = new URL(earlier.url);
    const old = (await api.inject({ method: 'GET', url: `${url.pathname}${url.search}` })).json();
    expect(old).toMatchObject({ status: 'closed', occurrence: one.occurrence, runId: one.runId });
    expect(old.automation.executionId).toBe(one.automation.executionId);
    // List filters see both occurrences.
    const listed = await poll(
      'list',
      async () =>
        (await api.inject({ method: 'GET', url: `/v1/incidents?resource=ec2:instance/${instanceId}` })).json().items,
      (items: any[]) => items.filter((i) => i.id === id).length === 2,
      20_000,
    );
    expect(listed.filter((i: any) => i.id === id).map((i: any) => i.runId)).toEqual(
      expect.arrayContaining([one.runId, two.runId]),
    );
    for (const e of [one, two]) await temporal.client.workflow.getHandle(e.automation.executionId).terminate('done');
    await api.close();
  });
});

test('ALARM → OK → ALARM within the re-open grace re-opens the incident; after it closed, a new occurrence', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue, { incidentReopenGraceMs: 3_000 });
    const name = unique('flapping');
    const opened = await alert(api, name, 'firing');
    expect(opened).toMatchObject({
      outcome: 'opened',
      automation: { reason: 'no runbook trigger matches this alert' },
    });
    const id = opened.incidentId;
    await incident(api, id, (b) => b.status === 'triaged');
    expect(await alert(api, name, 'resolved')).toMatchObject({ incidentId: id, outcome: 'resolved' });
    await incident(api, id, (b) => b.status === 'resolved');
    // Fires again within the grace: the same occurrence, re-opened.
    expect(await alert(api, name, 'firing')).toMatchObject({ incidentId: id, outcome: 'reopened' });
    const reopened = await incident(api, id, (b) => b.status === 'triaged');
    expect(reopened).toMatchObject({ reopenedCount: 1, alertCount: 3, workflowStatus: 'RUNNING' });
    expect(reopened.resolvedAt).toBeUndefined();
    expect(await notifications(id, ['opened', 'resolved', 'reopened'])).toEqual(
      expect.arrayContaining(['opened', 'resolved', 'reopened']),
    );
    // Back to OK and quiet for the grace: closed. The next ALARM is a new occurrence.
    await alert(api, name, 'resolved');
    const closed = await incident(api, id, (b) => b.status === 'closed');
    const next = await alert(api, name, 'firing');
    expect(next).toMatchObject({ incidentId: id, outcome: 'opened' });
    const current = await incident(api, id, (b) => b.status === 'triaged');
    expect(current.occurrence).not.toBe(closed.occurrence);
    await temporal.client.workflow.getHandle(id).terminate('test done');
    await api.close();
  });
});

test('an alert accepted while the incident closes re-opens it instead of being lost', async () => {
  // The closing incident waits for its "resolved" notification: holding that publish holds the closing window open.
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let holding!: () => void;
  const held = new Promise<void>((r) => (holding = r));
  const name = unique('closing');
  const holdResolved = (real: ActionActivities): ActionActivities => ({
    ...real,
    'sns.publish': async (input) => {
      const m = input.message as { event?: string; incident?: { title?: string } };
      if (m?.event === 'resolved' && JSON.stringify(m).includes(name)) {
        holding();
        await released;
      }
      return real['sns.publish'](input);
    },
  });
  await withWorker(temporal, { clients: aws.clients, activities: holdResolved }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const opened = await alert(api, name, 'firing');
    const id = opened.incidentId;
    await incident(api, id, (b) => b.status === 'triaged');
    await alert(api, name, 'resolved');
    await held; // the incident is closing now
    expect((await incident(api, id, () => true)).status).toBe('resolved');
    expect(await alert(api, name, 'firing')).toMatchObject({ incidentId: id, outcome: 'reopened' });
    release();
    const reopened = await incident(api, id, (b) =>
      b.timeline.some((t: any) => t.message.includes('fired again while the incident was closing')),
    );
    expect(reopened).toMatchObject({ status: 'triaged', workflowStatus: 'RUNNING', reopenedCount: 1, alertCount: 3 });
    expect(await notifications(id, ['resolved', 'reopened'])).toEqual(expect.arrayContaining(['resolved', 'reopened']));
    // It still closes once the alert goes back to OK, in the same occurrence.
    await alert(api, name, 'resolved');
    const closed = await incident(api, id, (b) => b.status === 'closed');
    expect(closed.occurrence).toBe(reopened.occurrence);
    // The history replays against today's code.
    const history = await temporal.client.workflow.getHandle(id).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } }, history, id);
    await api.close();
  });
});

test.each([
  ['fails', 'runbook-failed', 'runbook-failed', 'failed'],
  ['gated', 'rolled-back', 'rolled-back', 'rolled-back'],
  ['held', 'rolled-back', 'rolled-back', 'rolled-back'],
] as const)(
  'a runbook that %s: the incident follows its outcome (%s) and notifies it once',
  async (runbookId, status, event, executionStatus) => {
    await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
      const api = await app(taskQueue);
      const opened = await alert(api, `${runbookId}-${unique('x')}`, 'firing', 1);
      expect(opened).toMatchObject({ outcome: 'opened', automation: { runbookId } });
      const id = opened.incidentId;
      const execution = temporal.client.workflow.getHandle(opened.automation.executionId);
      if (runbookId === 'gated') {
        await incident(api, id, (b) => b.automation.status === 'waiting-approval');
        await execution.executeUpdate(approvalUpdate, {
          args: [{ stepId: 'approve', decision: 'reject', decidedBy: commander }],
        });
      } else if (runbookId === 'held') {
        await incident(api, id, (b) => b.status === 'contained');
        // Released: the containment is rolled back inside its rollback window.
        await execution.executeUpdate(rollbackUpdate, { args: [{ reason: 'false positive', requestedBy: commander }] });
      }
      const settled = await incident(api, id, (b) => b.status === status);
      expect(settled.automation).toMatchObject({ status: executionStatus, finished: true });
      const described = await temporal.client.workflow.getHandle(id).describe();
      expect(described.status.name).toBe('RUNNING');
      await notifications(id, [event]);
      // Both the progress signal and the result may report the outcome: a second notification would come right away.
      const seen = await notifications(id, ['none'], 3_000).catch(() => [] as string[]);
      expect(
        (seen.length ? seen : received.filter((m) => m.incident?.id === id).map((m) => m.event)).filter(
          (e: string) => e === event,
        ),
      ).toHaveLength(1);
      // The status filter finds it.
      const listed = await poll(
        'list',
        async () => (await api.inject({ method: 'GET', url: `/v1/incidents?status=${status}` })).json().items,
        (items: any[]) => items.some((i) => i.id === id),
        20_000,
      );
      expect(listed.map((i: any) => i.id)).toContain(id);
      await temporal.client.workflow.getHandle(id).terminate('test done');
      await api.close();
    });
  },
);
