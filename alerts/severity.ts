/**
 * Severity triage: which SEV an alert gets, and why. The mapping tables are exported for the docs.
 *
 * Order: (1) a severity the payload states (generic `severity`, Alertmanager `severity` label, GuardDuty's numeric
 * severity, already mapped by the parsers); (2) for CloudWatch, a `severity` alarm tag (EventBridge events carry
 * tags when the alarm has tag propagation on), then a marker in the alarm description, since SNS alarm payloads carry
 * no tags; (3) the fallback: the matched runbook's default severity.
 */
import type { NormalisedAlert, Severity } from './alert';

/** GuardDuty's documented severity bands (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html). */
export const GUARDDUTY_SEVERITY_BANDS: readonly { min: number; max: number; label: string; severity: Severity }[] = [
  { min: 9.0, max: 10.0, label: 'Critical', severity: 'SEV1' },
  { min: 7.0, max: 8.9, label: 'High', severity: 'SEV2' },
  { min: 4.0, max: 6.9, label: 'Medium', severity: 'SEV3' },
  { min: 1.0, max: 3.9, label: 'Low', severity: 'SEV4' },
];

/**
 * The band of a GuardDuty numeric severity. Bands are taken by their lower bound, so a value between two documented
 * ranges (8.95) falls in the lower band; anything below 4.0 down to 0 is Low. Undefined when not a number in 0–10.
 */
export function guardDutyBand(value: unknown): (typeof GUARDDUTY_SEVERITY_BANDS)[number] | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 10) return undefined;
  return (
    GUARDDUTY_SEVERITY_BANDS.find((b) => value >= b.min) ??
    GUARDDUTY_SEVERITY_BANDS[GUARDDUTY_SEVERITY_BANDS.length - 1]
  );
}

/** Alertmanager `severity` label values (lowercased) and the SEV each stands for; `sev1`–`sev4` are accepted too. */
export const LABEL_SEVERITIES: Readonly<Record<string, Severity>> = {
  critical: 'SEV1',
  high: 'SEV2',
  error: 'SEV2',
  page: 'SEV2',
  warning: 'SEV3',
  info: 'SEV4',
  low: 'SEV4',
};

/** A severity label value as a SEV, or undefined when it is not one of {@link LABEL_SEVERITIES} or `sev1`–`sev4`. */
export function severityFromLabel(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  const sev = /^sev\s*([1-4])$/.exec(v);
  if (sev) return `SEV${sev[1]}` as Severity;
  return Object.prototype.hasOwnProperty.call(LABEL_SEVERITIES, v) ? LABEL_SEVERITIES[v] : undefined;
}

/**
 * The severity marker of a CloudWatch alarm description, case-insensitive: `[SEV2]`, `severity:SEV1`,
 * `severity=sev3`, `severity: 2`. The first marker wins.
 */
export const SEVERITY_MARKER = /\[\s*sev\s*([1-4])\s*\]|\bseverity\s*[:=]\s*(?:sev\s*)?([1-4])\b/i;

/** The SEV of a description's marker, if it has one. */
export function severityFromMarker(text: string | undefined): Severity | undefined {
  const m = text === undefined ? null : SEVERITY_MARKER.exec(text);
  return m ? (`SEV${m[1] ?? m[2]}` as Severity) : undefined;
}

/** The triaged severity and a human-readable reason (recorded on the incident). */
export interface TriageResult {
  severity: Severity;
  reason: string;
}

/** Triage: see the module comment for the order. `fallback` is normally the matched runbook's default severity. */
export function triageSeverity(alert: NormalisedAlert, fallback: Severity): TriageResult {
  const band = alert.source === 'guardduty' ? guardDutyBand(numericLabel(alert.labels?.severity)) : undefined;
  const bandReason =
    band &&
    `GuardDuty severity ${alert.labels.severity} is ${band.label} (${band.min.toFixed(1)}–${band.max.toFixed(1)})`;
  if (alert.severity) {
    return {
      severity: alert.severity,
      reason: band && band.severity === alert.severity ? bandReason! : `stated by the ${alert.source} payload`,
    };
  }
  if (band) return { severity: band.severity, reason: bandReason! };
  if (alert.source === 'cloudwatch') {
    const tag = alert.labels?.['tag:severity'];
    const tagged = severityFromLabel(tag);
    if (tagged) return { severity: tagged, reason: `alarm tag severity=${tag}` };
    const marked = severityFromMarker(alert.description);
    if (marked) return { severity: marked, reason: 'severity marker in the alarm description' };
  }
  return { severity: fallback, reason: `the alert states no severity: default ${fallback}` };
}

function numericLabel(value: string | undefined): number | undefined {
  return value === undefined || value.trim() === '' ? undefined : Number(value);
}
