/**
 * `npm run worker`: runs the firebreak worker (its fast and slow queues, worker/worker.ts) until SIGINT/SIGTERM, then
 * drains in-flight tasks on both and exits.
 */
import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../config/env';
import { createLogger } from '../telemetry/logger';
import { setupTracing } from '../telemetry/tracing';
import { createWorkerMetrics, serveWorkerMetrics } from './metrics';
import { runtimeOptions } from './runtime';
import { slowTaskQueue } from '../workflows/task-queues';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('firebreak-worker', config.logLevel);
  Runtime.install(runtimeOptions(config, log));
  const tracing = setupTracing(config, 'firebreak-worker');
  const metrics = createWorkerMetrics();
  const worker = await createWorker({ config, metrics, tracing: tracing?.worker });
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

main().catch((err) => {
  console.error('firebreak worker failed:', err);
  process.exit(1);
});
