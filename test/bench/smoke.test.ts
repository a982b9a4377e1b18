/**
 * Smoke test of the benchmark harness: the interpreter bench in quick mode against the fake AWS, on the jest stack's
 * Temporal dev server and prebuilt bundle (the bench's own worker and API processes, and its baseline worker, are
 * started as in a real sitting). Checks that the JSON it writes has every field a reader of bench/results/ relies on;
 * the figures themselves are not judged here (speed targets live in the benchmarks, never in timed tests). The
 * throughput bench runs 3 s loops; the burst bench runs tiny against the fake and against moto (behind the recording
 * proxy), and the arguments are checked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, runBenches } from '../../bench/run';
import type { BenchResult } from '../../bench/report';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
  process.env.BENCH_SILENT = '1';
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One bench, quick, at `size`, on the jest stack's dev server and bundle; its table kept off the test output. */
async function runOne(name: string, size: number, aws: 'fake' | 'moto'): Promise<string[]> {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const { files } = await runBenches({
      names: [name],
      quick: true,
      size,
      aws,
      resultsDir: dir,
      temporalAddress: process.env.FIREBREAK_TEMPORAL_ADDRESS,
      firebreakBundle: process.env.FIREBREAK_TEST_BUNDLE,
    });
    return files;
  } finally {
    log.mockRestore();
  }
}

test('the throughput bench runs a closed loop per phase and says what each item cost', async () => {
  const [file] = await runOne('throughput', 3, 'fake');
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult & { failed?: string };
  expect(result.failed).toBeUndefined();
  expect(result.figures.map((f) => f.name)).toEqual([
    'runbooks at first gate',
    'runbooks at first gate, one action before it (bench-gated)',
    'incidents started',
  ]);
  // A window of seconds may end before a runbook is through (the rate counts only those within it): not judged here.
  for (const f of result.figures) expect(f.baseline).toBeGreaterThan(0);
  const d = result.details as Record<string, any>;
  for (const phase of [d.baseline, d.firebreak, d.benchGated]) {
    // Every item sent got through (none late, none refused), and the CPU of the phase was read (the server's is not
    // here: the smoke test reuses jest's dev server, which is not the bench's child).
    expect(phase.through).toBeGreaterThan(0);
    expect(phase.through).toBe(phase.sent);
    expect(phase).toMatchObject({ late: 0, refused: 0 });
    expect(phase.cpuMsPerItem.worker).toBeGreaterThan(0);
  }
  expect(d.benchGated.atGate).toBe(d.benchGated.opened);
  // One item's histories: the baseline's parent and child; firebreak's incident, runbook and resource record.
  const per = d.historiesPerItem;
  for (const name of ['baseline', 'ec2-compromise', 'bench-gated']) expect(per[name].workflowTasks).toBeGreaterThan(1);
  expect(per['ec2-compromise'].activities).toBeGreaterThan(per['bench-gated'].activities);
  expect(per['bench-gated'].events).toBeGreaterThan(per.baseline.events);
}, 180_000);

test('the interpreter bench runs quickly against the fake AWS and writes a complete result', async () => {
  const files = await runOne('interpreter', 2, 'fake');

  expect(files).toHaveLength(1);
  expect(path.basename(files[0])).toMatch(/^interpreter-\d{4}-\d{2}-\d{2}T.*\.json$/);
  const result = JSON.parse(readFileSync(files[0], 'utf8')) as BenchResult;
  expect(result).toMatchObject({ bench: 'interpreter', quick: true, aws: 'fake' });
  expect(Date.parse(result.date)).not.toBeNaN();
  expect(result.commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
  expect(result.machine).toEqual({
    os: expect.any(String),
    cpus: expect.any(Number),
    cpuModel: expect.any(String),
    memoryBytes: expect.any(Number),
    node: process.version,
  });
  expect(result.command).toBe('npm run bench -- interpreter --quick');
  // Each figure beside its baseline, as a ratio, with its target and whether it was met.
  // A bench that broke writes its error instead of figures: show it.
  expect((result as BenchResult & { failed?: string }).failed).toBeUndefined();
  const names = result.figures.map((f) => f.name);
  expect(names).toEqual([expect.stringMatching(/^end-to-end p50/), 'end-to-end mean', 'worker CPU per run']);
  for (const f of result.figures) {
    expect(f.value).toBeGreaterThan(0);
    expect(f.baseline).toBeGreaterThan(0);
    expect(f.ratio).toBeCloseTo(f.value / f.baseline!, 1);
    expect(f.target).toBe('ratio <= 1.10');
    expect(typeof f.met).toBe('boolean');
  }
  // Every AWS call the runbook made was one the fake knows.
  expect(result.details.fakeAwsUnknownCalls).toBeUndefined();
  expect(result.details).toMatchObject({ runs: 2 });
}, 90_000);

test('the burst bench sends its alerts through the API and times every runbook to its first AWS call', async () => {
  const files = await runOne('burst', 4, 'fake');

  const result = JSON.parse(readFileSync(files[0], 'utf8')) as BenchResult;
  expect((result as BenchResult & { failed?: string }).failed).toBeUndefined();
  expect(result.command).toBe('npm run bench -- burst --quick');
  // Every alert was accepted and routed to ec2-compromise, whose first call reached the fake (none missing).
  const run = (result.details.runs as Record<string, any>)['firebreak@4'];
  expect(run.statuses).toEqual({ '202': 4 });
  expect(run).toMatchObject({ n: 4, serverErrors: 0, missing: 0, notAtGate: 0 });
  expect(run.firstCall.n).toBe(4);
  expect(run.firstCall.max).toBeGreaterThan(0);
  expect(run.allAtGateMs).toBeGreaterThanOrEqual(run.firstCall.max);
  // What it cost: the worker's and the API's CPU across the burst (the shared dev server's is not this sitting's), and
  // the slowest run's workflow tasks to its gate.
  expect(run.cpuMs.worker).toBeGreaterThan(0);
  expect(run.cpuMs.api).toBeGreaterThan(0);
  expect(run.workflowTasks.runbook).toBeGreaterThanOrEqual(3);
  expect(run.workflowTasks.incident).toBeGreaterThanOrEqual(1);
  // The median and slowest runbooks' ways to their first call, from history.
  expect(run.breakdowns.slowest).toEqual(
    expect.arrayContaining([expect.stringMatching(/runbook: ACTIVITY_TASK_SCHEDULED ec2\.captureInstance$/)]),
  );
  const baseline = (result.details.runs as Record<string, any>)['baseline@4'];
  expect(baseline).toMatchObject({ n: 4, missing: 0, statuses: { ok: 4 } });
  const fiveXx = result.figures.find((f) => f.name === 'burst 4: 5xx answers');
  expect(fiveXx).toMatchObject({ value: 0, target: '0', met: true });
  expect(result.details.fakeAwsUnknownCalls).toBeUndefined();
}, 120_000);

test('with --aws moto the burst bench launches its instances in moto and times the runbooks through the recording proxy', async () => {
  const files = await runOne('burst', 3, 'moto');

  const result = JSON.parse(readFileSync(files[0], 'utf8')) as BenchResult;
  expect((result as BenchResult & { failed?: string }).failed).toBeUndefined();
  expect(result).toMatchObject({ aws: 'moto', command: 'npm run bench -- burst --quick --aws moto' });
  // moto refused nothing: the instances, their region and account, and the notification topic exist there.
  expect(result.details.motoErrors).toBeUndefined();
  const run = (result.details.runs as Record<string, any>)['firebreak@3'];
  expect(run).toMatchObject({ n: 3, serverErrors: 0, missing: 0, notAtGate: 0 });
  expect(run.firstCall.n).toBe(3);
}, 120_000);

describe('bench arguments', () => {
  test('--aws moto runs the benches that support it, and refuses the fake-only ones by name', () => {
    expect(parseArgs(['--aws', 'moto'])).toEqual({
      names: ['alert-latency', 'burst', 'interpreter'],
      quick: false,
      aws: 'moto',
    });
    expect(parseArgs(['burst', '--quick', '--aws', 'moto'])).toMatchObject({ names: ['burst'], quick: true });
    expect(() => parseArgs(['throughput', '--aws', 'moto'])).toThrow(/throughput run against the fake only/);
    expect(() => parseArgs(['--aws', 'localstack'])).toThrow(/fake \(default\) or moto/);
    expect(parseArgs(['ingest'])).toEqual({ names: ['ingest'], quick: false, aws: 'fake' });
  });
});
