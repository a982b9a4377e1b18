/**
 * What of an alert's raw payload goes into the incident's history. Every alert delivered to an incident becomes an
 * Update argument, and Update arguments stay in history for the life of the run; a noisy alarm redelivered thousands of
 * times would otherwise carry its whole payload each time (measured: 2,000 SNS deliveries made an 8 MB history).
 *
 * So: every alert keeps its identifying fields and the SHA-256 of its full payload; the payload (capped at
 * MAX_RAW_BYTES, flagged when truncated), description and labels ride only on the first alert of a batch and on each
 * change of state within it. The first alert of a batch is what opens a new incident, so an incident's opening alert always carries it.
 */
import { createHash } from 'node:crypto';
import type { NormalisedAlert } from './alert';

/** Largest raw payload kept in history, as JSON bytes; larger ones keep their first MAX_RAW_BYTES as text. */
export const MAX_RAW_BYTES = 16 * 1024;

/** Caps one alert's payload; `keep: false` leaves only its digest. */
export function compactAlert(alert: NormalisedAlert, keep: boolean, maxBytes = MAX_RAW_BYTES): NormalisedAlert {
  if (alert.rawSummary) return alert; // already compacted (a retry of the same batch)
  const json = JSON.stringify(alert.raw ?? null);
  const bytes = Buffer.byteLength(json, 'utf8');
  const digest = `sha256:${createHash('sha256').update(json, 'utf8').digest('hex')}`;
  // A repeat of a state already recorded keeps what identifies and counts it, not its free text.
  if (!keep) {
    return {
      ...alert,
      raw: undefined,
      description: undefined,
      labels: {},
      rawSummary: { digest, bytes, kept: 'omitted' },
    };
  }
  if (bytes <= maxBytes) return { ...alert, rawSummary: { digest, bytes, kept: 'full' } };
  const excerpt = Buffer.from(json, 'utf8').subarray(0, maxBytes).toString('utf8');
  return { ...alert, raw: excerpt, rawSummary: { digest, bytes, kept: 'truncated' } };
}

/** A batch for one incident, in order: the payload on the first alert and on each change of state. */
export function compactBatch(alerts: readonly NormalisedAlert[], maxBytes = MAX_RAW_BYTES): NormalisedAlert[] {
  return alerts.map((a, i) => compactAlert(a, i === 0 || alerts[i - 1].state !== a.state, maxBytes));
}
