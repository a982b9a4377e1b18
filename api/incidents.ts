/**
 * Incidents over the Temporal client: alert admission (exactly one incident workflow per fingerprint, no worker round
 * trip), reading,
 * listing, severity overrides and resolution. Shared by the API routes and, later, the CLI.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { compactBatch } from '../alerts/compact';
import { fingerprint } from '../alerts/fingerprint';
import type { NormalisedAlert } from '../alerts/alert';
import type { Severity } from '../runbooks/dsl/types';
import type { AlertRouter, NotifyRouting } from '../alerts/router';
import type { ExecutionHistoryLimits } from '../workflows/runbook-state';
import {
  alertSignal,
  INCIDENT_WORKFLOW,
  IncidentRejection,
  incidentStateQuery,
  MAX_ALERTS_PER_UPDATE,
  resolveUpdate,
  severityUpdate,
  type IncidentHistoryLimits,
  type IncidentInput,
  type IncidentState,
} from '../workflows/incident-messages';
import type { Principal } from '../workflows/messages';
import { SA } from '../workflows/search-attributes';
import { ConflictError, UnavailableError, ValidationFailedError } from './errors';
import { callTemporal, callTemporalChange, describeWorkflow, runUpdate } from './temporal';
import { KeyedBatcher } from './batcher';
import { listWorkflows, type ListFilters, type ListPage } from './visibility';

export interface IncidentServiceOptions {
  client: Client;
  taskQueue: string;
  router: AlertRouter;
  notify: NotifyRouting;
  publicUrl: string;
  /** How long a resolved incident stays open for its alert to re-open it (milliseconds); default none. */
  reopenGraceMs?: number;
  /** When an incident continues as new, and its dedup window; default INCIDENT_HISTORY_DEFAULTS (tests set it low). */
  history?: Partial<IncidentHistoryLimits>;
  /** When the incidents' runbook executions continue as new; default EXECUTION_HISTORY_DEFAULTS. */
  runbookHistory?: Partial<ExecutionHistoryLimits>;
}

/**
 * An occurrence of an incident: one chain of runs of its workflow (a run continues as new to bound its history), shown
 * as its latest run.
 */
export interface Occurrence {
  /** The chain's first run ID (the incident's `occurrence`), where known. */
  occurrence?: string;
  /** Its latest run (its start is `startedAt`; the occurrence's own start is its `openedAt`). */
  runId: string;
  status?: string;
  workflowStatus: string;
  startedAt?: string;
  closedAt?: string;
  current: boolean;
  url: string;
}

export type IncidentView = IncidentState & { workflowStatus: string; runId: string; occurrences: Occurrence[] };

/**
 * The API's answer to an alert: admitted (durably, at the server) or, for a resolved alert, no open incident to tell.
 * What the incident made of it (opened, re-fired, duplicate …) is the incident's to say: `lastDelivery` and its
 * counters (GET /v1/incidents/:id), once a worker ran it.
 */
export interface IngestResult {
  /** `accepted`: the server holds the alert for the incident; a worker applies it (even one started later). */
  outcome: 'accepted' | 'no-open-incident';
  incidentId: string | null;
  fingerprint: string;
  deliveryId: string;
  /** The run the alert was delivered to (a new run when it opened a new occurrence). */
  runId?: string;
  /** Where the incident, and this delivery's outcome, can be read. */
  incidentUrl?: string;
}

/** A batch the server took: the run it went to, where the answer names it (a plain signal's does not). */
interface Delivered {
  runId?: string;
}

export class IncidentService {
  constructor(private readonly opts: IncidentServiceOptions) {}

  /** One signal in flight per incident; what arrives meanwhile goes out together in the next one (fewer events). */
  private readonly batcher = new KeyedBatcher<NormalisedAlert, Delivered | null>(MAX_ALERTS_PER_UPDATE, (id, alerts) =>
    this.deliver(id, alerts),
  );

  /**
   * Admits one alert. Firing alerts go by signal-with-start: the server starts the fingerprint's incident workflow
   * (exactly one: it dedups the start by workflow ID) or signals the running one, and holds the alert durably, worker
   * or not. Resolved alerts only reach a running incident (a plain signal). Throws UnavailableError (503) when Temporal
   * cannot be reached, NotConfirmedError (503) when it answered too late to know.
   */
  async ingest(alert: NormalisedAlert): Promise<IngestResult> {
    const fp = fingerprint(alert);
    const incidentId = `incident-${fp}`;
    const delivered = await this.batcher.submit(incidentId, alert);
    const base = this.opts.publicUrl.replace(/\/$/, '');
    if (!delivered)
      return { outcome: 'no-open-incident', incidentId: null, fingerprint: fp, deliveryId: alert.deliveryId };
    return {
      outcome: 'accepted',
      incidentId,
      fingerprint: fp,
      deliveryId: alert.deliveryId,
      runId: delivered.runId,
      incidentUrl: `${base}/v1/incidents/${encodeURIComponent(incidentId)}`,
    };
  }

  /** Sends a batch of one incident's alerts, in arrival order: the run that got it, or null (no open incident). */
  private async deliver(incidentId: string, received: NormalisedAlert[]): Promise<(Delivered | null)[]> {
    const alerts = compactBatch(received);
    const openerAt = alerts.findIndex((a) => a.state === 'firing');
    if (openerAt < 0) {
      try {
        await callTemporalChange(this.opts.client, () => this.handle(incidentId).signal(alertSignal, alerts));
        return alerts.map(() => ({}));
      } catch (err) {
        if (completedUnderUs(err)) return alerts.map(() => null);
        throw err;
      }
    }
    // Routed once per batch; only the start of a new incident uses the decision, an open incident keeps its own.
    const opener = received[openerAt];
    const decision = await this.opts.router.route(opener, incidentId);
    const input: IncidentInput = {
      incidentId,
      fingerprint: fingerprint(opener),
      severity: decision.severity,
      severityReason: decision.severityReason,
      route:
        decision.kind === 'runbook'
          ? {
              kind: 'runbook',
              runbook: decision.runbook.definition,
              digest: decision.runbook.digest,
              params: decision.params,
              triggerIndex: decision.triggerIndex,
            }
          : { kind: 'none', reason: decision.reason, runbookId: decision.runbookId, fieldErrors: decision.fieldErrors },
      notify: { topics: this.opts.notify.topics, publicUrl: this.opts.publicUrl },
      reopenGraceMs: this.opts.reopenGraceMs,
      history: this.opts.history,
      runbookHistory: this.opts.runbookHistory,
    };
    // A running incident (open or closing) gets the signal; with none running (never, or its last run completed, the
    // default reuse policy allowing a new run) the server starts one with it: the recurrence is a new occurrence.
    const handle = await callTemporalChange(this.opts.client, () =>
      this.opts.client.workflow.signalWithStart(INCIDENT_WORKFLOW, {
        workflowId: incidentId,
        taskQueue: this.opts.taskQueue,
        args: [input],
        signal: alertSignal,
        signalArgs: [alerts],
        typedSearchAttributes: [
          { key: SA.kind, value: 'incident' },
          { key: SA.status, value: 'opened' },
          { key: SA.severity, value: decision.severity },
        ],
      }),
    );
    return alerts.map(() => ({ runId: handle.signaledRunId }));
  }

  /** The incident's current occurrence (or the run `runId`), with links to every occurrence. */
  async get(incidentId: string, runId?: string): Promise<IncidentView> {
    const handle = this.opts.client.workflow.getHandle(incidentId, runId);
    const description = await describeWorkflow(this.opts.client, handle, INCIDENT_WORKFLOW, 'incident');
    const status = description.status.name;
    let state: IncidentState;
    try {
      state = await handle.query(incidentStateQuery);
    } catch (err) {
      if (status !== 'COMPLETED')
        throw new UnavailableError(
          'no worker answered the incident query; is the firebreak worker running?',
          undefined,
          { cause: err },
        );
      state = (await handle.result()) as IncidentState;
    }
    const occurrences = await this.occurrences(incidentId, description.runId, state.occurrence);
    return { ...state, workflowStatus: status, runId: description.runId, occurrences };
  }

  /**
   * Every occurrence of the incident, newest first (visibility: a run that just started may show a moment later).
   * Visibility lists no run that continued as new, so each occurrence shows once, as its latest run.
   */
  private async occurrences(incidentId: string, shown: string, occurrence?: string): Promise<Occurrence[]> {
    const page = await this.list({ workflowId: incidentId, pageSize: 100 });
    const base = this.opts.publicUrl.replace(/\/$/, '');
    return page.items
      .filter((i) => i.runId && i.workflowStatus !== 'CONTINUED_AS_NEW')
      .map((i) => ({
        // Not every visibility store reports a run's first run ID; the shown run's state always knows it.
        occurrence: i.firstRunId ?? (i.runId === shown ? occurrence : undefined),
        runId: i.runId!,
        status: i.status,
        workflowStatus: i.workflowStatus,
        startedAt: i.startedAt,
        closedAt: i.closedAt,
        current: i.runId === shown,
        url: `${base}/v1/incidents/${encodeURIComponent(incidentId)}?runId=${encodeURIComponent(i.runId!)}`,
      }));
  }

  async list(filters: ListFilters): Promise<ListPage> {
    return this.temporal(() => listWorkflows(this.opts.client, 'incident', filters));
  }

  async setSeverity(incidentId: string, severity: Severity, reason: string, by: Principal): Promise<IncidentState> {
    return this.update(incidentId, (h) => h.executeUpdate(severityUpdate, { args: [{ severity, reason, by }] }));
  }

  async resolve(incidentId: string, reason: string, by: Principal): Promise<IncidentState> {
    return this.update(incidentId, (h) => h.executeUpdate(resolveUpdate, { args: [{ reason, by }] }));
  }

  private handle(incidentId: string): WorkflowHandle {
    return this.opts.client.workflow.getHandle(incidentId);
  }

  private update<T>(incidentId: string, call: (h: WorkflowHandle) => Promise<T>): Promise<T> {
    const handle = this.handle(incidentId);
    return runUpdate(
      this.opts.client,
      handle,
      INCIDENT_WORKFLOW,
      'incident',
      () => call(handle),
      (failure) =>
        failure.type === IncidentRejection.invalid
          ? new ValidationFailedError(failure.message)
          : new ConflictError(failure.message),
    );
  }

  private temporal<T>(call: () => Promise<T>): Promise<T> {
    return callTemporal(this.opts.client, call);
  }
}

/** No running incident to signal: none was ever started, or its last run completed. */
function completedUnderUs(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  for (let e = err as { message?: string; cause?: unknown } | undefined, i = 0; e && i < 5; i++, e = e.cause as never) {
    if (/workflow execution already completed/i.test(e.message ?? '')) return true;
  }
  return false;
}
