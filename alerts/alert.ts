/**
 * The normalised alert: what every ingestion path (SNS, EventBridge, webhooks) turns its payload into, what runbook
 * triggers match on, and what the incident workflow records.
 */
/** Incident severity, SEV1 the most severe. */
export type Severity = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';
export const SEVERITIES: readonly Severity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

/** Where an alert comes from, whatever the transport. A CloudWatch alarm is `cloudwatch` via SNS or EventBridge. */
export type AlertSource = 'cloudwatch' | 'guardduty' | 'generic' | 'alertmanager';
export const ALERT_SOURCES: readonly AlertSource[] = ['cloudwatch', 'guardduty', 'generic', 'alertmanager'];

/** How it reached firebreak. */
export type AlertTransport = 'sns' | 'eventbridge' | 'webhook';

export interface AlertResource {
  /** `ec2:instance`, `elbv2:loadbalancer`, `iam:accesskey`, `unknown` … */
  type: string;
  id: string;
}

export interface NormalisedAlert {
  source: AlertSource;
  via: AlertTransport;
  /**
   * The provider's ID of this delivery (SNS MessageId, EventBridge event id, a webhook's id): the same value on a
   * redelivery, so a redelivery is recognised as such.
   */
  deliveryId: string;
  /** Alarm name, GuardDuty finding type, or the alert's name: what triggers match and the fingerprint uses. */
  name: string;
  title: string;
  description?: string;
  state: 'firing' | 'resolved';
  /** Severity as the payload states it (already mapped to SEV1–SEV4), when it states one; triage fills the rest. */
  severity?: Severity;
  account?: string;
  region?: string;
  resource?: AlertResource;
  /** CloudWatch: the alarm's metric (the first one of a metric-math alarm). */
  metric?: { namespace?: string; name?: string };
  /** GuardDuty: the finding type, e.g. `UnauthorizedAccess:EC2/SSHBruteForce`. */
  findingType?: string;
  labels: Record<string, string>;
  /** ISO time the provider says the state changed. */
  occurredAt: string;
  /**
   * The payload as received (parsed), kept for evidence: whole, or its first bytes as text, or absent on a repeat of
   * the same state; `rawSummary` says which (alerts/compact.ts).
   */
  raw: unknown;
  /** Set once the alert is compacted for history: the full payload's digest and size, and what `raw` holds. */
  rawSummary?: RawSummary;
}

/** The payload's fingerprint and what became of it. */
export interface RawSummary {
  /** `sha256:<hex>` of the payload as JSON, full length. */
  digest: string;
  bytes: number;
  /** `full`: `raw` is the payload; `truncated`: `raw` is its first bytes of JSON text; `omitted`: no `raw`. */
  kept: 'full' | 'truncated' | 'omitted';
}
