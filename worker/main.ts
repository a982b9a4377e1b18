/**
 * `npm run worker`: runs the firebreak worker until SIGINT/SIGTERM, then drains in-flight tasks and exits.
 */
import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../config/env';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  // The SDK's runtime handles SIGINT/SIGTERM: the worker stops polling, finishes what it runs, and run() resolves.
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const worker = await createWorker({ config });
  console.log(
    `firebreak worker: task queue ${config.taskQueue} on ${config.temporalAddress}` +
      (config.awsEndpoint ? ` (AWS endpoint ${config.awsEndpoint})` : ' (AWS default credential chain)'),
  );
  await worker.run();
  console.log('firebreak worker: stopped');
}

main().catch((err) => {
  console.error('firebreak worker failed:', err);
  process.exit(1);
});
