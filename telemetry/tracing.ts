/**
 * OpenTelemetry tracing through @temporalio/interceptors-opentelemetry: off unless the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, then spans go there over OTLP/HTTP
 * (the exporter reads the OTEL_* variables itself: headers, timeouts). The API's client starts workflows inside a
 * span, the workflows and activities continue it (context in Temporal headers), so one trace follows an alert from
 * the API through the incident, the runbook and each AWS call's activity.
 */
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../config/env';

export interface Tracing {
  /** Interceptors and the sink that carries workflow spans out of the sandbox, for Worker.create. */
  worker: Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>>;
  /** For the API's Client: starts, signals and updates inside spans, their context sent in headers. */
  client: { workflow: WorkflowClientInterceptor[] };
  /** Exports the spans still buffered. */
  flush(): Promise<void>;
  /** Flushes, then stops the exporter. */
  shutdown(): Promise<void>;
}

/** The workflow-side interceptors, bundled with the workflows (a prebuilt bundle must have been built with them). */
export const WORKFLOW_INTERCEPTORS_MODULE =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * Tracing as configured, or undefined when no OTLP endpoint is set (nothing is installed then). `exporter` replaces
 * the OTLP exporter (tests).
 */
export function setupTracing(
  config: Pick<Config, 'otlpEndpoint'>,
  serviceName: string,
  opts: { exporter?: SpanExporter } = {},
): Tracing | undefined {
  if (!config.otlpEndpoint || process.env.OTEL_SDK_DISABLED === 'true') return undefined;
  const resource = Resource.default().merge(
    new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME || serviceName }),
  );
  const processor: SpanProcessor = new BatchSpanProcessor(opts.exporter ?? new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  // Global, so the interceptors' default tracer (`trace.getTracer`) is this provider's.
  provider.register();
  return {
    worker: {
      interceptors: {
        workflowModules: [WORKFLOW_INTERCEPTORS_MODULE],
        activity: [
          (ctx) => ({
            inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
      sinks: { exporter: makeWorkflowExporter(processor, resource) },
    },
    client: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
