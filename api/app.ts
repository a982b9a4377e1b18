/**
 * Builds the firebreak API as a Fastify instance (no listening here: api/server.ts does that).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import { SnsSignatureVerifier } from '../alerts/sns';
import type { RunbookRegistry } from '../runbooks/registry';
import type { IncidentHistoryLimits } from '../workflows/incident-messages';
import type { ExecutionHistoryLimits } from '../workflows/runbook-state';
import { AlertRouter, type NotifyRouting } from '../alerts/router';
import { ApprovalService } from './approvals';
import { EvidenceService } from './evidence';
import { ExecutionService } from './executions';
import { ForensicsService } from './forensics';
import { PlanService } from './plans';
import { IncidentService } from './incidents';
import { documentRoute, SECURITY_SCHEMES } from './openapi';
import auth, { type AuthOptions } from './plugins/auth';
import errorHandler, { clientErrorHandler, frameworkErrors, genReqId } from './plugins/errors';
import metrics from './plugins/metrics';
import rateLimit, { type RateLimitOptions } from './plugins/rate-limit';
import { MAX_ID_LENGTH } from './schemas';
import { validatorCompiler } from './validation';
import health from './routes/health';
import consoleRoutes from './routes/console';
import alerts, { type AlertRoutesOptions } from './routes/v1/alerts';
import approvals from './routes/v1/approvals';
import incidents from './routes/v1/incidents';
import executions from './routes/v1/executions';
import evidence from './routes/v1/evidence';
import release from './routes/v1/release';
import forensics from './routes/v1/forensics';
import runbooks from './routes/v1/runbooks';
import type { OwnTarget } from '../activities/resource';

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
  /** How long the gauges read from Temporal's visibility store are reused between scrapes (ms); default 15 s. */
  metricsCacheMs?: number;
  /** How long a resolved incident stays open for its alert to re-open it (ms); default 0 (api/server.ts: config). */
  incidentReopenGraceMs?: number;
  /** When incidents continue as new (defaults: workflows/incident-messages.ts); tests set it low. */
  incidentHistory?: Partial<IncidentHistoryLimits>;
  /** When runbook executions continue as new (defaults: workflows/runbook-state.ts); tests set it low. */
  executionHistory?: Partial<ExecutionHistoryLimits>;
  /** Alert ingestion settings; by default no SNS topic and no webhook secret is accepted. */
  alerts?: Partial<Omit<AlertRoutesOptions, 'incidents'>>;
  /** Rate limits; see config/env.ts for the defaults. */
  rateLimit?: RateLimitOptions;
  /** Proxies whose X-Forwarded-For is believed (Fastify's trustProxy: addresses or CIDRs, comma-separated). */
  trustProxy?: string;
  /**
   * The worker's own account and region, to find a resource's record as the worker keys it (activities/resource.ts);
   * unset: records of executions without a target are looked up under `self`.
   */
  ownTarget?: OwnTarget;
}

export const DEFAULT_RATE_LIMITS: RateLimitOptions = {
  windowMs: 60_000,
  perPrincipal: 600,
  perAddress: 1200,
  alertsPerAddress: 6000,
};

/**
 * Paths of secrets the logger never writes, whatever logs them: credentials in headers, the webhook secret, SNS
 * confirmation tokens and AWS credentials in bodies or errors.
 */
export function redactPaths(webhookHeader: string): string[] {
  const headers = ['authorization', 'cookie', 'x-amz-security-token', webhookHeader].map((h) => `["${h}"]`);
  const secrets = ['Token', 'token', 'SubscribeURL', 'secretAccessKey', 'sessionToken', 'password', 'secret'];
  return [
    ...headers.flatMap((h) => [`req.headers${h}`, `headers${h}`, `request.headers${h}`]),
    ...secrets.flatMap((k) => [k, `*.${k}`, `body.${k}`, `req.body.${k}`, `*.body.${k}`]),
  ];
}

/** The logger option with redaction added to whatever the caller configured. */
function loggerOptions(logger: AppDeps['logger'], webhookHeader: string): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  return { ...base, redact: { paths: redactPaths(webhookHeader), censor: '[redacted]' } };
}

/**
 * The CSP of every answer, made for the /docs page (Swagger UI served from this app): everything from this origin,
 * inline styles (Swagger UI sets style attributes), images from data: URLs, and no third-party fetch of any kind.
 */
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
};

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const webhookHeader = deps.alerts?.webhookHeader ?? 'x-firebreak-secret';
  const app = Fastify({
    logger: loggerOptions(deps.logger, webhookHeader),
    genReqId,
    trustProxy: deps.trustProxy || false,
    frameworkErrors,
    clientErrorHandler,
    // Percent-encoded IDs take up to three characters per character: the ID schemas decide, not the router.
    routerOptions: { maxParamLength: MAX_ID_LENGTH * 3 },
    bodyLimit: deps.bodyLimit ?? 256 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());

  // Errors first (request IDs on every answer), then security headers and per-address limits, which must run before
  // authentication; auth's onRoute hook must see every route registered after it (it refuses to start without
  // permissions), and the per-principal limit runs after its onRequest hook.
  await app.register(errorHandler);
  await app.register(helmet, {
    // Without helmet's defaults: its upgrade-insecure-requests would break the docs page over plain http (local stack).
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    strictTransportSecurity: { maxAge: 31_536_000 },
  });
  await app.register(rateLimit, deps.rateLimit ?? DEFAULT_RATE_LIMITS);
  await app.register(auth, deps.auth);
  await app.register(metrics, {
    processMetrics: deps.processMetrics,
    visibility: {
      client: deps.client,
      runbookIds: () => deps.registry.list().map((r) => r.definition.id),
      cacheMs: deps.metricsCacheMs ?? 15_000,
    },
  });
  app.addHook('onRoute', documentRoute);
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
      // Each operation names its own security (api/openapi.ts), whatever the mode this instance runs in.
      components: { securitySchemes: SECURITY_SCHEMES(webhookHeader) },
    },
  });
  // The documentation's routes are public: declared for exactly the routes swagger-ui registers in this context.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, permission: 'public' };
    });
    // No validator badge: it would fetch from a third-party host.
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null } });
  });

  await app.register(consoleRoutes);

  const service = new ExecutionService({
    client: deps.client,
    taskQueue: deps.taskQueue,
    publicUrl: deps.publicUrl,
    history: deps.executionHistory,
    ownTarget: deps.ownTarget,
  });
  await app.register(health, {
    // A short deadline: a probe must answer quickly, and an unreachable Temporal must read as "not ready" at once.
    temporalReady: async () => {
      await deps.client.connection.withDeadline(Date.now() + 2_000, () =>
        deps.client.connection.workflowService.getSystemInfo({}),
      );
    },
  });
  await app.register(runbooks, {
    prefix: '/v1/runbooks',
    registry: deps.registry,
    executions: service,
    plans: new PlanService({ client: deps.client, taskQueue: deps.taskQueue }),
  });
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
    history: deps.incidentHistory,
    runbookHistory: deps.executionHistory,
  });
  await app.register(incidents, { prefix: '/v1/incidents', incidents: incidentService });
  await app.register(forensics, { prefix: '/v1', forensics: new ForensicsService(deps.client) });
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
    webhookHeader,
  });
  return app;
}
