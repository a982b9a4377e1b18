/**
 * Fingerprints (the documented recipe, what changes them and what does not) and severity triage.
 */
import { createHash } from 'node:crypto';
import {
  LABEL_SEVERITIES,
  SEVERITY_MARKER,
  fingerprint,
  fromCloudWatchSnsMessage,
  fromGenericAlert,
  parseSnsBody,
  severityFromMarker,
  triageSeverity,
  type NormalisedAlert,
  type SnsNotification,
} from '../../alerts';
import { fixture, snsWithMessage } from './helpers';

const base: NormalisedAlert = {
  source: 'cloudwatch',
  via: 'sns',
  deliveryId: 'd-1',
  name: 'web-egress-spike',
  title: 'ALARM',
  state: 'firing',
  account: '111122223333',
  region: 'eu-west-1',
  resource: { type: 'ec2:instance', id: 'i-0a1b2c3d4e5f60718' },
  labels: {},
  occurredAt: '2026-11-27T09:00:12.555Z',
  raw: {},
};

describe('fingerprint', () => {
  it('follows the documented recipe exactly', () => {
    const json = JSON.stringify([
      'fp1',
      'cloudwatch',
      '111122223333',
      'eu-west-1',
      'web-egress-spike',
      'ec2:instance',
      'i-0a1b2c3d4e5f60718',
    ]);
    const expected = `fp-${createHash('sha256').update(json, 'utf8').digest('hex').slice(0, 32)}`;
    expect(fingerprint(base)).toBe(expected);
    expect(fingerprint(base)).toMatch(/^fp-[0-9a-f]{32}$/);
  });

  it('ignores state, transport, deliveryId, times, texts, severity, labels, metric and raw', () => {
    const other: NormalisedAlert = {
      ...base,
      via: 'eventbridge',
      deliveryId: 'd-2',
      state: 'resolved',
      title: 'OK',
      description: 'changed',
      severity: 'SEV1',
      labels: { a: 'b' },
      metric: { namespace: 'AWS/EC2', name: 'NetworkOut' },
      occurredAt: '2030-01-01T00:00:00.000Z',
      raw: { anything: true },
    };
    expect(fingerprint(other)).toBe(fingerprint(base));
  });

  it.each([
    ['source', { source: 'generic' }],
    ['account', { account: '444455556666' }],
    ['region', { region: 'us-east-1' }],
    ['name', { name: 'web-egress-spike-2' }],
    ['name case', { name: 'Web-Egress-Spike' }],
    ['resource type', { resource: { type: 'ec2:volume', id: 'i-0a1b2c3d4e5f60718' } }],
    ['resource id', { resource: { type: 'ec2:instance', id: 'i-ffffffffffffffff0' } }],
    ['no resource', { resource: undefined }],
  ] as [string, Partial<NormalisedAlert>][])('changes with the %s', (_what, change) => {
    expect(fingerprint({ ...base, ...change })).not.toBe(fingerprint(base));
  });

  it('keeps fields apart whatever they contain', () => {
    const a = fingerprint({ ...base, account: '1', region: '2' });
    const b = fingerprint({ ...base, account: '12', region: '' });
    const c = fingerprint({ ...base, name: 'a","b' });
    const d = fingerprint({ ...base, name: 'a', resource: { type: 'b', id: base.resource!.id } });
    expect(new Set([a, b, c, d, fingerprint(base)]).size).toBe(5);
  });

  it('treats an absent account or region as the empty string', () => {
    const { account: _a, region: _r, ...rest } = base;
    expect(fingerprint(rest as NormalisedAlert)).toBe(fingerprint({ ...base, account: '', region: '' }));
  });
});

describe('triageSeverity', () => {
  const alarmWith = (description: string | null) =>
    fromCloudWatchSnsMessage(
      parseSnsBody(
        snsWithMessage({
          ...JSON.parse(fixture('sns-notification-cloudwatch-alarm.json').Message),
          AlarmDescription: description,
        }),
      ) as SnsNotification,
    );

  it('falls back to the given severity when nothing says otherwise (the fixture alarm)', () => {
    expect(triageSeverity(alarmWith('Outbound traffic far above baseline'), 'SEV2')).toEqual({
      severity: 'SEV2',
      reason: 'the alert states no severity: default SEV2',
    });
    expect(triageSeverity(alarmWith(null), 'SEV4').severity).toBe('SEV4');
  });

  it.each([
    ['Outbound traffic [SEV1] far above baseline', 'SEV1'],
    ['[ sev 2 ] egress', 'SEV2'],
    ['severity:SEV1 egress', 'SEV1'],
    ['egress; Severity: sev2', 'SEV2'],
    ['severity=sev3', 'SEV3'],
    ['SEVERITY = 4', 'SEV4'],
    ['[SEV3] then severity:SEV1', 'SEV3'],
  ])('reads the marker in %j', (description, severity) => {
    expect(triageSeverity(alarmWith(description), 'SEV4')).toEqual({
      severity,
      reason: 'severity marker in the alarm description',
    });
  });

  it.each(['SEV1 in prose is not a marker', 'severity:SEV5', 'preseverity=1', 'severity high', '[SEV]'])(
    'does not read %j as a marker',
    (description) => {
      expect(severityFromMarker(description)).toBeUndefined();
      expect(triageSeverity(alarmWith(description), 'SEV3').severity).toBe('SEV3');
    },
  );

  it('lets a stated severity win over markers, and a severity tag win over the description', () => {
    const alarm = alarmWith('[SEV4]');
    expect(triageSeverity({ ...alarm, severity: 'SEV1' }, 'SEV3')).toEqual({
      severity: 'SEV1',
      reason: 'stated by the cloudwatch payload',
    });
    expect(triageSeverity({ ...alarm, labels: { ...alarm.labels, 'tag:severity': 'critical' } }, 'SEV3')).toEqual({
      severity: 'SEV1',
      reason: 'alarm tag severity=critical',
    });
  });

  it('reads markers in CloudWatch alarms only', () => {
    const generic = fromGenericAlert({ id: 'x', name: 'y', description: '[SEV1]' });
    expect(triageSeverity(generic, 'SEV3')).toEqual({
      severity: 'SEV3',
      reason: 'the alert states no severity: default SEV3',
    });
    expect(triageSeverity(fromGenericAlert({ id: 'x', name: 'y', severity: 'SEV2' }), 'SEV4')).toEqual({
      severity: 'SEV2',
      reason: 'stated by the generic payload',
    });
  });

  it('exports its tables', () => {
    expect(LABEL_SEVERITIES).toEqual({
      critical: 'SEV1',
      high: 'SEV2',
      error: 'SEV2',
      page: 'SEV2',
      warning: 'SEV3',
      info: 'SEV4',
      low: 'SEV4',
    });
    expect(SEVERITY_MARKER.test('[SEV2]')).toBe(true);
  });
});
