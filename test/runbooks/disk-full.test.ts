/**
 * disk-full end to end on the real stack (moto answers every command Success with empty output): the dry listing goes
 * first and deletes nothing, the cleanup only after on-call's approval, and the alarm back to OK verifies it. The
 * commands are read back through ListCommands.
 */
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { diskFull } from '../../runbooks/disk-full';
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

async function commandOf(commandId: string) {
  return (await aws.clients.ssm.send(new ListCommandsCommand({ CommandId: commandId }))).Commands![0];
}

test('lists first, deletes after approval, verifies by the alarm', async () => {
  const env = await aws.seed('disk', { instances: 1 });
  const { instanceId } = env.instances[0];
  const alarmName = unique('disk-full');
  await aws.clients.cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName,
      Namespace: 'CWAgent',
      MetricName: 'disk_used_percent',
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 90,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await aws.clients.cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: '97% used' }),
  );

  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      runbookInput(diskFull, { instanceId, alarmName, paths: ['/var/log/app'], notifyTopicArn: env.topicArn }),
    );
    const waiting = await waitForState(handle, (s) => s.status === 'waiting-approval');
    const listing = waiting.steps.find((s) => s.id === 'list-candidates')!.output as { commandId: string };
    const listed = await commandOf(listing.commandId);
    const find = "find /var/log/app -xdev -type f -mtime +7 -size +10M -printf '%s %p\\n' | sort -rn | head -500";
    expect(listed.Parameters).toEqual({ commands: ['df -h', find] });
    expect(JSON.stringify(listed.Parameters)).not.toContain('-delete');

    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-cleanup', decision: 'approve', decidedBy: { id: 'user:olga', roles: ['on-call'] } }],
    });
    await waitForState(handle, (s) => s.steps.find((x) => x.id === 'verify')?.status === 'running');
    await aws.clients.cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'OK', StateReason: '60% used' }),
    );
    const done = await waitForState(handle, (s) => s.status === 'succeeded');
    const cleanup = done.steps.find((s) => s.id === 'cleanup')!.output as { commandId: string };
    expect((await commandOf(cleanup.commandId)).Parameters).toEqual({
      commands: ['find /var/log/app -xdev -type f -mtime +7 -size +10M -print -delete', 'df -h'],
    });
    expect(done.steps.find((s) => s.id === 'verify')!.status).toBe('succeeded');
    const [note] = await readNotifications(aws.sqs, env.queueUrl, { count: 1, timeoutMs: 15_000 });
    expect(note.subject).toBe(`firebreak: disk freed on ${instanceId}`);
  });
});

test('a rejected cleanup deletes nothing', async () => {
  const env = await aws.seed('disk-reject', { instances: 1 });
  const { instanceId } = env.instances[0];
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const handle = await startRunbook(
      temporal,
      taskQueue,
      runbookInput(diskFull, { instanceId, alarmName: 'unused', notifyTopicArn: env.topicArn }),
    );
    await waitForState(handle, (s) => s.status === 'waiting-approval');
    await handle.executeUpdate(approvalUpdate, {
      args: [{ stepId: 'approve-cleanup', decision: 'reject', decidedBy: { id: 'user:olga', roles: ['on-call'] } }],
    });
    const done = await waitForState(handle, (s) => s.status === 'rolled-back');
    expect(done.steps.find((s) => s.id === 'cleanup')!.status).toBe('pending');
    const sent = (await aws.clients.ssm.send(new ListCommandsCommand({ InstanceId: instanceId }))).Commands ?? [];
    expect(sent.filter((c) => JSON.stringify(c.Parameters).includes('-delete'))).toEqual([]);
  });
});
