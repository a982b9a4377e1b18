/**
 * The incident workflow: one per alert fingerprint. It records every alert (re-firings, redeliveries, the return to
 * OK), runs the routed runbook as a child execution, follows it through its progress signals, notifies at each turn,
 * and closes once the incident is resolved and its runbook has settled.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  makeContinueAsNewFunc,
  getExternalWorkflowHandle,
  metricMeter,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import type { ActivityEnvelope } from '../activities/envelope';
import type { IncidentActivities } from '../activities/incident';
import type { ActivityInput } from '../activities/schemas';
import type { NormalisedAlert } from '../alerts/alert';
import { SEVERITIES } from '../runbooks/dsl/types';
import { DeliveryWindow } from './delivery-window';
import {
  alertSignal,
  alertUpdate,
  INCIDENT_HISTORY_DEFAULTS,
  IncidentRejection,
  incidentStateQuery,
  MAX_ALERTS_PER_UPDATE,
  resolveUpdate,
  severityUpdate,
  type AlertAck,
  type IncidentInput,
  type IncidentState,
  type IncidentStatus,
  type TimelineEntry,
} from './incident-messages';
import { incidentNewsSignal, runbookProgressSignal, TERMINAL_STATUSES, type RunbookProgress } from './messages';
import type { IncidentNews } from '../runbooks/dsl/types';
import { archiveWorkflow, archiveWorkflowId } from './archive';
import { runbookWorkflow } from './runbook';
import { outcomeOfFailure, outcomeOfResult } from './runbook-outcome';
import { SA } from './search-attributes';

const { 'sns.publish': publish } = proxyActivities<{
  'sns.publish': (input: ActivityInput<'sns.publish'>) => Promise<ActivityEnvelope>;
}>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
const { 'incident.runbookOutcome': runbookOutcome } = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3, initialInterval: '1s', maximumInterval: '10s' },
});

/**
 * A run that continued as new reads its runbook's end through the client: soon after every progress signal (the end
 * usually follows one), then less and less often while nothing happens (a long approval, a rollback window).
 */
const OUTCOME_POLL_MIN_MS = 5_000;
const OUTCOME_POLL_MAX_MS = 60 * 60 * 1000;

/** Timeline entries kept in the queryable state; older re-firings are folded into the counters (history keeps all). */
const MAX_TIMELINE = 500;

/**
 * Changes that alter the commands an existing history produced; executions started before them replay as they ran.
 * - childPerOccurrence: the runbook child's ID is unique per occurrence (`<incident>-run-<first run ID>`), not
 *   `<incident>-run`, which the previous occurrence's child may still hold in its rollback window.
 * - outcomeFromResult: status, notifications and search attributes follow the child's result (and failure), once.
 * - reopenUntilClosed: a firing alert re-opens a resolved incident until its run completes, whoever resolved it.
 * - continueAsNew: the incident continues as new before its history nears Temporal's limits.
 * - archiveOnClose: a closing incident starts the archive of its evidence (workflows/archive.ts).
 */
export const INCIDENT_PATCHES = {
  childPerOccurrence: 'incident-child-per-occurrence',
  outcomeFromResult: 'incident-outcome-from-child-result',
  reopenUntilClosed: 'incident-reopen-until-closed',
  continueAsNew: 'incident-continue-as-new',
  archiveOnClose: 'incident-archive-on-close',
} as const;

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentState> {
  const info = workflowInfo();
  const now = (): string => new Date().toISOString();
  const carried = input.carried;
  const limits = { ...INCIDENT_HISTORY_DEFAULTS, ...input.history };
  const deliveries = new DeliveryWindow(
    { maxIds: limits.dedupMaxIds, maxAgeMs: limits.dedupMaxAgeMs },
    carried?.deliveries,
  );
  /** Notifications and runbook signals in flight; each leaves the set when it settles. */
  const pendingNotifications = new Set<Promise<void>>();
  const route = input.route;
  // Executions started before continue-as-new existed replay as they ran: they never continue as new.
  const mayContinue = carried !== undefined || patched(INCIDENT_PATCHES.continueAsNew);
  /** Updates this run accepted, and its history's size when it started (the state handed over included). */
  let updatesThisRun = 0;
  const startBytes = info.historySize;

  const state: IncidentState = carried
    ? { ...carried.state, run: (carried.state.run ?? 1) + 1 }
    : {
        incidentId: input.incidentId,
        fingerprint: input.fingerprint,
        status: 'opened',
        title: 'incident',
        incidentType: route.kind === 'runbook' ? route.runbook.incidentType : 'unclassified',
        severity: input.severity,
        severityReason: input.severityReason,
        openedAt: now(),
        ...(input.drill ? { drill: input.drill } : {}),
        // Stable across continue-as-new: names this occurrence of the fingerprint's incident.
        occurrence: info.firstExecutionRunId,
        refiredCount: 0,
        reopenedCount: 0,
        duplicateCount: 0,
        alertCount: 0,
        automation:
          route.kind === 'runbook'
            ? {
                kind: 'runbook',
                runbookId: route.runbook.id,
                digest: route.digest,
                executionId: patched(INCIDENT_PATCHES.childPerOccurrence)
                  ? `${input.incidentId}-run-${info.firstExecutionRunId}`
                  : `${input.incidentId}-run`,
                status: 'starting',
              }
            : { kind: 'none', reason: route.reason, runbookId: route.runbookId, fieldErrors: route.fieldErrors },
        timeline: [],
      };

  const record = (kind: TimelineEntry['kind'], message: string, data?: unknown): void => {
    state.timeline.push({ at: now(), kind, message, data });
    if (state.timeline.length > MAX_TIMELINE) state.timeline.splice(1, state.timeline.length - MAX_TIMELINE);
  };
  const setStatus = (status: IncidentStatus, why: string): void => {
    if (state.status === status) return;
    record('state', `${state.status} → ${status}: ${why}`);
    state.status = status;
    upsertSearchAttributes([{ key: SA.status, value: status }]);
  };
  const closed = () => state.status === 'closed';
  const track = (p: Promise<void>): void => {
    const tracked: Promise<void> = p.then(() => void pendingNotifications.delete(tracked));
    pendingNotifications.add(tracked);
  };

  /** Publishes to the topic for the incident's current severity; a failed notification is recorded, never fatal. */
  const notify = (event: string, subject: string, extra: Record<string, unknown> = {}): void => {
    const topicArn = input.notify.topics[state.severity] ?? input.notify.topics.default;
    if (!topicArn) {
      record('notification', `not sent (no topic for ${state.severity}): ${event}`);
      return;
    }
    const base = input.notify.publicUrl.replace(/\/$/, '');
    const automation = state.automation;
    const message = {
      event,
      incident: {
        id: state.incidentId,
        status: state.status,
        severity: state.severity,
        type: state.incidentType,
        title: state.title,
      },
      account: state.account,
      region: state.region,
      resource: state.resource,
      consoleUrl: consoleUrl(state),
      incidentUrl: `${base}/v1/incidents/${encodeURIComponent(state.incidentId)}`,
      runbook: automation.kind === 'runbook' ? automation.runbookId : null,
      executionUrl:
        automation.kind === 'runbook' ? `${base}/v1/executions/${encodeURIComponent(automation.executionId)}` : null,
      ...extra,
    };
    const p = publish({
      topicArn,
      subject: `[${state.severity}] ${subject}`,
      message,
      ctx: {
        executionId: info.workflowId,
        runbookId: 'incident',
        stepId: `notify-${event}`,
        incidentId: state.incidentId,
      },
    }).then(
      () => record('notification', `sent ${event} to ${topicArn}`),
      (err) => record('notification', `failed to send ${event}: ${(err as Error).message}`),
    );
    track(p);
  };

  setHandler(incidentStateQuery, () => state);

  // Admission no longer learns a delivery's outcome, so the incident counts them (dedup hits are `duplicate`). The
  // SDK emits workflow metrics through the worker's runtime (FIREBREAK_TEMPORAL_METRICS_ADDRESS), never on replay,
  // and they make no command. Drills are left out of the real metrics.
  const deliveryCounter = metricMeter.createCounter(
    'firebreak_alert_deliveries',
    'deliveries',
    'alert deliveries an incident handled, by outcome (duplicate: a redelivery already taken)',
  );

  const receive = (alert: NormalisedAlert): AlertAck => {
    const ack = (outcome: AlertAck['outcome']): AlertAck => {
      state.lastDelivery = { deliveryId: alert.deliveryId, outcome, at: now() };
      if (!state.drill) deliveryCounter.add(1, { outcome, source: alert.source });
      return acknowledgement(outcome);
    };
    const acknowledgement = (outcome: AlertAck['outcome']): AlertAck => ({
      incidentId: state.incidentId,
      outcome,
      status: state.status,
      severity: state.severity,
      refiredCount: state.refiredCount,
      duplicateCount: state.duplicateCount,
      automation:
        state.automation.kind === 'runbook'
          ? { runbookId: state.automation.runbookId, executionId: state.automation.executionId }
          : { reason: state.automation.reason },
    });
    if (deliveries.check(alert.deliveryId, Date.now())) {
      state.duplicateCount++;
      return ack('duplicate');
    }
    state.alertCount++;
    state.lastSeen = alert.occurredAt;
    if (state.alertCount === 1) {
      Object.assign(state, {
        title: alert.title,
        source: alert.source,
        alertName: alert.name,
        account: alert.account,
        region: alert.region,
        resource: alert.resource,
        firstSeen: alert.occurredAt,
        firstAlert: alert,
      });
      record('alert', `opened by ${alert.source} alert "${alert.name}" (${alert.state}) via ${alert.via}`, {
        deliveryId: alert.deliveryId,
      });
      return ack('opened');
    }
    if (alert.state === 'resolved') {
      if (state.resolvedAt) return ack('already-resolved');
      record('resolution', `alert "${alert.name}" back to OK`, { deliveryId: alert.deliveryId });
      resolve({ kind: 'alert', id: `${alert.source}:${alert.name}` });
      return ack('resolved');
    }
    let reopened = false;
    if (state.resolvedAt !== undefined) {
      // Until the run completes, a firing alert means the incident is not resolved after all (a flapping alarm, a
      // finding seen again), whoever resolved it; once closed, the next alert opens a new occurrence instead.
      const reopen = patched(INCIDENT_PATCHES.reopenUntilClosed);
      if (reopen || state.resolvedBy?.kind === 'alert') {
        record(
          'resolution',
          `alert fired again after ${state.resolvedBy?.kind === 'alert' ? 'OK' : 'resolution'}; resolution withdrawn`,
        );
        state.resolvedAt = undefined;
        state.resolvedBy = undefined;
        if (reopen) {
          reopened = true;
          state.reopenedCount = (state.reopenedCount ?? 0) + 1;
          tellRunbook();
        }
      }
    }
    state.refiredCount++;
    // Re-firings are counted; only a bounded number become timeline entries.
    if (state.refiredCount <= 50) record('alert', `re-fired (${state.refiredCount})`, { deliveryId: alert.deliveryId });
    return ack(reopened ? 'reopened' : 'refired');
  };

  setHandler(
    alertUpdate,
    (alerts) => {
      updatesThisRun++;
      return alerts.map(receive);
    },
    {
      validator: (alerts) => {
        if (closed()) throw ApplicationFailure.nonRetryable('incident is closed', IncidentRejection.closed);
        if (!Array.isArray(alerts) || alerts.length === 0 || alerts.length > MAX_ALERTS_PER_UPDATE) {
          throw ApplicationFailure.nonRetryable(
            `1 to ${MAX_ALERTS_PER_UPDATE} alerts per update`,
            IncidentRejection.invalid,
          );
        }
        if (alerts.some((a) => !a?.deliveryId || !a.name)) {
          throw ApplicationFailure.nonRetryable('not a normalised alert', IncidentRejection.invalid);
        }
      },
    },
  );

  setHandler(
    severityUpdate,
    (change) => {
      updatesThisRun++;
      record('severity', `${state.severity} → ${change.severity} by ${change.by.id}: ${change.reason}`);
      state.severity = change.severity;
      state.severityReason = `set by ${change.by.id}: ${change.reason}`;
      upsertSearchAttributes([{ key: SA.severity, value: change.severity }]);
      return state;
    },
    {
      validator: (change) => {
        if (closed()) throw ApplicationFailure.nonRetryable('incident is closed', IncidentRejection.closed);
        if (!change?.by?.id || !change.reason) {
          throw ApplicationFailure.nonRetryable('a reason and an identity are required', IncidentRejection.invalid);
        }
        if (!SEVERITIES.includes(change.severity))
          throw ApplicationFailure.nonRetryable('unknown severity', IncidentRejection.invalid);
      },
    },
  );

  let runbookStarted = false;
  const news = (): IncidentNews =>
    state.resolvedAt ? { alertState: 'resolved', resolvedAt: state.resolvedAt } : { alertState: 'firing' };
  /** Tells the running runbook that the incident's state changed, for its wait (verification) steps. */
  const tellRunbook = (): void => {
    if (
      !runbookStarted ||
      state.automation.kind !== 'runbook' ||
      TERMINAL_STATUSES.includes(state.automation.status as never)
    )
      return;
    const sent = getExternalWorkflowHandle(state.automation.executionId)
      .signal(incidentNewsSignal, news())
      .then(
        () => record('runbook', `told the runbook: alert ${news().alertState}`),
        (err) => record('runbook', `could not tell the runbook: ${(err as Error).message}`),
      );
    track(sent);
  };
  const resolve = (by: NonNullable<IncidentState['resolvedBy']>): void => {
    state.resolvedAt = now();
    state.resolvedBy = by;
    tellRunbook();
  };
  setHandler(
    resolveUpdate,
    (request) => {
      updatesThisRun++;
      record('resolution', `resolved by ${request.by.id}: ${request.reason}`);
      resolve({ kind: 'human', id: request.by.id, reason: request.reason });
      return state;
    },
    {
      validator: (request) => {
        if (!request?.by?.id || !request.reason)
          throw ApplicationFailure.nonRetryable('a reason and an identity are required', IncidentRejection.invalid);
        if (closed()) throw ApplicationFailure.nonRetryable('incident is closed', IncidentRejection.closed);
        if (state.resolvedAt)
          throw ApplicationFailure.nonRetryable('incident is already resolved', IncidentRejection.closed);
      },
    },
  );

  // Signals have no validator: an alert that is not a normalised one is left out (and logged), never fatal. A signal
  // reaches a run that is closing (it re-opens it, as a firing alert does) or, once the run completed, a new run
  // (signal-with-start); one arriving with the task that would complete or continue the run makes the server refuse
  // that completion, so the run handles it first. Registered here, after everything `receive` calls is defined: a
  // signal that came with the start is handled the moment its handler is set.
  setHandler(alertSignal, (alerts) => {
    updatesThisRun++;
    for (const alert of Array.isArray(alerts) ? alerts : []) {
      if (alert?.deliveryId && alert.name) receive(alert);
      else log.warn('alert signal without a normalised alert left out', { incidentId: state.incidentId });
    }
  });

  /**
   * Follows the runbook to a new status: from its progress signals, and at its end from its result (`final`), after
   * which nothing a late signal says changes the outcome. Acts once per status change, so the signal and the result
   * of one outcome notify once.
   */
  const follow = (progress: RunbookProgress, final: boolean): void => {
    const automation = state.automation;
    if (automation.kind !== 'runbook' || progress.executionId !== automation.executionId || automation.finished) return;
    if (final) automation.finished = true;
    const changed = automation.status !== progress.status;
    automation.status = progress.status;
    automation.pendingApproval = progress.pendingApproval;
    if (changed) act(progress);
  };

  /** The progress handler as executions started before outcomeFromResult ran it. */
  const legacyProgress = (progress: RunbookProgress): void => {
    if (state.automation.kind !== 'runbook' || progress.executionId !== state.automation.executionId) return;
    state.automation.status = progress.status;
    state.automation.pendingApproval = progress.pendingApproval;
    act(progress);
  };

  /** What a runbook status means for the incident: its status, and who is told. */
  const act = (progress: RunbookProgress): void => {
    if (state.automation.kind !== 'runbook') return;
    record('runbook', `runbook ${state.automation.runbookId}: ${progress.status}`, {
      failure: progress.failure,
      rollback: progress.rollback,
    });
    const approval = progress.pendingApproval;
    switch (progress.status) {
      case 'waiting-approval':
        if (approval) {
          const base = input.notify.publicUrl.replace(/\/$/, '');
          notify('approval-required', `approval needed: ${approval.title}`, {
            step: approval.stepId,
            approvalUrl: `${base}/v1/executions/${encodeURIComponent(progress.executionId)}/approvals/${encodeURIComponent(approval.stepId)}`,
            // The approval console's page for this execution (a browser link; approvalUrl is the API's POST).
            approvalPageUrl: `${base}/console/executions/${encodeURIComponent(progress.executionId)}`,
            approvalDeadline: approval.deadline,
            approverRoles: approval.roles,
          });
        }
        break;
      case 'succeeded':
        setStatus('contained', `runbook ${state.automation.runbookId} succeeded`);
        notify('contained', `contained: ${state.title}`);
        break;
      case 'failed':
        setStatus('runbook-failed', progress.failure?.message ?? 'runbook failed');
        notify('runbook-failed', `runbook failed: ${state.title}`, {
          step: progress.failure?.stepId,
          failure: progress.failure,
          rollback: progress.rollback,
        });
        break;
      case 'rolled-back':
      case 'cancelled':
        setStatus('rolled-back', progress.rollback?.reason ?? progress.status);
        notify('rolled-back', `rolled back: ${state.title}`, { rollback: progress.rollback });
        break;
      case 'rollback-failed':
        // The execution stays open for a retry request; the incident hears of it as a failure now.
        setStatus('runbook-failed', `rollback failed: ${progress.rollback?.remaining?.join(', ') ?? 'see execution'}`);
        notify('rollback-failed', `rollback failed: ${state.title}`, { rollback: progress.rollback });
        break;
      case 'running':
      case 'waiting-resource':
      case 'rolling-back':
        break;
      default:
        unreachable(progress.status);
    }
  };

  /** Bumped by every progress signal: a run that continued as new then looks for the runbook's end soon. */
  let progressSignals = 0;
  setHandler(runbookProgressSignal, (progress: RunbookProgress) => {
    progressSignals++;
    if (patched(INCIDENT_PATCHES.outcomeFromResult)) follow(progress, false);
    else legacyProgress(progress);
  });

  /** Set once the run decided to continue as new: the outcome poll stops. */
  let continuing = false;
  /**
   * A run that continued as new cannot await its runbook child's result (only the run that started a child can), and
   * the runbook's last progress signal may never arrive: it reads the execution's end through the client instead.
   */
  const watchRunbook = async (): Promise<void> => {
    const automation = state.automation;
    if (automation.kind !== 'runbook') return;
    let delayMs = OUTCOME_POLL_MIN_MS;
    let signalsSeen = progressSignals;
    while (!automation.finished && !continuing) {
      try {
        const outcome = await runbookOutcome({ executionId: automation.executionId });
        if (outcome) {
          follow(outcome, true);
          return;
        }
      } catch (err) {
        record('runbook', `could not read the runbook's state: ${(err as Error).message}`);
      }
      await condition(() => progressSignals !== signalsSeen || continuing || !!automation.finished, delayMs);
      delayMs = progressSignals !== signalsSeen ? OUTCOME_POLL_MIN_MS : Math.min(delayMs * 2, OUTCOME_POLL_MAX_MS);
      signalsSeen = progressSignals;
    }
  };
  let watching: Promise<void> = Promise.resolve();

  upsertSearchAttributes(searchAttributes(state, !!carried));

  if (carried) {
    runbookStarted = carried.runbookStarted;
    record('state', `continued as new (run ${state.run})`);
    if (runbookStarted) watching = watchRunbook();
  } else {
    await open();
  }

  const settled = () =>
    state.automation.kind === 'none' || TERMINAL_STATUSES.includes(state.automation.status as never);
  /** Temporal suggests it, or this run reached one of its bounds (bytes only after growing: no empty runs). */
  const shouldContinue = (): boolean => {
    if (!mayContinue) return false;
    const now = workflowInfo();
    return (
      now.continueAsNewSuggested ||
      updatesThisRun >= limits.maxUpdates ||
      now.historyLength >= limits.maxEvents ||
      (now.historySize >= limits.maxBytes && now.historySize - startBytes >= limits.maxBytes / 4)
    );
  };
  const reopenGraceMs = input.reopenGraceMs ?? 0;
  for (;;) {
    await condition(() => (state.resolvedAt !== undefined && settled()) || shouldContinue());
    if (!(state.resolvedAt !== undefined && settled())) return await continueRun();
    setStatus(
      'resolved',
      state.resolvedBy?.kind === 'alert' ? 'alert back to OK' : `resolved by ${state.resolvedBy?.id}`,
    );
    notify('resolved', `resolved: ${state.title}`, { resolvedBy: state.resolvedBy });
    // Closing: during the grace period and until every notification and handler has finished, a firing alert (which
    // the update validator still accepts) re-opens the incident; it is never acknowledged and then dropped.
    if (reopenGraceMs > 0) await condition(() => state.resolvedAt === undefined, reopenGraceMs);
    if (state.resolvedAt !== undefined) await Promise.all([...pendingNotifications]);
    if (state.resolvedAt !== undefined) await condition(allHandlersFinished);
    if (state.resolvedAt !== undefined || !patched(INCIDENT_PATCHES.reopenUntilClosed)) break;
    setStatus(openStatus(), 'an alert fired again while the incident was closing');
    notify('reopened', `re-opened: ${state.title}`);
  }
  state.closedAt = now();
  setStatus('closed', 'resolved and automation settled');
  log.info('incident closed', { incidentId: state.incidentId });
  // A drill's evidence is of no use to anyone: not archived.
  if (!state.drill && patched(INCIDENT_PATCHES.archiveOnClose)) await archive();
  return state;

  /**
   * Starts the archive of this occurrence's evidence, abandoned: it waits for this run (and the runbook execution) to
   * close. Awaited, since a child whose start is still pending when its parent completes is never started. A failure
   * to start it is recorded, never fatal: the incident has closed either way.
   */
  async function archive(): Promise<void> {
    const occurrence = state.occurrence ?? info.firstExecutionRunId;
    const automation = state.automation;
    try {
      await startChild(archiveWorkflow, {
        workflowId: archiveWorkflowId(state.incidentId, occurrence),
        args: [
          {
            incidentId: state.incidentId,
            occurrence,
            runId: info.runId,
            executionId: automation.kind === 'runbook' && runbookStarted ? automation.executionId : undefined,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (err) {
      record('state', `evidence archive not started: ${(err as Error).message}`);
    }
  }

  /** The first run: the opening notification, then the runbook as a child execution (or the lack of one). */
  async function open(): Promise<void> {
    // The first alert arrives with the start (signal-with-start, or update-with-start in older executions).
    await condition(() => state.alertCount > 0);
    if (state.resource)
      upsertSearchAttributes([{ key: SA.resource, value: `${state.resource.type}/${state.resource.id}` }]);
    notify('opened', `incident opened: ${state.title}`, { alert: summariseAlert(state.firstAlert!) });
    setStatus('triaged', `${state.severity} (${state.severityReason})`);
    if (route.kind !== 'runbook' || state.automation.kind !== 'runbook') {
      record('runbook', `no automation: ${state.automation.kind === 'none' ? state.automation.reason : ''}`);
      notify('no-automation', `no runbook for: ${state.title}`);
      return;
    }
    const automation = state.automation;
    const child = await startChild(runbookWorkflow, {
      workflowId: automation.executionId,
      args: [
        {
          runbook: route.runbook,
          digest: route.digest,
          params: route.params,
          startedBy: { id: `alert:${input.fingerprint}` },
          reason: `incident ${input.incidentId}: ${state.title}`,
          incidentId: input.incidentId,
          severity: state.severity,
          resource: state.resource ? `${state.resource.type}/${state.resource.id}` : undefined,
          incident: news(),
          // Act where the alert comes from (a GuardDuty/Security Hub administrator account aggregates many).
          target: state.account || state.region ? { account: state.account, region: state.region } : undefined,
          history: input.runbookHistory,
        },
      ],
      // The execution outlives the incident's closing (e.g. to stay in its rollback window) and its continue-as-new.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // Set with the start (no command of its own), so searching executions by who started them finds this one too.
      // A drill's execution is marked as one too, so metrics and lists leave it out.
      typedSearchAttributes: [
        { key: SA.startedBy, value: `alert:${input.fingerprint}` },
        ...(input.drill ? [{ key: SA.drill, value: input.drill }] : []),
      ],
    });
    runbookStarted = true;
    if (automation.status === 'starting') automation.status = 'running';
    setStatus('runbook-running', `runbook ${automation.runbookId} started as ${automation.executionId}`);
    // The runbook's last progress signal leaves in the task that ends it and may never arrive: its result (or
    // failure) is what settles the outcome.
    void child.result().then(
      (final) => {
        if (patched(INCIDENT_PATCHES.outcomeFromResult)) follow(outcomeOfResult(automation.executionId, final), true);
        else if (!TERMINAL_STATUSES.includes(automation.status as never)) automation.status = final.status;
      },
      (err) => {
        if (patched(INCIDENT_PATCHES.outcomeFromResult)) follow(outcomeOfFailure(automation.executionId, err), true);
        else if (!TERMINAL_STATUSES.includes(automation.status as never)) automation.status = 'failed';
      },
    );
  }

  /**
   * Hands the incident to a new run of the same workflow ID (safe-message-handlers): nothing in flight is dropped —
   * notifications and runbook signals finish, the outcome poll stops, every handler finishes — and the state goes
   * with it. Alerts accepted meanwhile are handled here and carried too.
   */
  async function continueRun(): Promise<never> {
    continuing = true;
    await watching;
    while (pendingNotifications.size > 0) await Promise.all([...pendingNotifications]);
    await condition(allHandlersFinished);
    const at = workflowInfo();
    log.info('incident continues as new', {
      incidentId: state.incidentId,
      run: state.run ?? 1,
      updates: updatesThisRun,
      events: at.historyLength,
      bytes: at.historySize,
    });
    record(
      'state',
      `continuing as new after ${updatesThisRun} updates, ${at.historyLength} events, ${at.historySize} bytes`,
    );
    // The search attributes go with the start, so lists and filters find the new run at once.
    return makeContinueAsNewFunc<typeof incidentWorkflow>({ typedSearchAttributes: searchAttributes(state, true) })({
      ...input,
      carried: { state, deliveries: deliveries.carry(Date.now()), runbookStarted },
    });
  }

  /** The status a re-opened incident returns to: where its automation left it. */
  function openStatus(): IncidentStatus {
    const automation = state.automation;
    if (automation.kind === 'none') return 'triaged';
    switch (automation.status) {
      case 'succeeded':
        return 'contained';
      case 'failed':
      case 'rollback-failed':
        return 'runbook-failed';
      case 'rolled-back':
      case 'cancelled':
        return 'rolled-back';
      case 'starting':
      case 'running':
      case 'waiting-resource':
      case 'waiting-approval':
      case 'rolling-back':
        return 'runbook-running';
      default:
        return unreachable(automation.status);
    }
  }
}

// An error in this workflow's code fails the incident with its message instead of retrying the task forever.
setWorkflowOptions({ failureExceptionTypes: [Error] }, incidentWorkflow);

function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}

/** The incident's search attributes; `all`: with the resource too (known once the first alert arrived). */
function searchAttributes(s: IncidentState, all: boolean): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: SA.kind, value: 'incident' },
    { key: SA.status, value: s.status },
    { key: SA.severity, value: s.severity },
    { key: SA.incidentType, value: s.incidentType },
  ];
  if (s.drill) pairs.push({ key: SA.drill, value: s.drill });
  if (all && s.resource) pairs.push({ key: SA.resource, value: `${s.resource.type}/${s.resource.id}` });
  return pairs;
}

function summariseAlert(a: NormalisedAlert) {
  return {
    source: a.source,
    name: a.name,
    state: a.state,
    title: a.title,
    occurredAt: a.occurredAt,
    deliveryId: a.deliveryId,
  };
}

/** A link to the resource in the AWS console, where we know the resource type. */
function consoleUrl(s: IncidentState): string | undefined {
  if (!s.resource || !s.region) return undefined;
  const host = `https://${s.region}.console.aws.amazon.com`;
  switch (s.resource.type) {
    case 'ec2:instance':
      return `${host}/ec2/home?region=${s.region}#InstanceDetails:instanceId=${encodeURIComponent(s.resource.id)}`;
    default:
      return s.source === 'cloudwatch' && s.alertName
        ? `${host}/cloudwatch/home?region=${s.region}#alarmsV2:alarm/${encodeURIComponent(s.alertName)}`
        : undefined;
  }
}
