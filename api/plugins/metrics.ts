/**
 * Prometheus metrics at GET /metrics: what alert ingestion accepted and refused, by outcome and reason. One registry
 * per app, so tests (and several apps in one process) never share counters.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

export interface FirebreakMetrics {
  registry: Registry;
  /** Alerts accepted, by endpoint and outcome (opened, refired, duplicate, resolved, no-open-incident …). */
  alertsAccepted: Counter<'endpoint' | 'outcome'>;
  /** Deliveries refused, by endpoint and reason (bad signature, topic not allowed, malformed, unsupported …). */
  alertsRefused: Counter<'endpoint' | 'status' | 'reason'>;
  /** SNS subscription events: confirmed, unsubscribed. */
  snsSubscriptions: Counter<'event' | 'topic'>;
  /** Requests refused by authentication (401) or authorisation (403), by reason and matched route. */
  authRefused: Counter<'status' | 'reason' | 'route'>;
  /** Requests refused with 429, by which limit (per source address, per principal). */
  rateLimited: Counter<'scope'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: FirebreakMetrics;
  }
}

const metrics: FastifyPluginAsync<{ processMetrics?: boolean }> = async (app, opts) => {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'firebreak_' });
  const m: FirebreakMetrics = {
    registry,
    alertsAccepted: new Counter({
      name: 'firebreak_alerts_accepted_total',
      help: 'Alerts durably delivered to an incident, by endpoint and outcome.',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
    alertsRefused: new Counter({
      name: 'firebreak_alerts_refused_total',
      help: 'Alert deliveries refused, by endpoint, HTTP status and reason.',
      labelNames: ['endpoint', 'status', 'reason'],
      registers: [registry],
    }),
    snsSubscriptions: new Counter({
      name: 'firebreak_sns_subscription_events_total',
      help: 'SNS subscription confirmations and unsubscribe confirmations, by topic.',
      labelNames: ['event', 'topic'],
      registers: [registry],
    }),
    authRefused: new Counter({
      name: 'firebreak_auth_refused_total',
      help: 'Requests refused for a missing or bad credential (401) or a missing permission (403).',
      labelNames: ['status', 'reason', 'route'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'firebreak_rate_limited_total',
      help: 'Requests refused with 429, by the limit they exceeded.',
      labelNames: ['scope'],
      registers: [registry],
    }),
  };
  app.decorate('metrics', m);
  app.get('/metrics', { schema: { hide: true }, config: { permission: 'public' } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
};

export default fp(metrics, { name: 'firebreak-metrics' });
