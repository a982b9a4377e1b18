/**
 * `npm run worker`: runs the firebreak worker (its fast and slow queues, worker/worker.ts) until SIGINT/SIGTERM, then
 * drains in-flight tasks on both and exits.
 */
import { Runtime } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../config/env';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { createLogger } from '../telemetry/logger';
import { setupTracing } from '../telemetry/tracing';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics';
import { runtimeOptions } from './runtime';
import { slowTaskQueue } from '../workflows/task-queues';
import { ensureRetention } from './retention';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('firebreak-worker', config.logLevel);
  Runtime.install(runtimeOptions(config, log));
  const tracing = setupTracing(config, 'firebreak-worker');
  const metrics = createWorkerMetrics();
  const worker = await createWorker({ config, metrics, tracing: tracing?.worker });
  await logRetention(config, log);
  const server =
    config.workerMetricsPort !== undefined
      ? await serveWorkerMetrics(metrics, {
          port: config.workerMetricsPort,
          healthy: () => worker.getState() === 'RUNNING',
        })
      : undefined;
  log.info(
    {
      taskQueue: config.taskQueue,
      slowTaskQueue: slowTaskQueue(config.taskQueue),
      queues: config.workerQueues,
      slots: {
        activities: config.workerMaxActivities,
        slowActivities: config.workerMaxSlowActivities,
        workflowTasks: config.workerMaxWorkflowTasks,
      },
      temporal: config.temporalAddress,
      aws: config.awsEndpoint ?? 'default credential chain',
      metricsPort: config.workerMetricsPort,
      temporalMetrics: config.temporalMetricsAddress,
      tracing: tracing !== undefined,
    },
    'firebreak worker started',
  );
  try {
    await worker.run();
  } finally {
    server?.close();
    await tracing?.shutdown();
  }
  log.info('firebreak worker stopped');
}

/** Sets the namespace retention when configured, and says what it is: closed histories are dropped after it. */
async function logRetention(config: Config, log: ReturnType<typeof createLogger>): Promise<void> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const r = await ensureRetention(client, config.temporalNamespace, config.namespaceRetentionMs);
    const days = r.retentionMs === undefined ? 'unknown' : `${(r.retentionMs / 86_400_000).toFixed(1)} days`;
    if (r.outcome === 'refused') log.warn({ ...r }, `namespace retention not changed (${days} in force)`);
    else log.info({ ...r }, `namespace retention: ${days} (closed histories are dropped after it)`);
  } catch (err) {
    log.warn({ err }, 'namespace retention unreadable');
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error('firebreak worker failed:', err);
  process.exit(1);
});
