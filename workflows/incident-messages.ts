/**
 * The incident workflow's messages and state, shared by the workflow, the API and tests.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AlertResource, AlertSource, NormalisedAlert } from '../alerts/alert';
import type { FieldError } from '../runbooks/dsl/params';
import type { RunbookDefinition, Severity } from '../runbooks/dsl/types';
import type { CarriedDeliveries } from './delivery-window';
import type { ExecutionStatus, PendingApproval, Principal } from './messages';
import type { ExecutionHistoryLimits } from './runbook-state';

export const INCIDENT_WORKFLOW = 'incidentWorkflow';

export type IncidentStatus =
  'opened' | 'triaged' | 'runbook-running' | 'contained' | 'runbook-failed' | 'rolled-back' | 'resolved' | 'closed';

export interface IncidentInput {
  incidentId: string;
  fingerprint: string;
  severity: Severity;
  severityReason: string;
  /** The routing decision made when the first alert arrived. */
  route:
    | {
        kind: 'runbook';
        runbook: RunbookDefinition;
        digest: string;
        params: Record<string, unknown>;
        triggerIndex: number;
      }
    | { kind: 'none'; reason: string; runbookId?: string; fieldErrors?: FieldError[] };
  notify: { topics: Partial<Record<Severity | 'default', string>>; publicUrl: string };
  /** How long a resolved incident stays open so that a firing alert re-opens it; unset or 0: it closes at once. */
  reopenGraceMs?: number;
  /** When a run continues as new, and what it remembers of delivery IDs; unset fields take INCIDENT_HISTORY_DEFAULTS. */
  history?: Partial<IncidentHistoryLimits>;
  /** When the runbook execution continues as new (workflows/runbook-state.ts); unset: its defaults. */
  runbookHistory?: Partial<ExecutionHistoryLimits>;
  /** Set on a run that continues an earlier run of the same occurrence: what that run handed over. */
  carried?: IncidentCarry;
  /** The drill this incident belongs to (drills/run.ts); unset for a real incident. */
  drill?: string;
}

/**
 * Bounds on one run's history: the incident continues as new when Temporal suggests it or when any bound is reached,
 * well before Temporal's own limits (50 MB, 51,200 events, 2,000 Updates per run).
 */
export interface IncidentHistoryLimits {
  /** Updates (alert batches, severity changes, resolutions) accepted by one run. */
  maxUpdates: number;
  /** Events in one run's history. */
  maxEvents: number;
  /** Bytes of one run's history (Temporal's own measure, `workflowInfo().historySize`). */
  maxBytes: number;
  /** Delivery IDs remembered for dedup: the most recent this many (workflows/delivery-window.ts) … */
  dedupMaxIds: number;
  /** … first seen less than this long ago (ms). */
  dedupMaxAgeMs: number;
}

/**
 * Each run stays under about 1 MB: 512 KiB of growth triggers continue-as-new, and the state handed over (delivery
 * window ≤ 4,000 IDs ≈ 220 KB, timeline ≤ 500 entries, the opening alert's capped payload) appears twice in a run's
 * history (its start and its continue-as-new). A noisy alarm's Update is ~1–30 KB compacted (alerts/compact.ts).
 */
export const INCIDENT_HISTORY_DEFAULTS: IncidentHistoryLimits = {
  maxUpdates: 500,
  maxEvents: 10_000,
  maxBytes: 512 * 1024,
  dedupMaxIds: 4_000,
  dedupMaxAgeMs: 24 * 60 * 60 * 1000,
};

/** What a run hands to the next one when it continues as new. */
export interface IncidentCarry {
  /** Counters, timeline, automation (the runbook execution's ID, status and approval in flight), opening alert. */
  state: IncidentState;
  /** The dedup window (delivery IDs with their first-seen times). */
  deliveries: CarriedDeliveries;
  /** The runbook execution was started (by the first run; it outlives every run: ParentClosePolicy.ABANDON). */
  runbookStarted: boolean;
}

export interface TimelineEntry {
  at: string;
  kind: 'alert' | 'duplicate' | 'state' | 'severity' | 'runbook' | 'approval' | 'notification' | 'resolution';
  message: string;
  data?: unknown;
}

export interface IncidentState {
  incidentId: string;
  fingerprint: string;
  status: IncidentStatus;
  title: string;
  incidentType: string;
  source?: AlertSource;
  alertName?: string;
  account?: string;
  region?: string;
  resource?: AlertResource;
  severity: Severity;
  severityReason: string;
  openedAt: string;
  /** The drill this incident belongs to: listed only when asked for, and left out of the metrics. */
  drill?: string;
  /**
   * This occurrence of the fingerprint's incident: the first run ID of its workflow (stable across continue-as-new).
   * Unset for incidents started before occurrences were tracked.
   */
  occurrence?: string;
  /** This run's place in its occurrence: 1 for the first, +1 at each continue-as-new (unset: the first). */
  run?: number;
  firstSeen?: string;
  lastSeen?: string;
  resolvedAt?: string;
  resolvedBy?: { kind: 'alert' | 'human'; id: string; reason?: string };
  closedAt?: string;
  /** Firing alerts after the first (distinct deliveries). */
  refiredCount: number;
  /** Redeliveries of a delivery already seen (same provider message ID). */
  duplicateCount: number;
  alertCount: number;
  /** Times a firing alert re-opened the incident after its resolution, before it closed. */
  reopenedCount?: number;
  /**
   * What the incident made of the latest delivery it received (the API acknowledges an alert before the workflow sees
   * it: this is where a sender learns whether it opened, re-fired or was a duplicate). Unset before the first.
   */
  lastDelivery?: DeliveryOutcome;
  automation:
    | {
        kind: 'runbook';
        runbookId: string;
        digest: string;
        executionId: string;
        status: ExecutionStatus | 'starting';
        pendingApproval?: PendingApproval;
        /** The execution's result (or failure) arrived: its status is final, later progress signals are stale. */
        finished?: boolean;
      }
    | { kind: 'none'; reason: string; runbookId?: string; fieldErrors?: FieldError[] };
  /** The alert that opened the incident, as normalised (raw payload included, for evidence). */
  firstAlert?: NormalisedAlert;
  timeline: TimelineEntry[];
}

export interface AlertAck {
  incidentId: string;
  /** `reopened`: a firing alert withdrew the resolution of an incident that had not closed yet. */
  outcome: 'opened' | 'refired' | 'reopened' | 'duplicate' | 'resolved' | 'already-resolved';
  status: IncidentStatus;
  severity: Severity;
  refiredCount: number;
  duplicateCount: number;
  automation: { runbookId?: string; executionId?: string; reason?: string };
}

export interface DeliveryOutcome {
  deliveryId: string;
  outcome: AlertAck['outcome'];
  /** Workflow time at which the incident handled it. */
  at: string;
}

export interface SeverityChange {
  severity: Severity;
  reason: string;
  by: Principal;
}

export interface ResolveRequest {
  reason: string;
  by: Principal;
}

export const IncidentRejection = { closed: 'IncidentClosed', invalid: 'InvalidRequest' } as const;

export const incidentStateQuery = defineQuery<IncidentState>('incidentState');
/**
 * Delivers alerts to the incident, in order; one ack each. A batch, because the API coalesces the deliveries that
 * arrive for one incident while an earlier update is in flight (Temporal bounds in-flight updates per workflow).
 */
export const alertUpdate = defineUpdate<AlertAck[], [NormalisedAlert[]]>('alerts');
/**
 * Delivers alerts to the incident, in order, through signal-with-start (the API's path since admission stopped waiting
 * for a worker): durable once the server answers, whether or not a worker runs. No validator and no answer: malformed
 * alerts are skipped, and each alert's outcome is recorded on the incident (`lastDelivery`, the counters).
 * The `alerts` Update stays for executions (and histories) that use it.
 */
export const alertSignal = defineSignal<[NormalisedAlert[]]>('alertDeliveries');
/** Most alerts in one update (keeps the payload well under Temporal's size limits). */
export const MAX_ALERTS_PER_UPDATE = 50;
export const severityUpdate = defineUpdate<IncidentState, [SeverityChange]>('setSeverity');
export const resolveUpdate = defineUpdate<IncidentState, [ResolveRequest]>('resolve');
