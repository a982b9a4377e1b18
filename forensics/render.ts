/**
 * The human view of a timeline (Markdown, readable as plain text): what `firebreak timeline <id>` prints.
 */
import { table } from './report';
import type { Timeline } from './timeline-schema';

export function renderTimeline(t: Timeline): string {
  const lines: string[] = [
    `# ${t.kind === 'incident' ? 'Incident' : t.kind === 'execution' ? 'Execution' : 'Workflow'} ${t.workflowId}`,
    '',
    `- Workflow: ${t.workflowType}, ${t.runs.length === 1 ? '1 run' : `${t.runs.length} runs`} (${t.runs.map((r) => r.runId).join(', ')})`,
    `- Started: ${t.startedAt}; ${t.closedAt ? `closed ${t.closedAt}` : 'still running'}`,
    `- Outcome: ${t.outcome.workflowStatus}${t.outcome.status ? ` (${t.outcome.status})` : ''}${t.outcome.failure ? `: ${t.outcome.failure.message}` : ''}`,
  ];
  if (t.asOf) lines.push(`- State as of event ${t.asOf.eventId} (${t.asOf.at})`);
  const e = t.execution;
  if (e) {
    lines.push(
      `- Runbook: ${e.runbook.id} ${e.runbook.version} (${e.runbook.digest}), pinned in history`,
      `- Started by: ${e.startedBy.id}${e.reason ? ` (${e.reason})` : ''}; status ${e.status}`,
    );
    if (e.resource) lines.push(`- Resource: ${e.resource}`);
    if (e.incidentId) lines.push(`- Incident: ${e.incidentId}`);
    lines.push(
      '',
      '## Steps',
      '',
      table(
        ['Step', 'Kind', 'Status', 'Attempts', 'Started', 'Closed', 'Note'],
        e.steps.map((s) => [
          s.id,
          s.action ?? s.kind,
          s.status,
          s.attempts,
          s.startedAt,
          s.closedAt,
          [
            s.failures.at(-1)?.message,
            s.approval &&
              `${s.approval.decision} by ${s.approval.decidedBy.id}${s.approval.comment ? ` ("${s.approval.comment}")` : ''}`,
            s.rollback && `rollback ${s.rollback.status}`,
            s.note,
          ]
            .filter(Boolean)
            .join('; '),
        ]),
      ),
    );
    if (e.rollback) lines.push('', `Rollback: ${e.rollback.trigger}, complete: ${e.rollback.complete ?? 'not yet'}`);
  }
  const i = t.incident;
  if (i) {
    lines.push(
      `- Severity: ${i.severity}${i.severity !== i.initialSeverity ? ` (initially ${i.initialSeverity})` : ''}; status ${i.status}`,
      `- Automation: ${i.child ? `${i.child.runbookId ?? 'runbook'} as ${i.child.workflowId}` : (i.route.reason ?? 'none')}`,
      '',
      '## Alerts',
      '',
      table(
        ['Received', 'Source', 'Name', 'State', 'Outcome', 'Delivery', 'Payload'],
        i.alerts.map((a) => [
          a.at,
          a.source,
          a.name,
          a.state,
          a.outcome,
          a.deliveryId,
          a.rawSummary && `${a.rawSummary.kept}, ${a.rawSummary.digest}`,
        ]),
      ),
    );
  }
  lines.push(
    '',
    '## Events',
    '',
    table(
      ['Time', 'Event', 'What happened'],
      t.entries.map((x) => [x.at, t.runs.length > 1 ? `${x.runId}/${x.eventId}` : x.eventId, x.summary]),
    ),
    '',
  );
  return lines.join('\n');
}
