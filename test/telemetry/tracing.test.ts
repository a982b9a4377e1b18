/**
 * OpenTelemetry tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; when it is, the worker registers the
 * Temporal interceptors and sink, and activity spans reach the exporter (in memory here: no network).
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { loadConfig } from '../../config/env';
import { setupTracing, WORKFLOW_INTERCEPTORS_MODULE } from '../../telemetry/tracing';
import { createActivities } from '../../activities';
import { createWorker } from '../../worker/worker';
import { expr, type RunbookDefinition } from '../../runbooks/dsl/types';
import { Type } from '@sinclair/typebox';
import { testAws, type TestAws } from '../stack/aws';
import { startRunbook, testTemporal, uniqueId, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const base = { FIREBREAK_TEMPORAL_ADDRESS: '127.0.0.1:7233' };

it('installs nothing when no OTLP endpoint is configured', async () => {
  const config = loadConfig(base);
  expect(config.otlpEndpoint).toBeUndefined();
  expect(setupTracing(config, 'test')).toBeUndefined();
  const worker = await createWorker({
    config: { temporalAddress: '', temporalNamespace: 'default', taskQueue: uniqueId('tq'), awsRegion: 'us-east-1' },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    clients: aws.clients,
    activities: createActivities(aws.clients),
  });
  const activityInterceptors = worker.fast!.options.interceptors.activity ?? [];
  expect(activityInterceptors).toHaveLength(0);
  expect(worker.slow!.options.interceptors.activity ?? []).toHaveLength(0);
  expect(Object.keys(worker.fast!.options.sinks ?? {})).not.toContain('exporter');
  await worker.runUntil(Promise.resolve()); // releases its hold on the connection
});

it('validates the endpoint', () => {
  expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
    /OTEL_EXPORTER_OTLP_ENDPOINT/,
  );
  expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).otlpEndpoint).toBe(
    'http://c:4318/v1/traces',
  );
});

it('registers the interceptors and the workflow sink when it is set, and exports activity spans', async () => {
  const config = loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
  const exporter = new InMemorySpanExporter();
  const tracing = setupTracing(config, 'firebreak-test', { exporter })!;
  expect(tracing).toBeDefined();
  expect(tracing.worker.interceptors.workflowModules).toEqual([WORKFLOW_INTERCEPTORS_MODULE]);
  expect(tracing.client.workflow[0]).toBeInstanceOf(OpenTelemetryWorkflowClientInterceptor);

  const [instance] = (await aws.seed('tracing', { instances: 1 })).instances;
  const taskQueue = uniqueId('tq');
  const worker = await createWorker({
    config: { temporalAddress: '', temporalNamespace: 'default', taskQueue, awsRegion: 'us-east-1' },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    clients: aws.clients,
    activities: createActivities(aws.clients),
    tracing: tracing.worker,
  });
  expect(worker.fast!.options.interceptors.activity).toHaveLength(1);
  expect(worker.slow!.options.interceptors.activity).toHaveLength(1);
  expect(Object.keys(worker.fast!.options.sinks ?? {})).toContain('exporter');

  const runbook: RunbookDefinition = {
    id: 'traced',
    version: '1.0.0',
    title: 'Traced',
    description: 'tracing test',
    incidentType: 'test',
    severity: 'SEV4',
    params: Type.Object({ instanceId: Type.String() }),
    steps: [
      {
        id: 'tag',
        kind: 'action',
        title: 'Tag',
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { 'firebreak:traced': 'yes' } },
      },
    ],
  };
  await worker.runUntil(async () => {
    const handle = await startRunbook(temporal, taskQueue, {
      runbook,
      digest: 'test',
      params: { instanceId: instance.instanceId },
      startedBy: { id: 'user:test' },
    });
    await handle.result();
  });
  await tracing.flush(); // the batch processor's buffer (shutdown would also clear the in-memory exporter)
  const names = exporter.getFinishedSpans().map((s) => s.name);
  expect(names).toContain('RunActivity:ec2.tagInstance');
  await tracing.shutdown();
});
