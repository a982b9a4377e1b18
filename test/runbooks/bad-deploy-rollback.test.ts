/**
 * bad-deploy-rollback end to end on the real stack. Run Command mode runs on moto: the previous release is read from an
 * SSM parameter, the rollback command goes to the fleet's tag, the alarm set back to OK ends it. Automation mode uses
 * aws-sdk-client-mock for ssm.startAutomation only, because moto 5.2.1 does not implement SSM Automation; there the
 * alarm never recovers, so the escalation topic hears of it.
 */
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import {
  DescribeAutomationExecutionsCommand,
  GetAutomationExecutionCommand,
  ListCommandsCommand,
  PutParameterCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createSsmActivities } from '../../activities/ssm';
import { badDeployRollback } from '../../runbooks/bad-deploy-rollback';
import { readNotifications } from '../../scripts/seed';
import { approvalUpdate } from '../../workflows/messages';
import { testAws, unique, type TestAws } from '../stack/aws';
import { startRunbook, testTemporal, waitForState, withWorker, type TestTemporal } from '../stack/temporal';
import { runbookInput } from './helpers';

let aws: TestAws;
let temporal: TestTemporal;
beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const onCall = { id: 'user:olga', roles: ['on-call'] };

async function firingAlarm(): Promise<string> {
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
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: '5xx after deploy 1.5.0' }),
  );
  return alarmName;
}

async function previousVersion(value: string): Promise<string> {
  const name = `/${unique('app')}/previous-version`;
  await aws.clients.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String' }));
  return name;
}

test('Run Command mode: the fleet gets the previous release; the alarm back to OK ends it', async () => {
  const env = await aws.seed('deploy', { instances: 3 });
  const fleet = env.instances.slice(0, 2).map((i) => i.instanceId);
  const app = unique('shop');
  await aws.clients.ec2.send(new CreateTagsCommand({ Resources: fleet, Tags: [{ Key: 'app', Value: app }] }));
  const alarmName = await firingAlarm();
  const versionParameter = await previousVersion('1.4.2');

  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      runbookInput(badDeployRollback, {
        alarmName,
        versionParameter,
        targetTagKey: 'app',
        targetTagValue: app,
        notifyTopicArn: env.topicArn,
      }),
    );
    await waitForState(handle, (s) => s.status === 'waiting-approval');
    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-rollback', decision: 'approve', decidedBy: onCall }],
    });
    await waitForState(handle, (s) => s.steps.find((x) => x.id === 'verify')?.status === 'running');
    await aws.clients.cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'OK', StateReason: 'recovered' }),
    );
    const done = await waitForState(handle, (s) => s.status === 'succeeded');
    const byId = Object.fromEntries(done.steps.map((s) => [s.id, s]));
    expect(byId['rollback-automation'].status).toBe('skipped');
    expect(byId['verify'].status).toBe('succeeded');
    expect(byId['escalate'].status).toBe('skipped');

    const { commandId, invocations } = byId['rollback-command'].output as {
      commandId: string;
      invocations: { instanceId: string }[];
    };
    expect(invocations.map((i) => i.instanceId).sort()).toEqual([...fleet].sort());
    const [sent] = (await aws.clients.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands!;
    expect(sent.Targets).toEqual([{ Key: 'tag:app', Values: [app] }]);
    expect(sent.Parameters).toEqual({ commands: ['/opt/app/bin/deploy --version 1.4.2'] });
    const notes = await readNotifications(aws.sqs, env.queueUrl, { count: 1, timeoutMs: 15_000 });
    expect(notes.map((n) => n.subject)).toEqual([`firebreak: rolled back, ${alarmName} OK`]);
  });
});

test('Automation mode (client-mock: moto lacks Automation): the alarm stays in ALARM, so it escalates', async () => {
  const env = await aws.seed('deploy-auto', { instances: 1 });
  const alarmName = await firingAlarm();
  const versionParameter = await previousVersion('2.0.7');
  const ssm = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const automation = mockClient(ssm);
  automation.on(DescribeAutomationExecutionsCommand).resolves({ AutomationExecutionMetadataList: [] });
  automation.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'auto-42' });
  automation
    .on(GetAutomationExecutionCommand)
    .resolves({ AutomationExecution: { AutomationExecutionStatus: 'Success' } });
  const mocked = createSsmActivities({ ssm }, {})['ssm.startAutomation'];

  await withWorker(
    temporal,
    { clients: aws.clients, activities: (real) => ({ ...real, 'ssm.startAutomation': mocked }) },
    async ({ taskQueue }) => {
      const handle = await startRunbook(
        temporal,
        taskQueue,
        runbookInput(badDeployRollback, {
          alarmName,
          versionParameter,
          mode: 'automation',
          automationDocument: 'Shop-Rollback',
          verifyTimeoutSeconds: 2,
          notifyTopicArn: env.topicArn,
        }),
      );
      await waitForState(handle, (s) => s.status === 'waiting-approval');
      await handle.executeUpdate(approvalUpdate, {
        args: [{ stepId: 'approve-rollback', decision: 'approve', decidedBy: onCall }],
      });
      const done = await waitForState(handle, (s) => s.status === 'succeeded');
      const byId = Object.fromEntries(done.steps.map((s) => [s.id, s]));
      expect(byId['rollback-automation'].output).toMatchObject({ automationExecutionId: 'auto-42', status: 'Success' });
      expect(byId['verify']).toMatchObject({ status: 'failed', error: { type: 'AlarmStateNotReached' } });
      expect(byId['escalate'].status).toBe('succeeded');
      expect(automation.commandCalls(StartAutomationExecutionCommand)[0].args[0].input).toMatchObject({
        DocumentName: 'Shop-Rollback',
        Parameters: { Version: ['2.0.7'] },
      });
      const [note] = await readNotifications(aws.sqs, env.queueUrl, { count: 1, timeoutMs: 15_000 });
      expect(note.subject).toBe(`firebreak: rollback did not recover ${alarmName}`);
    },
  );
});
