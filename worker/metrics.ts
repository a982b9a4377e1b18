/**
 * The worker's own Prometheus metrics: how long each catalogue action took, per attempt, by action, phase (a step,
 * its rollback, or a plan's dry run) and outcome. Served with a health probe on FIREBREAK_WORKER_METRICS_PORT; the
 * Temporal SDK's runtime metrics (task slots, poll latencies, schedule-to-start …) have their own endpoint
 * (FIREBREAK_TEMPORAL_METRICS_ADDRESS, worker/runtime.ts). Drills run their own worker without these metrics.
 */
import { createServer, type Server } from 'node:http';
import { Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  stepSeconds: Histogram<'action' | 'phase' | 'outcome'>;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  return {
    registry,
    stepSeconds: new Histogram({
      name: 'firebreak_step_duration_seconds',
      help: 'Duration of one attempt of a catalogue action, by action, phase (step, rollback, plan) and outcome.',
      labelNames: ['action', 'phase', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
  };
}

/** GET /metrics, and GET /healthz (200 while `healthy()`, else 503) for container health checks. */
export async function serveWorkerMetrics(
  metrics: WorkerMetrics,
  opts: { port: number; host?: string; healthy: () => boolean },
): Promise<Server> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    } else if (req.method === 'GET' && url === '/healthz') {
      const ok = opts.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}
