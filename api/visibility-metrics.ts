/**
 * Gauges read from Temporal's visibility store on scrape: executions by runbook and status, incidents open by
 * severity, approvals pending. Counting there (CountWorkflowExecutions on firebreak's search attributes) keeps the
 * numbers right across API restarts and replicas, where in-process counters would each see a part. Drills
 * (FirebreakDrill set) are left out. Visibility only groups by ExecutionStatus, so each label set is one count; the
 * results are cached for a few seconds and concurrent scrapes share one round.
 */
import type { Client } from '@temporalio/client';
import { SEVERITIES } from '../alerts/alert';
import type { ExecutionStatus } from '../workflows/messages';
import { SA } from '../workflows/search-attributes';

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'running',
  'waiting-approval',
  'rolling-back',
  'succeeded',
  'failed',
  'rolled-back',
  'cancelled',
];

/** Incident statuses that no longer count as open. */
const CLOSED_INCIDENT = ['resolved', 'closed'];

export interface VisibilityCounts {
  /** runbook → status → count; statuses of a runbook with no execution are all 0. */
  executions: Record<string, Record<string, number>>;
  /** severity → open incidents. */
  incidentsOpen: Record<string, number>;
}

export interface VisibilityCounterOptions {
  client: Client;
  runbookIds: () => string[];
  cacheMs: number;
  now?: () => number;
}

const REAL = `${SA.drill.name} IS NULL`;

/** The visibility query behind `firebreak_incidents_open{severity}`: open (not resolved or closed), drills left out. */
export function openIncidentsQuery(severity: string): string {
  const closed = CLOSED_INCIDENT.map((s) => `'${s}'`).join(', ');
  return (
    `${SA.kind.name} = 'incident' AND ExecutionStatus = 'Running' AND ${SA.severity.name} = '${severity}' ` +
    `AND ${SA.status.name} NOT IN (${closed}) AND ${REAL}`
  );
}

export class VisibilityCounter {
  private cached?: { at: number; counts: VisibilityCounts };
  private inflight?: Promise<VisibilityCounts>;

  constructor(private readonly opts: VisibilityCounterOptions) {}

  async counts(): Promise<VisibilityCounts> {
    const now = (this.opts.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.opts.cacheMs) return this.cached.counts;
    this.inflight ??= this.read()
      .then((counts) => {
        this.cached = { at: (this.opts.now ?? Date.now)(), counts };
        return counts;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private async read(): Promise<VisibilityCounts> {
    const executions: VisibilityCounts['executions'] = {};
    await Promise.all(
      this.opts.runbookIds().map(async (id) => {
        const base = `${SA.kind.name} = 'runbook' AND ${SA.runbookId.name} = '${id}' AND ${REAL}`;
        const byStatus: Record<string, number> = Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0]));
        // One count first: a runbook that never ran costs one query, not seven.
        if ((await this.count(base)) > 0) {
          for (const status of EXECUTION_STATUSES) {
            byStatus[status] = await this.count(`${base} AND ${SA.status.name} = '${status}'`);
          }
        }
        executions[id] = byStatus;
      }),
    );
    const incidentsOpen: Record<string, number> = {};
    await Promise.all(
      SEVERITIES.map(async (severity) => {
        incidentsOpen[severity] = await this.count(openIncidentsQuery(severity));
      }),
    );
    return { executions, incidentsOpen };
  }

  private async count(query: string): Promise<number> {
    const { client } = this.opts;
    const res = await client.connection.withDeadline(Date.now() + 5_000, () =>
      client.workflowService.countWorkflowExecutions({ namespace: client.options.namespace, query }),
    );
    return Number(res.count ?? 0);
  }
}
