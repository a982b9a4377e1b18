/**
 * docs/grafana-dashboard.json queries only metrics that exist: firebreak's from the registries the API and the worker
 * build and the workflows' metricMeter calls (read from the code, not listed here), the Temporal SDK runtime's from its
 * documented names; and it charts every firebreak metric.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../api/app';
import { runbooks } from '../../runbooks';
import { RunbookRegistry } from '../../runbooks/registry';
import { ROOT } from '../../scripts/stack';
import { createWorkerMetrics } from '../../worker/metrics';

/** Core SDK metrics the dashboard charts (docs.temporal.io, "SDK metrics"); served at FIREBREAK_TEMPORAL_METRICS_ADDRESS. */
const SDK_RUNTIME_METRICS = [
  'temporal_worker_task_slots_available',
  'temporal_activity_schedule_to_start_latency',
  'temporal_workflow_task_schedule_to_start_latency',
];

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);

/** Metric names in a PromQL expression: identifiers that are neither functions, keywords nor label names. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter(([, name, call]) => !call && !PROMQL_WORDS.has(name) && !/^\d/.test(name))
    .map(([, name]) => name);
}

/**
 * Metrics workflows emit through the SDK's `metricMeter` (served by the worker's runtime, not by a registry), read
 * from the workflow sources: the first argument of each `createCounter` / `createHistogram` / `createGauge`.
 */
function workflowMetrics(): string[] {
  const dir = path.join(ROOT, 'workflows');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [
      ...readFileSync(path.join(dir, f), 'utf8').matchAll(/\.create(?:Counter|Histogram|Gauge)\(\s*'([^']+)'/g),
    ])
    .map((m) => m[1]);
}

/** A histogram's series are its name plus _bucket, _sum and _count. */
const base = (name: string) => name.replace(/_(bucket|sum|count)$/, '');

it('queries only metrics the API, the worker or the Temporal runtime registers', async () => {
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'grafana-dashboard.json'), 'utf8'));
  const panels: Panel[] = (dashboard.panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]);
  const queried = new Set(panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))));
  expect(queried.size).toBeGreaterThan(10);

  // The API's registry as the server builds it (process metrics on); a lazy connection makes no call here.
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const app = await buildApp({
    client,
    registry: new RunbookRegistry(runbooks),
    taskQueue: 'none',
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
    processMetrics: true,
  });
  const registered = new Set([
    ...app.metrics.registry.getMetricsAsArray().map((m) => m.name),
    ...createWorkerMetrics()
      .registry.getMetricsAsArray()
      .map((m) => m.name),
    ...SDK_RUNTIME_METRICS,
    ...workflowMetrics(),
  ]);
  expect(workflowMetrics()).toContain('firebreak_alert_deliveries');
  await app.close();
  const unknown = [...queried].filter((name) => !registered.has(name) && !registered.has(base(name)));
  expect(unknown).toEqual([]);
  // Every firebreak metric of the API, the worker and the workflows has a panel (process metrics aside).
  const charted = new Set([...queried].map(base));
  const uncharted = [...registered].filter(
    (name) => name.startsWith('firebreak_') && !/^firebreak_(process|nodejs)_/.test(name) && !charted.has(name),
  );
  expect(uncharted).toEqual([]);
});

it('reads metric names out of PromQL', () => {
  expect(
    metricNames(
      'histogram_quantile(0.95, sum by (le, action) (rate(firebreak_step_duration_seconds_bucket{phase="step"}[15m])))',
    ),
  ).toEqual(['firebreak_step_duration_seconds_bucket']);
  expect(metricNames('sum by (runbook) (a_total) / on (runbook) b')).toEqual(['a_total', 'b']);
});
