/**
 * CloudWatch activities: read an alarm's state, or wait for it (did the alarm go back to OK before the deadline?), for
 * verification steps.
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { heartbeatIfActive, routeByTarget, type AwsClients, type ClientSource } from './clients';
import { awsCall, refuse } from './errors';
import { pause } from './ssm-common';
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
  async function describe(what: string, alarmName: string): Promise<ActionOutput<'cloudwatch.describeAlarm'>> {
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
  }
  return {
    'cloudwatch.describeAlarm': ({ alarmName }) => describe('cloudwatch.describeAlarm', alarmName),

    /** Polls the alarm (heartbeating) until it is in `state`; fails non-retryable at the deadline. */
    async 'cloudwatch.waitForAlarmState'({ alarmName, state, timeoutSeconds, pollIntervalMs, dryRun }) {
      const what = 'cloudwatch.waitForAlarmState';
      const wanted = state ?? 'OK';
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (;;) {
        const alarm = await describe(what, alarmName);
        if (dryRun) return { ...alarm, dryRun: true, calls: [] };
        heartbeatIfActive({ state: alarm.state });
        if (alarm.state === wanted) return alarm;
        if (Date.now() >= deadline) {
          return refuse(
            what,
            `alarm ${alarmName} is still ${alarm.state}, not ${wanted}, after ${timeoutSeconds} s`,
            'AlarmStateNotReached',
          );
        }
        await pause(Math.min(pollIntervalMs ?? 10_000, Math.max(100, deadline - Date.now())));
      }
    },
  };
}
