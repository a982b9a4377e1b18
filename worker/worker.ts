/**
 * Builds the firebreak worker: two Temporal workers on one connection, stopped together.
 * - fast: the task queue's workflows and every activity (plans dry-run slow actions here, and a slow step scheduled on
 *   this queue before the slow queue existed still finds its activity);
 * - slow: `<taskQueue>-slow`, only the actions that poll or wait (workflows/task-queues.ts), with slots of their own,
 *   so that they cannot hold every slot while a containment step or a notification waits to start.
 */
import { NativeConnection, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import { createActivities } from '../activities';
import { createArchiveActivities } from '../activities/archive';
import { createIncidentActivities } from '../activities/incident';
import { createResourceActivities, ownTargetOf, type OwnTarget } from '../activities/resource';
import { createClientFactory, isClientFactory, type ClientSource } from '../activities/clients';
import type { ActionActivities } from '../activities/schemas';
import { DEFAULT_EVIDENCE_DIR, type Config } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import type { Tracing } from '../telemetry/tracing';
import { slowTaskQueue, SLOW_ACTIONS } from '../workflows/task-queues';
import { instrumentActivities } from './activities';
import { BUNDLER_OPTIONS, WORKFLOWS_PATH } from './bundle';
import type { WorkerMetrics } from './metrics';

export interface WorkerDeps {
  config: Pick<Config, 'temporalAddress' | 'temporalNamespace' | 'taskQueue' | 'awsRegion' | 'awsEndpoint'> &
    Partial<
      Pick<
        Config,
        | 'workerShutdownGraceMs'
        | 'targetAccounts'
        | 'assumeRoleName'
        | 'assumeRoleExternalId'
        | 'temporalTls'
        | 'temporalApiKey'
        | 'workerMaxActivities'
        | 'workerMaxSlowActivities'
        | 'workerMaxWorkflowTasks'
        | 'workerMaxCachedWorkflows'
        | 'workerQueues'
        | 'evidenceDir'
      >
    >;
  connection?: NativeConnection;
  /** Prebuilt workflow bundle (tests build it once); else the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Defaults to the real activities on clients from the config. */
  activities?: ActionActivities;
  /** Fixed clients (every step in one account and region), or a factory; default: a factory from the config. */
  clients?: ClientSource;
  /** Times each action attempt (worker/metrics.ts); unset: not timed. */
  metrics?: WorkerMetrics;
  /** OpenTelemetry interceptors and sink (telemetry/tracing.ts); unset: no tracing. */
  tracing?: Tracing['worker'];
}

/** The fast and slow queues' workers as one: run, runUntil, shutdown and state cover both. */
export interface FirebreakWorker {
  /** The task queue's worker (workflows and every action); absent when FIREBREAK_WORKER_QUEUES=slow. */
  readonly fast?: Worker;
  /** The slow queue's worker (slow actions only); absent when FIREBREAK_WORKER_QUEUES=fast. */
  readonly slow?: Worker;
  /** Runs every worker until shutdown (a signal, or one of them stopping or failing stops the others too). */
  run(): Promise<void>;
  /** Runs the workers until `fnOrPromise` settles, then shuts them down; like Worker.runUntil. */
  runUntil<R>(fnOrPromise: Promise<R> | (() => Promise<R>)): Promise<R>;
  /** Starts a graceful shutdown of every running worker (each lets its steps finish for the shutdown grace time). */
  shutdown(): void;
  /** RUNNING while every worker runs; else the first other state. */
  getState(): State;
}

export async function createWorker(deps: WorkerDeps): Promise<FirebreakWorker> {
  const { config } = deps;
  const connection = deps.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config)));
  const clientSource = (): ClientSource =>
    deps.clients ??
    createClientFactory({
      region: config.awsRegion,
      endpoint: config.awsEndpoint,
      targetAccounts: config.targetAccounts,
      assumeRoleName: config.assumeRoleName,
      assumeRoleExternalId: config.assumeRoleExternalId,
    });
  const source = clientSource();
  const realActivities = (from: ClientSource = clientSource()) => createActivities(from);
  // Resource locks are keyed by the real account and region, whether an execution names them or not.
  const own: OwnTarget = isClientFactory(source)
    ? { account: source.ownAccount, region: config.awsRegion }
    : ownTargetOf(source.sts, config.awsRegion);
  const activities = instrumentActivities(deps.activities ?? realActivities(source), deps.metrics);
  // The slow queue's actions get clients of their own (unless the caller fixed them): each SDK client has its own
  // socket pool (50), which slow steps making call after call would otherwise share with the fast ones.
  const slowActivities =
    deps.activities || deps.clients ? activities : instrumentActivities(realActivities(), deps.metrics);
  const queues = config.workerQueues ?? 'all';
  const common = {
    connection,
    namespace: config.temporalNamespace,
    // On SIGTERM (a deploy) running steps may finish first; after the grace time they are cancelled as "worker
    // shutdown", which the activities tell apart from a cancellation by the workflow (activities/clients.ts), and
    // Temporal retries them elsewhere. Unset (tests): the SDK's default, 0.
    ...(config.workerShutdownGraceMs !== undefined ? { shutdownGraceTime: config.workerShutdownGraceMs } : {}),
  };
  const fast =
    queues === 'slow'
      ? undefined
      : await Worker.create({
          ...common,
          taskQueue: config.taskQueue,
          ...(deps.workflowBundle
            ? { workflowBundle: deps.workflowBundle }
            : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: BUNDLER_OPTIONS }),
          // Catalogue actions report their attempt (instrumented, and timed for the worker's metrics); the resource
          // lock's request and the incident's reading of its runbook's end are the engine's own.
          activities: {
            ...activities,
            ...createResourceActivities(config.taskQueue, own),
            ...createIncidentActivities(),
            ...createArchiveActivities(config.evidenceDir ?? path.resolve(DEFAULT_EVIDENCE_DIR)),
          },
          ...(deps.tracing ?? {}),
          ...(config.workerMaxActivities !== undefined
            ? { maxConcurrentActivityTaskExecutions: config.workerMaxActivities }
            : {}),
          ...(config.workerMaxWorkflowTasks !== undefined
            ? { maxConcurrentWorkflowTaskExecutions: config.workerMaxWorkflowTasks }
            : {}),
          // Bounds the worker's memory however many workflows wait (unset, tests: the SDK's default).
          ...(config.workerMaxCachedWorkflows !== undefined
            ? { maxCachedWorkflows: config.workerMaxCachedWorkflows }
            : {}),
        });
  const slow =
    queues === 'fast'
      ? undefined
      : await Worker.create({
          ...common,
          taskQueue: slowTaskQueue(config.taskQueue),
          activities: Object.fromEntries(SLOW_ACTIONS.map((name) => [name, slowActivities[name]])),
          // No workflows here: only the activity interceptors of tracing apply.
          ...(deps.tracing ? { interceptors: { activity: deps.tracing.interceptors.activity } } : {}),
          ...(config.workerMaxSlowActivities !== undefined
            ? { maxConcurrentActivityTaskExecutions: config.workerMaxSlowActivities }
            : {}),
        });
  return combine(fast, slow);
}

function combine(fast: Worker | undefined, slow: Worker | undefined): FirebreakWorker {
  const workers = [fast, slow].filter((w): w is Worker => w !== undefined);
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  const run = async () => {
    // One worker stopping (or failing) stops the other: a process that serves half its queues would look healthy.
    const results = await Promise.allSettled(workers.map((w) => w.run().finally(shutdown)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  return {
    fast,
    slow,
    run,
    shutdown,
    getState: () => workers.map((w) => w.getState()).find((s) => s !== 'RUNNING') ?? 'RUNNING',
    async runUntil<R>(fnOrPromise: Promise<R> | (() => Promise<R>)): Promise<R> {
      const running = run(); // first: the workers are RUNNING before the body can ask them to stop
      let inner: PromiseSettledResult<R> | undefined;
      void (async () => {
        try {
          inner = {
            status: 'fulfilled',
            value: await (typeof fnOrPromise === 'function' ? fnOrPromise() : fnOrPromise),
          };
        } catch (err) {
          inner = { status: 'rejected', reason: err };
        } finally {
          shutdown();
        }
      })();
      await running; // a worker's failure is thrown as is, as Worker.runUntil does when the promise went well
      if (inner === undefined) throw new Error('the workers stopped before the promise settled');
      if (inner.status === 'rejected') throw inner.reason;
      return inner.value;
    },
  };
}
