/**
 * ssm.runCommand. moto 5.2.1 serves SendCommand, ListCommands and GetCommandInvocation, but every invocation it
 * reports is an immediate `Success` with empty output, and it does not implement CancelCommand; those tests run
 * against moto. Failed/TimedOut invocations with stderr, invocations still in progress (for cancellation), and an
 * invocation that never appears cannot be produced by moto, so only those tests use aws-sdk-client-mock, on a
 * dedicated client instance.
 */
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  type Command,
  type CommandInvocationStatus,
} from '@aws-sdk/client-ssm';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { commandMarker, createSsmActivities } from '../../activities/ssm';
import type { SeedResult } from '../../scripts/seed';
import { stepContext, testAws, type TestAws } from '../stack/aws';
import { awsError, loseAnswerWhen } from '../workflows/fixtures/aws-faults';

let aws: TestAws;
let env: SeedResult;
let run: ReturnType<typeof createSsmActivities>['ssm.runCommand'];

beforeAll(async () => {
  aws = testAws();
  run = createSsmActivities(aws.clients)['ssm.runCommand'];
  // Two instances: moto sends every command to all of them, and the activity must read back only its own.
  env = await aws.seed('ssm', { instances: 2 });
});
afterAll(() => aws.close());

/** Runs `fn` in a mock activity context (MockActivityEnvironment.run cannot infer the result type). */
function inActivity<T>(activityEnv: MockActivityEnvironment, fn: () => Promise<T>): Promise<T> {
  return activityEnv.run(fn) as Promise<T>;
}

async function commandsOn(instanceId: string): Promise<Command[]> {
  const out = await aws.clients.ssm.send(new ListCommandsCommand({ InstanceId: instanceId }));
  return out.Commands ?? [];
}

describe('ssm.runCommand against moto', () => {
  it('sends the command, waits for the invocation and heartbeats the status', async () => {
    const { instanceId } = env.instances[0];
    const ctx = stepContext('collect');
    const activityEnv = new MockActivityEnvironment();
    const beats: unknown[] = [];
    activityEnv.on('heartbeat', (d: unknown) => beats.push(d));

    const out = await inActivity(activityEnv, () =>
      run({
        instanceId,
        documentName: 'AWS-RunShellScript',
        parameters: { commands: ['uname -a'] },
        comment: 'collect volatile data',
        pollIntervalMs: 100,
        ctx,
      }),
    );

    expect(out).toMatchObject({ instanceId, status: 'Success', responseCode: 0 });
    const invocation = await aws.clients.ssm.send(
      new GetCommandInvocationCommand({ CommandId: out.commandId, InstanceId: instanceId }),
    );
    expect(invocation.Status).toBe('Success');
    const [sent] = (await aws.clients.ssm.send(new ListCommandsCommand({ CommandId: out.commandId }))).Commands ?? [];
    expect(sent.DocumentName).toBe('AWS-RunShellScript');
    expect(sent.Parameters).toEqual({ commands: ['uname -a'] });
    expect(sent.Comment).toBe(`${commandMarker(ctx)} collect volatile data`);
    expect(sent.InstanceIds).toContain(instanceId);
    expect(beats).toContainEqual({ commandId: out.commandId, status: 'Success' });
  });

  it('finds the command of an earlier attempt of the same step instead of sending another', async () => {
    const { instanceId } = env.instances[1];
    const ctx = stepContext('collect');
    const input = { instanceId, documentName: 'AWS-RunShellScript', parameters: { commands: ['id'] }, ctx };

    const first = await run(input);
    const retry = await run(input);
    const otherStep = await run({ ...input, ctx: { ...ctx, stepId: 'collect-again' } });

    expect(retry.commandId).toBe(first.commandId);
    expect(otherStep.commandId).not.toBe(first.commandId);
    const marker = commandMarker(ctx);
    const marked = (await commandsOn(instanceId)).filter((c) => c.Comment === marker);
    expect(marked.map((c) => c.CommandId)).toEqual([first.commandId]);
  });

  it('an answer lost after SSM took the command: found by its marker in the same attempt, not sent again', async () => {
    const { instanceId } = env.instances[0];
    const ctx = stepContext('collect-lost');
    const faulty = testAws();
    let sends = 0;
    loseAnswerWhen(faulty.clients.ssm, 'SendCommandCommand', () =>
      ++sends === 1 ? awsError('InternalServerError', 'server') : undefined,
    );
    try {
      const out = await createSsmActivities(faulty.clients)['ssm.runCommand']({
        instanceId,
        documentName: 'AWS-RunShellScript',
        parameters: { commands: ['id'] },
        pollIntervalMs: 100,
        ctx,
      });
      expect(sends).toBe(1);
      expect(out).toMatchObject({ instanceId, status: 'Success' });
      const marked = (await commandsOn(instanceId)).filter((c) => c.Comment === commandMarker(ctx));
      expect(marked.map((c) => c.CommandId)).toEqual([out.commandId]);
    } finally {
      faulty.close();
    }
  });

  it('resumes the command named in the last heartbeat (a retry after a heartbeat timeout)', async () => {
    const { instanceId } = env.instances[0];
    const earlier = await run({ instanceId, documentName: 'AWS-RunShellScript', parameters: { commands: ['true'] } });
    const countBefore = (await commandsOn(instanceId)).length;

    const activityEnv = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { commandId: earlier.commandId, status: 'InProgress' },
    });
    const out = await inActivity(activityEnv, () =>
      run({ instanceId, documentName: 'AWS-RunShellScript', pollIntervalMs: 100 }),
    );

    expect(out.commandId).toBe(earlier.commandId);
    expect(await commandsOn(instanceId)).toHaveLength(countBefore);
  });
});

describe('ssm.runCommand outcomes moto cannot produce (aws-sdk-client-mock)', () => {
  const instanceId = 'i-0123456789abcdef0';
  const input = {
    instanceId,
    documentName: 'AWS-RunShellScript',
    parameters: { commands: ['false'] },
    pollIntervalMs: 100,
  };

  function mocked() {
    const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    mock.on(ListCommandsCommand).resolves({ Commands: [] });
    mock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    return { client, mock };
  }

  const notYet = () =>
    new InvocationDoesNotExist({
      $metadata: { httpStatusCode: 400 },
      message: 'An error occurred (InvocationDoesNotExist)',
    });

  it.each<CommandInvocationStatus>(['Failed', 'TimedOut', 'Cancelled'])(
    'a %s invocation fails non-retryable with its status and stderr',
    async (status) => {
      const { client, mock } = mocked();
      mock
        .on(GetCommandInvocationCommand)
        .rejectsOnce(notYet()) // just sent: not registered yet
        .resolvesOnce({ Status: 'InProgress' })
        .resolves({
          Status: status,
          StatusDetails: status,
          ResponseCode: 2,
          StandardOutputContent: 'partial output',
          StandardErrorContent: 'rm: cannot remove /evidence: Permission denied\n',
        });

      const err = await createSsmActivities({ ssm: client })
        ['ssm.runCommand']({ ...input, ctx: stepContext('run') })
        .then(
          () => undefined,
          (e: unknown) => e,
        );

      expect(err).toBeInstanceOf(ApplicationFailure);
      const f = err as ApplicationFailure;
      expect(f.nonRetryable).toBe(true);
      expect(f.type).toBe(`SsmCommand${status}`);
      expect(f.message).toBe(
        `ssm.runCommand: command cmd-1 on instance ${instanceId} ended ${status} (exit code 2): ` +
          'rm: cannot remove /evidence: Permission denied',
      );
      expect(f.details?.[0]).toMatchObject({ status, stdout: 'partial output', responseCode: 2 });
    },
  );

  it('gives up with InvocationDoesNotExist when the invocation never appears', async () => {
    const { client, mock } = mocked();
    mock.on(GetCommandInvocationCommand).rejects(notYet());
    const err = await createSsmActivities({ ssm: client }, { invocationGraceMs: 300 })
      ['ssm.runCommand'](input)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvocationDoesNotExist');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('stops polling and cancels the command when the activity is cancelled', async () => {
    const { client, mock } = mocked();
    mock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    mock.on(CancelCommandCommand).resolves({});
    const activityEnv = new MockActivityEnvironment();
    const beats: unknown[] = [];
    activityEnv.on('heartbeat', (d: unknown) => {
      beats.push(d);
      if (beats.length === 2) activityEnv.cancel();
    });

    const err = await activityEnv.run(createSsmActivities({ ssm: client })['ssm.runCommand'], input).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(CancelledFailure);
    expect(beats).toContainEqual({ commandId: 'cmd-1', status: 'InProgress' });
    const cancels = mock.commandCalls(CancelCommandCommand);
    expect(cancels.map((c) => c.args[0].input)).toEqual([{ CommandId: 'cmd-1', InstanceIds: [instanceId] }]);
    // No poll after the cancellation.
    const polls = mock.commandCalls(GetCommandInvocationCommand).length;
    await new Promise((r) => setTimeout(r, 300));
    expect(mock.commandCalls(GetCommandInvocationCommand)).toHaveLength(polls);
  });

  it('leaves the command running when the worker shuts down (the retry resumes it)', async () => {
    const { client, mock } = mocked();
    mock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    mock.on(CancelCommandCommand).resolves({});
    const activityEnv = new MockActivityEnvironment();
    const beats: unknown[] = [];
    activityEnv.on('heartbeat', (d: unknown) => {
      beats.push(d);
      // What the worker sends its running activities once its shutdown grace time is over.
      if (beats.length === 2)
        activityEnv.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    });

    const err = await activityEnv.run(createSsmActivities({ ssm: client })['ssm.runCommand'], input).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(CancelledFailure);
    expect(beats).toContainEqual({ commandId: 'cmd-1', status: 'InProgress' });
    expect(mock.commandCalls(CancelCommandCommand)).toEqual([]);
  });
});

describe('ssm.runCommand on several instances and on targets', () => {
  it('waits for every invocation of instanceIds and reports each one (moto)', async () => {
    const ids = env.instances.map((i) => i.instanceId);
    const out = await run({
      instanceIds: ids,
      documentName: 'AWS-RunShellScript',
      parameters: { commands: ['uptime'] },
      pollIntervalMs: 100,
      ctx: stepContext('fleet'),
    });
    expect(out).toMatchObject({ status: 'Success', failed: 0, instanceId: ids[0] });
    expect(out.invocations!.map((i) => [i.instanceId, i.status, i.stdoutTruncated])).toEqual(
      ids.map((id) => [id, 'Success', false]),
    );
    for (const id of ids) {
      const inv = await aws.clients.ssm.send(
        new GetCommandInvocationCommand({ CommandId: out.commandId, InstanceId: id }),
      );
      expect(inv.Status).toBe('Success');
    }
  });

  it('resolves tag targets to their instances (moto lists them on the command)', async () => {
    const target = env.instances[1];
    const [key, value] = Object.entries(target.tags).find(([k]) => k === 'Name')!;
    const out = await run({
      targets: [{ key: `tag:${key}`, values: [value] }],
      documentName: 'AWS-RunShellScript',
      parameters: { commands: ['id'] },
      pollIntervalMs: 100,
    });
    expect(out.invocations!.map((i) => i.instanceId)).toEqual([target.instanceId]);
    const [sent] = (await aws.clients.ssm.send(new ListCommandsCommand({ CommandId: out.commandId }))).Commands ?? [];
    expect(sent.Targets).toEqual([{ Key: `tag:${key}`, Values: [value] }]);
  });

  it('refuses no target or two kinds of target, non-retryable', async () => {
    const err = await run({ documentName: 'AWS-RunShellScript' }).catch((e: unknown) => e);
    expect((err as ApplicationFailure).type).toBe('InvalidTargets');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('dry run: sends nothing and names the SendCommand it would make', async () => {
    const { instanceId } = env.instances[0];
    const before = (await commandsOn(instanceId)).length;
    const out = await run({
      instanceId,
      documentName: 'AWS-RunShellScript',
      parameters: { commands: ['rm -rf /tmp/x'] },
      dryRun: true,
      ctx: stepContext('dry'),
    });
    expect(out).toMatchObject({ dryRun: true, status: 'DryRun' });
    expect(out.calls).toEqual([
      {
        service: 'ssm',
        operation: 'SendCommand',
        input: expect.objectContaining({ InstanceIds: [instanceId], Parameters: { commands: ['rm -rf /tmp/x'] } }),
      },
    ]);
    expect(await commandsOn(instanceId)).toHaveLength(before);
  });
});

describe('ssm.runCommand partial failure and truncation (aws-sdk-client-mock: moto only answers Success, empty)', () => {
  const ids = ['i-0123456789abcdef0', 'i-0123456789abcdef1'];
  function mocked() {
    const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const mock = mockClient(client);
    mock.on(ListCommandsCommand).resolves({ Commands: [] });
    mock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    mock
      .on(GetCommandInvocationCommand, { InstanceId: ids[0] })
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'x'.repeat(24_000) });
    mock
      .on(GetCommandInvocationCommand, { InstanceId: ids[1] })
      .resolves({ Status: 'Failed', ResponseCode: 1, StandardErrorContent: 'disk full' });
    return client;
  }
  const input = { instanceIds: ids, documentName: 'AWS-RunShellScript', pollIntervalMs: 100 };

  it('fails when any target fails, naming it and how many', async () => {
    const err = await createSsmActivities({ ssm: mocked() })
      ['ssm.runCommand'](input)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('SsmCommandFailed');
    expect((err as ApplicationFailure).message).toBe(
      `ssm.runCommand: command cmd-2 on 1 of 2 instances failed; instance ${ids[1]} ended Failed (exit code 1): disk full`,
    );
  });

  it('with allowFailure reports every invocation, flagging truncated output', async () => {
    const out = await createSsmActivities({ ssm: mocked() })['ssm.runCommand']({ ...input, allowFailure: true });
    expect(out).toMatchObject({ status: 'Failed', failed: 1 });
    expect(out.invocations).toEqual([
      expect.objectContaining({ instanceId: ids[0], status: 'Success', stdoutTruncated: true, stderrTruncated: false }),
      expect.objectContaining({ instanceId: ids[1], status: 'Failed', responseCode: 1, stderr: 'disk full' }),
    ]);
  });
});
