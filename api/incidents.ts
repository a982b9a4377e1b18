/**
 * Incidents over the Temporal client: alert ingestion (exactly one incident workflow per fingerprint), reading,
 * listing, severity overrides and resolution. Shared by the API routes and, later, the CLI.
 */
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { fingerprint } from '../alerts/fingerprint';
import type { NormalisedAlert } from '../runbooks/dsl/alert';
import type { Severity } from '../runbooks/dsl/types';
import type { AlertRouter, NotifyRouting } from '../runbooks/router';
import {
  alertUpdate,
  INCIDENT_WORKFLOW,
  IncidentRejection,
  incidentStateQuery,
  resolveUpdate,
  severityUpdate,
  type AlertAck,
  type IncidentInput,
  type IncidentState,
} from '../workflows/incident-messages';
import type { Principal } from '../workflows/messages';
import { SA } from '../workflows/search-attributes';
import { ConflictError, NotFoundError, UnavailableError, ValidationFailedError } from './errors';
import { isUnavailable, listWorkflows, type ListFilters, type ListPage } from './visibility';

const INGEST_DEADLINE_MS = 10_000;

export interface IncidentServiceOptions {
  client: Client;
  taskQueue: string;
  router: AlertRouter;
  notify: NotifyRouting;
  publicUrl: string;
}

export interface IngestResult extends Omit<AlertAck, 'incidentId' | 'outcome'> {
  incidentId: string | null;
  outcome: AlertAck['outcome'] | 'no-open-incident';
  fingerprint: string;
  severity?: Severity;
}

export class IncidentService {
  constructor(private readonly opts: IncidentServiceOptions) {}

  /**
   * Delivers one alert. Firing alerts start the incident or join the open one in a single update-with-start (conflict
   * policy USE_EXISTING), so concurrent deliveries cannot start two; resolved alerts only reach an open incident.
   * Returns once Temporal has durably accepted the update; throws UnavailableError (503) when it cannot.
   */
  async ingest(alert: NormalisedAlert): Promise<IngestResult> {
    const fp = fingerprint(alert);
    const incidentId = `incident-${fp}`;
    if (alert.state === 'resolved') {
      try {
        const ack = await this.temporal(() => this.handle(incidentId).executeUpdate(alertUpdate, { args: [alert] }));
        return { ...ack, fingerprint: fp };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || rejectionType(err) === IncidentRejection.closed) {
          return noOpenIncident(incidentId, fp);
        }
        throw err;
      }
    }

    const decision = await this.opts.router.route(alert, incidentId);
    const input: IncidentInput = {
      incidentId,
      fingerprint: fp,
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
    };
    const attempt = () =>
      this.temporal(() =>
        this.opts.client.workflow.executeUpdateWithStart(alertUpdate, {
          args: [alert],
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
    try {
      return { ...(await attempt()), fingerprint: fp, severity: decision.severity };
    } catch (err) {
      // The open incident was closing at that very moment: this alert opens the next one.
      if (rejectionType(err) === IncidentRejection.closed) return { ...(await attempt()), fingerprint: fp, severity: decision.severity };
      throw err;
    }
  }

  async get(incidentId: string): Promise<IncidentState & { workflowStatus: string }> {
    const handle = this.handle(incidentId);
    const status = await this.status(handle);
    try {
      return { ...(await handle.query(incidentStateQuery)), workflowStatus: status };
    } catch (err) {
      if (status === 'COMPLETED') return { ...((await handle.result()) as IncidentState), workflowStatus: status };
      throw new UnavailableError('no worker answered the incident query; is the firebreak worker running?', undefined, { cause: err });
    }
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

  private async status(handle: WorkflowHandle): Promise<string> {
    try {
      const d = await this.temporal(() => handle.describe());
      if (d.type !== INCIDENT_WORKFLOW) throw new NotFoundError(`no incident ${handle.workflowId}`);
      return d.status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no incident ${handle.workflowId}`, undefined, { cause: err });
      throw err;
    }
  }

  private async update<T>(incidentId: string, call: (h: WorkflowHandle) => Promise<T>): Promise<T> {
    const handle = this.handle(incidentId);
    if ((await this.status(handle)) !== 'RUNNING') throw new ConflictError(`incident ${incidentId} is closed`);
    try {
      return await this.temporal(() => call(handle));
    } catch (err) {
      const type = rejectionType(err);
      if (type === IncidentRejection.closed) throw new ConflictError((err as WorkflowUpdateFailedError).cause!.message);
      if (type === IncidentRejection.invalid) throw new ValidationFailedError((err as WorkflowUpdateFailedError).cause!.message);
      if (err instanceof WorkflowNotFoundError) throw new ConflictError(`incident ${incidentId} is closed`);
      throw err;
    }
  }

  /**
   * Every Temporal call here has a deadline: a sender waits for our answer (SNS gives up after 15 s), and a prompt
   * 503 gets the alert redelivered sooner than a hung request would.
   */
  private async temporal<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.opts.client.connection.withDeadline(Date.now() + INGEST_DEADLINE_MS, call);
    } catch (err) {
      if (isUnavailable(err)) throw new UnavailableError('Temporal is unavailable; retry later', undefined, { cause: err });
      throw err;
    }
  }
}

function rejectionType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) return err.cause.type ?? undefined;
  return undefined;
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
