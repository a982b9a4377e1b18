/**
 * CloudWatch activities: read an alarm's state, for verification steps (did the alarm go back to OK?).
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { routeByTarget, type AwsClients, type ClientSource } from './clients';
import { awsCall, refuse } from './errors';
import type { ActionName, ActionOutput, ActivityInput } from './schemas';

type CloudWatchActionName = Extract<ActionName, `cloudwatch.${string}`>;
export type CloudWatchActivities = {
  [A in CloudWatchActionName]: (input: ActivityInput<A>) => Promise<ActionOutput<A>>;
};

export function createCloudWatchActivities(source: ClientSource): CloudWatchActivities {
  return routeByTarget(source, build);
}

function build(clients: Pick<AwsClients, 'cloudWatch'>): CloudWatchActivities {
  const { cloudWatch } = clients;
  return {
    async 'cloudwatch.describeAlarm'({ alarmName }) {
      const what = 'cloudwatch.describeAlarm';
      const out = await awsCall(
        what,
        () =>
          cloudWatch.send(
            new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
          ),
        `alarm ${alarmName}`,
      );
      const metric = out.MetricAlarms?.find((a) => a.AlarmName === alarmName);
      const alarm = metric ?? out.CompositeAlarms?.find((a) => a.AlarmName === alarmName);
      if (!alarm) return refuse(what, `alarm ${alarmName} not found`, 'ResourceNotFound');
      return {
        alarmName,
        state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
        stateReason: alarm.StateReason,
        stateUpdatedAt: alarm.StateUpdatedTimestamp?.toISOString(),
        namespace: metric?.Namespace,
        metricName: metric?.MetricName,
      };
    },
  };
}
