/**
 * Replay of the committed corpus (test/histories/<version>/): every history recorded from every release's code must
 * replay identically against today's workflow code (the bundle the jest global setup built), so a change that breaks
 * determinism for any history still in a retention window fails CI. Plus the proof that the check can fail: a
 * deliberately non-deterministic variant of the workflows is caught, naming the right event; and replay split between
 * processes (large batches) answers exactly as replay in one.
 */
import childProcess from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { corpusReleases, readCorpusRelease } from '../../forensics/corpus';
import { describeDivergence, formatVerdict, replayHistories, type ReplayVerdict } from '../../forensics/replay';
import { BUNDLE_LOGGER } from '../../worker/bundle';
import type { RunbookWorkflowInput } from '../../workflows/messages';

const HISTORIES = path.join(__dirname, '..', 'histories');
const releases = corpusReleases(HISTORIES);
const todaysCode = () => ({ workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! } });

beforeAll(() => {
  // Divergences are expected in the last test; core would log each failed workflow task as a warning.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
});
afterAll(async () => {
  await Runtime.instance().shutdown();
});

test("the corpus has a folder for this package's version (record it when releasing)", () => {
  const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  expect(releases).toContain(version);
});

for (const version of releases) {
  describe(`corpus ${version}`, () => {
    const release = readCorpusRelease(HISTORIES, version);

    test('files are exactly as recorded (manifest hashes, nothing missing or added)', () => {
      expect(release.problems).toEqual([]);
      expect(release.histories.map((h) => h.entry.eventCount)).toEqual(
        release.histories.map((h) => (h.history as { events: unknown[] }).events.length),
      );
    });

    test("every history replays identically against today's code", async () => {
      const verdicts = await replayHistories(release.histories, todaysCode());
      expect(verdicts.filter((v) => !v.identical).map(formatVerdict)).toEqual([]);
      expect(verdicts).toHaveLength(release.manifest.histories.length);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// The check can fail

type Event = Record<string, any>;
const eventsOf = (history: unknown) => (history as { events: Event[] }).events;
const idOf = (e: Event) => Number(e.eventId);
const attrs = (e: Event) => e[Object.keys(e).find((k) => k.endsWith('EventAttributes'))!];

/** The runbook definition pinned in a runbook execution's first event. */
function pinnedInput(events: Event[]): RunbookWorkflowInput {
  const payload = events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
  return JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
}

/** The first event a workflow's code caused: the one after the first completed workflow task. */
function firstCommandEvent(events: Event[]): Event {
  const done = events.findIndex((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
  return events[done + 1];
}

/** The change ID of a patch marker event (what `patched('<id>')` recorded), else undefined. */
function patchOf(e: Event): string | undefined {
  if (e.eventType !== 'EVENT_TYPE_MARKER_RECORDED' || attrs(e).markerName !== 'core_patch') return undefined;
  const data = attrs(e).details['patch-data'].payloads[0].data as string;
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8')).id;
}

/** The deliberately non-deterministic variant of the workflows, bundled once for the tests that need it. */
let variantBundle: Promise<{ code: string }> | undefined;
const variantCode = () =>
  (variantBundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/nondeterministic-workflows'),
    logger: BUNDLE_LOGGER,
  }));

test('a non-deterministic variant of the workflows is caught, naming the history and the first diverging event', async () => {
  const all = releases.flatMap((v) => readCorpusRelease(HISTORIES, v).histories);
  const variant = await variantCode();
  const verdicts = await replayHistories(all, { workflowBundle: variant });
  const byName = new Map<string, ReplayVerdict>(verdicts.map((v) => [v.name, v]));

  // Incidents: the variant starts a timer where each history has its first command.
  const incidents = all.filter((h) => h.entry.workflowType === 'incidentWorkflow');
  expect(incidents.length).toBeGreaterThan(0);
  for (const h of incidents) {
    const expected = firstCommandEvent(eventsOf(h.history));
    const v = byName.get(h.name)!;
    expect({ name: v.name, identical: v.identical }).toEqual({ name: h.name, identical: false });
    // A history that starts with a patch marker (recorded by a later release) diverges there: the variant, like old
    // code, never asks about that change; otherwise at the first command, where the variant starts a timer.
    const patch = patchOf(expected);
    expect(v.divergence).toMatchObject({
      kind: 'nondeterminism',
      eventId: idOf(expected),
      code: patch ? `no patched("${patch}") call at that point` : 'a Timer command',
    });
    expect(formatVerdict(v)).toContain(`${h.name}: diverges at event ${idOf(expected)}`);
  }

  // Runbooks: where the history scheduled the pinned first step first and the second step is an unconditional action,
  // the variant schedules the second step there instead.
  const swapped = all.filter((h) => {
    if (h.entry.workflowType !== 'runbookWorkflow') return false;
    const [first, second] = pinnedInput(eventsOf(h.history)).runbook.steps;
    const scheduled = eventsOf(h.history).find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    return scheduled && attrs(scheduled).activityId === first.id && second?.kind === 'action' && !second.when;
  });
  expect(swapped.length).toBeGreaterThan(0);
  for (const h of swapped) {
    const events = eventsOf(h.history);
    const [first, second] = pinnedInput(events).runbook.steps;
    const scheduled = events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')!;
    const v = byName.get(h.name)!;
    expect(v.identical).toBe(false);
    expect(v.divergence).toMatchObject({ kind: 'nondeterminism', eventId: idOf(scheduled) });
    expect(v.divergence!.history).toContain(`id "${first.id}"`);
    expect(v.divergence!.code).toBe(`activity id "${second.id}"`);
  }
});

test('replay split between processes gives the same verdicts, in the same order, as replay in one', async () => {
  const all = releases.flatMap((v) => readCorpusRelease(HISTORIES, v).histories);
  const sources = [
    { name: 'not-a-history', workflowId: 'x', history: { nothing: true } },
    ...all,
    // A History object as the client returns it (protobuf, Long event IDs) crosses to a child as JSON.
    { name: 'from-the-client', workflowId: all[0].workflowId, history: historyFromJSON(all[0].history) },
  ];
  // The variant: most histories diverge (each with its own event), some replay identically.
  const options = { workflowBundle: await variantCode() };
  const forked = jest.spyOn(childProcess, 'fork');
  const one = await replayHistories(sources, options, { processes: 1 });
  expect(forked).not.toHaveBeenCalled();
  const two = await replayHistories(sources, options, { processes: 2 });
  expect(forked).toHaveBeenCalledTimes(1);
  forked.mockRestore();

  expect(two).toEqual(one);
  expect(one.map((v) => v.name)).toEqual(sources.map((s) => s.name));
  expect(one.filter((v) => v.identical).length).toBeGreaterThan(0);
  expect(one.filter((v) => v.divergence?.kind === 'nondeterminism').length).toBeGreaterThan(10);
  expect(one[0].divergence?.reason).toBe('not a history (no events)');
  expect(one.at(-1)).toEqual({ ...one[1], name: 'from-the-client' });
});

test('a history missing a command the code no longer produces is named by the event core reports', () => {
  const [h] = readCorpusRelease(HISTORIES, releases[0]).histories;
  const events = eventsOf(h.history);
  const scheduled = events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')!;
  // Core's sentence when the code produced fewer commands than the history, as the SDK wraps it.
  const error = Object.assign(
    new Error(
      `Replay failed with a nondeterminism error. Details: Workflow activation completion failed: Failure { failure: ` +
        `Some(Failure { message: "[TMPRL1100] Nondeterminism error: No command scheduled for event ` +
        `HistoryEvent(id: ${idOf(scheduled)}, ActivityTaskScheduled)", source: "" }) }`,
    ),
    { name: 'DeterminismViolationError' },
  );
  expect(describeDivergence(error, events)).toEqual({
    kind: 'nondeterminism',
    eventId: idOf(scheduled),
    history: `ActivityTaskScheduled (activity ${attrs(scheduled).activityType.name}, id "${attrs(scheduled).activityId}")`,
    code: 'no command at that point',
    reason: `[TMPRL1100] Nondeterminism error: No command scheduled for event HistoryEvent(id: ${idOf(scheduled)}, ActivityTaskScheduled)`,
  });
});

test('something that is not a history is reported, and the others still replay', async () => {
  const [h] = readCorpusRelease(HISTORIES, releases[0]).histories;
  const verdicts = await replayHistories(
    [{ name: 'not-a-history', workflowId: 'x', history: { nothing: true } }, h],
    todaysCode(),
  );
  expect(verdicts.map((v) => [v.name, v.identical, v.divergence?.reason])).toEqual([
    ['not-a-history', false, 'not a history (no events)'],
    [h.name, true, undefined],
  ]);
});

test('a batch of nothing but non-histories is answered without starting a replayer', async () => {
  // A replayer started on this bundle would fail to load it: the verdicts prove it was never started.
  const verdicts = await replayHistories(
    [
      { name: 'empty', workflowId: 'x', history: { events: [] } },
      { name: 'garbage', workflowId: 'y', history: 'not json at all' },
    ],
    { workflowBundle: { codePath: '/nonexistent/bundle.js' } },
  );
  expect(verdicts.map((v) => [v.name, v.identical, v.divergence?.reason])).toEqual([
    ['empty', false, 'not a history (no events)'],
    ['garbage', false, 'not a history (no events)'],
  ]);
});

test('renumbered timers are named by the TimerFired event the history has', () => {
  const h = releases
    .flatMap((v) => readCorpusRelease(HISTORIES, v).histories)
    .find((c) => eventsOf(c.history).some((e) => e.eventType === 'EVENT_TYPE_TIMER_FIRED'))!;
  const events = eventsOf(h.history);
  const fired = events.find((e) => e.eventType === 'EVENT_TYPE_TIMER_FIRED')!;
  const timer = Number(attrs(fired).timerId);
  // Core's sentence when a timer was added earlier, even one started and cancelled at once (it leaves no event).
  const error = Object.assign(
    new Error(
      `[TMPRL1100] Nondeterminism error: Timer fired event did not have expected timer id ${timer + 1}, it was ${timer}!`,
    ),
    { name: 'DeterminismViolationError' },
  );
  expect(describeDivergence(error, events)).toMatchObject({
    kind: 'nondeterminism',
    eventId: idOf(fired),
    history: `TimerFired (timer "${timer}")`,
  });
});
