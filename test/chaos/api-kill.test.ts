/**
 * Chaos 3: the API (api/server.ts, a process of its own) is killed with `kill -9` twice during a burst of CloudWatch
 * alarm notifications delivered as SNS delivers them: each one retried until the API answers 2xx. Afterwards every
 * fingerprint has exactly one incident and every alert is on it (the incident's alertCount is the number of distinct
 * messages sent for that alarm: none lost, none counted twice). Written against the HTTP API only, so it holds
 * whatever way the API hands alerts to the incident workflows.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../scripts/stack';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, uniqueId, withWorker, type TestTemporal } from '../stack/temporal';
import { FULL, pause, recordRow, size, Tally } from './chaos';
import { killAll, startApiProcess, type Child } from './processes';

const ALERTS = size(100, 1000);
const FINGERPRINTS = FULL ? 50 : 10;
const KILLS = 2;
/** Deliveries in flight at once, as a busy topic would have them. */
const CONCURRENCY = 20;

let aws: TestAws;
let temporal: TestTemporal;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  killAll();
  await temporal?.close();
  aws?.close();
});

const fixture = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'alerts', 'fixtures', 'sns-notification-cloudwatch-alarm.json'), 'utf8'),
);

/** An SNS notification of `alarm` firing (no runbook routes these names: each opens an unclassified incident). */
function notification(alarm: string, instanceId: string): string {
  const message = JSON.parse(fixture.Message);
  message.AlarmName = alarm;
  message.AlarmArn = `arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${alarm}`;
  message.Trigger.Dimensions = [{ name: 'InstanceId', value: instanceId }];
  return JSON.stringify({
    ...fixture,
    MessageId: randomUUID(),
    Timestamp: new Date().toISOString(),
    Subject: `ALARM: "${alarm}" in EU (Ireland)`,
    Message: JSON.stringify(message),
  });
}

interface Delivery {
  alarm: string;
  body: string;
  attempts: number;
  ack?: { incidentId: string | null; outcome: string };
}

test(
  `kill -9 of the API ${KILLS} times during a ${ALERTS}-alert burst with SNS retries: one incident per fingerprint, every alert counted once`,
  async () => {
    const started = Date.now();
    const tally = new Tally();
    const run = uniqueId('chaos');
    const alarms = Array.from({ length: FINGERPRINTS }, (_, i) => `${run}-queue-depth-${i}`);
    const deliveries: Delivery[] = Array.from({ length: ALERTS }, (_, i) => {
      const alarm = alarms[i % FINGERPRINTS];
      const instanceId = `i-${(0x1000000 + (i % FINGERPRINTS)).toString(16).padStart(17, '0')}`;
      return { alarm, body: notification(alarm, instanceId), attempts: 0 };
    });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;

    await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
      const apiEnv = {
        FIREBREAK_TASK_QUEUE: taskQueue,
        FIREBREAK_AUTH_MODE: 'none',
        FIREBREAK_SNS_VERIFY: 'false',
        FIREBREAK_SNS_TOPICS: fixture.TopicArn,
        FIREBREAK_RATE_LIMIT_ALERTS: '1000000',
        LOG_LEVEL: 'warn',
      };
      let api: Child = await startApiProcess(port, apiEnv);
      let acked = 0;
      const deadline = Date.now() + (FULL ? 15 : 4) * 60_000;
      // SNS's way: retry each message until a 2xx (with a short back-off here, to keep the test short).
      const deliver = async (d: Delivery) => {
        while (!d.ack && Date.now() < deadline) {
          d.attempts++;
          try {
            const res = await fetch(`${base}/v1/alerts/sns`, {
              method: 'POST',
              headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
              body: d.body,
              signal: AbortSignal.timeout(30_000),
            });
            const text = await res.text();
            if (res.status >= 200 && res.status < 300) {
              d.ack = JSON.parse(text);
              acked++;
              return;
            }
          } catch {
            // Connection refused or reset while the API is down: delivered again.
          }
          await pause(Math.min(1000, 50 * 2 ** Math.min(d.attempts, 5)));
        }
      };
      const queue = [...deliveries];
      const senders = Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let d = queue.shift(); d; d = queue.shift()) await deliver(d);
        }),
      );
      for (let k = 1; k <= KILLS; k++) {
        while (acked < (ALERTS * k) / (KILLS + 1) && Date.now() < deadline) await pause(20);
        await api.kill9();
        tally.faults++;
        api = await startApiProcess(port, apiEnv);
      }
      await senders;

      const unacked = deliveries.filter((d) => !d.ack);
      for (const d of unacked) tally.lose(`${d.alarm}: never acknowledged after ${d.attempts} attempts`);
      for (const alarm of alarms) {
        const mine = deliveries.filter((d) => d.alarm === alarm && d.ack);
        const ids = new Set(mine.map((d) => d.ack!.incidentId));
        if (ids.size > 1) tally.double(`${alarm}: ${ids.size} incidents ${[...ids].join(', ')}`);
        for (const id of ids) {
          if (!id) {
            tally.lose(`${alarm}: acknowledged without an incident`);
            continue;
          }
          const res = await fetch(`${base}/v1/incidents/${id}`);
          const incident = (await res.json()) as { alertCount: number };
          const sent = deliveries.filter((d) => d.alarm === alarm).length;
          if (incident.alertCount < sent) tally.lose(`${alarm}: ${incident.alertCount} of ${sent} alerts on ${id}`);
          if (incident.alertCount > sent)
            tally.double(`${alarm}: ${incident.alertCount} alerts on ${id}, ${sent} sent`);
        }
      }
      const incidents = new Set(deliveries.map((d) => d.ack?.incidentId).filter(Boolean)) as Set<string>;
      const redelivered = deliveries.reduce((n, d) => n + d.attempts - 1, 0);
      const duplicates = deliveries.filter((d) => d.ack?.outcome === 'duplicate').length;
      await api.kill9();
      await Promise.all(
        [...incidents].map((id) =>
          temporal.client.workflow
            .getHandle(id)
            .terminate('chaos test done')
            .catch(() => undefined),
        ),
      );
      recordRow({
        scenario: 'API kill -9 during an alert burst',
        faults: tally.faults,
        runs: ALERTS,
        lost: tally.lost.length,
        doubled: tally.doubled.length,
        notes:
          `${FINGERPRINTS} fingerprints, ${incidents.size} incidents; ${redelivered} redeliveries, ` +
          `${duplicates} of them of an alert already taken (acknowledged as duplicates)`,
        seconds: Math.round((Date.now() - started) / 1000),
      });
    });
    expect(tally.lost).toEqual([]);
    expect(tally.doubled).toEqual([]);
    expect(tally.faults).toBe(KILLS);
  },
  (FULL ? 20 : 5) * 60_000,
);
