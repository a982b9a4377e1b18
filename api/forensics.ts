/**
 * Forensics over the Temporal client: histories (every run of a workflow ID, page by page), timelines rebuilt from
 * them, and the post-incident report. Nothing here asks a worker: a closed execution whose worker code has changed,
 * or whose runbook file was edited, reads the same.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { fetchRunChain, fetchRunHistory, serialiseHistory, sha256Hex, type RunHistory } from '../forensics/history';
import { buildReport, type ReportData } from '../forensics/report';
import { buildTimeline, parsePointInTime, type Timeline } from '../forensics/timeline';
import { INCIDENT_WORKFLOW } from '../workflows/incident-messages';
import { RUNBOOK_WORKFLOW } from '../workflows/messages';
import { NotFoundError, UnavailableError, ValidationFailedError } from './errors';
import { describeWorkflow, isInvalidArgument, isUnavailable } from './temporal';

/** A long history takes many pages: more time than one API call's deadline. */
const HISTORY_DEADLINE_MS = 60_000;

export type ForensicsKind = 'execution' | 'incident';
const TYPES: Record<ForensicsKind, string> = { execution: RUNBOOK_WORKFLOW, incident: INCIDENT_WORKFLOW };

export interface ExportedHistory {
  runId: string;
  body: string;
  sha256: string;
}

export class ForensicsService {
  constructor(private readonly client: Client) {}

  /** Every run of the workflow ID (continue-as-new), oldest first; 404 unless it is a workflow of this kind. */
  async runs(kind: ForensicsKind, id: string): Promise<RunHistory[]> {
    await describeWorkflow(this.client, this.client.workflow.getHandle(id), TYPES[kind], kind);
    return this.fetch(() => fetchRunChain(this.client, id));
  }

  /** One run's history as exported (the latest run unless `runId`), with the SHA-256 of exactly those bytes. */
  async history(kind: ForensicsKind, id: string, runId?: string): Promise<ExportedHistory> {
    const description = await describeWorkflow(
      this.client,
      this.client.workflow.getHandle(id, runId),
      TYPES[kind],
      kind,
    );
    const history = await this.fetch(() => fetchRunHistory(this.client, id, description.runId));
    const body = serialiseHistory(history);
    return { runId: description.runId, body, sha256: sha256Hex(body) };
  }

  async timeline(kind: ForensicsKind, id: string, at?: string): Promise<Timeline> {
    const point = at === undefined ? undefined : parse(at);
    const runs = await this.runs(kind, id);
    try {
      return buildTimeline(runs, point);
    } catch (err) {
      if (point) throw new ValidationFailedError((err as Error).message);
      throw err;
    }
  }

  /** The incident's report, with its runbook execution's timeline when that history still exists. */
  async report(incidentId: string): Promise<ReportData> {
    const incident = buildTimeline(await this.runs('incident', incidentId));
    const childId = incident.incident?.child?.workflowId;
    let execution: Timeline | undefined;
    if (childId) {
      try {
        execution = buildTimeline(await this.runs('execution', childId));
      } catch (err) {
        // Past its retention the child's history is gone: the report says so in its open questions.
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return buildReport(incident, execution);
  }

  private async fetch<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.client.connection.withDeadline(Date.now() + HISTORY_DEADLINE_MS, call);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(err.message, undefined, { cause: err });
      if (isUnavailable(err))
        throw new UnavailableError('Temporal is unavailable; retry later', undefined, { cause: err });
      if (isInvalidArgument(err)) throw new ValidationFailedError((err as Error).message, undefined, { cause: err });
      throw err;
    }
  }
}

function parse(at: string) {
  try {
    return parsePointInTime(at);
  } catch (err) {
    throw new ValidationFailedError((err as Error).message);
  }
}
