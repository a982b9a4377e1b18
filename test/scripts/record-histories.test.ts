/**
 * The corpus recorder never overwrites a release folder: with test/histories/<package version>/ present, it refuses
 * before starting anything and leaves the folder as it was. Recording a release is run by hand (CI replays what it
 * wrote); here the scenarios that make several runs of one workflow ID are recorded into a temporary folder.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readCorpusRelease, sha256 } from '../../forensics/corpus';
import { formatVerdict, replayHistories } from '../../forensics/replay';
import { ALL_SCENARIOS, recordCorpus } from '../../scripts/record-histories';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, uniqueId, type TestTemporal } from '../stack/temporal';

const ROOT = path.join(__dirname, '..', '..');

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, sha256(readFileSync(path.join(dir, f)))]));
}

test("refuses to record over the current version's existing folder, and changes nothing", async () => {
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const folder = path.join(ROOT, 'test', 'histories', version);
  const before = snapshot(folder);
  const run = await promisify(execFile)(
    path.join(ROOT, 'node_modules', '.bin', 'tsx'),
    [path.join(ROOT, 'scripts', 'record-histories.ts')],
    { cwd: ROOT, timeout: 60_000 },
  ).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`test/histories/${version}/ already exists`);
  expect(snapshot(folder)).toEqual(before);
  expect(readdirSync(path.dirname(folder)).filter((f) => f.startsWith('.recording'))).toEqual([]);
});

describe('recording (against the jest stack, into a temporary folder)', () => {
  let temporal: TestTemporal;
  let aws: TestAws;
  let root: string;
  beforeAll(async () => {
    temporal = await testTemporal();
    aws = testAws();
    root = mkdtempSync(path.join(tmpdir(), 'firebreak-corpus-'));
  });
  afterAll(async () => {
    await temporal?.close();
    aws?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('every run of a workflow ID is recorded: a recurring incident, one that continued as new; each run replays', async () => {
    const version = 'trial';
    const names = ['incident-recurrence', 'incident-continue-as-new'];
    const manifest = await recordCorpus({
      client: temporal.client,
      address: process.env.FIREBREAK_TEMPORAL_ADDRESS!,
      connection: temporal.connection,
      clients: aws.clients,
      sqs: aws.sqs,
      scenarios: ALL_SCENARIOS.filter((s) => names.includes(s.name)),
      dir: path.join(root, version),
      version,
      evidenceDir: path.join(root, 'evidence'),
      taskQueue: uniqueId('corpus'),
      workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    });
    const release = readCorpusRelease(root, version);
    expect(release.problems).toEqual([]);
    const entry = (scenario: string) => manifest.histories.find((h) => h.scenario === scenario)!;
    const start = (scenario: string) =>
      (release.histories.find((h) => h.entry.scenario === scenario)!.history as any).events[0]
        .workflowExecutionStartedEventAttributes;

    // Recurrence: two runs of one workflow ID, the second a new occurrence (no continuation), each with its own child.
    const [first, second] = [entry('incident-recurrence.run-1'), entry('incident-recurrence.run-2')];
    expect([first.workflowId, first.status, second.status]).toEqual([second.workflowId, 'COMPLETED', 'COMPLETED']);
    expect(first.runId).not.toBe(second.runId);
    expect(start('incident-recurrence.run-2').continuedExecutionRunId).toBeFalsy();
    expect(start('incident-recurrence.run-2').firstExecutionRunId).toBe(second.runId);
    const children = [entry('incident-recurrence.runbook-1'), entry('incident-recurrence.runbook-2')];
    expect(children.map((c) => c.workflowType)).toEqual(['runbookWorkflow', 'runbookWorkflow']);
    expect(children[0].workflowId).not.toBe(children[1].workflowId);
    expect(children.map((c) => c.workflowId)).toEqual([
      `${first.workflowId}-run-${first.runId}`,
      `${first.workflowId}-run-${second.runId}`,
    ]);

    // Continue-as-new: at least two runs, each one continuing the one before, the last one completed.
    const runs = manifest.histories.filter((h) => /^incident-continue-as-new\.run-\d+$/.test(h.scenario));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.map((r) => r.status)).toEqual([...runs.slice(1).map(() => 'CONTINUED_AS_NEW'), 'COMPLETED']);
    for (let i = 1; i < runs.length; i++) {
      expect(start(runs[i].scenario).continuedExecutionRunId).toBe(runs[i - 1].runId);
    }
    expect(entry('incident-continue-as-new.runbook').status).toBe('COMPLETED');
    // Each occurrence's evidence archive, recorded too.
    for (const a of [
      'incident-recurrence.archive-1',
      'incident-recurrence.archive-2',
      'incident-continue-as-new.archive',
    ])
      expect({ a, type: entry(a).workflowType, status: entry(a).status }).toEqual({
        a,
        type: 'archiveWorkflow',
        status: 'COMPLETED',
      });

    const verdicts = await replayHistories(release.histories, {
      workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    });
    expect(verdicts.filter((v) => !v.identical).map(formatVerdict)).toEqual([]);
    expect(verdicts).toHaveLength(manifest.histories.length);
  }, 240_000);
});
