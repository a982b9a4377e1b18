/**
 * Durations as runbooks, configuration and Temporal write them: milliseconds, or strings such as `'30s'`, `'5m'`,
 * `'2 hours'`, read by the same `ms` release the Temporal SDK uses (pinned to it in package.json), so a duration means
 * here exactly what it means to Temporal. Safe in workflow code (pure).
 */
import ms, { type StringValue } from 'ms';
import type { Duration } from '@temporalio/common';

/** Milliseconds of a duration; throws a TypeError naming the value when it is not one. */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') {
    if (Number.isFinite(d) && d >= 0) return d;
  } else if (typeof d === 'string') {
    const n = ms(d as StringValue);
    if (typeof n === 'number' && Number.isFinite(n)) return n;
  }
  throw new TypeError(`invalid duration ${JSON.stringify(d)}`);
}
