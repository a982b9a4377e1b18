/**
 * Builds the firebreak API as a Fastify instance (no listening here: api/server.ts does that).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import { SnsSignatureVerifier } from '../alerts/sns';
import type { RunbookRegistry } from '../runbooks/registry';
import { AlertRouter, type NotifyRouting } from '../alerts/router';
import { ApprovalService } from './approvals';
import { EvidenceService } from './evidence';
import { ExecutionService } from './executions';
import { IncidentService } from './incidents';
import auth, { type AuthOptions } from './plugins/auth';
import errorHandler from './plugins/errors';
import metrics from './plugins/metrics';
import health from './routes/health';
import alerts, { type AlertRoutesOptions } from './routes/v1/alerts';
import approvals from './routes/v1/approvals';
import incidents from './routes/v1/incidents';
import executions from './routes/v1/executions';
import evidence from './routes/v1/evidence';
import release from './routes/v1/release';
import runbooks from './routes/v1/runbooks';

export interface AppDeps {
  client: Client;
  registry: RunbookRegistry;
  taskQueue: string;
  publicUrl: string;
  auth: AuthOptions;
  logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body. */
  bodyLimit?: number;
  /** SNS topics for incident notifications, by severity. */
  notifyTopics?: NotifyRouting['topics'];
  /** Process metrics (CPU, memory, event loop) on /metrics besides firebreak's own; off in tests. */
  processMetrics?: boolean;
  /** How long a resolved incident stays open for its alert to re-open it (ms); default 0 (api/server.ts: config). */
  incidentReopenGraceMs?: number;
  /** Alert ingestion settings; by default no SNS topic and no webhook secret is accepted. */
  alerts?: Partial<Omit<AlertRoutesOptions, 'incidents'>>;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: deps.bodyLimit ?? 256 * 1024,
    ajv: { customOptions: { allErrors: true, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Auth first: its onRoute hook must see every route registered after it (it refuses to start without permissions).
  await app.register(errorHandler);
  await app.register(auth, deps.auth);
  await app.register(metrics, { processMetrics: deps.processMetrics });
  await app.register(swagger, {
    openapi: {
      info: { title: 'firebreak API', version: '0.1.0', description: 'Runbook-as-code incident response for AWS' },
      tags: [
        { name: 'alerts' },
        { name: 'incidents' },
        { name: 'runbooks' },
        { name: 'executions' },
        { name: 'approvals' },
        { name: 'health' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: deps.auth.mode === 'token' ? [{ bearer: [] }] : [],
    },
  });
  // The documentation's routes are public: declared for exactly the routes swagger-ui registers in this context.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, permission: 'public' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });

  const service = new ExecutionService({ client: deps.client, taskQueue: deps.taskQueue, publicUrl: deps.publicUrl });
  await app.register(health, {
    // A short deadline: a probe must answer quickly, and an unreachable Temporal must read as "not ready" at once.
    temporalReady: async () => {
      await deps.client.connection.withDeadline(Date.now() + 2_000, () =>
        deps.client.connection.workflowService.getSystemInfo({}),
      );
    },
  });
  await app.register(runbooks, { prefix: '/v1/runbooks', registry: deps.registry, executions: service });
  await app.register(executions, { prefix: '/v1/executions', executions: service });
  await app.register(release, { prefix: '/v1/executions', executions: service });
  await app.register(evidence, { prefix: '/v1/executions', evidence: new EvidenceService({ client: deps.client }) });
  await app.register(approvals, {
    prefix: '/v1/approvals',
    approvals: new ApprovalService({ client: deps.client, publicUrl: deps.publicUrl }),
  });

  const notify: NotifyRouting = { topics: deps.notifyTopics ?? {} };
  const incidentService = new IncidentService({
    client: deps.client,
    taskQueue: deps.taskQueue,
    router: new AlertRouter(deps.registry, notify),
    notify,
    publicUrl: deps.publicUrl,
    reopenGraceMs: deps.incidentReopenGraceMs,
  });
  await app.register(incidents, { prefix: '/v1/incidents', incidents: incidentService });
  const a = deps.alerts ?? {};
  await app.register(alerts, {
    prefix: '/v1/alerts',
    incidents: incidentService,
    snsTopics: a.snsTopics ?? [],
    verifier: a.verifier === undefined ? new SnsSignatureVerifier() : a.verifier,
    confirmSubscription:
      a.confirmSubscription ??
      (async () => {
        throw new Error('SNS subscription confirmation is not configured');
      }),
    webhookSecret: a.webhookSecret ?? '',
    webhookHeader: a.webhookHeader ?? 'x-firebreak-secret',
  });
  return app;
}
