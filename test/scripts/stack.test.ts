/**
 * The stack helpers of scripts/stack.ts, on real processes: a free port, moto answering an AWS call, stopping; and
 * what `npm start` adds for the cross-account demo (scripts/start.ts, scripts/demo-seed.ts), against the test moto.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { DescribeInstancesCommand, DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { loadConfig } from '../../config/env';
import { DEMO_SECOND_ACCOUNT, demoSecondRegion, seedDemo } from '../../scripts/demo-seed';
import { parseSettings } from '../../scripts/start';
import { EMULATOR_CREDENTIALS, freePort, startMoto, stopProcess, waitForPort, type Started } from '../../scripts/stack';
import { testAwsIn } from '../stack/aws';

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A node child that prints `ready` once its signal handlers are installed. */
async function nodeChild(code: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
  expect(chunk.toString()).toContain('ready');
  return proc;
}

describe('freePort', () => {
  it('returns a port nothing listens on, which can then be bound', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1024);
    expect(port).toBeLessThan(65536);
    expect(await connects(port)).toBe(false);
    const srv = await listen(port);
    srv.close();
  });
});

describe('waitForPort', () => {
  it('fails fast, naming the exit code, when the process dies before listening', async () => {
    const proc = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    const started = Date.now();
    await expect(waitForPort(await freePort(), '127.0.0.1', 20_000, proc)).rejects.toThrow(/exited with code 3/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('startMoto and stopProcess', () => {
  let moto: Started | undefined;
  afterAll(async () => {
    if (moto) await stopProcess(moto.proc, 2_000);
  });

  it('starts moto, which answers an EC2 call, and stops it', async () => {
    const port = await freePort();
    moto = await startMoto({ port });
    const ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: {
        accessKeyId: EMULATOR_CREDENTIALS.AWS_ACCESS_KEY_ID,
        secretAccessKey: EMULATOR_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
      },
    });
    try {
      const res = await ec2.send(new DescribeRegionsCommand({}));
      expect(res.Regions?.map((r) => r.RegionName)).toContain('us-east-1');
    } finally {
      ec2.destroy();
    }

    await moto.stop();
    expect(moto.proc.exitCode !== null || moto.proc.signalCode !== null).toBe(true);
    expect(await connects(port)).toBe(false);
  });

  it('resolves at once for a process that already exited', async () => {
    const proc = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(proc, 'exit');
    await expect(stopProcess(proc)).resolves.toBeUndefined();
  });

  it('sends SIGTERM first, and SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const polite = await nodeChild(
      `process.on('SIGTERM', () => process.exit(0)); console.log('ready'); setInterval(() => {}, 1000);`,
    );
    await stopProcess(polite, 5_000);
    expect(polite.exitCode).toBe(0);

    const stubborn = await nodeChild(
      `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`,
    );
    const started = Date.now();
    await stopProcess(stubborn, 300);
    expect(stubborn.signalCode).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe('npm start: the second demo account and region', () => {
  it('allow-lists the second demo account for the worker, besides the accounts the user allows', () => {
    expect(parseSettings({}).childEnv.FIREBREAK_TARGET_ACCOUNTS).toBe(DEMO_SECOND_ACCOUNT);
    const mine = parseSettings({ FIREBREAK_TARGET_ACCOUNTS: '111111111111' }).childEnv.FIREBREAK_TARGET_ACCOUNTS;
    expect(mine).toBe(`111111111111,${DEMO_SECOND_ACCOUNT}`);
    expect(loadConfig(parseSettings({}).childEnv).targetAccounts).toEqual([DEMO_SECOND_ACCOUNT]);
    // Real AWS: nothing is added.
    expect(parseSettings({ FIREBREAK_AWS_MODE: 'aws' }).childEnv.FIREBREAK_TARGET_ACCOUNTS).toBeUndefined();
  });

  it('seeds the demo in the second account and region through AssumeRole, once; found again on a restart', async () => {
    const endpoint = process.env.FIREBREAK_AWS_ENDPOINT!;
    const region = demoSecondRegion('us-east-1');
    expect(region).not.toBe('us-east-1');
    const first = await seedDemo({ endpoint, region, account: DEMO_SECOND_ACCOUNT });
    expect(first.seeded).toBe(true);
    expect(first.topicArn).toContain(`:${region}:${DEMO_SECOND_ACCOUNT}:`);
    // Through the EC2 API: the instance is in that account and region, and not in the default account's region.
    const there = await testAwsIn({ account: DEMO_SECOND_ACCOUNT, region });
    const own = await testAwsIn({ region });
    try {
      const found = await there.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [first.instanceId!] }));
      expect(found.Reservations?.[0]?.OwnerId).toBe(DEMO_SECOND_ACCOUNT);
      await expect(
        own.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [first.instanceId!] })),
      ).rejects.toThrow(/does not exist/);
    } finally {
      there.close();
      own.close();
    }
    const again = await seedDemo({ endpoint, region, account: DEMO_SECOND_ACCOUNT });
    expect(again).toMatchObject({ seeded: false, instanceId: first.instanceId, vpcId: first.vpcId });
  });
});
