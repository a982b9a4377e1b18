/**
 * Alert ingestion: SNS HTTP(S) subscriptions, EventBridge API destinations, and a generic webhook (incl. Prometheus
 * Alertmanager). Every endpoint authenticates its sender itself (SNS by signature and topic allow-list, the others by
 * a shared secret), so they declare `alerts:ingest`, which the bearer check skips. An alert is acknowledged (202) as soon
 * as the Temporal server durably holds it (signal-with-start), without waiting for a worker: worker load or absence
 * never turns an admitted alert into an error. When Temporal is unreachable, or answers too late to know, the answer is
 * 503 and the sender redelivers (redeliveries are counted as duplicates by the incident).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { fromEventBridge, fromSnsNotification } from '../../../alerts/dispatch';
import { AlertError, AlertRejectedError, UnsupportedAlertError } from '../../../alerts/errors';
import { GenericAlertSchema, fromWebhook } from '../../../alerts/generic';
import { confirmSubscription, isTopicAllowed, parseSnsBody, type SnsSignatureVerifier } from '../../../alerts/sns';
import type { NormalisedAlert } from '../../../alerts/alert';
import type { IncidentService, IngestResult } from '../../incidents';
import { errors } from '../../schemas';

export interface AlertRoutesOptions {
  incidents: IncidentService;
  /** Topics whose SNS deliveries are accepted (exact ARNs or `*` patterns). */
  snsTopics: readonly string[];
  /** Null only when verification is explicitly switched off (the local emulator cannot sign). */
  verifier: SnsSignatureVerifier | null;
  /** Calls SNS ConfirmSubscription for a verified, allowed topic. */
  confirmSubscription: (topicArn: string, token: string) => Promise<void>;
  webhookSecret: string;
  webhookHeader: string;
}

const MAX_BODY = 512 * 1024;

const Ingested = Type.Object(
  {
    outcome: Type.Union([Type.Literal('accepted'), Type.Literal('no-open-incident')], {
      description:
        'accepted: the Temporal server durably holds the alert for the incident (started for it if none was running), ' +
        'worker or not; no-open-incident: a resolved alert with no running incident to tell. What the incident made of ' +
        'it (opened, refired, reopened, duplicate, resolved) is on the incident: GET incidentUrl, lastDelivery and counts.',
    }),
    incidentId: Type.Union([Type.String(), Type.Null()]),
    fingerprint: Type.String(),
    deliveryId: Type.String({
      description: "the provider's delivery ID: redeliveries of it are counted as duplicates",
    }),
    runId: Type.Optional(Type.String({ description: 'the run (occurrence) the alert went to, when a start named it' })),
    incidentUrl: Type.Optional(Type.String()),
  },
  { description: 'Admitted, not yet applied: the incident workflow applies it when a worker runs it.' },
);

const alerts: FastifyPluginAsyncTypebox<AlertRoutesOptions> = async (app, opts) => {
  if (!opts.verifier) {
    app.log.warn('SNS SIGNATURE VERIFICATION DISABLED (FIREBREAK_SNS_VERIFY=false): only for the local emulator');
  }

  const endpointOf = (request: FastifyRequest) => request.routeOptions.url ?? request.url;

  const ingest = async (request: FastifyRequest, alert: NormalisedAlert): Promise<IngestResult> => {
    const result = await opts.incidents.ingest(alert);
    app.metrics.alertsAccepted.inc({ endpoint: endpointOf(request), outcome: result.outcome });
    request.log.info(
      { event: 'alert.ingested', source: alert.source, via: alert.via, ...result },
      `alert ${result.outcome}`,
    );
    return result;
  };

  const checkSecret = (request: FastifyRequest): void => {
    const presented = Buffer.from(String(request.headers[opts.webhookHeader] ?? ''));
    const expected = Buffer.from(opts.webhookSecret);
    const ok = expected.length > 0 && presented.length === expected.length && timingSafeEqual(presented, expected);
    if (!ok) throw new AlertRejectedError('bad-secret', `a valid ${opts.webhookHeader} header is required`);
  };

  // Refusals are recorded (logged with the reason, counted) before the root handler answers.
  app.addHook('onError', async (request, _reply, err) => {
    const endpoint = endpointOf(request);
    if (err instanceof AlertRejectedError) {
      request.log.warn({ event: 'alert.rejected', reason: err.reason, url: request.url, ip: request.ip }, err.message);
      app.metrics.alertsRefused.inc({ endpoint, status: '403', reason: err.reason });
    } else if (err instanceof UnsupportedAlertError) {
      app.metrics.alertsRefused.inc({ endpoint, status: '422', reason: err.reason });
    } else if (err instanceof AlertError) {
      app.metrics.alertsRefused.inc({ endpoint, status: String(err.statusCode), reason: err.code });
    } else {
      const status = (err as { statusCode?: number }).statusCode ?? 500;
      app.metrics.alertsRefused.inc({
        endpoint,
        status: String(status),
        reason: (err as { code?: string }).code ?? err.name,
      });
    }
  });

  app.post(
    '/sns',
    {
      bodyLimit: MAX_BODY,
      config: { permission: 'alerts:ingest' },
      schema: {
        tags: ['alerts'],
        summary: 'SNS HTTP(S) subscription endpoint (text/plain or JSON)',
        body: Type.Union([Type.String(), Type.Object({}, { additionalProperties: true })]),
        response: {
          200: Type.Object({ type: Type.String(), topicArn: Type.String(), confirmed: Type.Optional(Type.Boolean()) }),
          202: Ingested,
          ...errors(400, 403, 413, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const header = request.headers['x-amz-sns-message-type'];
      const msg = parseSnsBody(request.body as string | object, typeof header === 'string' ? header : undefined);
      if (!isTopicAllowed(msg.TopicArn, opts.snsTopics)) {
        throw new AlertRejectedError('topic-not-allowed', `topic ${msg.TopicArn} is not on the allow-list`);
      }
      if (opts.verifier) await opts.verifier.verify(msg);
      switch (msg.Type) {
        case 'SubscriptionConfirmation': {
          const { topicArn } = await confirmSubscription(msg, opts.confirmSubscription);
          request.log.info({ event: 'sns.subscription-confirmed', topicArn }, 'SNS subscription confirmed');
          app.metrics.snsSubscriptions.inc({ event: 'confirmed', topic: topicArn });
          return reply.status(200).send({ type: msg.Type, topicArn, confirmed: true });
        }
        case 'UnsubscribeConfirmation':
          request.log.warn(
            { event: 'sns.unsubscribed', topicArn: msg.TopicArn },
            'SNS unsubscribe confirmation received',
          );
          return reply.status(200).send({ type: msg.Type, topicArn: msg.TopicArn });
        case 'Notification':
          return reply.status(202).send(await ingest(request, fromSnsNotification(msg)));
        default:
          throw new Error(`unreachable SNS message type ${(msg as { Type: string }).Type}`);
      }
    },
  );

  app.post(
    '/eventbridge',
    {
      bodyLimit: MAX_BODY,
      config: { permission: 'alerts:ingest' },
      schema: {
        tags: ['alerts'],
        summary: 'EventBridge API destination: CloudWatch Alarm State Change and GuardDuty Finding events',
        security: [{ webhookSecret: [] }],
        body: Type.Object({}, { additionalProperties: true }),
        response: { 202: Ingested, ...errors(400, 403, 413, 422, 503) },
      },
    },
    async (request, reply) => {
      checkSecret(request);
      return reply.status(202).send(await ingest(request, fromEventBridge(request.body)));
    },
  );

  app.post(
    '/',
    {
      bodyLimit: MAX_BODY,
      config: { permission: 'alerts:ingest' },
      schema: {
        tags: ['alerts'],
        summary: 'Generic alert webhook: the firebreak alert schema, or a Prometheus Alertmanager webhook',
        security: [{ webhookSecret: [] }],
        description: `Generic alert body: ${JSON.stringify(GenericAlertSchema)}`,
        body: Type.Object({}, { additionalProperties: true }),
        response: { 202: Type.Object({ results: Type.Array(Ingested) }), ...errors(400, 403, 413, 503) },
      },
    },
    async (request, reply) => {
      checkSecret(request);
      const parsed = fromWebhook(request.body);
      const results: IngestResult[] = [];
      // In order, so that a firing and a resolved alert of one group land in that order.
      for (const alert of parsed) results.push(await ingest(request, alert));
      return reply.status(202).send({ results });
    },
  );
};

export default alerts;
