/**
 * What every bench reports: percentiles, a printed table, and a JSON file in bench/results/ with the date, the
 * machine (OS, CPUs, memory, Node) and the commit, so a figure can be compared with a later run of the same bench.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RESULTS_DIR = path.join(__dirname, 'results');

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of the samples (milliseconds, rounded to 0.1). */
export function percentiles(samples: readonly number[]): Percentiles {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN);
  const r = (v: number) => Math.round(v * 10) / 10;
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(at(1)), mean: r(mean) };
}

/** One reported figure: its value beside the baseline's, their ratio, and the target it is held to. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  /** value / baseline. */
  ratio?: number;
  /** E.g. `<= 100`, `ratio <= 1.5`; met is false when the figure misses it. */
  target?: string;
  met?: boolean;
}

export function figure(f: Omit<Figure, 'ratio'>): Figure {
  const ratio = f.baseline ? Math.round((f.value / f.baseline) * 100) / 100 : undefined;
  return { ...f, ...(ratio !== undefined ? { ratio } : {}) };
}

export interface BenchResult {
  bench: string;
  quick: boolean;
  aws: 'fake' | 'moto';
  date: string;
  commit: string;
  machine: { os: string; cpus: number; cpuModel: string; memoryBytes: number; node: string };
  durationMs: number;
  figures: Figure[];
  /** An invariant that did not hold, or the error that stopped the bench. */
  failed?: string;
  /** Everything else the bench measured (distributions, counts), for a later look. */
  details: Record<string, unknown>;
  command: string;
}

export function machine(): BenchResult['machine'] {
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
  };
}

export function commit(): string {
  try {
    const sha = execSync('git rev-parse HEAD', { cwd: __dirname, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain', { cwd: __dirname, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v));

export function printTable(result: BenchResult): void {
  const rows = result.figures.map((f) => [
    f.name,
    `${fmt(f.value)} ${f.unit}`,
    f.baseline !== undefined ? `${fmt(f.baseline)} ${f.unit}` : '',
    fmt(f.ratio),
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'met' : 'MISSED',
  ]);
  const head = ['figure', 'value', 'baseline', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(`\n== ${result.bench}${result.quick ? ' (quick)' : ''}, AWS: ${result.aws}, ${result.durationMs} ms`);
  console.log(line(head));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
  if (result.failed) console.log(`FAILED: ${result.failed}`);
}

export function writeResult(result: BenchResult, dir = RESULTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, '-');
  const file = path.join(dir, `${result.bench}-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>) {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Polls `check` until it returns a value or the deadline passes (then returns undefined). */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A progress line on stderr (the table and JSON path go to stdout). */
export function progress(message: string): void {
  if (!process.env.BENCH_SILENT) process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
