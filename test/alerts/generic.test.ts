/**
 * Webhook formats (generic, Alertmanager) and the EventBridge / SNS dispatchers.
 */
import {
  AlertParseError,
  GenericAlertSchema,
  UnsupportedAlertError,
  alertmanagerResource,
  detectWebhookFormat,
  fingerprint,
  fromAlertmanager,
  fromEventBridge,
  fromGenericAlert,
  fromSnsNotification,
  fromWebhook,
  parseSnsBody,
  type SnsNotification,
} from '../../alerts';
import { caught, fixture, snsWithMessage } from './helpers';

describe('fromGenericAlert', () => {
  const full = {
    id: 'delivery-42',
    name: 'checkout-latency',
    title: 'Checkout p99 above 2 s',
    description: 'p99 latency of /checkout',
    state: 'firing',
    severity: 'SEV2',
    account: '111122223333',
    region: 'eu-west-1',
    resource: { type: 'ec2:instance', id: 'i-0a1b2c3d4e5f60718' },
    labels: { team: 'payments', env: 'prod' },
    occurredAt: '2026-11-27T10:00:00+01:00',
  };

  it('maps every field', () => {
    expect(fromGenericAlert(JSON.stringify(full))).toEqual({
      source: 'generic',
      via: 'webhook',
      deliveryId: 'delivery-42',
      name: 'checkout-latency',
      title: 'Checkout p99 above 2 s',
      description: 'p99 latency of /checkout',
      state: 'firing',
      severity: 'SEV2',
      account: '111122223333',
      region: 'eu-west-1',
      resource: { type: 'ec2:instance', id: 'i-0a1b2c3d4e5f60718' },
      labels: { team: 'payments', env: 'prod' },
      occurredAt: '2026-11-27T09:00:00.000Z',
      raw: full,
    });
  });

  it('applies the defaults of a minimal alert', () => {
    const receivedAt = new Date('2026-11-27T12:34:56.789Z');
    expect(fromGenericAlert({ id: 'd1', name: 'disk-full' }, { receivedAt })).toEqual({
      source: 'generic',
      via: 'webhook',
      deliveryId: 'd1',
      name: 'disk-full',
      title: 'disk-full',
      state: 'firing',
      labels: {},
      occurredAt: '2026-11-27T12:34:56.789Z',
      raw: { id: 'd1', name: 'disk-full' },
    });
    expect(fromGenericAlert({ id: 'd2', name: 'disk-full', state: 'resolved' }).state).toBe('resolved');
  });

  it('lists every wrong, missing or unknown field', () => {
    const err = caught(() =>
      fromGenericAlert({
        name: '',
        state: 'open',
        severity: 'P1',
        account: '12345',
        region: 'Ireland',
        resource: { type: 'ec2:instance' },
        labels: { n: 5 },
        occurredAt: 'yesterday',
        extra: true,
      }),
    ) as AlertParseError;
    expect(err).toBeInstanceOf(AlertParseError);
    expect(err.code).toBe('ALERT_MALFORMED');
    expect(err.details).toEqual(
      expect.arrayContaining([
        { path: '/id', message: 'is required' },
        { path: '/name', message: 'must NOT have fewer than 1 characters' },
        { path: '/state', message: 'must be one of: firing, resolved' },
        { path: '/severity', message: 'must be one of: SEV1, SEV2, SEV3, SEV4' },
        { path: '/account', message: expect.stringMatching(/must match pattern/) },
        { path: '/region', message: expect.stringMatching(/must match pattern/) },
        { path: '/resource/id', message: 'is required' },
        { path: '/labels/n', message: 'must be string' },
        { path: '/occurredAt', message: 'must match format "date-time"' },
        { path: '/extra', message: 'is not an allowed property' },
      ]),
    );
  });

  it('exports a schema usable in OpenAPI (plain JSON schema, documented)', () => {
    const schema = JSON.parse(JSON.stringify(GenericAlertSchema));
    expect(schema).toMatchObject({
      type: 'object',
      title: 'GenericAlert',
      required: ['id', 'name'],
      additionalProperties: false,
    });
    expect(schema.properties.state).toEqual(
      expect.objectContaining({ enum: ['firing', 'resolved'], default: 'firing' }),
    );
    expect(schema.properties.id.description).toMatch(/redelivery/);
  });
});

describe('fromAlertmanager', () => {
  const payload = () => ({
    version: '4',
    groupKey: '{}:{alertname="HighCPU"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'firebreak',
    groupLabels: { alertname: 'HighCPU' },
    commonLabels: { alertname: 'HighCPU', job: 'node' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: {
          alertname: 'HighCPU',
          job: 'node',
          severity: 'critical',
          instance_id: 'i-0a1b2c3d4e5f60718',
          instance: '10.0.1.23:9100',
          aws_account_id: '111122223333',
          region: 'eu-west-1',
        },
        annotations: { summary: 'CPU above 95% on web-1', description: 'for 10 minutes' },
        startsAt: '2026-11-27T09:00:00.123456789Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph?g0.expr=...',
        fingerprint: 'a1b2c3d4e5f60718',
      },
      {
        status: 'resolved',
        labels: { alertname: 'HighCPU', job: 'node', severity: 'warning', instance: 'db-1:9100' },
        annotations: {},
        startsAt: '2026-11-27T08:00:00Z',
        endsAt: '2026-11-27T08:30:00Z',
        fingerprint: 'ffff0000ffff0000',
      },
    ],
  });

  it('gives one alert per alert of the group', () => {
    const p = payload();
    const [a, b] = fromAlertmanager(JSON.stringify(p));
    expect(a).toEqual({
      source: 'alertmanager',
      via: 'webhook',
      deliveryId: 'a1b2c3d4e5f60718:2026-11-27T09:00:00.123456789Z:firing',
      name: 'HighCPU',
      title: 'CPU above 95% on web-1',
      description: 'for 10 minutes',
      state: 'firing',
      severity: 'SEV1',
      account: '111122223333',
      region: 'eu-west-1',
      resource: { type: 'ec2:instance', id: 'i-0a1b2c3d4e5f60718' },
      labels: p.alerts[0].labels,
      occurredAt: '2026-11-27T09:00:00.123Z',
      raw: { alert: p.alerts[0], group: expect.objectContaining({ receiver: 'firebreak', groupKey: p.groupKey }) },
    });
    expect((a.raw as any).group).not.toHaveProperty('alerts');
    expect(b).toMatchObject({
      state: 'resolved',
      severity: 'SEV3',
      title: 'HighCPU',
      resource: { type: 'prometheus:instance', id: 'db-1:9100' },
      deliveryId: 'ffff0000ffff0000:2026-11-27T08:00:00Z:resolved',
      occurredAt: '2026-11-27T08:30:00.000Z',
    });
    expect(b).not.toHaveProperty('account');
    expect(b).not.toHaveProperty('description');
  });

  it('gives a repeat notification the same deliveryId and its resolve the same fingerprint', () => {
    const [first] = fromAlertmanager(payload());
    const [repeat] = fromAlertmanager(payload());
    expect(repeat.deliveryId).toBe(first.deliveryId);
    const resolved = payload();
    resolved.alerts[0].status = 'resolved';
    resolved.alerts[0].endsAt = '2026-11-27T09:20:00Z';
    const [end] = fromAlertmanager(resolved);
    expect(end.state).toBe('resolved');
    expect(end.occurredAt).toBe('2026-11-27T09:20:00.000Z');
    expect(end.deliveryId).not.toBe(first.deliveryId);
    expect(fingerprint(end)).toBe(fingerprint(first));
  });

  it.each([
    ['critical', 'SEV1'],
    ['high', 'SEV2'],
    ['error', 'SEV2'],
    ['page', 'SEV2'],
    ['warning', 'SEV3'],
    ['info', 'SEV4'],
    ['low', 'SEV4'],
    ['CRITICAL', 'SEV1'],
    ['sev2', 'SEV2'],
  ])('maps severity label %s to %s', (label, severity) => {
    const p = payload();
    p.alerts[0].labels.severity = label;
    expect(fromAlertmanager(p)[0].severity).toBe(severity);
  });

  it('leaves an unknown or absent severity to triage', () => {
    const p = payload();
    p.alerts[0].labels.severity = 'meh';
    delete (p.alerts[1].labels as Record<string, string>).severity;
    const [a, b] = fromAlertmanager(p);
    expect(a).not.toHaveProperty('severity');
    expect(b).not.toHaveProperty('severity');
  });

  it('picks the resource from resource_type+resource_id, instance_id, then instance', () => {
    expect(
      alertmanagerResource({ resource_type: 'rds:instance', resource_id: 'orders', instance_id: 'i-0a1b2c3d' }),
    ).toEqual({
      type: 'rds:instance',
      id: 'orders',
    });
    expect(alertmanagerResource({ resource_type: 'rds:instance', instance_id: 'i-0a1b2c3d' })).toEqual({
      type: 'ec2:instance',
      id: 'i-0a1b2c3d',
    });
    expect(alertmanagerResource({ instance: 'i-0123456789abcdef0' })).toEqual({
      type: 'ec2:instance',
      id: 'i-0123456789abcdef0',
    });
    expect(alertmanagerResource({ instance: 'web-1:9100' })).toEqual({ type: 'prometheus:instance', id: 'web-1:9100' });
    expect(alertmanagerResource({ job: 'x' })).toBeUndefined();
  });

  it('computes a fingerprint from the labels when Alertmanager sends none, independent of label order', () => {
    const p = payload();
    delete (p.alerts[0] as { fingerprint?: string }).fingerprint;
    const reordered = payload();
    delete (reordered.alerts[0] as { fingerprint?: string }).fingerprint;
    reordered.alerts[0].labels = Object.fromEntries(
      Object.entries(p.alerts[0].labels).reverse(),
    ) as (typeof p.alerts)[0]['labels'];
    const a = fromAlertmanager(p)[0].deliveryId;
    expect(a).toMatch(/^[0-9a-f]{16}:2026-11-27T09:00:00.123456789Z:firing$/);
    expect(fromAlertmanager(reordered)[0].deliveryId).toBe(a);
  });

  it('lists what is wrong: version, alerts without alertname, bad times', () => {
    const p: any = payload();
    p.version = '3';
    expect((caught(() => fromAlertmanager(p)) as AlertParseError).details).toEqual([
      { path: '/version', message: 'must be one of: 4' },
    ]);
    const q: any = payload();
    delete q.alerts[0].labels.alertname;
    q.alerts[1].startsAt = 'soon';
    q.alerts[1].status = 'firing';
    expect((caught(() => fromAlertmanager(q)) as AlertParseError).details).toEqual([
      { path: '/alerts/0/labels/alertname', message: 'is required' },
      { path: '/alerts/1/startsAt', message: 'is not a timestamp' },
    ]);
    const r: any = payload();
    r.alerts[0].status = 'pending';
    r.alerts[1].labels = null;
    expect((caught(() => fromAlertmanager(r)) as AlertParseError).details).toEqual(
      expect.arrayContaining([
        { path: '/alerts/0/status', message: 'must be one of: firing, resolved' },
        { path: '/alerts/1/labels', message: 'must be object' },
      ]),
    );
  });
});

describe('detectWebhookFormat and fromWebhook', () => {
  it('tells Alertmanager from generic', () => {
    expect(detectWebhookFormat({ version: '4', alerts: [] })).toBe('alertmanager');
    expect(detectWebhookFormat('{"version":"4","alerts":[]}')).toBe('alertmanager');
    expect(detectWebhookFormat({ version: '5', alerts: [] })).toBe('alertmanager');
    expect(detectWebhookFormat({ id: 'x', name: 'y' })).toBe('generic');
    expect(detectWebhookFormat({ alerts: [] })).toBe('generic');
    expect(detectWebhookFormat({ version: '4', alerts: 'no' })).toBe('generic');
    expect(detectWebhookFormat('not json')).toBe('generic');
    expect(detectWebhookFormat([1])).toBe('generic');
  });

  it('parses either format into a list of alerts', () => {
    expect(fromWebhook({ id: 'x', name: 'y' }).map((a) => a.source)).toEqual(['generic']);
    const am = {
      version: '4',
      alerts: [{ status: 'firing', labels: { alertname: 'A' }, startsAt: '2026-11-27T09:00:00Z' }],
    };
    expect(fromWebhook(am).map((a) => [a.source, a.name])).toEqual([['alertmanager', 'A']]);
    expect(fromWebhook({ version: '4', alerts: [] })).toEqual([]);
    expect(caught(() => fromWebhook('{"id":'))).toBeInstanceOf(AlertParseError);
  });
});

describe('fromEventBridge', () => {
  it('dispatches the CloudWatch and GuardDuty fixtures', () => {
    const cw = fromEventBridge(fixture('eventbridge-cloudwatch-alarm-state-change.json'));
    expect(cw).toMatchObject({ source: 'cloudwatch', via: 'eventbridge', name: 'api-5xx-rate' });
    const gd = fromEventBridge(JSON.stringify(fixture('eventbridge-guardduty-finding.json')));
    expect(gd).toMatchObject({ source: 'guardduty', via: 'eventbridge', name: 'CryptoCurrency:EC2/BitcoinTool.B!DNS' });
  });

  it('refuses an unsupported detail-type, naming it', () => {
    const event = {
      ...fixture('eventbridge-guardduty-finding.json'),
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
    };
    const err = caught(() => fromEventBridge(event)) as UnsupportedAlertError;
    expect(err).toBeInstanceOf(UnsupportedAlertError);
    expect(err.message).toContain('"EC2 Instance State-change Notification"');
    expect(err).toMatchObject({
      code: 'ALERT_UNSUPPORTED',
      statusCode: 422,
      reason: 'detail-type',
      details: { detailType: 'EC2 Instance State-change Notification', source: 'aws.ec2' },
    });
  });

  it('checks the envelope before dispatching', () => {
    const { account: _a, time: _t, ...event } = fixture('eventbridge-guardduty-finding.json');
    const err = caught(() => fromEventBridge({ ...event, detail: 'x', version: 0 })) as AlertParseError;
    expect(err).toBeInstanceOf(AlertParseError);
    expect(err.details).toHaveLength(4);
    expect(err.details).toEqual(
      expect.arrayContaining([
        { path: '/version', message: 'must be string' },
        { path: '/account', message: 'is required' },
        { path: '/time', message: 'is required' },
        { path: '/detail', message: 'must be object' },
      ]),
    );
    expect((caught(() => fromEventBridge([])) as AlertParseError).details).toEqual([
      { path: '/', message: 'must be a JSON object, not an array' },
    ]);
  });
});

describe('fromSnsNotification', () => {
  const notification = (message: unknown) => parseSnsBody(snsWithMessage(message), 'Notification') as SnsNotification;

  it('takes a CloudWatch alarm message', () => {
    const alert = fromSnsNotification(
      parseSnsBody(fixture('sns-notification-cloudwatch-alarm.json')) as SnsNotification,
    );
    expect(alert).toMatchObject({
      source: 'cloudwatch',
      via: 'sns',
      deliveryId: '6f0d3e8c-51a2-5b7e-9d3c-1a2b3c4d5e6f',
    });
  });

  it('takes an EventBridge event that a rule published to SNS, keyed by the SNS MessageId', () => {
    const event = fixture('eventbridge-guardduty-finding.json');
    const alert = fromSnsNotification(notification(event));
    expect(alert).toMatchObject({
      source: 'guardduty',
      via: 'sns',
      deliveryId: '6f0d3e8c-51a2-5b7e-9d3c-1a2b3c4d5e6f',
      severity: 'SEV2',
    });
    expect((alert.raw as any).message).toEqual(event);
    expect(fingerprint(alert)).toBe(fingerprint(fromEventBridge(event)));
    const cw = fromSnsNotification(notification(fixture('eventbridge-cloudwatch-alarm-state-change.json')));
    expect(cw).toMatchObject({ source: 'cloudwatch', via: 'sns', name: 'api-5xx-rate' });
  });

  it('refuses other payloads as unsupported', () => {
    const other = { ...fixture('eventbridge-guardduty-finding.json'), 'detail-type': 'AWS Health Event' };
    expect(caught(() => fromSnsNotification(notification(other)))).toMatchObject({ reason: 'detail-type' });
    expect(caught(() => fromSnsNotification(notification('plain text')))).toMatchObject({ reason: 'not-an-alarm' });
  });
});
