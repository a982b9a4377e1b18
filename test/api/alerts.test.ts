/**
 * Alert ingestion end to end: SNS (from moto, and signed locally), EventBridge and webhooks reach the API, open one
 * incident per fingerprint, start the routed runbook against the named instance, and follow the alarm to OK.
 */
import { randomUUID } from 'node:crypto';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Type } from '@sinclair/typebox';
import { CreateTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { fromSnsNotification } from '../../alerts/dispatch';
import { fingerprint } from '../../alerts/fingerprint';
import { parseSnsBody, SnsSignatureVerifier, type SnsNotification } from '../../alerts/sns';
import { WorkflowNotFoundError } from '@temporalio/common';
import { buildApp, type AppDeps } from '../../api/app';
import { defineRunbook, expr } from '../../runbooks/dsl/types';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { readNotifications, type SeedResult } from '../../scripts/seed';
import { freePort, startTemporal } from '../../scripts/stack';
import { approvalUpdate } from '../../workflows/messages';
import { createWorker } from '../../worker/worker';
import { NativeConnection, Worker } from '@temporalio/worker';
import { fakeFetcher, fixture, selfSignedCertificate, signSns } from '../alerts/helpers';
import { testAws, unique, type TestAws } from '../stack/aws';
import { commander, testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

const SECRET = 'eventbridge-shared-secret-0123456789';
const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;
const cert = selfSignedCertificate();

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('alerts', { instances: 3 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

function app(taskQueue: string, overrides: Partial<AppDeps> = {}, client = temporal.client): Promise<FastifyInstance> {
  return buildApp({
    client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
    logger: process.env.TEST_API_LOG ? { level: 'error' } : false,
    notifyTopics: { default: env.topicArn },
    alerts: {
      snsTopics: ['arn:aws:sns:*:111122223333:ops-*', 'arn:aws:sns:us-east-1:123456789012:*'],
      verifier: new SnsSignatureVerifier({
        fetchCertificate: fakeFetcher({ [CERT_URL]: cert.certPem }).fetchCertificate,
      }),
      webhookSecret: SECRET,
      webhookHeader: 'x-firebreak-secret',
      confirmSubscription: async () => undefined,
    },
    ...overrides,
  });
}

/** A CloudWatch alarm SNS notification for an instance, signed with the test key. */
function alarmNotification(opts: { alarm: string; instanceId: string; state?: 'ALARM' | 'OK'; messageId?: string }) {
  const base = fixture('sns-notification-cloudwatch-alarm.json');
  const message = JSON.parse(base.Message);
  message.AlarmName = opts.alarm;
  message.AlarmArn = `arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${opts.alarm}`;
  message.NewStateValue = opts.state ?? 'ALARM';
  message.OldStateValue = opts.state === 'OK' ? 'ALARM' : 'OK';
  message.Trigger.Dimensions = [{ name: 'InstanceId', value: opts.instanceId }];
  return signSns(
    {
      ...base,
      MessageId: opts.messageId ?? randomUUID(),
      // Published now: the verifier refuses messages older than its window.
      Timestamp: new Date().toISOString(),
      Subject: `${message.NewStateValue}: "${opts.alarm}" in EU (Ireland)`,
      Message: JSON.stringify(message),
    },
    cert.privateKey,
    { certUrl: CERT_URL, version: '2' },
  );
}

function postEventBridge(
  api: FastifyInstance,
  payload: unknown,
  headers: Record<string, string> = { 'x-firebreak-secret': SECRET },
) {
  return api.inject({ method: 'POST', url: '/v1/alerts/eventbridge', headers, payload: payload as object });
}

function postSns(api: FastifyInstance, body: unknown) {
  return api.inject({
    method: 'POST',
    url: '/v1/alerts/sns',
    headers: { 'content-type': 'text/plain; charset=UTF-8' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function incident(api: FastifyInstance, id: string, predicate: (b: any) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.inject({ method: 'GET', url: `/v1/incidents/${id}` });
    if (res.statusCode === 200 && predicate(res.json())) return res.json();
    if (Date.now() > deadline)
      throw new Error(`incident ${id}: timed out; last ${res.statusCode} ${res.body.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The API admits an alert (202 `accepted`) before the incident handles it: waits until the incident recorded the
 * delivery with the outcome `want`, and returns the incident.
 */
async function handled(api: FastifyInstance, ack: { incidentId: string; deliveryId: string }, want: string) {
  return incident(
    api,
    ack.incidentId,
    (b) => b.lastDelivery?.deliveryId === ack.deliveryId && b.lastDelivery.outcome === want,
  );
}

/** Lists until `done` holds (visibility is eventually consistent) or the time is up; returns the last items. */
async function listUntil(
  api: FastifyInstance,
  url: string,
  done: (items: { id: string }[]) => boolean,
  timeoutMs = 20_000,
): Promise<{ id: string }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = (await api.inject({ method: 'GET', url })).json().items ?? [];
    if (done(items) || Date.now() > deadline) return items;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function protectionOn(instanceId: string): Promise<boolean> {
  const out = await aws.clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return out.DisableApiTermination?.Value ?? false;
}

test('moto SNS delivers a CloudWatch alarm to the API over HTTP: the runbook starts on the instance in the dimensions', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    // moto cannot sign, so this API runs with verification off, as `npm start` does against the emulator.
    const api = await app(taskQueue, {
      alerts: {
        snsTopics: ['arn:aws:sns:us-east-1:123456789012:*'],
        verifier: null,
        confirmSubscription: async () => undefined,
      },
    });
    const address = await api.listen({ host: '127.0.0.1', port: 0 });
    const topic = await aws.clients.sns.send(new CreateTopicCommand({ Name: unique('ops-alarms') }));
    await aws.clients.sns.send(
      new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'http', Endpoint: `${address}/v1/alerts/sns` }),
    );
    const instanceId = env.instances[0].instanceId;
    const alarm = unique('web-egress-spike');
    const message = JSON.parse(fixture('sns-notification-cloudwatch-alarm.json').Message);
    message.AlarmName = alarm;
    message.Trigger.Dimensions = [{ name: 'InstanceId', value: instanceId }];
    await aws.clients.sns.send(
      new PublishCommand({ TopicArn: topic.TopicArn, Subject: `ALARM: "${alarm}"`, Message: JSON.stringify(message) }),
    );

    const [item] = (await listUntil(
      api,
      `/v1/incidents?resource=ec2:instance/${instanceId}`,
      (items) => items.length > 0,
      30_000,
    )) as any[];
    expect(item).toMatchObject({ kind: 'incident', type: 'ec2-compromise', resource: `ec2:instance/${instanceId}` });
    const state = await incident(api, item.id, (b) => b.automation.status === 'waiting-approval');
    expect(state.automation).toMatchObject({ kind: 'runbook', runbookId: 'ec2-compromise' });
    expect(state.alertName).toBe(alarm);
    // The runbook acted on that instance (checked in moto): evidence taken, protection on, awaiting approval.
    expect(await protectionOn(instanceId)).toBe(true);
    const execution = (
      await api.inject({ method: 'GET', url: `/v1/executions/${state.automation.executionId}` })
    ).json();
    expect(execution).toMatchObject({ params: { instanceId }, incidentId: item.id, status: 'waiting-approval' });
    await temporal.client.workflow.getHandle(state.automation.executionId).terminate('test done');
    await api.close();
  });
});

test('a GuardDuty finding via EventBridge starts ec2-compromise on that instance; the incident follows it to containment and OK', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const instanceId = env.instances[1].instanceId;
    const event = fixture('eventbridge-guardduty-finding.json');
    event.id = randomUUID();
    event.detail.id = unique('finding');
    event.detail.resource.instanceDetails.instanceId = instanceId;

    const noSecret = await postEventBridge(api, event, {});
    expect(noSecret.statusCode).toBe(403);
    const wrong = await postEventBridge(api, event, { 'x-firebreak-secret': SECRET.replace(/.$/, 'x') });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error).toMatchObject({ code: 'ALERT_FORBIDDEN', details: { reason: 'bad-secret' } });

    const res = await postEventBridge(api, event);
    expect(res.statusCode).toBe(202);
    const ack = res.json();
    expect(ack).toMatchObject({
      outcome: 'accepted',
      incidentUrl: `http://firebreak.test/v1/incidents/${ack.incidentId}`,
      deliveryId: event.id,
    });
    const opened = await handled(api, ack, 'opened');
    expect(opened).toMatchObject({ severity: 'SEV2', automation: { runbookId: 'ec2-compromise' } });
    ack.automation = opened.automation;
    const again = await postEventBridge(api, event);
    expect(again.json()).toMatchObject({ incidentId: ack.incidentId, outcome: 'accepted' });
    expect(await handled(api, ack, 'duplicate')).toMatchObject({ duplicateCount: 1, alertCount: 1 });

    const waiting = await incident(api, ack.incidentId, (b) => b.automation.status === 'waiting-approval');
    expect(waiting.status).toBe('runbook-running');
    await temporal.client.workflow.getHandle(ack.automation.executionId).executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-isolation', decision: 'approve', decidedBy: commander }],
    });
    const contained = await incident(api, ack.incidentId, (b) => b.status === 'contained');
    expect(contained.automation.status).toBe('succeeded');

    // A human resolves it (GuardDuty findings have no OK state): the incident closes, the containment stays.
    const resolved = await api.inject({
      method: 'POST',
      url: `/v1/incidents/${ack.incidentId}/resolve`,
      payload: { reason: 'instance rebuilt' },
    });
    expect(resolved.statusCode).toBe(200);
    const closed = await incident(api, ack.incidentId, (b) => b.status === 'closed');
    expect(closed.resolvedBy).toMatchObject({ kind: 'human', id: 'user:local-operator' });
    expect(closed.timeline.map((t: { kind: string }) => t.kind)).toEqual(
      expect.arrayContaining(['alert', 'state', 'runbook', 'notification', 'resolution']),
    );
    expect(
      (await api.inject({ method: 'POST', url: `/v1/incidents/${ack.incidentId}/resolve`, payload: { reason: 'x' } }))
        .statusCode,
    ).toBe(409);

    // Notifications went to the topic: opened, approval, contained, resolved, each with links and context.
    const notes = await readNotifications(aws.sqs, env.queueUrl, { count: 20, timeoutMs: 5_000 });
    const mine = notes
      .filter((n) => (n.json as any)?.message?.incident?.id === ack.incidentId)
      .map((n) => n.json as any);
    expect(mine.map((m) => m.message.event)).toEqual(
      expect.arrayContaining(['opened', 'approval-required', 'contained', 'resolved']),
    );
    const approval = mine.find((m) => m.message.event === 'approval-required').message;
    expect(approval).toMatchObject({
      account: '111122223333',
      region: 'eu-west-1',
      resource: { type: 'ec2:instance', id: instanceId },
      runbook: 'ec2-compromise',
      step: 'approve-isolation',
      approvalUrl: `http://firebreak.test/v1/executions/${ack.automation.executionId}/approvals/approve-isolation`,
      executionUrl: `http://firebreak.test/v1/executions/${ack.automation.executionId}`,
      approvalPageUrl: `http://firebreak.test/console/executions/${ack.automation.executionId}`,
    });
    expect(approval.consoleUrl).toContain(instanceId);
    await temporal.client.workflow.getHandle(ack.automation.executionId).terminate('test done');
    await api.close();
  });
});

test('a finding for a resource no runbook handles opens an incident without automation, and says so', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const event = fixture('eventbridge-guardduty-finding.json');
    event.id = randomUUID();
    event.detail.type = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS';
    event.detail.resource = {
      resourceType: 'AccessKey',
      accessKeyDetails: { accessKeyId: unique('ASIA'), userName: 'web' },
    };
    const res = await postEventBridge(api, event);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ outcome: 'accepted' });
    expect(await handled(api, res.json(), 'opened')).toMatchObject({
      automation: { reason: 'no runbook trigger matches this alert' },
    });
    const state = await incident(api, res.json().incidentId, (b) => b.status === 'triaged');
    expect(state).toMatchObject({
      automation: { kind: 'none' },
      incidentType: 'unclassified',
      resource: { type: 'iam:accesskey' },
    });
    const sev = await api.inject({
      method: 'POST',
      url: `/v1/incidents/${state.incidentId}/severity`,
      payload: { severity: 'SEV1', reason: 'prod keys' },
    });
    expect(sev.statusCode).toBe(200);
    expect(sev.json()).toMatchObject({ severity: 'SEV1', severityReason: 'set by user:local-operator: prod keys' });
    const listed = await listUntil(api, '/v1/incidents?severity=SEV1&type=unclassified', (items) =>
      items.some((i) => i.id === state.incidentId),
    );
    expect(listed.map((i) => i.id)).toContain(state.incidentId);
    await temporal.client.workflow.getHandle(state.incidentId).terminate('test done');
    await api.close();
  });
});

test('200 concurrent deliveries of one alarm and redeliveries of one MessageId start exactly one execution', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const instanceId = env.instances[2].instanceId;
    const alarm = unique('db-egress-spike');
    const redelivered = alarmNotification({ alarm, instanceId });
    const bodies = [
      ...Array.from({ length: 150 }, () => alarmNotification({ alarm, instanceId })),
      ...Array.from({ length: 50 }, () => redelivered),
    ];
    const responses = await Promise.all(bodies.map((b) => postSns(api, b)));
    expect(responses.map((r) => r.statusCode).filter((c) => c !== 202)).toEqual([]);
    const acks = responses.map((r) => r.json());
    const ids = new Set(acks.map((a) => a.incidentId));
    expect(ids.size).toBe(1);
    expect(acks.filter((a) => a.outcome !== 'accepted')).toEqual([]);
    const metrics = (await api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('firebreak_alerts_accepted_total{endpoint="/v1/alerts/sns",outcome="accepted"} 200');
    const [incidentId] = ids;
    // What the incident made of them: one opening, 150 re-firings, 49 redeliveries.
    const state = await incident(
      api,
      incidentId,
      (b) => b.automation.status === 'waiting-approval' && b.alertCount + b.duplicateCount === 200,
    );
    expect(state).toMatchObject({ alertCount: 151, refiredCount: 150, duplicateCount: 49 });

    // Exactly one runbook execution exists for that instance.
    const executions = await listUntil(api, `/v1/executions?resource=ec2:instance/${instanceId}`, (i) => i.length > 0);
    expect(executions.map((e) => e.id)).toEqual([state.automation.executionId]);

    // The alarm goes back to OK while the runbook waits: recorded; the incident closes once the runbook settles.
    const ok = await postSns(api, alarmNotification({ alarm, instanceId, state: 'OK' }));
    expect(ok.json()).toMatchObject({ incidentId, outcome: 'accepted' });
    await handled(api, ok.json(), 'resolved');
    const resolvedWhileRunning = await incident(api, incidentId, (b) => b.resolvedBy?.kind === 'alert');
    expect(resolvedWhileRunning.status).toBe('runbook-running');
    await temporal.client.workflow.getHandle(state.automation.executionId).executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-isolation', decision: 'reject', comment: 'alarm cleared', decidedBy: commander }],
    });
    const closed = await incident(api, incidentId, (b) => b.status === 'closed');
    expect(closed.automation.status).toBe('rolled-back');
    expect(await protectionOn(instanceId)).toBe(false);
    // An OK once the incident has ended starts nothing. Closed is its state before its workflow ends (it still starts
    // the evidence archive): until then an OK reaches it and is recorded there, so wait for the end.
    await temporal.client.workflow.getHandle(incidentId).result();
    const late = await postSns(api, alarmNotification({ alarm, instanceId, state: 'OK' }));
    expect(late.json()).toMatchObject({ incidentId: null, outcome: 'no-open-incident' });
    await api.close();
  });
});

test('forged and malformed SNS deliveries are refused and start nothing', async () => {
  const api = await app('nothing-should-run-here');
  const good = alarmNotification({ alarm: unique('forged'), instanceId: env.instances[0].instanceId });
  const cases: [string, unknown, number, string][] = [
    ['tampered message', { ...good, Message: good.Message.replace('ALARM', 'OK') }, 403, 'signature-invalid'],
    ['wrong key', signSns(good, selfSignedCertificate().privateKey, { certUrl: CERT_URL }), 403, 'signature-invalid'],
    [
      'foreign cert host',
      { ...good, SigningCertURL: 'https://sns.us-east-1.amazonaws.com.evil.test/c.pem' },
      403,
      'cert-url',
    ],
    ['http cert URL', { ...good, SigningCertURL: CERT_URL.replace('https', 'http') }, 403, 'cert-url'],
    ['unknown topic', { ...good, TopicArn: 'arn:aws:sns:eu-west-1:999999999999:ops-alarms' }, 403, 'topic-not-allowed'],
  ];
  for (const [what, body, status, reason] of cases) {
    const res = await postSns(api, body);
    expect({ what, status: res.statusCode, reason: res.json().error?.details?.reason }).toEqual({
      what,
      status,
      reason,
    });
  }
  const truncated = await postSns(api, JSON.stringify(good).slice(0, 200));
  expect(truncated.statusCode).toBe(400);
  expect(truncated.json().error.code).toBe('ALERT_MALFORMED');
  const notJson = await postSns(api, 'hello');
  expect(notJson.statusCode).toBe(400);
  const wrongType = await postEventBridge(api, {
    ...fixture('eventbridge-guardduty-finding.json'),
    'detail-type': 'EC2 Instance State-change Notification',
  });
  expect(wrongType.statusCode).toBe(422);
  const tooBig = await postSns(api, 'x'.repeat(600 * 1024));
  expect(tooBig.statusCode).toBe(413);
  // Every refusal is recorded: counted by endpoint, status and reason.
  const metrics = (await api.inject({ method: 'GET', url: '/metrics' })).body;
  const count = (labels: string) =>
    Number(new RegExp(`^firebreak_alerts_refused_total\\{${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
  expect(count('endpoint="/v1/alerts/sns",status="403",reason="signature-invalid"')).toBe(2);
  expect(count('endpoint="/v1/alerts/sns",status="403",reason="cert-url"')).toBe(2);
  expect(count('endpoint="/v1/alerts/sns",status="403",reason="topic-not-allowed"')).toBe(1);
  expect(count('endpoint="/v1/alerts/sns",status="400",reason="ALERT_MALFORMED"')).toBe(2);
  expect(count('endpoint="/v1/alerts/eventbridge",status="422",reason="detail-type"')).toBe(1);
  expect(count('endpoint="/v1/alerts/sns",status="413",reason="FST_ERR_CTP_BODY_TOO_LARGE"')).toBe(1);
  expect(metrics).not.toMatch(/^firebreak_alerts_accepted_total\{/m);
  // Nothing started: the incident this alarm would have opened does not exist (describe is strongly consistent).
  const wouldBe = `incident-${fingerprint(fromSnsNotification(parseSnsBody(good) as SnsNotification))}`;
  await expect(temporal.client.workflow.getHandle(wouldBe).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  // A valid SubscriptionConfirmation from an allowed topic is confirmed.
  const confirmations: string[] = [];
  const confirming = await app('x', {
    alerts: {
      snsTopics: ['arn:aws:sns:*:111122223333:ops-*'],
      verifier: new SnsSignatureVerifier({ fetchCertificate: async () => cert.certPem }),
      confirmSubscription: async (topicArn, token) => void confirmations.push(`${topicArn} ${token}`),
    },
  });
  const confirmation = signSns(
    { ...fixture('sns-subscription-confirmation.json'), Timestamp: new Date().toISOString() },
    cert.privateKey,
    { certUrl: CERT_URL },
  );
  const confirmed = await postSns(confirming, confirmation);
  expect(confirmed.statusCode).toBe(200);
  expect(confirmed.json()).toEqual({
    type: 'SubscriptionConfirmation',
    topicArn: confirmation.TopicArn,
    confirmed: true,
  });
  expect(confirmations).toEqual([`${confirmation.TopicArn} ${confirmation.Token}`]);
  await Promise.all([api.close(), confirming.close()]);
});

test('Temporal stopped: 503 so SNS redelivers; after a restart the redelivery starts exactly one execution', async () => {
  const port = await freePort();
  const dbFile = `${process.env.FIREBREAK_TEST_DATA ?? '.data/test'}/${unique('restart')}.db`;
  let server = await startTemporal({ port, dbFile });
  const address = `127.0.0.1:${port}`;
  const connection = Connection.lazy({ address, connectTimeout: 1_000 });
  const client = new Client({ connection });
  const taskQueue = unique('restart-tq');
  const api = await app(taskQueue, {}, client);
  const body = alarmNotification({ alarm: unique('cache-egress-spike'), instanceId: env.instances[0].instanceId });
  try {
    await server.stop();
    const down = await postSns(api, body);
    expect(down.statusCode).toBe(503);
    expect(down.json().error.code).toBe('UNAVAILABLE');

    server = await startTemporal({ port, dbFile });
    const native = await NativeConnection.connect({ address });
    const worker = await createWorker({
      config: { temporalAddress: address, temporalNamespace: 'default', taskQueue, awsRegion: 'us-east-1' },
      connection: native,
      workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
      clients: aws.clients,
    });
    await worker.runUntil(async () => {
      let up = await postSns(api, body);
      let retried = 0;
      for (; up.statusCode === 503 && retried < 40; retried++) {
        await new Promise((r) => setTimeout(r, 250)); // the client reconnects
        up = await postSns(api, body);
      }
      expect(up.statusCode).toBe(202);
      expect(up.json().outcome).toBe('accepted');
      // A 503 while the server warms up can come after Temporal durably took the signal (the answer timed out, not
      // the signal): that redelivery then counts as a duplicate. Either way exactly one incident and one run (below).
      const before = await incident(api, up.json().incidentId, (b) => b.alertCount === 1);
      const redelivered = await postSns(api, body);
      expect(redelivered.json()).toMatchObject({ incidentId: up.json().incidentId, outcome: 'accepted' });
      const state = await incident(
        api,
        up.json().incidentId,
        (b) => b.automation.status === 'waiting-approval' && b.duplicateCount >= before.duplicateCount + 1,
      );
      expect(state).toMatchObject({ alertCount: 1, refiredCount: 0, lastDelivery: { outcome: 'duplicate' } });
      const runs = await client.workflow.count(`WorkflowType = 'runbookWorkflow'`);
      expect(runs.count).toBe(1);
      await client.workflow.getHandle(state.automation.executionId).terminate('test done');
    });
    await native.close();
  } finally {
    await api.close();
    await connection.close();
    await server.stop();
  }
});

test('a verification step waits for the alert to go back to OK; the incident tells the runbook', async () => {
  // A runbook that mitigates, then verifies through the alert itself before declaring success.
  const verify = defineRunbook({
    id: 'mitigate-and-verify',
    version: '1.0.0',
    title: 'Mitigate, then wait for the alert to clear',
    description: 'test runbook',
    incidentType: 'latency',
    severity: 'SEV3',
    params: Type.Object({ instanceId: Type.String() }),
    resource: { type: 'ec2:instance', param: 'instanceId' },
    triggers: [{ sources: ['generic'], alarmNames: ['verify-*'], params: { instanceId: expr('alert.resource.id') } }],
    steps: [
      {
        id: 'mitigate',
        kind: 'action',
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { mitigated: 'yes' } },
      },
      {
        id: 'verify-clear',
        kind: 'wait',
        title: 'Alert back to OK',
        until: "incident.alertState = 'resolved'",
        timeout: '2m',
        onTimeout: 'fail',
      },
      {
        id: 'mark-verified',
        kind: 'action',
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { verified: expr('incident.resolvedAt') } },
      },
    ],
  });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue, { registry: new RunbookRegistry([verify, ec2Compromise]) });
    const instanceId = env.instances[0].instanceId;
    const name = unique('verify-latency');
    const post = (id: string, state: 'firing' | 'resolved') =>
      api.inject({
        method: 'POST',
        url: '/v1/alerts',
        headers: { 'x-firebreak-secret': SECRET },
        payload: { id, name, state, resource: { type: 'ec2:instance', id: instanceId } },
      });
    const opened = await post(unique('d'), 'firing');
    expect(opened.statusCode).toBe(202);
    const [ack] = opened.json().results;
    expect(ack).toMatchObject({ outcome: 'accepted' });
    ack.automation = (await handled(api, ack, 'opened')).automation;
    expect(ack.automation).toMatchObject({ runbookId: 'mitigate-and-verify' });
    const execUrl = `/v1/executions/${ack.automation.executionId}`;
    const deadline = Date.now() + 30_000;
    let exec = (await api.inject({ method: 'GET', url: execUrl })).json();
    while (exec.steps?.[1]?.status !== 'waiting' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      exec = (await api.inject({ method: 'GET', url: execUrl })).json();
    }
    expect(exec.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'waiting', 'pending']);

    const cleared = await post(unique('d'), 'resolved');
    expect(cleared.json().results[0]).toMatchObject({ incidentId: ack.incidentId, outcome: 'accepted' });
    const closed = await incident(api, ack.incidentId, (b) => b.status === 'closed');
    expect(closed.automation.status).toBe('succeeded');
    const done = (await api.inject({ method: 'GET', url: execUrl })).json();
    expect(done.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const described = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const tags = Object.fromEntries((described.Reservations![0].Instances![0].Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ mitigated: 'yes', verified: closed.resolvedAt });
    // Both closed workflows replay against today's code from their histories alone.
    for (const id of [ack.incidentId, ack.automation.executionId]) {
      const history = await temporal.client.workflow.getHandle(id).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } }, history, id);
    }
    await api.close();
  });
});

test('lists page with tokens; an Alertmanager group and an EventBridge alarm event are ingested too', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const group = unique('grp');
    const alertmanager = {
      version: '4',
      groupKey: group,
      status: 'firing',
      receiver: 'firebreak',
      groupLabels: { alertname: group },
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://alertmanager:9093',
      alerts: [1, 2, 3].map((n) => ({
        status: 'firing',
        labels: { alertname: group, severity: 'warning', resource_type: 'service', resource_id: `svc-${n}` },
        annotations: { summary: `replica ${n} slow` },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: `${group}-${n}`,
      })),
    };
    const res = await api.inject({
      method: 'POST',
      url: '/v1/alerts',
      headers: { 'x-firebreak-secret': SECRET },
      payload: alertmanager,
    });
    expect(res.statusCode).toBe(202);
    const results = res.json().results;
    expect(results.map((r: { outcome: string }) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(new Set(results.map((r: { incidentId: string }) => r.incidentId)).size).toBe(3);
    for (const r of results) expect(await handled(api, r, 'opened')).toMatchObject({ severity: 'SEV3' });

    const alarm = fixture('eventbridge-cloudwatch-alarm-state-change.json');
    alarm.id = randomUUID();
    alarm.detail.alarmName = unique('api-5xx-rate');
    const eb = await postEventBridge(api, alarm);
    expect(eb.statusCode).toBe(202);
    expect(eb.json()).toMatchObject({ outcome: 'accepted' });
    expect(await handled(api, eb.json(), 'opened')).toMatchObject({
      automation: { reason: 'no runbook trigger matches this alert' },
    });

    // Page through the three Alertmanager incidents, two at a time (visibility is eventually consistent).
    const ids = new Set(results.map((r: { incidentId: string }) => r.incidentId));
    const seen: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      seen.length = 0;
      let token: string | undefined;
      let pages = 0;
      do {
        const page = (
          await api.inject({
            method: 'GET',
            url: `/v1/incidents?status=triaged&pageSize=2${token ? `&pageToken=${token}` : ''}`,
          })
        ).json();
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((i: { id: string }) => i.id));
        token = page.nextPageToken;
        pages++;
      } while (token && pages < 50);
      if ([...ids].every((id) => seen.includes(id as string))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(seen).toEqual(expect.arrayContaining([...ids]));
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of [...ids, eb.json().incidentId])
      await temporal.client.workflow.getHandle(id as string).terminate('test done');
    await api.close();
  });
});
