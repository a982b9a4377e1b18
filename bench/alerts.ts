/**
 * Alerts the benches send, built from the test fixtures: CloudWatch alarm notifications over SNS (signed with the
 * bench's key, as test/api/alerts.test.ts signs them) and GuardDuty findings over EventBridge; each names its own
 * instance, so each opens its own incident and the fake AWS can tell its calls apart.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fixture, signSns, type TestCertificate } from '../test/alerts/helpers';
import { BENCH_ACCOUNT, BENCH_REGION, BENCH_SECRET } from './bench';

export const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bench.pem';

export const newInstanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

export interface Delivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A signed SNS notification of a CloudWatch alarm in ALARM on one instance. */
export function snsAlarm(cert: TestCertificate, opts: { alarm: string; instanceId: string }): Delivery {
  const base = fixture('sns-notification-cloudwatch-alarm.json');
  const message = JSON.parse(base.Message);
  message.AlarmName = opts.alarm;
  message.AlarmArn = `arn:aws:cloudwatch:${BENCH_REGION}:${BENCH_ACCOUNT}:alarm:${opts.alarm}`;
  message.NewStateValue = 'ALARM';
  message.OldStateValue = 'OK';
  message.Trigger.Dimensions = [{ name: 'InstanceId', value: opts.instanceId }];
  const signed = signSns(
    {
      ...base,
      TopicArn: `arn:aws:sns:${BENCH_REGION}:${BENCH_ACCOUNT}:bench-alarms`,
      MessageId: randomUUID(),
      Timestamp: new Date().toISOString(),
      Subject: `ALARM: "${opts.alarm}" in US East (N. Virginia)`,
      Message: JSON.stringify(message),
    },
    cert.privateKey,
    { certUrl: CERT_URL, version: '2' },
  );
  return {
    url: '/v1/alerts/sns',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
    body: JSON.stringify(signed),
  };
}

/** A GuardDuty finding (the instance as actor) through an EventBridge API destination. */
export function eventBridgeFinding(opts: { instanceId: string }): Delivery {
  const event = fixture('eventbridge-guardduty-finding.json');
  const findingId = randomBytes(16).toString('hex');
  event.id = randomUUID();
  event.time = new Date().toISOString();
  // The benches' region (the SNS alarms' too): with --aws moto the instances exist there only.
  event.region = event.detail.region = BENCH_REGION;
  event.detail.id = findingId;
  event.detail.arn = event.detail.arn.replace(/finding\/.*/, `finding/${findingId}`);
  event.detail.resource.instanceDetails.instanceId = opts.instanceId;
  event.detail.title = `EC2 instance ${opts.instanceId} is querying a domain name associated with Bitcoin activity.`;
  return {
    url: '/v1/alerts/eventbridge',
    headers: { 'content-type': 'application/json', 'x-firebreak-secret': BENCH_SECRET },
    body: JSON.stringify(event),
  };
}

export interface Posted {
  status: number;
  body: any;
  /** When the request was sent and answered (the fake AWS clock: fake-aws.ts now()). */
  sentAt: number;
  answeredAt: number;
}

export async function post(apiUrl: string, d: Delivery, clock: () => number): Promise<Posted> {
  const sentAt = clock();
  const res = await fetch(apiUrl + d.url, { method: 'POST', headers: d.headers, body: d.body });
  const text = await res.text();
  const answeredAt = clock();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the report
  }
  return { status: res.status, body, sentAt, answeredAt };
}
