/**
 * Incidents over the Temporal client: alert ingestion (exactly one incident workflow per fingerprint), reading,
 * listing, severity overrides and resolution. Shared by the API routes and, later, the CLI.
 */
import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { compactBatch } from '../alerts/compact';
import { fingerprint } from '../alerts/fingerprint';
import type { NormalisedAlert } from '../alerts/alert';
import type { Severity } from '../runbooks/dsl/types';
import type { AlertRouter, NotifyRouting } from '../alerts/router';
import {
  alertUpdate,
  INCIDENT_WORKFLOW,
  IncidentRejection,
  incidentStateQuery,
  MAX_ALERTS_PER_UPDATE,
  resolveUpdate,
  severityUpdate,
  type AlertAck,
  type IncidentHistoryLimits,
  type IncidentInput,
  type IncidentState,
} from '../workflows/incident-messages';
import type { Principal } from '../workflows/messages';
import { SA } from '../workflows/search-attributes';
import { ConflictError, UnavailableError, ValidationFailedError } from './errors';
import { callTemporal, callTemporalChange, describeWorkflow, rejectionType, runUpdate } from './temporal';
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

export interface IngestResult extends Omit<AlertAck, 'incidentId' | 'outcome' | 'severity'> {
  incidentId: string | null;
  severity?: Severity;
  outcome: AlertAck['outcome'] | 'no-open-incident';
  fingerprint: string;
}

export class IncidentService {
  constructor(private readonly opts: IncidentServiceOptions) {}

  /** One Temporal update in flight per incident; what arrives meanwhile goes out together in the next one. */
  private readonly batcher = new KeyedBatcher<NormalisedAlert, AlertAck | null>(MAX_ALERTS_PER_UPDATE, (id, alerts) =>
    this.deliver(id, alerts),
  );

  /**
   * Delivers one alert. Firing alerts start the incident or join the open one through an update-with-start (conflict
   * policy USE_EXISTING), so concurrent deliveries cannot start two; resolved alerts only reach an open incident.
   * Resolves once Temporal has durably accepted the update; throws UnavailableError (503) when it cannot.
   */
  async ingest(alert: NormalisedAlert): Promise<IngestResult> {
    const fp = fingerprint(alert);
    const incidentId = `incident-${fp}`;
    const ack = await this.batcher.submit(incidentId, alert);
    return ack ? { ...ack, fingerprint: fp } : noOpenIncident(incidentId, fp);
  }

  /** Sends a batch of one incident's alerts, in arrival order; null for a resolved alert with no open incident. */
  private async deliver(incidentId: string, received: NormalisedAlert[]): Promise<(AlertAck | null)[]> {
    const alerts = compactBatch(received);
    const openerAt = alerts.findIndex((a) => a.state === 'firing');
    if (openerAt < 0) {
      try {
        return await callTemporalChange(this.opts.client, () =>
          this.handle(incidentId).executeUpdate(alertUpdate, { args: [alerts] }),
        );
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || rejectionType(err) === IncidentRejection.closed)
          return alerts.map(() => null);
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
    };
    const attempt = () =>
      callTemporalChange(this.opts.client, () =>
        this.opts.client.workflow.executeUpdateWithStart(alertUpdate, {
          args: [alerts],
          startWorkflowOperation: new WithStartWorkflowOperation(INCIDENT_WORKFLOW, {
            workflowId: incidentId,
            taskQueue: this.opts.taskQueue,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
            typedSearchAttributes: [
              { key: SA.kind, value: 'incident' },
              { key: SA.status, value: 'opened' },
              { key: SA.severity, value: decision.severity },
            ],
          }),
        }),
      );
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (err) {
        // The open incident completed at that very moment (the update was admitted but never seen by the workflow,
        // which accepts alerts until it completes): these alerts open the next occurrence.
        // A closed incident completes a moment later (it first starts its evidence archive): wait for that.
        if (tries < 6 && (rejectionType(err) === IncidentRejection.closed || completedUnderUs(err))) {
          await new Promise((r) => setTimeout(r, 50 * 2 ** tries));
          continue;
        }
        throw err;
      }
    }
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

/** The workflow completed between admitting the update and running it (the server aborts such updates). */
function completedUnderUs(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError) return true;
  for (let e = err as { message?: string; cause?: unknown } | undefined, i = 0; e && i < 5; i++, e = e.cause as never) {
    if (/workflow execution already completed/i.test(e.message ?? '')) return true;
  }
  return false;
}

function noOpenIncident(incidentId: string, fp: string): IngestResult {
  return {
    incidentId: null,
    outcome: 'no-open-incident',
    fingerprint: fp,
    status: 'closed',
    refiredCount: 0,
    duplicateCount: 0,
    automation: { reason: `no open incident ${incidentId} for this resolved alert` },
  };
}
