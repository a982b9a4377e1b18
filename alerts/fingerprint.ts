/**
 * Alert fingerprints: one per incident. Re-firings, redeliveries and the final resolve of the same problem share it.
 */
import { createHash } from 'node:crypto';
import type { NormalisedAlert } from './alert';

/** The fields a fingerprint reads; nothing else of the alert matters to it. */
export type FingerprintInput = Pick<NormalisedAlert, 'source' | 'name' | 'account' | 'region' | 'resource'>;

/** Bumped if the recipe ever changes, so that old and new fingerprints cannot collide. */
export const FINGERPRINT_VERSION = 'fp1';

/**
 * The alert's fingerprint: `fp-` then 32 lowercase hex characters (the first 128 bits of a SHA-256).
 *
 * Recipe: SHA-256 of the UTF-8 JSON text of the array
 * `["fp1", source, account, region, name, resource.type, resource.id]`, where an absent account, region or resource
 * field is the empty string. Values are taken exactly as normalised (case-sensitive, no trimming); JSON encoding
 * keeps the fields apart whatever characters they contain.
 *
 * - `source` is the source family, not the transport: a CloudWatch alarm is `cloudwatch` whether it came via SNS or
 *   EventBridge, and both parsers give the same account, region, name (alarm name) and resource (from the metric's
 *   dimensions), so both fingerprint equal.
 * - `name` is the alarm name, the GuardDuty finding type, the Alertmanager `alertname`, or a generic alert's `name`.
 * - Left out on purpose: state (a resolve must reach the incident its firing opened), deliveryId, times, title,
 *   description, severity, labels and metric.
 */
export function fingerprint(alert: FingerprintInput): string {
  const parts = [
    FINGERPRINT_VERSION,
    alert.source,
    alert.account ?? '',
    alert.region ?? '',
    alert.name,
    alert.resource?.type ?? '',
    alert.resource?.id ?? '',
  ];
  return `fp-${createHash('sha256').update(JSON.stringify(parts), 'utf8').digest('hex').slice(0, 32)}`;
}
