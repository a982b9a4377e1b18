/**
 * Workflow test helpers: a client on the jest stack's dev server, and a fresh worker per test (on its own task queue)
 * running the prebuilt bundle until the test's body finishes.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { ActionActivities } from '../../activities/schemas';
import { createActivities } from '../../activities';
import type { AwsClients } from '../../activities/clients';
import type { Config } from '../../config/env';
import { createWorker, type FirebreakWorker } from '../../worker/worker';
import { RESOURCE_WORKFLOW } from '../../workflows/resource-messages';
import { RUNBOOK_WORKFLOW, stateQuery, type ExecutionState, type RunbookWorkflowInput } from '../../workflows/messages';
import type { runbookWorkflow } from '../../workflows/runbook';

export type RunbookHandle = WorkflowHandle<typeof runbookWorkflow>;

let runtimeInstalled = false;

export interface TestTemporal {
  client: Client;
  connection: NativeConnection;
  close(): Promise<void>;
}

export async function testTemporal(): Promise<TestTemporal> {
  if (!runtimeInstalled) {
    // Tests fail workflows on purpose: keep the SDK's own logs to errors so the output stays readable.
    // Core's "task not found" warnings under heavy Update load are expected, so core logs only errors too.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
    runtimeInstalled = true;
  }
  const address = process.env.FIREBREAK_TEMPORAL_ADDRESS;
  if (!address)
    throw new Error('FIREBREAK_TEMPORAL_ADDRESS is not set: the jest global setup should have started Temporal');
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  return {
    client: new Client({ connection: clientConnection }),
    connection,
    close: async () => {
      await clientConnection.close();
      await connection.close();
      // The native runtime keeps the process alive until it is shut down (jest would not exit otherwise).
      await Runtime.instance().shutdown();
      runtimeInstalled = false;
    },
  };
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface WorkerRun {
  taskQueue: string;
  /** Serves `taskQueue` and its slow queue (`<taskQueue>-slow`, workflows/task-queues.ts). */
  worker: FirebreakWorker;
}

/** Where tests' closed incidents are archived unless a test names its own folder (never the repository's). */
export const TEST_EVIDENCE_DIR = path.join(tmpdir(), `firebreak-test-evidence-${process.pid}`);

/** Runs `body` while a fresh worker (own task queue) serves it; activities default to the real ones on `clients`. */
export async function withWorker<T>(
  temporal: TestTemporal,
  opts: {
    clients: AwsClients;
    activities?: (real: ActionActivities) => ActionActivities;
    evidenceDir?: string;
    /** Capacity settings (config/env.ts), e.g. few workflow task slots. */
    capacity?: Partial<Pick<Config, 'workerMaxWorkflowTasks' | 'workerMaxActivities'>>;
  },
  body: (run: WorkerRun) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueId('tq');
  const real = createActivities(opts.clients);
  // Which steps are running, for the shutdown watchdog below.
  const running = new Map<string, string>();
  let started = 0;
  const tracked = (acts: ActionActivities): ActionActivities =>
    Object.fromEntries(
      Object.entries(acts).map(([name, fn]) => [
        name,
        async (input: unknown) => {
          const key = `${name}#${++started}`;
          running.set(key, new Date().toISOString());
          try {
            return await (fn as (i: unknown) => Promise<unknown>)(input);
          } finally {
            running.delete(key);
          }
        },
      ]),
    ) as unknown as ActionActivities;
  const worker = await createWorker({
    config: {
      temporalAddress: '',
      temporalNamespace: 'default',
      taskQueue,
      awsRegion: 'us-east-1',
      evidenceDir: opts.evidenceDir ?? TEST_EVIDENCE_DIR,
      ...opts.capacity,
    },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    // Also what resolves the worker's own account for resource locks (moto's default account).
    clients: opts.clients,
    activities: tracked(opts.activities ? opts.activities(real) : real),
  });
  // A worker that does not stop soon after the body ends says what it still holds (the test then times out with it).
  let bodyDone = false;
  const watchdog = setInterval(() => {
    if (!bodyDone) return;
    const held = [worker.fast, worker.slow].map((w) => w && { state: w.getState(), ...w.getStatus() });
    process.stderr.write(
      `withWorker(${taskQueue}): still shutting down: ${JSON.stringify(held)}; ` +
        `steps running since: ${JSON.stringify(Object.fromEntries(running))}\n`,
    );
  }, 15_000);
  try {
    return await worker.runUntil(body({ taskQueue, worker }).finally(() => (bodyDone = true)));
  } finally {
    clearInterval(watchdog);
    await endRecordsOn(temporal, taskQueue);
  }
}

/**
 * Ends the resource records (workflows/resource.ts) left running on a test's queue once its worker is gone. The queue
 * dies with the test, and a record on it would never run again: a later test of the file acting on the same instance
 * would wait on it for ever (its lock request joins the running record). That happens when a test ends before its
 * record took the last release (the record then ends by itself as idle) or leaves a containment. In production one
 * queue outlives every deploy; a record left on a renamed queue fails the lock request as `ResourceRecordElsewhere`
 * (activities/resource.ts), which an operator ends by hand.
 */
async function endRecordsOn(temporal: TestTemporal, taskQueue: string): Promise<void> {
  const query = `TaskQueue = "${taskQueue}" AND WorkflowType = "${RESOURCE_WORKFLOW}" AND ExecutionStatus = "Running"`;
  try {
    for await (const wf of temporal.client.workflow.list({ query })) {
      await temporal.client.workflow
        .getHandle(wf.workflowId, wf.runId)
        .terminate(`test worker on ${taskQueue} is gone`)
        .catch(() => undefined); // ended by itself meanwhile
    }
  } catch (err) {
    process.stderr.write(`withWorker(${taskQueue}): could not end its resource records: ${String(err)}\n`);
  }
}

export async function startRunbook(
  temporal: TestTemporal,
  taskQueue: string,
  input: RunbookWorkflowInput,
  workflowId = uniqueId(input.runbook.id),
): Promise<RunbookHandle> {
  return temporal.client.workflow.start<typeof runbookWorkflow>(RUNBOOK_WORKFLOW, {
    taskQueue,
    workflowId,
    args: [input],
  });
}

/** Polls the execution's state until `predicate` holds; fails with the last state seen. */
export async function waitForState(
  handle: WorkflowHandle,
  predicate: (s: ExecutionState) => boolean,
  timeoutMs = 60_000,
): Promise<ExecutionState> {
  const deadline = Date.now() + timeoutMs;
  let last: ExecutionState | undefined;
  for (;;) {
    try {
      last = await handle.query(stateQuery);
      if (predicate(last)) return last;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`state did not match in ${timeoutMs} ms; last: ${JSON.stringify(last, null, 1)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const commander = { id: 'user:alice', roles: ['incident-commander'] };
