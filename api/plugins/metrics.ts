/**
 * Prometheus metrics at GET /metrics: what alert ingestion accepted and refused, by outcome and reason; decisions,
 * rollback requests as they pass through the API; and gauges of executions, open incidents and
 * pending approvals read from Temporal's visibility store on scrape (api/visibility-metrics.ts). One registry per app,
 * so tests (and several apps in one process) never share counters. docs/grafana-dashboard.json charts these names.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VisibilityCounter, type VisibilityCounterOptions } from '../visibility-metrics';

export interface FirebreakMetrics {
  registry: Registry;
  /**
   * Alerts admitted, by endpoint and outcome (accepted, no-open-incident). Duplicates are the incident's to count
   * (its `duplicateCount`): the API answers before the incident sees the alert.
   */
  alertsAccepted: Counter<'endpoint' | 'outcome'>;
  /** Deliveries refused, by endpoint and reason (bad signature, topic not allowed, malformed, unsupported …). */
  alertsRefused: Counter<'endpoint' | 'status' | 'reason'>;
  /** SNS subscription events: confirmed, unsubscribed. */
  snsSubscriptions: Counter<'event' | 'topic'>;
  /** Requests refused by authentication (401) or authorisation (403), by reason and matched route. */
  authRefused: Counter<'status' | 'reason' | 'route'>;
  /** Requests refused with 429, by which limit (per source address, per principal). */
  rateLimited: Counter<'scope'>;
  /** Seconds from a gate opening to a human decision through the API. */
  approvalDecisionSeconds: Histogram<'runbook' | 'decision'>;
  /** Rollbacks requested through the API: `rollback` while running, `release` after success. */
  rollbackRequests: Counter<'runbook' | 'kind'>;
}

export interface MetricsOptions {
  processMetrics?: boolean;
  /** Gauges from visibility; without it (tests of other parts) they are not registered. */
  visibility?: Omit<VisibilityCounterOptions, 'now'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: FirebreakMetrics;
  }
}

const metrics: FastifyPluginAsync<MetricsOptions> = async (app, opts) => {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'firebreak_' });
  const m: FirebreakMetrics = {
    registry,
    alertsAccepted: new Counter({
      name: 'firebreak_alerts_accepted_total',
      help: 'Alerts admitted (durably held by Temporal for their incident), by endpoint and outcome (accepted, no-open-incident).',
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
    approvalDecisionSeconds: new Histogram({
      name: 'firebreak_approval_decision_seconds',
      help: 'Time from an approval gate opening to a human decision on it, by runbook and decision.',
      labelNames: ['runbook', 'decision'],
      buckets: [30, 60, 300, 900, 1800, 3600, 7200, 14400, 86400],
      registers: [registry],
    }),
    rollbackRequests: new Counter({
      name: 'firebreak_rollback_requests_total',
      help: 'Rollbacks accepted through the API, by runbook and kind (rollback while running, release after success).',
      labelNames: ['runbook', 'kind'],
      registers: [registry],
    }),
  };
  if (opts.visibility) registerVisibilityGauges(registry, new VisibilityCounter(opts.visibility), app.log);
  app.decorate('metrics', m);
  app.get('/metrics', { schema: { hide: true }, config: { permission: 'public' } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
};

function registerVisibilityGauges(
  registry: Registry,
  counter: VisibilityCounter,
  log: { warn: (obj: object, msg: string) => void },
): void {
  const errors = new Counter({
    name: 'firebreak_visibility_errors_total',
    help: 'Scrapes whose visibility counts could not be read (the gauges keep their last values).',
    registers: [registry],
  });
  // One read per scrape for all three gauges (the counter caches and shares an in-flight read).
  const read = async () => {
    try {
      return await counter.counts();
    } catch (err) {
      errors.inc();
      log.warn({ err }, 'metrics: visibility counts unavailable');
      return undefined;
    }
  };
  new Gauge({
    name: 'firebreak_executions',
    help: 'Runbook executions in visibility (the namespace retention), by runbook and firebreak status; drills excluded.',
    labelNames: ['runbook', 'status'],
    registers: [registry],
    async collect() {
      const c = await read();
      if (!c) return;
      this.reset();
      for (const [runbook, byStatus] of Object.entries(c.executions)) {
        for (const [status, n] of Object.entries(byStatus)) this.set({ runbook, status }, n);
      }
    },
  });
  new Gauge({
    name: 'firebreak_approvals_pending',
    help: 'Executions waiting for an approval decision, by runbook; drills excluded.',
    labelNames: ['runbook'],
    registers: [registry],
    async collect() {
      const c = await read();
      if (!c) return;
      this.reset();
      for (const [runbook, byStatus] of Object.entries(c.executions))
        this.set({ runbook }, byStatus['waiting-approval']);
    },
  });
  new Gauge({
    name: 'firebreak_incidents_open',
    help: 'Incidents open (not resolved or closed), by severity; drills excluded.',
    labelNames: ['severity'],
    registers: [registry],
    async collect() {
      const c = await read();
      if (!c) return;
      for (const [severity, n] of Object.entries(c.incidentsOpen)) this.set({ severity }, n);
    },
  });
}

export default fp(metrics, { name: 'firebreak-metrics' });
