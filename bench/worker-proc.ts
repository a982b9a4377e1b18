/**
 * A benchmark worker in its own process (so its CPU and memory are its own): firebreak's worker as built by
 * worker/worker.ts createWorker, or the baseline's worker (the same createWorker, with the baseline's bundle and the
 * no-op `bench.mark` activity added). Answers `stats` messages with its CPU time and RSS; stops on `stop`.
 * Run by bench/stack.ts through fork(); configured by BENCH_* environment variables.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createClientFactory } from '../activities/clients';
import type { ActionActivities } from '../activities/schemas';
import { loadConfig } from '../config/env';
import { createWorker } from '../worker/worker';

export interface WorkerStats {
  cpu: NodeJS.CpuUsage;
  rss: number;
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

async function main(): Promise<void> {
  const role = process.env.BENCH_ROLE;
  const endpoint = process.env.BENCH_AWS_ENDPOINT!;
  const markEndpoint = process.env.BENCH_MARK_ENDPOINT ?? endpoint;
  const config = {
    temporalAddress: process.env.BENCH_TEMPORAL_ADDRESS!,
    temporalNamespace: 'default',
    taskQueue: process.env.BENCH_TASK_QUEUE!,
    awsRegion: 'us-east-1',
    awsEndpoint: endpoint,
    // The worker's capacity as a deployment gets it by default (config/env.ts), not the SDK's own defaults.
    ...pick(loadConfig({}), [
      'workerMaxActivities',
      'workerMaxSlowActivities',
      'workerMaxWorkflowTasks',
      'workerMaxCachedWorkflows',
    ]),
  };
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  let activities: ActionActivities | undefined;
  if (role === 'baseline') {
    const mark = async ({ key }: { key: string }) => {
      await (await fetch(`${markEndpoint}/__mark/${encodeURIComponent(key)}`, { method: 'POST' })).text();
      return {};
    };
    const real = createActivities(createClientFactory({ region: config.awsRegion, endpoint }));
    activities = { ...real, 'bench.mark': mark } as unknown as ActionActivities;
  }
  const worker = await createWorker({
    config,
    workflowBundle: { codePath: process.env.BENCH_BUNDLE! },
    activities,
  });
  process.on('message', (msg: unknown) => {
    if (msg === 'stats') {
      process.send!({ stats: { cpu: process.cpuUsage(), rss: process.memoryUsage().rss } satisfies WorkerStats });
    } else if (msg === 'stop') {
      worker.shutdown();
    }
  });
  process.on('disconnect', () => worker.getState() === 'RUNNING' && worker.shutdown());
  const running = worker.run();
  process.send!({ ready: true });
  await running;
  await Runtime.instance().shutdown();
  process.exit(0);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
