/**
 * `npm run chaos`: the chaos suite (test/chaos/, and the approval races of test/api/approvals.test.ts) at full size,
 * on the real stack jest starts; prints the table "faults injected / runs / lost / doubled" and writes it to
 * .data/chaos/results.json. Plain `jest` runs the same files at quick sizes.
 *
 *   CHAOS_RUNS=<n>          one size for every scenario instead of the full ones (a shorter full run)
 *   CHAOS_TIMEOUT_MIN=<n>   the whole run's limit, default 75 minutes; jest is stopped past it
 *
 * Exit code 0 only when jest passed and every scenario reported, with nothing lost and nothing doubled.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR, type ChaosRow } from '../test/chaos/chaos';
import { ROOT } from './stack';

/** Every scenario the suite reports; one that wrote no row failed before its end. */
const SCENARIOS = [
  'worker kill -9',
  'Temporal server kill -9',
  'API kill -9 during an alert burst',
  'AWS faults (fault proxy)',
  'approval race: two approvers',
  'approval race: decision at the deadline',
];
const FILES = ['test/chaos', 'test/api/approvals.test.ts'];
const COMMAND = 'npm run chaos';

async function main(): Promise<void> {
  const limitMin = Number(process.env.CHAOS_TIMEOUT_MIN ?? 75);
  rmSync(RESULTS_DIR, { recursive: true, force: true });
  mkdirSync(RESULTS_DIR, { recursive: true });
  const started = Date.now();
  const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), '--runInBand', '--forceExit', ...FILES], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, CHAOS_FULL: '1' },
    detached: true,
  });
  const timer = setTimeout(() => {
    console.error(`chaos: stopping jest after ${limitMin} minutes`);
    // Its own process group: jest and the servers its global setup started.
    process.kill(-jest.pid!, 'SIGKILL');
  }, limitMin * 60_000);
  const code = await new Promise<number>((resolve) => jest.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
  clearTimeout(timer);

  const rows = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json') && f !== 'results.json')
    .map((f) => JSON.parse(readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as ChaosRow & { full: boolean });
  const missing = SCENARIOS.filter((s) => !rows.some((r) => r.scenario === s));
  const ordered = SCENARIOS.flatMap((s) => rows.filter((r) => r.scenario === s));
  const table = formatTable(ordered, missing);
  console.log(`\n${table}`);
  const ok = code === 0 && missing.length === 0 && ordered.every((r) => r.lost === 0 && r.doubled === 0);
  const file = path.join(RESULTS_DIR, 'results.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        command: COMMAND,
        ranAt: new Date(started).toISOString(),
        minutes: Math.round((Date.now() - started) / 6000) / 10,
        jestExitCode: code,
        ok,
        rows: ordered,
        missing,
      },
      null,
      2,
    ),
  );
  console.log(`\nchaos: ${ok ? 'passed' : 'FAILED'}; table written to ${path.relative(ROOT, file)}`);
  process.exit(ok ? 0 : 1);
}

export function formatTable(rows: ChaosRow[], missing: string[] = []): string {
  const lines = [
    '| scenario | faults injected | runs | lost | doubled | seconds | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) => `| ${r.scenario} | ${r.faults} | ${r.runs} | ${r.lost} | ${r.doubled} | ${r.seconds} | ${r.notes} |`,
    ),
    ...missing.map((s) => `| ${s} | – | – | – | – | – | no result: the scenario failed before its end |`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
