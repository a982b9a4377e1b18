/**
 * CloudWatch alarms via SNS and via EventBridge: the fixtures, the documented variants, and the same alarm giving the
 * same fingerprint whichever way it arrives.
 */
import {
  AlertParseError,
  UnsupportedAlertError,
  fingerprint,
  fromCloudWatchSnsMessage,
  fromEventBridgeAlarm,
  parseSnsBody,
  resourceFromDimensions,
  type NormalisedAlert,
  type SnsNotification,
} from '../../alerts';
import { caught, fixture, snsWithMessage } from './helpers';

const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-egress-spike';

/** The fixture's alarm message, parsed, for variants. */
const fixtureMessage = (): Record<string, any> => JSON.parse(fixture('sns-notification-cloudwatch-alarm.json').Message);

/** An SNS notification carrying `message`, through the real envelope parser. */
function sns(message: unknown, envelope: Record<string, unknown> = {}): SnsNotification {
  return parseSnsBody(snsWithMessage(message, envelope), 'Notification') as SnsNotification;
}

/** The EventBridge event CloudWatch emits for the same state change as the SNS fixture's alarm. */
function eventBridgeTwinOfSnsFixture(): Record<string, any> {
  const m = fixtureMessage();
  return {
    version: '0',
    id: '9d2f1e3a-7b44-4c55-8e66-0f1a2b3c4d5e',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '111122223333',
    time: '2026-11-27T09:00:12Z',
    region: 'eu-west-1',
    resources: [ALARM_ARN],
    detail: {
      alarmName: 'web-egress-spike',
      state: { value: 'ALARM', reason: m.NewStateReason, timestamp: '2026-11-27T09:00:12.555+0000' },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2026-11-26T09:00:00.000+0000' },
      configuration: {
        description: 'Outbound traffic from a web instance far above baseline',
        metrics: [
          {
            id: 'a1b2c3d4-0000-4000-8000-000000000000',
            metricStat: {
              metric: { namespace: 'AWS/EC2', name: 'NetworkOut', dimensions: { InstanceId: 'i-0a1b2c3d4e5f60718' } },
              period: 300,
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

/** The SNS message CloudWatch publishes for the same state change as the EventBridge fixture's alarm. */
function snsTwinOfEventBridgeFixture(): SnsNotification {
  return sns(
    {
      AlarmName: 'api-5xx-rate',
      AlarmDescription: '5xx rate of the public API above 5%',
      AWSAccountId: '111122223333',
      NewStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (5.0).',
      StateChangeTime: '2026-11-27T09:00:12.555+0000',
      Region: 'EU (Ireland)',
      AlarmArn: 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:api-5xx-rate',
      OldStateValue: 'OK',
      Trigger: {
        MetricName: 'HTTPCode_Target_5XX_Count',
        Namespace: 'AWS/ApplicationELB',
        StatisticType: 'Statistic',
        Statistic: 'AVERAGE',
        Unit: null,
        Dimensions: [{ value: 'app/public-api/50dc6c495c0c9188', name: 'LoadBalancer' }],
        Period: 60,
        EvaluationPeriods: 3,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 5.0,
      },
    },
    { Subject: 'ALARM: "api-5xx-rate" in EU (Ireland)', MessageId: '0b1c2d3e-aaaa-bbbb-cccc-000000000001' },
  );
}

/** What must not depend on the transport. */
const identity = (a: NormalisedAlert) => ({
  source: a.source,
  name: a.name,
  state: a.state,
  account: a.account,
  region: a.region,
  resource: a.resource,
  metric: a.metric,
  description: a.description,
  occurredAt: a.occurredAt,
});

describe('fromCloudWatchSnsMessage: the fixture', () => {
  it('maps every field of the SNS notification fixture', () => {
    const body = fixture('sns-notification-cloudwatch-alarm.json');
    const alert = fromCloudWatchSnsMessage(parseSnsBody(body, 'Notification') as SnsNotification);
    expect(alert).toEqual({
      source: 'cloudwatch',
      via: 'sns',
      deliveryId: '6f0d3e8c-51a2-5b7e-9d3c-1a2b3c4d5e6f',
      name: 'web-egress-spike',
      title: 'ALARM: "web-egress-spike" in EU (Ireland)',
      description: 'Outbound traffic from a web instance far above baseline',
      state: 'firing',
      account: '111122223333',
      region: 'eu-west-1',
      resource: { type: 'ec2:instance', id: 'i-0a1b2c3d4e5f60718' },
      metric: { namespace: 'AWS/EC2', name: 'NetworkOut' },
      labels: {
        alarmName: 'web-egress-spike',
        alarmArn: ALARM_ARN,
        alarmType: 'metric',
        alarmState: 'ALARM',
        previousState: 'OK',
        reason: expect.stringMatching(/^Threshold Crossed: 1 out of the last 1 datapoints/),
        namespace: 'AWS/EC2',
        metric: 'NetworkOut',
        'dimension:InstanceId': 'i-0a1b2c3d4e5f60718',
        topicArn: 'arn:aws:sns:eu-west-1:111122223333:ops-alarms',
      },
      occurredAt: '2026-11-27T09:00:12.555Z',
      raw: { sns: body, message: fixtureMessage() },
    });
    // The whole envelope is kept as evidence, signature included.
    expect((alert.raw as any).sns.Signature).toBe('PLACEHOLDER-does-not-verify==');
  });
});

describe('fromEventBridgeAlarm: the fixture', () => {
  it('maps every field of the EventBridge fixture', () => {
    const event = fixture('eventbridge-cloudwatch-alarm-state-change.json');
    const alert = fromEventBridgeAlarm(JSON.stringify(event));
    expect(alert).toEqual({
      source: 'cloudwatch',
      via: 'eventbridge',
      deliveryId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
      name: 'api-5xx-rate',
      title: 'api-5xx-rate',
      description: '5xx rate of the public API above 5%',
      state: 'firing',
      account: '111122223333',
      region: 'eu-west-1',
      resource: { type: 'elbv2:loadbalancer', id: 'app/public-api/50dc6c495c0c9188' },
      metric: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count' },
      labels: {
        alarmName: 'api-5xx-rate',
        alarmArn: 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:api-5xx-rate',
        alarmType: 'metric',
        alarmState: 'ALARM',
        previousState: 'OK',
        reason: 'Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (5.0).',
        namespace: 'AWS/ApplicationELB',
        metric: 'HTTPCode_Target_5XX_Count',
        'dimension:LoadBalancer': 'app/public-api/50dc6c495c0c9188',
      },
      occurredAt: '2026-11-27T09:00:12.555Z',
      raw: event,
    });
  });
});

describe('the same alarm via SNS and via EventBridge', () => {
  it('gives the same identity and fingerprint for the SNS fixture and its EventBridge twin', () => {
    const viaSns = fromCloudWatchSnsMessage(sns(fixtureMessage()));
    const viaEb = fromEventBridgeAlarm(eventBridgeTwinOfSnsFixture());
    expect(identity(viaEb)).toEqual(identity(viaSns));
    expect(fingerprint(viaEb)).toBe(fingerprint(viaSns));
    expect(fingerprint(viaSns)).toMatch(/^fp-[0-9a-f]{32}$/);
    expect(viaEb.deliveryId).not.toBe(viaSns.deliveryId);
    // Labels agree too, except the SNS-only topic.
    const { topicArn, ...snsLabels } = viaSns.labels;
    expect(topicArn).toBe('arn:aws:sns:eu-west-1:111122223333:ops-alarms');
    expect(viaEb.labels).toEqual(snsLabels);
  });

  it('gives the same fingerprint for the EventBridge fixture and its SNS twin', () => {
    const viaEb = fromEventBridgeAlarm(fixture('eventbridge-cloudwatch-alarm-state-change.json'));
    const viaSns = fromCloudWatchSnsMessage(snsTwinOfEventBridgeFixture());
    expect(identity(viaSns)).toEqual(identity(viaEb));
    expect(fingerprint(viaSns)).toBe(fingerprint(viaEb));
    // And differs from the other alarm's.
    expect(fingerprint(viaEb)).not.toBe(fingerprint(fromCloudWatchSnsMessage(sns(fixtureMessage()))));
  });

  it('agrees on a metric-math alarm and on dimensions listed in another order', () => {
    const snsMsg = {
      ...fixtureMessage(),
      AlarmName: 'orders-errors',
      Trigger: {
        Metrics: [
          { Expression: 'm1+m2', Id: 'e1', Label: 'errors', ReturnData: true },
          {
            Id: 'm1',
            MetricStat: {
              Metric: {
                Dimensions: [
                  { value: 'orders', name: 'Service' },
                  { value: 'prod', name: 'Env' },
                ],
                MetricName: 'Errors',
                Namespace: 'MyApp/Orders',
              },
              Period: 60,
              Stat: 'Sum',
            },
            ReturnData: false,
          },
        ],
      },
    };
    const event = eventBridgeTwinOfSnsFixture();
    event.detail.alarmName = 'orders-errors';
    event.detail.configuration.metrics = [
      { id: 'e1', expression: 'm1+m2', label: 'errors', returnData: true },
      {
        id: 'm1',
        metricStat: {
          metric: { namespace: 'MyApp/Orders', name: 'Errors', dimensions: { Env: 'prod', Service: 'orders' } },
        },
        returnData: false,
      },
    ];
    const a = fromCloudWatchSnsMessage(sns(snsMsg));
    const b = fromEventBridgeAlarm(event);
    expect(a.resource).toEqual({ type: 'myapp/orders:env', id: 'prod' });
    expect(identity(b)).toEqual(identity(a));
    expect(fingerprint(b)).toBe(fingerprint(a));
    expect(b.labels.expression).toBe('m1+m2');
    expect(a.labels.alarmType).toBe('metric-math');
  });
});

describe('fromCloudWatchSnsMessage: variants', () => {
  it('takes the metric and resource of a metric-math alarm from the first MetricStat', () => {
    const alert = fromCloudWatchSnsMessage(
      sns({
        ...fixtureMessage(),
        Trigger: {
          Period: 60,
          EvaluationPeriods: 1,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 10,
          Metrics: [
            { Expression: 'm1+m2', Id: 'e1', Label: 'Total errors', ReturnData: true },
            {
              Id: 'm1',
              MetricStat: {
                Metric: {
                  Dimensions: [{ value: 'orders-api', name: 'FunctionName' }],
                  MetricName: 'Errors',
                  Namespace: 'AWS/Lambda',
                },
                Period: 60,
                Stat: 'Sum',
              },
              ReturnData: false,
            },
            {
              Id: 'm2',
              MetricStat: {
                Metric: {
                  Dimensions: [{ value: 'orders-worker', name: 'FunctionName' }],
                  MetricName: 'Errors',
                  Namespace: 'AWS/Lambda',
                },
                Period: 60,
                Stat: 'Sum',
              },
              ReturnData: false,
            },
          ],
        },
      }),
    );
    expect(alert.metric).toEqual({ namespace: 'AWS/Lambda', name: 'Errors' });
    expect(alert.resource).toEqual({ type: 'lambda:function', id: 'orders-api' });
    expect(alert.labels).toMatchObject({
      alarmType: 'metric-math',
      expression: 'm1+m2',
      'dimension:FunctionName': 'orders-api',
    });
  });

  it('reads an anomaly-detection alarm, preferring the load balancer over the target group', () => {
    const alert = fromCloudWatchSnsMessage(
      sns({
        ...fixtureMessage(),
        Trigger: {
          Period: 300,
          EvaluationPeriods: 2,
          ComparisonOperator: 'GreaterThanUpperThreshold',
          ThresholdMetricId: 'ad1',
          Metrics: [
            {
              Id: 'm1',
              MetricStat: {
                Metric: {
                  Dimensions: [
                    { value: 'targetgroup/web/943f017f100becff', name: 'TargetGroup' },
                    { value: 'app/public-api/50dc6c495c0c9188', name: 'LoadBalancer' },
                  ],
                  MetricName: 'TargetResponseTime',
                  Namespace: 'AWS/ApplicationELB',
                },
                Period: 300,
                Stat: 'Average',
              },
              ReturnData: true,
            },
            {
              Expression: 'ANOMALY_DETECTION_BAND(m1, 2)',
              Id: 'ad1',
              Label: 'TargetResponseTime (expected)',
              ReturnData: true,
            },
          ],
        },
      }),
    );
    expect(alert.resource).toEqual({ type: 'elbv2:loadbalancer', id: 'app/public-api/50dc6c495c0c9188' });
    expect(alert.metric).toEqual({ namespace: 'AWS/ApplicationELB', name: 'TargetResponseTime' });
    expect(alert.labels).toMatchObject({ alarmType: 'anomaly-detection', expression: 'ANOMALY_DETECTION_BAND(m1, 2)' });
  });

  it('gives a composite alarm (no Trigger) no metric and no resource', () => {
    const { Trigger: _t, ...m } = fixtureMessage();
    const alert = fromCloudWatchSnsMessage(
      sns(
        {
          ...m,
          AlarmName: 'checkout-degraded',
          AlarmArn: 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:checkout-degraded',
          AlarmRule: 'ALARM("api-5xx-rate") AND ALARM("web-egress-spike")',
          TriggeringChildren: [
            { Arn: ALARM_ARN, State: { Value: 'ALARM', Timestamp: '2026-11-27T09:00:12.555+0000' } },
          ],
        },
        { Subject: 'ALARM: "checkout-degraded" in EU (Ireland)' },
      ),
    );
    expect(alert).not.toHaveProperty('metric');
    expect(alert).not.toHaveProperty('resource');
    expect(alert.name).toBe('checkout-degraded');
    expect(alert.state).toBe('firing');
    expect(alert.labels).toMatchObject({
      alarmType: 'composite',
      alarmRule: 'ALARM("api-5xx-rate") AND ALARM("web-egress-spike")',
    });
    expect(alert.labels).not.toHaveProperty('namespace');
  });

  it('maps OK to resolved, with the fingerprint of the firing alarm', () => {
    const firing = fromCloudWatchSnsMessage(sns(fixtureMessage()));
    const ok = fromCloudWatchSnsMessage(
      sns(
        {
          ...fixtureMessage(),
          NewStateValue: 'OK',
          OldStateValue: 'ALARM',
          StateChangeTime: '2026-11-27T10:15:00.000+0000',
        },
        {
          Subject: 'OK: "web-egress-spike" in EU (Ireland)',
          MessageId: 'aaaaaaaa-0000-4000-8000-000000000002',
        },
      ),
    );
    expect(ok.state).toBe('resolved');
    expect(ok.labels).toMatchObject({ alarmState: 'OK', previousState: 'ALARM' });
    expect(ok.occurredAt).toBe('2026-11-27T10:15:00.000Z');
    expect(ok.deliveryId).toBe('aaaaaaaa-0000-4000-8000-000000000002');
    expect(fingerprint(ok)).toBe(fingerprint(firing));
  });

  it('refuses INSUFFICIENT_DATA as unsupported (neither opens nor closes an incident)', () => {
    const err = caught(() =>
      fromCloudWatchSnsMessage(sns({ ...fixtureMessage(), NewStateValue: 'INSUFFICIENT_DATA' })),
    );
    expect(err).toBeInstanceOf(UnsupportedAlertError);
    expect(err).toMatchObject({
      code: 'ALERT_UNSUPPORTED',
      statusCode: 422,
      reason: 'insufficient-data',
      details: { alarmName: 'web-egress-spike', state: 'INSUFFICIENT_DATA' },
    });
  });

  it('accepts null and absent optional fields', () => {
    const m = {
      ...fixtureMessage(),
      AlarmDescription: null,
      AWSAccountId: null,
      NewStateReason: null,
      OldStateValue: null,
      StateChangeTime: null,
      Region: null,
      Trigger: { MetricName: 'StatusCheckFailed', Namespace: 'AWS/EC2', Dimensions: null, Unit: null },
    };
    const alert = fromCloudWatchSnsMessage(sns(m, { Subject: null }));
    expect(alert.title).toBe('web-egress-spike');
    expect(alert).not.toHaveProperty('description');
    expect(alert.account).toBe('111122223333'); // from the AlarmArn
    expect(alert.occurredAt).toBe('2026-11-27T09:00:12.611Z'); // the SNS Timestamp
    expect(alert.metric).toEqual({ namespace: 'AWS/EC2', name: 'StatusCheckFailed' });
    expect(alert).not.toHaveProperty('resource');
    expect(alert.labels).not.toHaveProperty('reason');
    expect(alert.labels).not.toHaveProperty('previousState');

    // No AlarmArn, no account: both from the topic's ARN (alarm actions publish to topics of their own region).
    const { AlarmArn: _a, AWSAccountId: _b, Trigger: _t, ...bare } = fixtureMessage();
    const minimal = fromCloudWatchSnsMessage(
      sns(bare, { TopicArn: 'arn:aws:sns:ap-northeast-1:444455556666:ops', Subject: undefined }),
    );
    expect(minimal).toMatchObject({ region: 'ap-northeast-1', account: '444455556666', title: 'web-egress-spike' });
    expect(minimal.labels).not.toHaveProperty('alarmArn');
  });

  it('keeps a Subject with quotes and non-ASCII as the title, unchanged', () => {
    const subject =
      'ALARM: "caf\u00e9-latency \u26a0" in Asia Pacific (T\u014dky\u014d) \u2014 \u201cquoted\u201d \'single\'';
    const alert = fromCloudWatchSnsMessage(
      parseSnsBody(JSON.stringify(snsWithMessage(fixtureMessage(), { Subject: subject }))) as SnsNotification,
    );
    expect(alert.title).toBe(subject);
  });

  it('falls back to <namespace>:<dimension> for unmapped dimensions', () => {
    const alert = fromCloudWatchSnsMessage(
      sns({
        ...fixtureMessage(),
        Trigger: {
          MetricName: 'BurstCreditBalance',
          Namespace: 'AWS/EFS',
          Dimensions: [{ name: 'FileSystemId', value: 'fs-12345678' }],
        },
      }),
    );
    expect(alert.resource).toEqual({ type: 'efs:filesystemid', id: 'fs-12345678' });
  });

  it('treats a Message that is not an alarm as unsupported', () => {
    for (const message of ['hello from a human', '{"Records":[]}', '[1,2,3]']) {
      const err = caught(() => fromCloudWatchSnsMessage(sns(message)));
      expect(err).toBeInstanceOf(UnsupportedAlertError);
      expect(err).toMatchObject({
        reason: 'not-an-alarm',
        details: { topicArn: 'arn:aws:sns:eu-west-1:111122223333:ops-alarms' },
      });
    }
  });

  it('reports a truncated Message as malformed', () => {
    const text = JSON.stringify(fixtureMessage());
    const err = caught(() => fromCloudWatchSnsMessage(sns(text.slice(0, 120)))) as AlertParseError;
    expect(err).toBeInstanceOf(AlertParseError);
    expect(err.details).toHaveLength(1);
    expect(err.details[0]).toMatchObject({ path: '/Message', message: expect.stringMatching(/^is not valid JSON/) });
  });

  it('lists what is wrong in an alarm message', () => {
    const { NewStateValue: _n, ...m } = fixtureMessage();
    const err = caught(() =>
      fromCloudWatchSnsMessage(sns({ ...m, AlarmName: '', Trigger: { Dimensions: [{ value: 'x' }] } })),
    ) as AlertParseError;
    expect(err).toBeInstanceOf(AlertParseError);
    expect(err.details).toEqual(
      expect.arrayContaining([
        { path: '/Message/NewStateValue', message: 'is required' },
        { path: '/Message/AlarmName', message: 'must NOT have fewer than 1 characters' },
        { path: '/Message/Trigger/Dimensions/0/name', message: 'is required' },
      ]),
    );
    const bad = caught(() =>
      fromCloudWatchSnsMessage(sns({ ...fixtureMessage(), NewStateValue: 'FIRING' })),
    ) as AlertParseError;
    expect(bad.details).toEqual([
      { path: '/Message/NewStateValue', message: 'must be one of: ALARM, OK, INSUFFICIENT_DATA' },
    ]);
    const time = caught(() =>
      fromCloudWatchSnsMessage(sns({ ...fixtureMessage(), StateChangeTime: 'yesterday' })),
    ) as AlertParseError;
    expect(time.details).toEqual([{ path: '/Message/StateChangeTime', message: 'is not a timestamp: "yesterday"' }]);
  });
});

describe('fromEventBridgeAlarm: variants', () => {
  it('reads a composite alarm event (alarmRule, no metrics)', () => {
    const event = fixture('eventbridge-cloudwatch-alarm-state-change.json');
    event.detail.alarmName = 'checkout-degraded';
    event.detail.configuration = { alarmRule: 'ALARM(api-5xx-rate) OR ALARM(web-egress-spike)', description: null };
    const alert = fromEventBridgeAlarm(event);
    expect(alert).not.toHaveProperty('resource');
    expect(alert).not.toHaveProperty('metric');
    expect(alert).not.toHaveProperty('description');
    expect(alert.labels).toMatchObject({
      alarmType: 'composite',
      alarmRule: 'ALARM(api-5xx-rate) OR ALARM(web-egress-spike)',
    });
  });

  it('maps OK to resolved and keeps propagated alarm tags as labels', () => {
    const event = fixture('eventbridge-cloudwatch-alarm-state-change.json');
    event.detail.state = { value: 'OK', reason: 'back to normal' };
    event.detail.alarmTags = { severity: 'critical', team: 'payments' };
    const alert = fromEventBridgeAlarm(event);
    expect(alert.state).toBe('resolved');
    expect(alert.occurredAt).toBe('2026-11-27T09:00:12.000Z'); // no state timestamp: the event time
    expect(alert.labels).toMatchObject({ 'tag:severity': 'critical', 'tag:team': 'payments' });
  });

  it('refuses INSUFFICIENT_DATA and other detail-types as unsupported', () => {
    const event = fixture('eventbridge-cloudwatch-alarm-state-change.json');
    event.detail.state.value = 'INSUFFICIENT_DATA';
    expect(caught(() => fromEventBridgeAlarm(event))).toMatchObject({ reason: 'insufficient-data' });
    const other = {
      ...fixture('eventbridge-cloudwatch-alarm-state-change.json'),
      'detail-type': 'CloudWatch Alarm Configuration Change',
    };
    expect(caught(() => fromEventBridgeAlarm(other))).toMatchObject({
      name: 'UnsupportedAlertError',
      details: { detailType: 'CloudWatch Alarm Configuration Change' },
    });
  });

  it('lists what is wrong in the envelope and the detail', () => {
    const { id: _i, region: _r, ...noId } = fixture('eventbridge-cloudwatch-alarm-state-change.json');
    const env = caught(() => fromEventBridgeAlarm(noId)) as AlertParseError;
    expect(env).toBeInstanceOf(AlertParseError);
    expect(env.details).toEqual([
      { path: '/id', message: 'is required' },
      { path: '/region', message: 'is required' },
    ]);
    const event = fixture('eventbridge-cloudwatch-alarm-state-change.json');
    delete event.detail.state;
    event.detail.configuration.metrics[0].metricStat.metric.dimensions = { LoadBalancer: 5 };
    const detail = caught(() => fromEventBridgeAlarm(event)) as AlertParseError;
    expect(detail.details).toEqual(
      expect.arrayContaining([
        { path: '/detail/state', message: 'is required' },
        {
          path: '/detail/configuration/metrics/0/metricStat/metric/dimensions/LoadBalancer',
          message: 'must be string',
        },
      ]),
    );
    const truncated = caught(() => fromEventBridgeAlarm('{"version":"0","id":"x"')) as AlertParseError;
    expect(truncated.details[0].message).toMatch(/^is not valid JSON/);
  });
});

describe('resourceFromDimensions', () => {
  it('follows the priority table, then the sorted first dimension', () => {
    expect(resourceFromDimensions('AWS/EC2', { AutoScalingGroupName: 'web', InstanceId: 'i-1' })).toEqual({
      type: 'ec2:instance',
      id: 'i-1',
    });
    expect(resourceFromDimensions('AWS/AutoScaling', { AutoScalingGroupName: 'web' })).toEqual({
      type: 'autoscaling:group',
      id: 'web',
    });
    expect(resourceFromDimensions('AWS/RDS', { DBInstanceIdentifier: 'db-1' })).toEqual({
      type: 'rds:instance',
      id: 'db-1',
    });
    expect(resourceFromDimensions('AWS/Lambda', { FunctionName: 'f', Resource: 'f:live' })).toEqual({
      type: 'lambda:function',
      id: 'f',
    });
    expect(resourceFromDimensions('AWS/SQS', { QueueName: 'jobs' })).toEqual({ type: 'sqs:queue', id: 'jobs' });
    expect(resourceFromDimensions('AWS/Kafka', { 'Cluster Name': 'k', Broker: '1' })).toEqual({
      type: 'kafka:broker',
      id: '1',
    });
    expect(resourceFromDimensions(undefined, { Host: 'h1' })).toEqual({ type: 'cloudwatch:host', id: 'h1' });
    expect(resourceFromDimensions('AWS/EC2', {})).toBeUndefined();
  });
});
