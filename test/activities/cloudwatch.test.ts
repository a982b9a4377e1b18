/**
 * cloudwatch.describeAlarm against moto: the state set through the CloudWatch API is the state read.
 */
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { ApplicationFailure } from '@temporalio/common';
import { createCloudWatchActivities } from '../../activities/cloudwatch';
import { testAws, unique, type TestAws } from '../stack/aws';

let aws: TestAws;
let describe_: ReturnType<typeof createCloudWatchActivities>['cloudwatch.describeAlarm'];
beforeAll(() => {
  aws = testAws();
  describe_ = createCloudWatchActivities(aws.clients)['cloudwatch.describeAlarm'];
});
afterAll(() => aws.close());

test("reads an alarm's state, reason and metric", async () => {
  const alarmName = unique('web-5xx');
  await aws.clients.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await aws.clients.cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: 'errors above 10' }),
  );
  const firing = await describe_({ alarmName });
  expect(firing).toMatchObject({
    alarmName,
    state: 'ALARM',
    stateReason: 'errors above 10',
    namespace: 'AWS/ApplicationELB',
    metricName: 'HTTPCode_Target_5XX_Count',
  });
  expect(Date.parse(firing.stateUpdatedAt!)).not.toBeNaN();

  await aws.clients.cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'OK', StateReason: 'recovered' }),
  );
  expect(await describe_({ alarmName })).toMatchObject({ state: 'OK', stateReason: 'recovered' });
});

test('names an unknown alarm, non-retryable', async () => {
  const err = await describe_({ alarmName: 'no-such-alarm' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  expect((err as ApplicationFailure).message).toBe(
    'cloudwatch.describeAlarm: alarm no-such-alarm not found (ResourceNotFound)',
  );
});

test('cloudwatch.waitForAlarmState returns once the alarm is OK; fails AlarmStateNotReached at the deadline', async () => {
  const wait = createCloudWatchActivities(aws.clients)['cloudwatch.waitForAlarmState'];
  const alarmName = unique('latency');
  await aws.clients.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'TargetResponseTime',
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await aws.clients.cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: 'slow' }),
  );
  const late = await wait({ alarmName, timeoutSeconds: 1, pollIntervalMs: 200 }).catch((e: unknown) => e);
  expect(late).toBeInstanceOf(ApplicationFailure);
  expect((late as ApplicationFailure).type).toBe('AlarmStateNotReached');
  expect((late as ApplicationFailure).nonRetryable).toBe(true);

  const waiting = wait({ alarmName, timeoutSeconds: 30, pollIntervalMs: 200 });
  await aws.clients.cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'OK', StateReason: 'recovered' }),
  );
  expect(await waiting).toMatchObject({ alarmName, state: 'OK', stateReason: 'recovered' });
});
