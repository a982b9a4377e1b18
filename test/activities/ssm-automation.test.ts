/**
 * ssm.startAutomation runs on aws-sdk-client-mock: moto 5.2.1 does not implement SSM Automation
 * (StartAutomationExecution, GetAutomationExecution, DescribeAutomationExecutions). ssm.getParameter runs on moto.
 */
import {
  DescribeAutomationExecutionsCommand,
  GetAutomationExecutionCommand,
  PutParameterCommand,
  SSMClient,
  StartAutomationExecutionCommand,
  StopAutomationExecutionCommand,
  type AutomationExecutionStatus,
} from '@aws-sdk/client-ssm';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { automationMarker } from '../../activities/ssm-automation';
import { createSsmActivities } from '../../activities/ssm';
import { stepContext, testAws, unique, type TestAws } from '../stack/aws';

function mocked() {
  const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  mock.on(DescribeAutomationExecutionsCommand).resolves({ AutomationExecutionMetadataList: [] });
  mock.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'auto-1' });
  return { client, mock, start: createSsmActivities({ ssm: client })['ssm.startAutomation'] };
}
const input = {
  documentName: 'Acme-RollbackRelease',
  parameters: { version: ['1.4.2'] },
  pollIntervalMs: 100,
};

describe('ssm.startAutomation (aws-sdk-client-mock: moto lacks SSM Automation)', () => {
  it('starts the automation tagged with its step, polls it to the end and reports its outputs', async () => {
    const { mock, start } = mocked();
    mock
      .on(GetAutomationExecutionCommand)
      .resolvesOnce({ AutomationExecution: { AutomationExecutionStatus: 'Pending' } })
      .resolvesOnce({ AutomationExecution: { AutomationExecutionStatus: 'InProgress' } })
      .resolves({ AutomationExecution: { AutomationExecutionStatus: 'Success', Outputs: { deployed: ['1.4.2'] } } });
    const ctx = stepContext('rollback-deploy');
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));

    const out = await env.run(start, { ...input, ctx });

    expect(out).toEqual({
      automationExecutionId: 'auto-1',
      documentName: 'Acme-RollbackRelease',
      status: 'Success',
      outputs: { deployed: ['1.4.2'] },
      failureMessage: undefined,
      started: true,
    });
    const sent = mock.commandCalls(StartAutomationExecutionCommand)[0].args[0].input;
    expect(sent).toMatchObject({ DocumentName: 'Acme-RollbackRelease', Parameters: { version: ['1.4.2'] } });
    expect(sent.ClientToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sent.Tags).toContainEqual({ Key: automationMarker(ctx), Value: 'firebreak' });
    expect(beats).toContainEqual({ automationExecutionId: 'auto-1', status: 'InProgress' });
  });

  it('a retry finds the automation an earlier attempt started (its marker tag) and starts none', async () => {
    const { mock, start } = mocked();
    const ctx = stepContext('rollback-deploy');
    mock
      .on(DescribeAutomationExecutionsCommand, { Filters: [{ Key: 'TagKey', Values: [automationMarker(ctx)] }] })
      .resolves({ AutomationExecutionMetadataList: [{ AutomationExecutionId: 'auto-earlier' }] });
    mock.on(GetAutomationExecutionCommand).resolves({ AutomationExecution: { AutomationExecutionStatus: 'Success' } });
    const out = await start({ ...input, ctx });
    expect(out).toMatchObject({ automationExecutionId: 'auto-earlier', started: false });
    expect(mock.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
  });

  it.each<AutomationExecutionStatus>(['Failed', 'TimedOut', 'Cancelled', 'CompletedWithFailure'])(
    'an automation ending %s fails the step non-retryable, unless allowFailure',
    async (status) => {
      const { mock, start } = mocked();
      mock
        .on(GetAutomationExecutionCommand)
        .resolves({ AutomationExecution: { AutomationExecutionStatus: status, FailureMessage: 'step deploy failed' } });
      const err = await start(input).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe(`SsmAutomation${status}`);
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      expect((err as ApplicationFailure).message).toBe(
        `ssm.startAutomation: automation auto-1 of Acme-RollbackRelease ended ${status}: step deploy failed`,
      );
      expect(await start({ ...input, allowFailure: true })).toMatchObject({
        status,
        failureMessage: 'step deploy failed',
      });
    },
  );

  it("stops the automation on the workflow's cancellation", async () => {
    const { mock, start } = mocked();
    mock
      .on(GetAutomationExecutionCommand)
      .resolves({ AutomationExecution: { AutomationExecutionStatus: 'InProgress' } });
    mock.on(StopAutomationExecutionCommand).resolves({});
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => {
      if (++beats === 2) env.cancel();
    });
    const err = await env.run(start, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(mock.commandCalls(StopAutomationExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { AutomationExecutionId: 'auto-1', Type: 'Cancel' },
    ]);
  });

  it('dry run: starts nothing and names the call', async () => {
    const { mock, start } = mocked();
    const out = await start({ ...input, dryRun: true });
    expect(out).toMatchObject({ dryRun: true, status: 'DryRun' });
    expect(out.calls).toEqual([
      {
        service: 'ssm',
        operation: 'StartAutomationExecution',
        input: expect.objectContaining({ DocumentName: input.documentName }),
      },
    ]);
    expect(mock.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
  });
});

describe('ssm.getParameter (moto)', () => {
  let aws: TestAws;
  beforeAll(() => {
    aws = testAws();
  });
  afterAll(() => aws.close());

  it('reads the value and version; an unknown name is non-retryable and named', async () => {
    const name = `/${unique('app')}/previous-version`;
    await aws.clients.ssm.send(new PutParameterCommand({ Name: name, Value: '1.4.1', Type: 'String' }));
    await aws.clients.ssm.send(
      new PutParameterCommand({ Name: name, Value: '1.4.2', Type: 'String', Overwrite: true }),
    );
    const get = createSsmActivities(aws.clients)['ssm.getParameter'];
    expect(await get({ name })).toMatchObject({ name, value: '1.4.2', version: 2 });
    const err = await get({ name: `${name}-missing` }).catch((e: unknown) => e);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toContain(`parameter ${name}-missing`);
  });
});
