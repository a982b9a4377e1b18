/**
 * Chaos suite plumbing: the sizes (quick under plain jest, full under `npm run chaos`, which sets CHAOS_FULL=1), and
 * each scenario's row of the report ("faults injected / runs / lost / doubled"), written to .data/chaos/ for
 * scripts/chaos.ts to gather into its table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const FULL = process.env.CHAOS_FULL === '1';

/** A size: the full one under `npm run chaos`, the quick one otherwise; CHAOS_RUNS overrides both. */
export function size(quick: number, full: number): number {
  const override = Number(process.env.CHAOS_RUNS);
  if (Number.isInteger(override) && override > 0) return override;
  return FULL ? full : quick;
}

export const RESULTS_DIR = path.resolve(__dirname, '..', '..', '.data', 'chaos');

export interface ChaosRow {
  scenario: string;
  faults: number;
  runs: number;
  lost: number;
  doubled: number;
  /** What the faults were and anything else worth reading beside the counts. */
  notes: string;
  seconds: number;
}

/** Writes the scenario's row (the suite's report gathers every row). */
export function recordRow(row: ChaosRow): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = row.scenario.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  writeFileSync(path.join(RESULTS_DIR, `${file}.json`), JSON.stringify({ ...row, full: FULL }, null, 2));
}

/** Everything lost or doubled, with why, so a failing scenario says what went wrong. */
export class Tally {
  readonly lost: string[] = [];
  readonly doubled: string[] = [];
  faults = 0;
  lose(what: string): void {
    this.lost.push(what);
  }
  double(what: string): void {
    this.doubled.push(what);
  }
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const randomBetween = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

/** Calls `fn` until it resolves or `timeoutMs` passes (for calls made while a server is down). */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 120_000, what = 'call'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${String(err)}`);
      await pause(300);
    }
  }
}
