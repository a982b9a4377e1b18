/**
 * The post-incident report from corpus histories, checked field by field against values read from the raw events.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { corpusReleases, readCorpusRelease } from '../../forensics/corpus';
import type { HistoryJson } from '../../forensics/history';
import { buildReport, formatDuration } from '../../forensics/report';
import { buildTimeline } from '../../forensics/timeline';

const HISTORIES = path.join(__dirname, '..', 'histories');
const release = readCorpusRelease(HISTORIES, corpusReleases(HISTORIES).at(-1)!);
type Event = Record<string, any>;
const find = (name: string) => release.histories.find((h) => h.entry.scenario === name)!;
const events = (name: string) => (find(name).history as { events: Event[] }).events;
const timeline = (name: string) =>
  buildTimeline([
    { workflowId: find(name).workflowId, runId: find(name).entry.runId, history: find(name).history as HistoryJson },
  ]);
const attrs = (e: Event) => e[Object.keys(e).find((k) => k.endsWith('EventAttributes'))!];
const decode = (p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
const iso = (t: string) => new Date(t).toISOString();
const update = (name: string, update: string) =>
  events(name).filter(
    (e) =>
      e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED' && attrs(e).acceptedRequest.input.name === update,
  );

/** Alert batches as delivered: `alerts` Updates (0.2.0 and before) or `alertDeliveries` signals (0.3.0 on). */
const alertBatches = (name: string): { event: Event; alerts: Record<string, any>[] }[] =>
  events(name).flatMap((e) => {
    if (
      e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED' &&
      attrs(e).acceptedRequest.input.name === 'alerts'
    )
      return [{ event: e, alerts: decode(attrs(e).acceptedRequest.input.args.payloads[0]) }];
    if (e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' && attrs(e).signalName === 'alertDeliveries')
      return [{ event: e, alerts: decode(attrs(e).input.payloads[0]) }];
    return [];
  });

test('report of an incident whose runbook was approved and contained, resolved by the alarm', () => {
  const name = 'incident-runbook-resolved';
  const report = buildReport(timeline(name), timeline(`${name}.runbook`));
  const opened = Date.parse(events(name)[0].eventTime);
  const firstAlert = alertBatches(name)[0].alerts[0];

  // Decision: its time is the Update's result (the workflow's clock), its principal the Update's argument.
  const decisionEvent = update(`${name}.runbook`, 'decideApproval')[0];
  const decision = decode(attrs(decisionEvent).acceptedRequest.input.args.payloads[0]);
  const completed = events(`${name}.runbook`).find(
    (e) =>
      e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED' &&
      attrs(e).acceptedEventId === decisionEvent.eventId,
  )!;
  const decidedAt = decode(attrs(completed).outcome.success.payloads[0]).decidedAt;
  const progress = events(name).filter(
    (e) =>
      e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED' &&
      decode(attrs(e).input.payloads[0]).status === 'succeeded',
  )[0];
  const resolvedAlert = alertBatches(name).find((b) => b.alerts[0].state === 'resolved')!.event;

  expect(report.incidentId).toBe(decode(attrs(events(name)[0]).input.payloads[0]).incidentId);
  expect(report.title).toBe(firstAlert.title);
  expect(report.detectedAt).toBe(firstAlert.occurredAt);
  expect(report.resource).toBe(`${firstAlert.resource.type}/${firstAlert.resource.id}`);
  // Where the runbook acted: the execution timeline's target, also in the markdown.
  const where = timeline(`${name}.runbook`).execution?.target;
  expect({ account: report.account, region: report.region }).toEqual({
    account: where?.account,
    region: where?.region,
  });
  expect(report.markdown).toContain(
    `- Account and region: ${where?.account ?? 'unknown'}, ${where?.region ?? 'unknown'}`,
  );
  expect(report.status).toBe('closed');
  expect(report.runbook).toEqual({
    id: 'ec2-compromise',
    digest: decode(attrs(events(`${name}.runbook`)[0]).input.payloads[0]).digest,
    executionId: find(`${name}.runbook`).workflowId,
    status: 'succeeded',
  });
  expect(report.metrics).toEqual({
    acknowledgedAt: decidedAt,
    acknowledgedBy: decision.decidedBy.id,
    mttaMs: Date.parse(decidedAt) - opened,
    containedAt: iso(progress.eventTime),
    mttcMs: Date.parse(iso(progress.eventTime)) - opened,
    resolvedAt: iso(resolvedAlert.eventTime),
    resolvedBy: `${firstAlert.source}:${firstAlert.name}`,
    mttrMs: Date.parse(iso(resolvedAlert.eventTime)) - opened,
  });
  expect(report.approvals).toEqual([
    {
      stepId: decision.stepId,
      decision: 'approve',
      decidedBy: decision.decidedBy.id,
      decidedAt,
      via: 'human',
      comment: decision.comment,
    },
  ]);
  expect(report.rollbacks).toEqual([]);

  // Evidence: the snapshot step's output hashed as recorded, with the snapshot IDs it created.
  const snapshotEvent = events(`${name}.runbook`).find(
    (e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' && attrs(e).activityId === 'snapshot-volumes',
  )!;
  const snapshotDone = events(`${name}.runbook`).find(
    (e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED' && attrs(e).scheduledEventId === snapshotEvent.eventId,
  )!;
  const output = decode(attrs(snapshotDone).result.payloads[0]).output;
  const snapshot = report.evidence.find((e) => e.label.startsWith('step snapshot-volumes'))!;
  expect(snapshot.sha256).toBe(createHash('sha256').update(JSON.stringify(output)).digest('hex'));
  expect(snapshot.ids).toEqual(output.snapshots.map((s: { snapshotId: string }) => s.snapshotId));
  expect(report.evidence.filter((e) => e.kind === 'history').map((e) => e.sha256)).toEqual([
    find(name).entry.sha256,
    find(`${name}.runbook`).entry.sha256,
  ]);

  // The Markdown: sections in order, and the rows carry the same facts.
  const headings = report.markdown.split('\n').filter((l) => l.startsWith('## '));
  expect(headings).toEqual([
    '## Summary',
    '## Impact and severity',
    '## Response times',
    '## Timeline',
    '## Actions taken',
    '## Approvals',
    '## Rollbacks',
    '## Evidence',
    '## Open questions',
    '## Action items',
  ]);
  const row = (prefix: string) =>
    report.markdown
      .split('\n')
      .find((l) => l.startsWith(prefix))!
      .split(' | ');
  expect(row('| Time to acknowledge')).toEqual([
    '| Time to acknowledge (MTTA)',
    formatDuration(report.metrics.mttaMs),
    decidedAt,
    `${decision.decidedBy.id} |`,
  ]);
  expect(row(`| ${decision.stepId} | approve`)).toEqual([
    `| ${decision.stepId}`,
    'approve',
    decision.decidedBy.id,
    decidedAt,
    'human',
    `${decision.comment} |`,
  ]);
  expect(report.markdown).toContain(
    `| step-output | step snapshot-volumes output (ec2.snapshotVolumes) | \`${snapshot.sha256}\` | ${snapshot.ids!.join(', ')} |`,
  );
});

test('report of a failed runbook: deadline decision, rollback, human resolution, open questions', () => {
  const name = 'incident-runbook-failed';
  const report = buildReport(timeline(name), timeline(`${name}.runbook`));
  const resolve = decode(attrs(update(name, 'resolve')[0]).acceptedRequest.input.args.payloads[0]);
  expect(report.approvals).toEqual([expect.objectContaining({ decidedBy: 'system:deadline', via: 'timeout' })]);
  // A deadline is no acknowledgement: the human's resolution is the first human act.
  expect(report.metrics.acknowledgedBy).toBe(resolve.by.id);
  expect(report.metrics.resolvedBy).toBe(resolve.by.id);
  expect(report.metrics.mttcMs).toBeUndefined();
  expect(report.rollback).toEqual({ trigger: 'approval-timeout', complete: true });
  // The compensations the child's history ran, in order, each completed.
  const compensations = events(`${name}.runbook`)
    .filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' && attrs(e).activityId.startsWith('rollback:'))
    .map((e) => [attrs(e).activityId.slice('rollback:'.length), 'succeeded']);
  expect(compensations).toContainEqual(['protect-termination', 'succeeded']);
  // (The report lists them in the runbook's step order.)
  expect(report.rollbacks.map((r) => [r.stepId, r.status]).sort()).toEqual(compensations.sort());
  expect(report.openQuestions).toEqual(
    expect.arrayContaining([expect.stringMatching(/^Nobody decided approve-isolation before its deadline/)]),
  );
  expect(report.markdown).toContain('| Time to contain (MTTC) | n/a | never |  |');
});

test('report without automation, and without the child history (past retention)', () => {
  const none = buildReport(timeline('incident-no-automation'));
  expect(none.runbook).toBeUndefined();
  expect(none.severity).not.toBe(none.initialSeverity);
  expect(none.openQuestions[0]).toMatch(/^No runbook ran/);
  const orphan = buildReport(timeline('incident-runbook-resolved'));
  expect(orphan.openQuestions).toEqual(expect.arrayContaining([expect.stringMatching(/has no history left/)]));
  expect(orphan.actions).toEqual([]);
});
