/**
 * Webhook alerts: firebreak's own generic alert format, and the Prometheus Alertmanager webhook (version 4).
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { SEVERITIES, type AlertResource, type NormalisedAlert } from './alert';
import type { AlertIssue } from './errors';
import { AlertParseError } from './errors';
import { severityFromLabel } from './severity';
import { Nullable, StringEnum, checker, readJsonObject, requireIsoTime, str, toIsoTime } from './validate';

const StringMap = (description: string) =>
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 4096 },
    maxProperties: 128,
    description,
  });

/**
 * The generic alert: what any monitoring system can POST to firebreak. Exported for the API's OpenAPI document.
 * Unknown properties are rejected, so that a misspelt field is reported rather than silently ignored.
 */
export const GenericAlertSchema = Type.Object(
  {
    id: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Delivery ID: unique per delivery and the same on a redelivery, so a redelivery is recognised.',
    }),
    name: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'What fired, e.g. `checkout-latency`: runbook triggers match on it; part of the fingerprint.',
    }),
    title: Type.Optional(Type.String({ maxLength: 512, description: 'Short human title. Default: `name`.' })),
    description: Type.Optional(Type.String({ maxLength: 16384 })),
    state: Type.Optional(
      StringEnum(['firing', 'resolved'] as const, {
        default: 'firing',
        description: '`resolved` closes the incident the same alert (same fingerprint) opened.',
      }),
    ),
    severity: Type.Optional(StringEnum(SEVERITIES, { description: 'When given, it wins over triage.' })),
    account: Type.Optional(Type.String({ pattern: '^[0-9]{12}$', description: 'AWS account ID.' })),
    region: Type.Optional(
      Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', description: 'AWS region, e.g. `eu-west-1`.' }),
    ),
    resource: Type.Optional(
      Type.Object(
        {
          type: Type.String({ minLength: 1, maxLength: 128, description: 'e.g. `ec2:instance`, `rds:instance`.' }),
          id: Type.String({ minLength: 1, maxLength: 2048 }),
        },
        { additionalProperties: false, description: 'The affected resource; part of the fingerprint.' },
      ),
    ),
    labels: Type.Optional(StringMap('Free-form string labels, kept on the incident.')),
    occurredAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the state changed. Default: when firebreak received it.' }),
    ),
  },
  { additionalProperties: false, title: 'GenericAlert', description: 'A generic alert posted to the webhook.' },
);
export type GenericAlert = Static<typeof GenericAlertSchema>;
const checkGeneric = checker(GenericAlertSchema);

/**
 * A generic alert (string body or parsed) as a NormalisedAlert: source `generic`, via `webhook`, deliveryId = `id`,
 * state default `firing`, title default `name`, occurredAt default `receivedAt` (now).
 *
 * @throws AlertParseError listing every missing, mistyped or unknown field.
 */
export function fromGenericAlert(body: unknown, opts: { receivedAt?: Date } = {}): NormalisedAlert {
  const raw = readJsonObject(body, 'generic alert');
  const g = checkGeneric(raw, 'generic alert');
  const alert: NormalisedAlert = {
    source: 'generic',
    via: 'webhook',
    deliveryId: g.id,
    name: g.name,
    title: g.title ?? g.name,
    state: g.state ?? 'firing',
    labels: { ...(g.labels ?? {}) },
    occurredAt: g.occurredAt
      ? requireIsoTime(g.occurredAt, 'generic alert', '/occurredAt')
      : (opts.receivedAt ?? new Date()).toISOString(),
    raw,
  };
  if (g.description !== undefined) alert.description = g.description;
  if (g.severity !== undefined) alert.severity = g.severity;
  if (g.account !== undefined) alert.account = g.account;
  if (g.region !== undefined) alert.region = g.region;
  if (g.resource !== undefined) alert.resource = { type: g.resource.type, id: g.resource.id };
  return alert;
}

// ---- Alertmanager ---------------------------------------------------------------------------------------------

const Labels = Type.Record(Type.String(), Type.String());

const AlertmanagerAlertSchema = Type.Object(
  {
    status: StringEnum(['firing', 'resolved'] as const),
    labels: Labels,
    annotations: Type.Optional(Nullable(Labels)),
    startsAt: Type.String({ minLength: 1 }),
    endsAt: Type.Optional(Nullable(Type.String())),
    generatorURL: Type.Optional(Nullable(Type.String())),
    fingerprint: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: true },
);

/** The Alertmanager webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export const AlertmanagerWebhookSchema = Type.Object(
  {
    version: StringEnum(['4'] as const),
    status: Type.Optional(StringEnum(['firing', 'resolved'] as const)),
    receiver: Type.Optional(Nullable(Type.String())),
    groupKey: Type.Optional(Nullable(Type.String())),
    truncatedAlerts: Type.Optional(Nullable(Type.Number())),
    groupLabels: Type.Optional(Nullable(Labels)),
    commonLabels: Type.Optional(Nullable(Labels)),
    commonAnnotations: Type.Optional(Nullable(Labels)),
    externalURL: Type.Optional(Nullable(Type.String())),
    alerts: Type.Array(AlertmanagerAlertSchema, { maxItems: 1000 }),
  },
  { additionalProperties: true },
);
export type AlertmanagerWebhook = Static<typeof AlertmanagerWebhookSchema>;
type AlertmanagerAlert = Static<typeof AlertmanagerAlertSchema>;
const checkAlertmanager = checker(AlertmanagerWebhookSchema);

const EC2_INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/**
 * The resource an Alertmanager alert names, from its labels, first match wins:
 * 1. `resource_type` + `resource_id` → `{ type: resource_type, id: resource_id }` (both needed);
 * 2. `instance_id` → `ec2:instance`;
 * 3. `instance` (the Prometheus scrape target) → `ec2:instance` when it is an instance ID, else `prometheus:instance`
 *    with the target (`host:port`) as ID.
 * None of these: no resource.
 */
export function alertmanagerResource(labels: Record<string, string>): AlertResource | undefined {
  if (labels.resource_type && labels.resource_id) return { type: labels.resource_type, id: labels.resource_id };
  if (labels.instance_id) return { type: 'ec2:instance', id: labels.instance_id };
  if (labels.instance) {
    return {
      type: EC2_INSTANCE_ID.test(labels.instance) ? 'ec2:instance' : 'prometheus:instance',
      id: labels.instance,
    };
  }
  return undefined;
}

/** Alertmanager's fingerprint when sent; else the same idea (a hash of the sorted label set), 16 hex characters. */
function alertFingerprint(a: AlertmanagerAlert): string {
  const given = str(a.fingerprint);
  if (given) return given;
  const sorted = Object.entries(a.labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted), 'utf8').digest('hex').slice(0, 16);
}

/**
 * One alert per alert of an Alertmanager group notification (string body or parsed). Each: source `alertmanager`,
 * via `webhook`, name = `alertname` label (required), state = the alert's own status, severity from the `severity`
 * label (see severity.ts), resource per {@link alertmanagerResource}, account from `account_id` / `aws_account_id` /
 * `account`, region from `region` / `aws_region`, title from the `summary` (or `title`) annotation, description from
 * `description` (or `message`), labels = the alert's labels.
 *
 * deliveryId = `<fingerprint>:<startsAt>:<status>`: Alertmanager re-sends a firing alert every repeat_interval with
 * the same three, which is then recognised as a redelivery of that firing; its resolve, or a new firing after a
 * resolve (new startsAt), is a new delivery.
 *
 * @throws AlertParseError a malformed payload, or alerts without `alertname` (all listed).
 */
export function fromAlertmanager(payload: unknown): NormalisedAlert[] {
  const raw = readJsonObject(payload, 'Alertmanager webhook');
  const p = checkAlertmanager(raw, 'Alertmanager webhook');
  const issues: AlertIssue[] = [];
  p.alerts.forEach((a, i) => {
    if (!a.labels.alertname) issues.push({ path: `/alerts/${i}/labels/alertname`, message: 'is required' });
    if (toIsoTime(a.startsAt) === undefined)
      issues.push({ path: `/alerts/${i}/startsAt`, message: 'is not a timestamp' });
  });
  if (issues.length > 0) {
    throw new AlertParseError(
      `Alertmanager webhook: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const { alerts: _alerts, ...group } = p;
  return p.alerts.map((a) => {
    const labels = { ...a.labels };
    const annotations = a.annotations ?? {};
    const startsAt = requireIsoTime(a.startsAt, 'Alertmanager webhook', '/startsAt');
    const endsAt = str(a.endsAt) && toIsoTime(a.endsAt as string);
    // Alertmanager sends the zero time (0001-01-01) as endsAt of a firing alert.
    const ended = endsAt && !endsAt.startsWith('0001-') ? endsAt : undefined;
    const alert: NormalisedAlert = {
      source: 'alertmanager',
      via: 'webhook',
      deliveryId: `${alertFingerprint(a)}:${a.startsAt}:${a.status}`,
      name: labels.alertname,
      title: str(annotations.summary) ?? str(annotations.title) ?? labels.alertname,
      state: a.status,
      labels,
      occurredAt: a.status === 'resolved' && ended ? ended : startsAt,
      raw: { alert: a, group },
    };
    const description = str(annotations.description) ?? str(annotations.message);
    if (description !== undefined) alert.description = description;
    const severity = severityFromLabel(labels.severity);
    if (severity) alert.severity = severity;
    const account = str(labels.account_id) ?? str(labels.aws_account_id) ?? str(labels.account);
    if (account !== undefined) alert.account = account;
    const region = str(labels.region) ?? str(labels.aws_region);
    if (region !== undefined) alert.region = region;
    const resource = alertmanagerResource(labels);
    if (resource) alert.resource = resource;
    return alert;
  });
}

/** The webhook formats {@link detectWebhookFormat} tells apart. */
export type WebhookFormat = 'alertmanager' | 'generic';

/**
 * Alertmanager when the body is an object with an `alerts` array and a `version` (any value, so that a version other
 * than 4 gets a clear "version must be 4" rather than "alerts is not an allowed property"); else generic.
 */
export function detectWebhookFormat(body: unknown): WebhookFormat {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return 'generic';
    }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.alerts) && 'version' in o) return 'alertmanager';
  }
  return 'generic';
}

/** A webhook body, whichever of the two formats: the alerts it carries (one for a generic alert). */
export function fromWebhook(body: unknown, opts: { receivedAt?: Date } = {}): NormalisedAlert[] {
  return detectWebhookFormat(body) === 'alertmanager' ? fromAlertmanager(body) : [fromGenericAlert(body, opts)];
}
