/**
 * A worker that dies or is redeployed mid-step: the step is retried within its heartbeat timeout (not its
 * start-to-close timeout) after `kill -9`, and after SIGTERM it either finishes within the shutdown grace time or is
 * left running for the next worker, never cancelled and rolled back. The worker under test runs in a child process
 * (test/workflows/fixtures/worker-process.ts), since only a process can be killed; the next worker runs here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeInstanceAttributeCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { expr, type RunbookDefinition, type Step } from '../../runbooks/dsl/types';
import { commandMarker } from '../../activities/ssm';
import { DEFAULT_HEARTBEAT_TIMEOUT } from '../../workflows/runbook';
import type { SeedResult } from '../../scripts/seed';
import { simulateSsmCommands } from './fixtures/aws-faults';
import { testAws, type TestAws } from '../stack/aws';
import { startRunbook, testTemporal, uniqueId, waitForState, type TestTemporal } from '../stack/temporal';
import { durationMs } from '../../runbooks/dsl/duration';

let aws: TestAws;
let temporal: TestTemporal;
const children: ChildProcess[] = [];

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the first stdout line that matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: string | null }>;
}

function workerProcess(taskQueue: string, env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'worker-process.ts')], {
    env: { ...process.env, FIREBREAK_TASK_QUEUE: taskQueue, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of [...waiters]) {
      const line = out.split('\n').find((l) => w.pattern.test(l));
      if (line) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const within = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${what} not within ${ms} ms; stdout: ${out}; stderr: ${err}`)), ms).unref(),
      ),
    ]);
  return {
    child,
    line: (pattern, timeoutMs = 60_000) =>
      within(new Promise<string>((resolve) => waiters.push({ pattern, resolve })), timeoutMs, `line ${pattern}`),
    exited: (timeoutMs = 30_000) => within(exit, timeoutMs, 'exit'),
  };
}

function loaded(def: RunbookDefinition) {
  return new RunbookRegistry([def]).get(def.id)!;
}

function runbookInput(env: SeedResult, def: RunbookDefinition) {
  const rb = loaded(def);
  return {
    runbook: rb.definition,
    digest: rb.digest,
    params: { instanceId: env.instances[0].instanceId, notifyTopicArn: env.topicArn },
    startedBy: { id: 'user:test' },
    reason: 'test',
  };
}

const step = (id: string): Step => ec2Compromise.steps.find((s) => s.id === id)!;

test('kill -9 of the worker during the evidence snapshots: the step is retried within its heartbeat timeout', async () => {
  const env = await aws.seed('crash', { instances: 1 });
  // The snapshot step as ec2-compromise has it: a 10-minute start-to-close timeout, no heartbeat timeout of its own.
  const def: RunbookDefinition = {
    ...ec2Compromise,
    id: 'crash-snapshots',
    rollbackWindow: undefined,
    steps: [step('capture'), step('snapshot-volumes')],
  };
  expect(step('snapshot-volumes')).toMatchObject({ timeout: '10m' });
  expect(step('snapshot-volumes')).not.toHaveProperty('heartbeatTimeout');
  const taskQueue = uniqueId('tq-crash');
  const doomed = workerProcess(taskQueue, { TEST_FAULT: 'hang-snapshot' });
  await doomed.line(/worker running/);
  const handle = await startRunbook(temporal, taskQueue, runbookInput(env, def));
  await doomed.line(/hanging CreateSnapshotCommand/);
  doomed.child.kill('SIGKILL');
  const killedAt = Date.now();
  await doomed.exited();

  const run = await withSuccessor(taskQueue, async () => {
    const done = await waitForState(handle, (s) => s.status === 'succeeded', 90_000);
    return { done, elapsed: Date.now() - killedAt };
  });
  const snap = run.done.steps.find((s) => s.id === 'snapshot-volumes')!;
  expect(snap).toMatchObject({ status: 'succeeded', attempts: 2 });
  // Retried after the heartbeat timeout (plus the time Temporal takes to notice and re-dispatch), not 10 minutes.
  expect(run.elapsed).toBeLessThan(durationMs(DEFAULT_HEARTBEAT_TIMEOUT) + 30_000);
  // The evidence exists once per volume (the killed attempt never reached CreateSnapshot).
  const snaps = await aws.clients.ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:firebreak:execution-id', Values: [handle.workflowId] }],
    }),
  );
  expect((snaps.Snapshots ?? []).map((s) => s.VolumeId).sort()).toEqual([...env.instances[0].volumeIds].sort());
});

/** Runs `body` while a worker in this process serves `taskQueue` (the successor of a worker process). */
async function withSuccessor<T>(taskQueue: string, body: () => Promise<T>, clients = aws.clients): Promise<T> {
  const { createWorker } = await import('../../worker/worker');
  const worker = await createWorker({
    config: { temporalAddress: '', temporalNamespace: 'default', taskQueue, awsRegion: 'us-east-1' },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    clients,
  });
  return worker.runUntil(body());
}

/** Capture, protect (which a rollback would undo), then a long SSM command. */
function ssmRunbook(): RunbookDefinition {
  return {
    ...ec2Compromise,
    id: 'deploy-ssm',
    rollbackWindow: undefined,
    steps: [
      step('capture'),
      step('protect-termination'),
      {
        id: 'collect',
        kind: 'action',
        title: 'Collect volatile data on the instance',
        action: 'ssm.runCommand',
        with: {
          instanceId: expr('params.instanceId'),
          documentName: 'AWS-RunShellScript',
          parameters: { commands: ['collect-volatile-data'] },
          pollIntervalMs: 200,
        },
        timeout: '30m',
      },
    ],
  };
}

async function protectionOn(instanceId: string): Promise<boolean> {
  const out = await aws.clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return out.DisableApiTermination?.Value ?? false;
}

test.each([
  ['past the grace time: the command is left running and the next worker finishes the step', '1s', undefined, 2],
  ['within the grace time: the stopping worker finishes the step itself', '1m', '2000', 1],
] as const)('SIGTERM during a long SSM command, %s', async (_what, grace, runAfterTerm, attempts) => {
  const env = await aws.seed('deploy', { instances: 1 });
  const instanceId = env.instances[0].instanceId;
  const cancelledFile = path.join(mkdtempSync(path.join(tmpdir(), 'firebreak-')), 'cancelled');
  const taskQueue = uniqueId('tq-deploy');
  const old = workerProcess(taskQueue, {
    FIREBREAK_WORKER_SHUTDOWN_GRACE: grace,
    TEST_FAULT: 'ssm-running',
    TEST_CANCELLED_FILE: cancelledFile,
    ...(runAfterTerm ? { TEST_SSM_RUN_AFTER_TERM_MS: runAfterTerm } : {}),
  });
  await old.line(/worker running/);
  const handle = await startRunbook(temporal, taskQueue, runbookInput(env, ssmRunbook()));
  const commandId = (await old.line(/^polling /)).split(' ')[1];
  old.child.kill('SIGTERM');
  // The worker stops once its step finished or its grace time ran out.
  expect(await old.exited(60_000)).toEqual({ code: 0, signal: null });

  // The next worker's SSM sees the same command: still running unless someone cancelled it, then done.
  const next = testAws();
  simulateSsmCommands(next.clients.ssm, { cancelledFile, running: () => false });
  try {
    const done = await withSuccessor(
      taskQueue,
      () => waitForState(handle, (s) => ['succeeded', 'failed', 'rolled-back'].includes(s.status), 60_000),
      next.clients,
    );
    expect(done.status).toBe('succeeded');
    expect(done.rollback).toBeUndefined();
    const collect = done.steps.find((s) => s.id === 'collect')!;
    expect(collect).toMatchObject({ status: 'succeeded', attempts, output: { commandId, status: 'Success' } });
  } finally {
    next.close();
  }
  // The command was never cancelled, and it is the only one this step sent.
  expect(existsSync(cancelledFile) ? readFileSync(cancelledFile, 'utf8') : '').toBe('');
  const listed = await aws.clients.ssm.send(new ListCommandsCommand({ InstanceId: instanceId }));
  const marker = commandMarker({ executionId: handle.workflowId, runbookId: 'deploy-ssm', stepId: 'collect' });
  expect((listed.Commands ?? []).filter((c) => c.Comment?.startsWith(marker)).map((c) => c.CommandId)).toEqual([
    commandId,
  ]);
  // Nothing was rolled back: the instance is still protected.
  expect(await protectionOn(instanceId)).toBe(true);
});
