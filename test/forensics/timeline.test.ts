/**
 * Timelines rebuilt from the committed corpus histories (test/histories/<version>/): no worker, no runbook file. The
 * expected values are read from the raw events independently of the builder (or from the workflow's own final state,
 * its result payload), never written down by hand.
 */
import path from 'node:path';
import { corpusReleases, readCorpusRelease } from '../../forensics/corpus';
import { serialiseHistory, sha256Hex, type HistoryJson, type RunHistory } from '../../forensics/history';
import { buildTimeline, parsePointInTime } from '../../forensics/timeline';

const HISTORIES = path.join(__dirname, '..', 'histories');
const release = readCorpusRelease(HISTORIES, corpusReleases(HISTORIES).at(-1)!);

type Event = Record<string, any>;
const scenario = (name: string) => {
  const h = release.histories.find((x) => x.entry.scenario === name);
  if (!h) throw new Error(`no corpus scenario ${name}`);
  return h;
};
const runOf = (name: string): RunHistory => {
  const h = scenario(name);
  return { workflowId: h.workflowId, runId: h.entry.runId, history: h.history as HistoryJson };
};
const eventsOf = (name: string) => (scenario(name).history as { events: Event[] }).events;
const attrs = (e: Event) => e[Object.keys(e).find((k) => k.endsWith('EventAttributes'))!];
const decode = (p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
const ms = (t: string) => new Date(t).toISOString();
const resultOf = (name: string) => {
  const last = eventsOf(name).at(-1)!;
  const r = attrs(last).result;
  return r ? decode(r.payloads[0]) : undefined;
};
const updates = (name: string, update: string) =>
  eventsOf(name)
    .filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')
    .filter((e) => attrs(e).acceptedRequest.input.name === update)
    .map((e) => ({ event: e, args: decode(attrs(e).acceptedRequest.input.args.payloads[0]) }));

const runbookScenarios = release.histories.filter((h) => h.entry.workflowType === 'runbookWorkflow');
/** A scenario's runs, oldest first: `<name>` alone, or `<name>.run-1`, `<name>.run-2`, … when it continued as new. */
const chainBase = (name: string) => name.replace(/\.run-\d+$/, '');
const chain = (base: string) =>
  release.histories
    .filter((h) => h.entry.scenario === base || h.entry.scenario.startsWith(`${base}.run-`))
    .map((h) => h.entry.scenario)
    .sort((a, b) => Number(a.split('.run-')[1] ?? 0) - Number(b.split('.run-')[1] ?? 0));
const runbookChains = [...new Set(runbookScenarios.map((h) => chainBase(h.entry.scenario)))];
/** Alert batches as delivered: `alerts` Updates (0.2.0 and before) or `alertDeliveries` signals (0.3.0 on). */
const alertsSent = (name: string): Record<string, any>[] =>
  eventsOf(name).flatMap((e) => {
    if (
      e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED' &&
      attrs(e).acceptedRequest.input.name === 'alerts'
    )
      return decode(attrs(e).acceptedRequest.input.args.payloads[0]);
    if (e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' && attrs(e).signalName === 'alertDeliveries')
      return decode(attrs(e).input.payloads[0]);
    return [];
  });

test.each(runbookScenarios.map((h) => h.entry.scenario))(
  "%s: where it acted: its target's account and region, else the worker's own as its lock request resolved them",
  (name) => {
    const events = eventsOf(name);
    const input = decode(attrs(events[0]).input.payloads[0]);
    const lock = events.find(
      (e) =>
        e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' && attrs(e).activityType.name === 'resource.requestLock',
    );
    const done = events.find(
      (e) =>
        e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED' && String(attrs(e).scheduledEventId) === lock?.eventId,
    );
    const [, account, region] = done ? String(decode(attrs(done).result.payloads[0]).workflowId).split(':') : [];
    const known = (v: string | undefined) => (v && v !== 'self' ? v : undefined);
    const expected = {
      account: input.target?.account ?? known(account),
      region: input.target?.region ?? known(region),
    };
    const target = buildTimeline([runOf(name)]).execution!.target;
    expect({ account: target?.account, region: target?.region }).toEqual(expected);
    if (target) expect(target.source).toBe(input.target ? 'target' : 'worker');
  },
);

test.each(runbookChains)(
  '%s: step states, attempts, decisions and compensations equal what the workflow itself reported (every run)',
  (base) => {
    const names = chain(base);
    const name = names.at(-1)!;
    const t = buildTimeline(names.map(runOf));
    const result = resultOf(name);
    expect(t.kind).toBe('execution');
    expect(t.runs.map((r) => [r.historySha256, r.eventCount])).toEqual(
      names.map((n) => [scenario(n).entry.sha256, scenario(n).entry.eventCount]),
    );
    expect(t.outcome.workflowStatus).toBe(scenario(name).entry.status.toLowerCase().replace('canceled', 'cancelled'));
    // The pinned definition is the first start event's input, whatever runbooks/ holds today.
    const input = decode(attrs(eventsOf(names[0])[0]).input.payloads[0]);
    expect(t.execution!.runbook).toEqual({
      id: input.runbook.id,
      version: input.runbook.version,
      title: input.runbook.title,
      digest: input.digest,
      definition: input.runbook,
    });
    expect(t.execution!.startedBy).toEqual(input.startedBy);
    if (!result?.steps) return; // failed and cancelled runs have no final state in history; checked below
    const view = (s: any) => ({
      id: s.id,
      status: s.status,
      attempts: s.attempts,
      decision: s.approval && [s.approval.decision, s.approval.decidedBy.id, s.approval.decidedAt, s.approval.via],
      rollback: s.rollback && [s.rollback.status, s.rollback.attempts],
    });
    expect(t.execution!.steps.map(view)).toEqual(result.steps.map(view));
    expect(t.execution!.status).toBe(result.status);
    expect(t.execution!.rollback?.trigger).toBe(result.rollback?.trigger);
    expect(t.execution!.rollback?.complete).toBe(result.rollback?.complete);
    for (const s of result.steps.filter((x: any) => x.output !== undefined && !x.output.summary)) {
      expect(t.execution!.steps.find((x) => x.id === s.id)!.output).toEqual(s.output);
    }
  },
);

test('success: every step with its scheduled, started and closed times from the activity events', () => {
  const name = 'runbook-deadline-approve-window-expired';
  const t = buildTimeline([runOf(name)]);
  const events = eventsOf(name);
  const stepIds = new Set(t.execution!.steps.map((s) => s.id));
  // Step activities (the resource lock's request is the engine's own, no step).
  const scheduled = events.filter(
    (e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' && stepIds.has(attrs(e).activityId),
  );
  expect(scheduled.length).toBeGreaterThan(3);
  for (const e of scheduled) {
    const id = attrs(e).activityId;
    const started = events.find((x) => attrs(x)?.scheduledEventId === e.eventId && x.eventType.endsWith('STARTED'))!;
    const closed = events.find((x) => attrs(x)?.scheduledEventId === e.eventId && x.eventType.endsWith('COMPLETED'))!;
    const step = t.execution!.steps.find((s) => s.id === id)!;
    expect([step.scheduledAt, step.startedAt, step.closedAt]).toEqual([
      ms(e.eventTime),
      ms(started.eventTime),
      ms(closed.eventTime),
    ]);
    expect(step.input).toEqual(decode(attrs(e).input.payloads[0]));
  }
  // The rollback window ran out: its timer fired.
  expect(t.timers.find((x) => x.purpose === 'rollback-window')?.fate).toBe('fired');
  expect(t.execution!.status).toBe('succeeded');
});

test('rollback after a failed step: the failure, and compensations in reverse order', () => {
  const name = 'runbook-step-failed';
  const t = buildTimeline([runOf(name)]);
  const failedEvent = eventsOf(name).find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_FAILED')!;
  const scheduledId = attrs(failedEvent).scheduledEventId;
  const failedStep = attrs(eventsOf(name).find((e) => e.eventId === scheduledId)!).activityId;
  const step = t.execution!.steps.find((s) => s.id === failedStep)!;
  expect(step.status).toBe('failed');
  expect(step.failures.at(-1)).toMatchObject({
    message: attrs(failedEvent).failure.message,
    at: ms(failedEvent.eventTime),
  });
  // No firebreak attempt marker among the failure's details: it became the attempt number.
  expect(JSON.stringify(step.failures)).not.toContain('firebreakAttempt');
  const compensations = eventsOf(name)
    .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' && attrs(e).activityId.startsWith('rollback:'))
    .map((e) => attrs(e).activityId.slice('rollback:'.length));
  const rolledBack = t
    .execution!.steps.filter((s) => s.rollback)
    .sort((a, b) => a.rollback!.scheduledAt.localeCompare(b.rollback!.scheduledAt));
  expect(rolledBack.map((s) => s.id)).toEqual(compensations);
  expect(t.execution!.rollback).toMatchObject({ trigger: 'step-failed', complete: true });
  expect(t.outcome).toMatchObject({ workflowStatus: 'failed', status: 'failed' });
  expect(t.outcome.failure!.message).toBe(attrs(eventsOf(name).at(-1)!).failure.message);
});

test('reject: the decision with its principal, time and comment from the Update', () => {
  const name = 'runbook-rejected';
  const t = buildTimeline([runOf(name)]);
  const [{ event, args }] = updates(name, 'decideApproval');
  expect(args.decision).toBe('reject');
  expect(t.execution!.approvals).toEqual([
    expect.objectContaining({
      stepId: args.stepId,
      decision: 'reject',
      comment: args.comment,
      decidedBy: args.decidedBy,
      via: 'human',
      updateId: attrs(event).acceptedRequest.meta.updateId,
      eventId: Number(event.eventId),
    }),
  ]);
  expect(t.execution!.steps.find((s) => s.id === args.stepId)!.status).toBe('rejected');
  expect(t.execution!.rollback?.trigger).toBe('rejected');
});

test('deadline: the approval decided by the timer, onTimeout=fail, and the execution failed', () => {
  const name = 'runbook-deadline-fail';
  const t = buildTimeline([runOf(name)]);
  const fired = eventsOf(name).find((e) => e.eventType === 'EVENT_TYPE_TIMER_FIRED')!;
  const approval = t.execution!.steps.find((s) => s.kind === 'approval')!;
  expect(approval.status).toBe('failed');
  expect(approval.approval).toMatchObject({ decidedBy: { id: 'system:deadline' }, via: 'timeout', decision: 'reject' });
  expect(approval.closedAt).toBe(ms(fired.eventTime));
  const timer = t.timers.find((x) => x.purpose === `approval:${approval.id}`)!;
  expect(timer).toMatchObject({ timerId: attrs(fired).timerId, fate: 'fired' });
  expect(approval.deadline).toBe(timer.deadline);
  expect(t.execution!.rollback?.trigger).toBe('approval-timeout');
  expect(t.outcome.failure!.type).toBe(attrs(eventsOf(name).at(-1)!).failure.applicationFailureInfo.type);
});

test('release: the rollback requested inside the rollback window, by whom and why', () => {
  const name = 'runbook-approved-released';
  const t = buildTimeline([runOf(name)]);
  const [{ event, args }] = updates(name, 'requestRollback');
  expect(t.execution!.rollbackRequests).toEqual([
    {
      eventId: Number(event.eventId),
      at: ms(event.eventTime),
      updateId: expect.any(String),
      reason: args.reason,
      requestedBy: args.requestedBy,
    },
  ]);
  expect(t.timers.find((x) => x.purpose === 'rollback-window')).toMatchObject({ fate: 'cancelled' });
  expect(t.execution!.statusChanges.map((c) => c.status)).toEqual([
    'running',
    'waiting-approval',
    'running',
    'succeeded',
    'rolling-back',
    'rolled-back',
  ]);
});

test('state at a point: by event ID and by time, the steps as they stood then', () => {
  const name = 'runbook-approved-released';
  const full = buildTimeline([runOf(name)]);
  // The approval's deadline timer starts in the same workflow task as the status change, just after it.
  const waiting = full.timers.find((x) => x.purpose === 'approval:approve-isolation')!;
  for (const at of [String(waiting.eventId), waiting.startedAt]) {
    const then = buildTimeline([runOf(name)], parsePointInTime(at));
    expect(then.asOf?.eventId).toBeGreaterThanOrEqual(waiting.eventId);
    expect(then.outcome.workflowStatus).toBe('running');
    expect(then.execution!.status).toBe('waiting-approval');
    const status = Object.fromEntries(then.execution!.steps.map((s) => [s.id, s.status]));
    expect(status['approve-isolation']).toBe('waiting-approval');
    expect(status.isolate).toBe('pending');
    expect(status.capture).toBe('succeeded');
    expect(then.execution!.approvals).toEqual([]);
    // The run's hash is the whole history's, not the cut's: the state is tied to the evidence it came from.
    expect(then.runs[0].historySha256).toBe(full.runs[0].historySha256);
  }
  expect(() => parsePointInTime('yesterday-ish')).toThrow(/neither an event ID nor an ISO time/);
});

test('incident: alerts with their acks, flapping resolution withdrawn, the child runbook', () => {
  const name = 'incident-flapping-rolled-back';
  const t = buildTimeline([runOf(name)]);
  const sent = alertsSent(name);
  expect(t.incident!.alerts.map((a) => [a.deliveryId, a.state, a.name])).toEqual(
    sent.map((a: any) => [a.deliveryId, a.state, a.name]),
  );
  // Outcomes (recorded answers, or derived from a signal's place in history) agree with the incident's own counts.
  const final = resultOf(name);
  const outcomes = t.incident!.alerts.map((a) => a.outcome);
  expect(outcomes.filter((o) => o === 'refired' || o === 'reopened').length).toBe(final.refiredCount);
  expect(outcomes.filter((o) => o === 'duplicate').length).toBe(final.duplicateCount);
  expect(outcomes.filter((o) => o === 'reopened').length).toBe(final.reopenedCount ?? 0);
  expect(outcomes[0]).toBe('opened');
  const resolutions = t.incident!.resolutions;
  expect(resolutions.map((r) => [r.kind, !!r.withdrawnAt])).toEqual([
    ['alert', true],
    ['alert', false],
  ]);
  const child = eventsOf(name).find((e) => e.eventType === 'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED')!;
  expect(t.incident!.child).toMatchObject({ workflowId: attrs(child).workflowId, runbookId: 'ec2-compromise' });
  expect(t.incident!.runbookProgress.map((p) => p.status)).toEqual(
    eventsOf(name)
      .filter(
        (e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' && attrs(e).signalName === 'runbookProgress',
      )
      .map((e) => decode(attrs(e).input.payloads[0]).status),
  );
  expect(t.incident!.status).toBe(resultOf(name).status);
});

test('incident: a human severity change and resolution, notifications named by their event', () => {
  const t = buildTimeline([runOf('incident-no-automation')]);
  const [{ args }] = updates('incident-no-automation', 'setSeverity');
  expect(t.incident!.severityChanges).toEqual([
    expect.objectContaining({ from: t.incident!.initialSeverity, to: args.severity, reason: args.reason, by: args.by }),
  ]);
  expect(t.incident!.severity).toBe(args.severity);
  expect(t.incident!.route.kind).toBe('none');
  expect(t.incident!.notifications.map((n) => n.event)).toEqual(
    eventsOf('incident-no-automation')
      .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')
      .map((e) => decode(attrs(e).input.payloads[0]).ctx.stepId.replace(/^notify-/, '')),
  );
  const human = buildTimeline([runOf('incident-runbook-failed')]).incident!.resolutions;
  const [{ args: resolve }] = updates('incident-runbook-failed', 'resolve');
  expect(human).toEqual([expect.objectContaining({ kind: 'human', by: resolve.by.id, reason: resolve.reason })]);
});

test('an exported file gives the same timeline as the parsed history, byte for byte', () => {
  const run = runOf('runbook-rejected');
  const reparsed: RunHistory = { ...run, history: JSON.parse(serialiseHistory(run.history)) };
  expect(JSON.stringify(buildTimeline([reparsed]))).toBe(JSON.stringify(buildTimeline([run])));
  expect(sha256Hex(serialiseHistory(run.history))).toBe(scenario('runbook-rejected').entry.sha256);
});
