/**
 * GuardDuty findings: the fixture, resource types, archived findings, bare findings, and the severity bands.
 */
import {
  AlertParseError,
  GUARDDUTY_SEVERITY_BANDS,
  UnsupportedAlertError,
  fingerprint,
  fromGuardDutyFinding,
  guardDutyBand,
  triageSeverity,
} from '../../alerts';
import { caught, fixture } from './helpers';

const event = () => fixture('eventbridge-guardduty-finding.json');

describe('fromGuardDutyFinding', () => {
  it('maps every field of the fixture event', () => {
    const e = event();
    const alert = fromGuardDutyFinding(JSON.stringify(e));
    expect(alert).toEqual({
      source: 'guardduty',
      via: 'eventbridge',
      deliveryId: 'f3a5d6e7-0b1c-2d3e-4f50-617283940a1b',
      name: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
      findingType: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
      title: 'EC2 instance i-0a1b2c3d4e5f60718 is querying a domain name associated with Bitcoin-related activity.',
      description:
        'EC2 instance i-0a1b2c3d4e5f60718 is querying a domain name that is associated with Bitcoin-related activity.',
      state: 'firing',
      severity: 'SEV2',
      account: '111122223333',
      region: 'eu-west-1',
      resource: { type: 'ec2:instance', id: 'i-0a1b2c3d4e5f60718' },
      labels: {
        findingId: 'b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3',
        findingArn: e.detail.arn,
        findingType: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
        severity: '8',
        severityLabel: 'High',
        resourceType: 'Instance',
        detectorId: '12abc34d567e8fa901bc2d34e56789f0',
        count: '4',
      },
      occurredAt: '2026-11-27T09:03:33.000Z',
      raw: e,
    });
  });

  it.each([
    [
      'AccessKey',
      { accessKeyDetails: { accessKeyId: 'AKIAEXAMPLE', userName: 'ci' } },
      { type: 'iam:accesskey', id: 'AKIAEXAMPLE' },
    ],
    [
      'S3Bucket',
      { s3BucketDetails: [{ name: 'logs-bucket', arn: 'arn:aws:s3:::logs-bucket' }] },
      { type: 's3:bucket', id: 'logs-bucket' },
    ],
    ['EKSCluster', { eksClusterDetails: { name: 'prod-eks' } }, { type: 'eks:cluster', id: 'prod-eks' }],
    ['ECSCluster', { ecsClusterDetails: { name: 'prod-ecs' } }, { type: 'ecs:cluster', id: 'prod-ecs' }],
    ['Container', { containerDetails: { id: 'c0ffee', name: 'web' } }, { type: 'container', id: 'c0ffee' }],
    ['Lambda', { lambdaDetails: { functionName: 'resize' } }, { type: 'lambda:function', id: 'resize' }],
    [
      'RDSDBInstance',
      { rdsDbInstanceDetails: { dbInstanceIdentifier: 'orders-db' } },
      { type: 'rds:instance', id: 'orders-db' },
    ],
    // A known type whose ID is missing, and an unknown type: the finding ID stands in.
    ['Instance', {}, { type: 'ec2:instance', id: 'b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3' }],
    ['EBSVolume', { ebsVolumeDetails: {} }, { type: 'ebsvolume', id: 'b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3' }],
  ])('maps a %s resource', (resourceType, details, expected) => {
    const e = event();
    e.detail.resource = { resourceType, ...details };
    expect(fromGuardDutyFinding(e).resource).toEqual(expected);
  });

  it('resolves an archived finding, with the fingerprint of the active one', () => {
    const active = fromGuardDutyFinding(event());
    const e = event();
    e.id = 'another-event-id';
    e.detail.service.archived = true;
    const archived = fromGuardDutyFinding(e);
    expect(archived.state).toBe('resolved');
    expect(archived.deliveryId).toBe('another-event-id');
    expect(fingerprint(archived)).toBe(fingerprint(active));
  });

  it('accepts the bare finding (the event detail)', () => {
    const detail = event().detail;
    const alert = fromGuardDutyFinding(detail);
    expect(alert).toMatchObject({
      via: 'webhook',
      deliveryId: 'b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3@2026-11-27T09:03:33.000Z',
      account: '111122223333',
      region: 'eu-west-1',
      name: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
    });
    expect(fingerprint(alert)).toBe(fingerprint(fromGuardDutyFinding(event())));
    const { updatedAt: _u, createdAt: _c, ...undated } = detail;
    expect((caught(() => fromGuardDutyFinding(undated)) as AlertParseError).details).toEqual([
      { path: '/updatedAt', message: 'is required for a finding outside an EventBridge event' },
    ]);
  });

  it('lists what is wrong in a finding, and refuses other detail-types', () => {
    const e = event();
    e.detail.severity = 'HIGH';
    delete e.detail.type;
    delete e.detail.resource.resourceType;
    const err = caught(() => fromGuardDutyFinding(e)) as AlertParseError;
    expect(err).toBeInstanceOf(AlertParseError);
    expect(err.details).toEqual(
      expect.arrayContaining([
        { path: '/detail/type', message: 'is required' },
        { path: '/detail/severity', message: 'must be number' },
        { path: '/detail/resource/resourceType', message: 'is required' },
      ]),
    );
    const other = { ...event(), 'detail-type': 'GuardDuty Malware Protection Object Scan Result' };
    expect(caught(() => fromGuardDutyFinding(other))).toBeInstanceOf(UnsupportedAlertError);
  });
});

describe('GuardDuty severity bands', () => {
  it.each([
    [10, 'SEV1', 'Critical'],
    [9, 'SEV1', 'Critical'],
    [8.9, 'SEV2', 'High'],
    [8, 'SEV2', 'High'],
    [7, 'SEV2', 'High'],
    [6.9, 'SEV3', 'Medium'],
    [5, 'SEV3', 'Medium'],
    [4, 'SEV3', 'Medium'],
    [3.9, 'SEV4', 'Low'],
    [2, 'SEV4', 'Low'],
    [1, 'SEV4', 'Low'],
  ])('severity %d is %s (%s)', (value, severity, label) => {
    expect(guardDutyBand(value)).toMatchObject({ severity, label });
    const e = event();
    e.detail.severity = value;
    const alert = fromGuardDutyFinding(e);
    expect(alert.severity).toBe(severity);
    expect(alert.labels.severityLabel).toBe(label);
    expect(triageSeverity(alert, 'SEV4')).toEqual({
      severity,
      reason: expect.stringMatching(new RegExp(`^GuardDuty severity ${value} is ${label} \\(`)),
    });
  });

  it('puts values between documented ranges in the lower band and refuses out-of-range values', () => {
    expect(guardDutyBand(8.95)?.severity).toBe('SEV2');
    expect(guardDutyBand(0.5)?.severity).toBe('SEV4');
    expect(guardDutyBand(11)).toBeUndefined();
    expect(guardDutyBand(-1)).toBeUndefined();
    expect(guardDutyBand(Number.NaN)).toBeUndefined();
    expect(guardDutyBand('8')).toBeUndefined();
    const e = event();
    e.detail.severity = 12;
    expect((caught(() => fromGuardDutyFinding(e)) as AlertParseError).details).toEqual([
      { path: '/detail/severity', message: 'must be <= 10' },
    ]);
  });

  it('exports the documented table', () => {
    expect(GUARDDUTY_SEVERITY_BANDS.map((b) => [b.min, b.max, b.severity])).toEqual([
      [9, 10, 'SEV1'],
      [7, 8.9, 'SEV2'],
      [4, 6.9, 'SEV3'],
      [1, 3.9, 'SEV4'],
    ]);
  });
});
