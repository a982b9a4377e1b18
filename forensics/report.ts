/**
 * The post-incident report: a Markdown post-mortem draft built from the incident's timeline and its runbook
 * execution's timeline (both rebuilt from history), plus the same facts as data (`ReportData`) for tools and tests.
 *
 * Response times are measured from the moment firebreak opened the incident (its first history event):
 * - MTTA, to acknowledge: the first human act on the incident or its runbook (an approval decision, a rollback
 *   request, a severity change, a resolution). Deadline decisions and alerts are not acknowledgements.
 * - MTTC, to contain: the runbook execution reporting success (the incident turning `contained`).
 * - MTTR, to resolve: the resolution that stood (an alert back to OK that did not fire again, or a human's).
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { StepTimeline, Timeline, TimelineEntry } from './timeline-schema';

const Opt = Type.Optional;

export const ReportSchema = Type.Object({
  incidentId: Type.String(),
  title: Type.String(),
  status: Type.String(),
  severity: Type.String(),
  initialSeverity: Type.String(),
  severityReason: Type.String(),
  openedAt: Type.String(),
  detectedAt: Opt(Type.String()),
  closedAt: Opt(Type.String()),
  resource: Opt(Type.String()),
  /** The account and region the runbook acted in (the execution timeline's target). */
  account: Opt(Type.String()),
  region: Opt(Type.String()),
  alertCount: Type.Integer(),
  runbook: Opt(
    Type.Object({ id: Type.String(), digest: Type.String(), executionId: Type.String(), status: Opt(Type.String()) }),
  ),
  metrics: Type.Object({
    acknowledgedAt: Opt(Type.String()),
    acknowledgedBy: Opt(Type.String()),
    mttaMs: Opt(Type.Integer()),
    containedAt: Opt(Type.String()),
    mttcMs: Opt(Type.Integer()),
    resolvedAt: Opt(Type.String()),
    resolvedBy: Opt(Type.String()),
    mttrMs: Opt(Type.Integer()),
  }),
  actions: Type.Array(
    Type.Object({
      stepId: Type.String(),
      title: Opt(Type.String()),
      action: Opt(Type.String()),
      status: Type.String(),
      attempts: Type.Integer(),
      startedAt: Opt(Type.String()),
      closedAt: Opt(Type.String()),
      error: Opt(Type.String()),
    }),
  ),
  approvals: Type.Array(
    Type.Object({
      stepId: Type.String(),
      decision: Type.String(),
      decidedBy: Type.String(),
      decidedAt: Type.String(),
      via: Type.String(),
      comment: Opt(Type.String()),
    }),
  ),
  rollbacks: Type.Array(
    Type.Object({ stepId: Type.String(), action: Type.String(), status: Type.String(), closedAt: Opt(Type.String()) }),
  ),
  rollback: Opt(Type.Object({ trigger: Type.String(), complete: Opt(Type.Boolean()) })),
  evidence: Type.Array(
    Type.Object({
      kind: Type.String(),
      label: Type.String(),
      sha256: Type.String(),
      ids: Opt(Type.Array(Type.String())),
    }),
  ),
  openQuestions: Type.Array(Type.String()),
  markdown: Type.String(),
});
export type ReportData = Static<typeof ReportSchema>;

export function buildReport(incident: Timeline, execution?: Timeline): ReportData {
  const inc = incident.incident;
  if (!inc) throw new Error(`${incident.workflowId} is not an incident`);
  const exe = execution?.execution;
  const first = inc.alerts[0];
  const openedAt = incident.startedAt;

  // Response times
  const humanActs = [
    ...(exe?.approvals ?? []).filter((a) => a.via === 'human').map((a) => ({ at: a.decidedAt, by: a.decidedBy.id })),
    ...(exe?.rollbackRequests ?? []).map((r) => ({ at: r.at, by: r.requestedBy.id })),
    ...inc.severityChanges.map((c) => ({ at: c.at, by: c.by.id })),
    ...inc.resolutions.filter((r) => r.kind === 'human').map((r) => ({ at: r.at, by: r.by })),
  ].sort((x, y) => x.at.localeCompare(y.at));
  const ack = humanActs[0];
  const contained =
    inc.runbookProgress.find((p) => p.status === 'succeeded')?.at ??
    exe?.statusChanges.find((c) => c.status === 'succeeded')?.at;
  const standing = inc.resolutions.filter((r) => !r.withdrawnAt).pop();
  const since = (t: string | undefined) => (t ? Date.parse(t) - Date.parse(openedAt) : undefined);

  const actions = (exe?.steps ?? []).map((s) => ({
    stepId: s.id,
    ...(s.title ? { title: s.title } : {}),
    ...(s.action ? { action: s.action } : {}),
    status: s.status,
    attempts: s.attempts,
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
    ...(s.closedAt ? { closedAt: s.closedAt } : {}),
    ...(s.failures.length > 0 ? { error: s.failures[s.failures.length - 1].message } : {}),
  }));
  const approvals = (exe?.approvals ?? []).map((a) => ({
    stepId: a.stepId,
    decision: a.decision,
    decidedBy: a.decidedBy.id,
    decidedAt: a.decidedAt,
    via: a.via,
    ...(a.comment ? { comment: a.comment } : {}),
  }));
  const rollbacks = (exe?.steps ?? [])
    .filter((s): s is StepTimeline & { rollback: NonNullable<StepTimeline['rollback']> } => !!s.rollback)
    .map((s) => ({
      stepId: s.id,
      action: s.rollback.activityType,
      status: s.rollback.status,
      ...(s.rollback.closedAt ? { closedAt: s.rollback.closedAt } : {}),
    }));

  const data: Omit<ReportData, 'markdown'> = {
    incidentId: inc.incidentId,
    title: first?.title ?? first?.name ?? inc.incidentId,
    status: inc.status,
    severity: inc.severity,
    initialSeverity: inc.initialSeverity,
    severityReason: inc.severityReason,
    openedAt,
    ...(first?.occurredAt ? { detectedAt: first.occurredAt } : {}),
    ...(incident.closedAt ? { closedAt: incident.closedAt } : {}),
    ...(first?.resource ? { resource: `${first.resource.type}/${first.resource.id}` } : {}),
    ...(exe?.target?.account ? { account: exe.target.account } : {}),
    ...(exe?.target?.region ? { region: exe.target.region } : {}),
    alertCount: inc.alerts.filter((a) => a.outcome !== 'duplicate').length,
    ...(inc.child
      ? {
          runbook: {
            id: inc.child.runbookId ?? inc.route.runbookId ?? '',
            digest: inc.child.digest ?? inc.route.digest ?? '',
            executionId: inc.child.workflowId,
            ...(exe ? { status: exe.status } : {}),
          },
        }
      : {}),
    metrics: {
      ...(ack ? { acknowledgedAt: ack.at, acknowledgedBy: ack.by, mttaMs: since(ack.at) } : {}),
      ...(contained ? { containedAt: contained, mttcMs: since(contained) } : {}),
      ...(standing ? { resolvedAt: standing.at, resolvedBy: standing.by, mttrMs: since(standing.at) } : {}),
    },
    actions,
    approvals,
    rollbacks,
    ...(exe?.rollback
      ? {
          rollback: {
            trigger: exe.rollback.trigger,
            ...(exe.rollback.complete !== undefined ? { complete: exe.rollback.complete } : {}),
          },
        }
      : {}),
    evidence: evidenceOf(incident, execution),
    openQuestions: openQuestions(incident, execution),
  };
  return { ...data, markdown: renderReport(data, incident, execution) };
}

/**
 * What an investigator can check later: each history (its SHA-256 as exported), each step output (SHA-256 of its
 * JSON as recorded, with the snapshot IDs it names) and each alert payload's digest as the incident recorded it.
 */
export function evidenceOf(...timelines: (Timeline | undefined)[]): ReportData['evidence'] {
  const present = timelines.filter((t): t is Timeline => t !== undefined);
  const out: ReportData['evidence'] = [];
  for (const t of present) {
    for (const run of t.runs) {
      out.push({ kind: 'history', label: `${t.workflowId} run ${run.runId}`, sha256: run.historySha256 });
    }
  }
  for (const s of present.flatMap((t) => t.execution?.steps ?? [])) {
    if (s.output !== undefined) out.push(outputEvidence(`step ${s.id} output (${s.action ?? s.kind})`, s.output));
    if (s.rollback?.output !== undefined)
      out.push(outputEvidence(`rollback of ${s.id} output (${s.rollback.activityType})`, s.rollback.output));
  }
  for (const a of present.flatMap((t) => t.incident?.alerts ?? [])) {
    if (a.rawSummary)
      out.push({
        kind: 'alert-payload',
        label: `alert ${a.deliveryId} (${a.source} "${a.name}" ${a.state}, payload ${a.rawSummary.kept})`,
        sha256: a.rawSummary.digest.replace(/^sha256:/, ''),
      });
  }
  return out;
}

function outputEvidence(label: string, output: unknown): ReportData['evidence'][number] {
  const ids = [...new Set(idsIn(output, /^snap-[0-9a-f]+$/))];
  return { kind: 'step-output', label, sha256: sha256Json(output), ...(ids.length > 0 ? { ids } : {}) };
}

/** SHA-256 (hex) of `JSON.stringify(value)`: the value as recorded in history, keys in their recorded order. */
export function sha256Json(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value) ?? 'null')
    .digest('hex');
}

function idsIn(value: unknown, pattern: RegExp): string[] {
  if (typeof value === 'string') return pattern.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((v) => idsIn(v, pattern));
  if (value && typeof value === 'object') return Object.values(value).flatMap((v) => idsIn(v, pattern));
  return [];
}

function openQuestions(incident: Timeline, execution?: Timeline): string[] {
  const inc = incident.incident!;
  const exe = execution?.execution;
  const q: string[] = [];
  if (inc.route.kind !== 'runbook')
    q.push(`No runbook ran (${inc.route.reason ?? 'no route'}): should one cover this kind of alert?`);
  if (inc.child && !execution)
    q.push(`The runbook execution ${inc.child.workflowId} has no history left (retention?): what did it do?`);
  for (const s of exe?.steps ?? []) {
    if (s.status === 'failed') q.push(`Step ${s.id} failed (${s.failures[s.failures.length - 1]?.message}): why?`);
    if (s.status === 'rollback-failed')
      q.push(`The rollback of ${s.id} failed: is ${exe?.resource ?? 'the resource'} left partly contained?`);
  }
  for (const a of exe?.approvals ?? [])
    if (a.via === 'timeout')
      q.push(`Nobody decided ${a.stepId} before its deadline: who was paged, and why no answer?`);
  if (inc.resolutions.some((r) => r.withdrawnAt)) q.push('The alert went back to OK and fired again: was it flapping?');
  if (inc.alerts.some((a) => a.outcome === 'refired'))
    q.push('The alert re-fired during the incident: did containment work at the first attempt?');
  if (inc.severityChanges.length > 0) q.push('Severity was changed by hand: was the initial triage wrong?');
  q.push('What was the root cause?');
  return q;
}

// ---------------------------------------------------------------------------------------------------------------------
// Markdown

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return 'n/a';
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 1000 ? `${ms} ms` : `${s}s`;
  const parts = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  return ['d', 'h', 'm', 's']
    .map((unit, i) => (parts[i] ? `${parts[i]}${unit}` : ''))
    .filter(Boolean)
    .join(' ');
}

/** A Markdown table cell: no pipes or line breaks. */
export function cell(v: unknown): string {
  return String(v ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

export function table(head: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '_None._';
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Entries worth reading in a report: no timers, no plain "scheduled" lines. */
function keyEntries(t: Timeline | undefined, label: string): (TimelineEntry & { source: string })[] {
  return (t?.entries ?? [])
    .filter((e) => e.kind !== 'timer' && !(e.kind === 'activity' && e.summary.startsWith('scheduled')))
    .map((e) => ({ ...e, source: label }));
}

function renderReport(d: Omit<ReportData, 'markdown'>, incident: Timeline, execution?: Timeline): string {
  const m = d.metrics;
  const entries = [...keyEntries(incident, 'incident'), ...keyEntries(execution, 'runbook')].sort((x, y) =>
    x.at.localeCompare(y.at),
  );
  const lines = [
    `# Post-incident report: ${d.title}`,
    '',
    `_Draft generated from the Temporal histories of ${d.incidentId}${d.runbook ? ` and ${d.runbook.executionId}` : ''}. Edit freely._`,
    '',
    '## Summary',
    '',
    `- Incident: \`${d.incidentId}\` (${d.status})`,
    `- Opened: ${d.openedAt}${d.detectedAt ? ` (alert raised ${d.detectedAt})` : ''}`,
    `- Closed: ${d.closedAt ?? 'still open'}`,
    `- Alerts: ${d.alertCount}`,
    d.runbook
      ? `- Runbook: \`${d.runbook.id}\` (${d.runbook.digest}), execution \`${d.runbook.executionId}\`: ${d.runbook.status ?? 'no history'}`
      : '- Runbook: none',
    '',
    '## Impact and severity',
    '',
    `- Resource: ${d.resource ?? 'unknown'}`,
    `- Account and region: ${d.account ?? 'unknown'}, ${d.region ?? 'unknown'}`,
    `- Severity: ${d.severity}${d.initialSeverity !== d.severity ? ` (initially ${d.initialSeverity})` : ''}; ${d.severityReason}`,
    '- Impact: _to be written by the team._',
    '',
    '## Response times',
    '',
    table(
      ['Measure', 'Value', 'At', 'By'],
      [
        ['Time to acknowledge (MTTA)', formatDuration(m.mttaMs), m.acknowledgedAt ?? 'never', m.acknowledgedBy ?? ''],
        ['Time to contain (MTTC)', formatDuration(m.mttcMs), m.containedAt ?? 'never', ''],
        ['Time to resolve (MTTR)', formatDuration(m.mttrMs), m.resolvedAt ?? 'not resolved', m.resolvedBy ?? ''],
      ],
    ),
    '',
    '## Timeline',
    '',
    table(
      ['Time', 'Source', 'Event', 'What happened'],
      entries.map((e) => [e.at, e.source, e.eventId, e.summary]),
    ),
    '',
    '## Actions taken',
    '',
    table(
      ['Step', 'Action', 'Status', 'Attempts', 'Started', 'Closed', 'Error'],
      d.actions.map((a) => [a.stepId, a.action ?? '', a.status, a.attempts, a.startedAt, a.closedAt, a.error]),
    ),
    '',
    '## Approvals',
    '',
    table(
      ['Step', 'Decision', 'Decided by', 'At', 'Via', 'Comment'],
      d.approvals.map((a) => [a.stepId, a.decision, a.decidedBy, a.decidedAt, a.via, a.comment]),
    ),
    '',
    '## Rollbacks',
    '',
    d.rollback ? `Rollback triggered by: ${d.rollback.trigger}; complete: ${d.rollback.complete ?? 'unknown'}.\n` : '',
    table(
      ['Step', 'Compensation', 'Status', 'At'],
      d.rollbacks.map((r) => [r.stepId, r.action, r.status, r.closedAt]),
    ),
    '',
    '## Evidence',
    '',
    table(
      ['Kind', 'What', 'SHA-256', 'IDs'],
      d.evidence.map((e) => [e.kind, e.label, `\`${e.sha256}\``, (e.ids ?? []).join(', ')]),
    ),
    '',
    '## Open questions',
    '',
    ...d.openQuestions.map((q) => `- ${q}`),
    '',
    '## Action items',
    '',
    '- [ ] _Owner_: _action_ (due _date_)',
    '- [ ] _Owner_: _action_ (due _date_)',
    '',
  ];
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}
