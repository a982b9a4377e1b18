/**
 * Where an action runs: the client factory against moto's multi-account STS (AssumeRole into another account returns
 * credentials that act in that account), checked through each account's own API.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ApplicationFailure } from '@temporalio/common';
import { mockClient } from 'aws-sdk-client-mock';
import { createActivities } from '../../activities';
import {
  createAwsClients,
  createClientFactory,
  destroyAwsClients,
  roleSessionName,
  type AwsClients,
  type ClientFactory,
} from '../../activities/clients';
import type { ActionActivities, StepContext } from '../../activities/schemas';
import { DEFAULT_ACCOUNT, emulatorConfig, stepContext, testAws, testAwsIn, type TestAws } from '../stack/aws';

const B = '111122223333';
const NOT_ALLOWED = '999988887777';

let a: TestAws;
let b: TestAws;
let eu: TestAws;
let outsider: TestAws;
let own: AwsClients;
let factory: ClientFactory;
let acts: ActionActivities;
let assumeRoleCalls: string[];

beforeAll(async () => {
  a = testAws();
  [b, eu, outsider] = await Promise.all([
    testAwsIn({ account: B }),
    testAwsIn({ region: 'eu-west-1' }),
    testAwsIn({ account: NOT_ALLOWED }),
  ]);
  own = createAwsClients(emulatorConfig());
  assumeRoleCalls = [];
  // Records the AssumeRole calls the factory makes (which session, into which role), to show when none is made.
  own.sts.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'AssumeRoleCommand') {
        const input = args.input as { RoleArn: string; RoleSessionName: string };
        assumeRoleCalls.push(`${input.RoleArn} ${input.RoleSessionName}`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordAssumeRole' },
  );
  factory = createClientFactory({ ...emulatorConfig(), own, targetAccounts: [B] });
  acts = createActivities(factory);
});
afterAll(() => {
  factory.destroy();
  destroyAwsClients(own);
  for (const t of [a, b, eu, outsider]) t.close();
});

const ctxFor = (target: StepContext['target'], stepId = 'stop'): StepContext => ({ ...stepContext(stepId), target });

async function stateIn(t: TestAws, instanceId: string): Promise<string | undefined> {
  const out = await t.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('target account', () => {
  it("acts in account B on B's instance through AssumeRole, and changes nothing in account A", async () => {
    const [envA, envB] = await Promise.all([a.seed('acct-a', { instances: 1 }), b.seed('acct-b', { instances: 1 })]);
    const bInstance = envB.instances[0].instanceId;
    const aInstance = envA.instances[0].instanceId;
    const ctx = ctxFor({ account: B });

    const out = await acts['ec2.stopInstance']({ instanceId: bInstance, ctx });

    expect(out).toMatchObject({ instanceId: bInstance, previousState: 'running', changed: true });
    expect(await stateIn(b, bInstance)).toBe('stopped');
    expect(await stateIn(a, aInstance)).toBe('running');
    // B's instance does not exist in A: the same action without a target is refused there.
    const err = await failure(acts['ec2.stopInstance']({ instanceId: bInstance, ctx: stepContext('stop') }));
    expect(err.type).toBe('InvalidInstanceID.NotFound');
    expect(assumeRoleCalls).toContain(`arn:aws:iam::${B}:role/firebreak-responder ${roleSessionName(ctx.executionId)}`);
  });

  it('names the execution in the assumed session and keeps the credentials per account, region and execution', async () => {
    const executionId = `ec2-compromise/${'x'.repeat(80)} run:1`;
    const before = assumeRoleCalls.length;
    const clients = await factory.forStep({ executionId, target: { account: B } });
    const identity = await clients.sts.send(new GetCallerIdentityCommand({}));

    expect(identity.Account).toBe(B);
    const session = roleSessionName(executionId);
    expect(session).toMatch(/^firebreak-ec2-compromise-x+$/);
    expect(session).toHaveLength(64);
    expect(identity.Arn).toBe(`arn:aws:sts::${B}:assumed-role/firebreak-responder/${session}`);

    // The same step again reuses the session; another region of the same account gets its own clients.
    expect(await factory.forStep({ executionId, target: { account: B } })).toBe(clients);
    const other = await factory.forStep({ executionId, target: { account: B, region: 'eu-west-1' } });
    expect(other).not.toBe(clients);
    expect(await other.ec2.config.region()).toBe('eu-west-1');
    expect(assumeRoleCalls.length - before).toBe(2);
  });

  it('assumes the role again once the credentials are close to expiry', async () => {
    let now = Date.now();
    const calls: string[] = [];
    const clients = createAwsClients(emulatorConfig());
    clients.sts.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'AssumeRoleCommand') calls.push(context.commandName);
        return next(args);
      },
      { step: 'initialize', name: 'countAssumeRole' },
    );
    const f = createClientFactory({ ...emulatorConfig(), own: clients, targetAccounts: [B], now: () => now });
    try {
      const step = { executionId: 'exec-expiry', target: { account: B } };
      await f.forStep(step);
      await f.forStep(step);
      expect(calls).toHaveLength(1);
      // moto's sessions last the requested hour; 5 minutes before the end they are renewed.
      now += 56 * 60_000;
      const renewed = await f.forStep(step);
      expect(calls).toHaveLength(2);
      expect((await renewed.sts.send(new GetCallerIdentityCommand({}))).Account).toBe(B);
    } finally {
      f.destroy();
      destroyAwsClients(clients);
    }
  });

  it('refuses an account that is not allow-listed, before any call into it', async () => {
    const env = await outsider.seed('outsider', { instances: 1 });
    const { instanceId } = env.instances[0];
    const before = assumeRoleCalls.length;

    const err = await failure(acts['ec2.stopInstance']({ instanceId, ctx: ctxFor({ account: NOT_ALLOWED }) }));

    expect(err.type).toBe('TargetAccountNotAllowed');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(new RegExp(`account ${NOT_ALLOWED} is not an allowed target`));
    expect(assumeRoleCalls.length).toBe(before);
    expect(await stateIn(outsider, instanceId)).toBe('running');
  });

  it("uses the worker's own credentials for its own account, allow-listed or not", async () => {
    const env = await a.seed('own', { instances: 1 });
    const { instanceId } = env.instances[0];
    const before = assumeRoleCalls.length;
    await acts['ec2.stopInstance']({ instanceId, ctx: ctxFor({ account: DEFAULT_ACCOUNT }) });
    expect(await stateIn(a, instanceId)).toBe('stopped');
    expect(assumeRoleCalls.length).toBe(before);
  });

  it('names an AssumeRole refusal (aws-sdk-client-mock: moto lets any role be assumed)', async () => {
    const clients = createAwsClients(emulatorConfig());
    const sts = mockClient(clients.sts as STSClient);
    sts.on(GetCallerIdentityCommand).resolves({ Account: DEFAULT_ACCOUNT });
    const denied = Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), {
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    const f = createClientFactory({
      ...emulatorConfig(),
      own: clients,
      targetAccounts: [B],
      assumeRoleName: 'ir-role',
      assumeRoleExternalId: 'ext-123',
    });
    try {
      sts.on(AssumeRoleCommand).rejects(denied);
      const err = await failure(
        createActivities(f)['ec2.stopInstance']({
          instanceId: 'i-0123456789abcdef0',
          ctx: { ...stepContext('stop', { executionId: 'exec-1' }), target: { account: B } },
        }),
      );
      expect(err.type).toBe('AssumeRoleFailed');
      expect(err.nonRetryable).toBe(true);
      expect(err.message).toContain(`cannot assume arn:aws:iam::${B}:role/ir-role as firebreak-exec-1: AccessDenied`);
      const call = sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input;
      expect(call).toMatchObject({ ExternalId: 'ext-123', RoleSessionName: 'firebreak-exec-1' });

      // A throttled AssumeRole is worth retrying.
      sts
        .on(AssumeRoleCommand)
        .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
      const throttled = await failure(f.forStep({ executionId: 'exec-2', target: { account: B } }));
      expect(throttled.type).toBe('AssumeRoleFailed');
      expect(throttled.nonRetryable).toBe(false);
    } finally {
      sts.restore();
      f.destroy();
      destroyAwsClients(clients);
    }
  });
});

describe('target region', () => {
  it('acts in another region of the own account', async () => {
    const env = await eu.seed('eu', { instances: 1 });
    const { instanceId } = env.instances[0];

    const out = await acts['ec2.stopInstance']({ instanceId, ctx: ctxFor({ region: 'eu-west-1' }) });

    expect(out.changed).toBe(true);
    expect(await stateIn(eu, instanceId)).toBe('stopped');
    const err = await failure(acts['ec2.captureInstance']({ instanceId, ctx: stepContext('capture') }));
    expect(err.type).toBe('InvalidInstanceID.NotFound');
  });
});
