/**
 * The timeline of a runbook execution or an incident, rebuilt from its Temporal history alone: no worker, no query,
 * no runbook file. Everything comes from events and their payloads: the pinned definition from the start event's input,
 * steps from activities (activity ID = step ID, `rollback:<step>` for compensations), approvals and rollback requests
 * from the Update events' arguments and results, alerts from the `alerts` Updates, timers, signals, status changes
 * (the FirebreakStatus search attribute the workflows upsert) and the closing event.
 *
 * Step states the history does not spell out are inferred from the pinned definition, the way the interpreter walks
 * it: a step with no event that a later step overtook was skipped; a timer started while an approval or wait step was
 * next is that step's deadline. The final states match what the workflow itself reported (tested against the corpus).
 *
 * A timeline spans every run of a workflow ID (continue-as-new); "state at a point" is the timeline of the history cut
 * at an event ID or a time.
 */
import { alertSignal } from '../workflows/incident-messages';
import { SA } from '../workflows/search-attributes';
import {
  attributesOf,
  decodePayload,
  decodePayloads,
  durationMs,
  failureOf,
  firstPayload,
  idOf,
  serialiseHistory,
  sha256Hex,
  timeOf,
  typeOf,
  workflowIdOf,
  type HistoryEvent,
  type RunHistory,
} from './history';
import type {
  ActivityRun,
  AlertEntry,
  ApprovalEntry,
  ExecutionPart,
  IncidentPart,
  Outcome,
  StepTimeline,
  Timeline,
  TimelineEntry,
  TimerEntry,
} from './timeline-schema';

export type { Timeline } from './timeline-schema';

const RUNBOOK_WORKFLOW = 'runbookWorkflow';
const INCIDENT_WORKFLOW = 'incidentWorkflow';

/** Where to cut the history for "state at a point": an event ID (of the first run, or of `runId`) or a time. */
export type PointInTime = { eventId: number; runId?: string } | { time: string };

/** Parses `?at=`: digits are an event ID, anything else must be an ISO time. */
export function parsePointInTime(at: string): PointInTime {
  if (/^\d+$/.test(at)) return { eventId: Number(at) };
  const t = Date.parse(at);
  if (Number.isNaN(t)) throw new Error(`"${at}" is neither an event ID nor an ISO time`);
  return { time: new Date(t).toISOString() };
}

/** The timeline of a workflow's runs (oldest first), optionally as it stood at a point. */
export function buildTimeline(runs: readonly RunHistory[], at?: PointInTime): Timeline {
  if (runs.length === 0 || runs[0].history.events.length === 0) throw new Error('no history to build a timeline from');
  const cut = at ? cutRuns(runs, at) : runs;
  if (cut.length === 0 || cut[0].history.events.length === 0) throw new Error('the point is before the first event');
  return new Builder(runs, cut, at !== undefined).build();
}

function cutRuns(runs: readonly RunHistory[], at: PointInTime): RunHistory[] {
  if ('time' in at) {
    const limit = Date.parse(at.time);
    return runs
      .map((r) => ({ ...r, history: { events: r.history.events.filter((e) => Date.parse(e.eventTime) <= limit) } }))
      .filter((r) => r.history.events.length > 0);
  }
  const index = at.runId ? runs.findIndex((r) => r.runId === at.runId) : 0;
  if (index < 0) throw new Error(`no run ${at.runId}`);
  return runs
    .slice(0, index + 1)
    .map((r, i) =>
      i === index ? { ...r, history: { events: r.history.events.filter((e) => idOf(e) <= at.eventId) } } : r,
    );
}

type Located = { run: RunHistory; e: HistoryEvent };

class Builder {
  private readonly entries: TimelineEntry[] = [];
  private readonly timers: TimerEntry[] = [];
  /** Activities and timers by `<runId>/<event ID that started them>`. */
  private readonly scheduled = new Map<string, ActivityRun & { runId: string }>();
  private readonly timerByEvent = new Map<string, TimerEntry>();
  private readonly activityOrder: (ActivityRun & { runId: string })[] = [];
  private readonly statusChanges: { eventId: number; at: string; status: string }[] = [];
  private readonly updates = new Map<string, { accepted: Located; args: unknown[]; result?: unknown }>();
  private readonly events: Located[];
  /** Each event's place across every run (event IDs restart at 1 in each run of a continue-as-new chain). */
  private readonly order = new Map<HistoryEvent, number>();
  /** The place of each status change's event. */
  private readonly statusOrder = new Map<object, number>();

  constructor(
    private readonly allRuns: readonly RunHistory[],
    private readonly runs: readonly RunHistory[],
    private readonly partial: boolean,
  ) {
    this.events = runs.flatMap((run) => run.history.events.map((e) => ({ run, e })));
    this.events.forEach(({ e }, i) => this.order.set(e, i));
  }

  build(): Timeline {
    const first = this.runs[0].history.events[0];
    const start = attributesOf(first);
    const workflowType: string = start.workflowType?.name ?? 'unknown';
    const input = firstPayload(start.input) as Record<string, any> | undefined;
    this.scan();

    const last = this.events[this.events.length - 1];
    const timeline: Timeline = {
      workflowId: workflowIdOf(this.runs[0].history) ?? this.runs[0].workflowId,
      workflowType,
      kind: workflowType === RUNBOOK_WORKFLOW ? 'execution' : workflowType === INCIDENT_WORKFLOW ? 'incident' : 'other',
      runs: this.runs.map((r) => {
        const full = this.allRuns.find((x) => x.runId === r.runId)!;
        const events = r.history.events;
        const closing = events.find((e) => CLOSING[typeOf(e)]);
        return {
          runId: r.runId,
          startedAt: timeOf(events[0]),
          ...(closing ? { closedAt: timeOf(closing) } : {}),
          eventCount: events.length,
          historySha256: sha256Hex(serialiseHistory(full.history)),
        };
      }),
      startedAt: timeOf(first),
      timers: this.timers,
      outcome: this.outcome(),
      entries: this.entries,
    };
    if (timeline.outcome.at && timeline.outcome.workflowStatus !== 'running') timeline.closedAt = timeline.outcome.at;
    if (this.partial) timeline.asOf = { runId: last.run.runId, eventId: idOf(last.e), at: timeOf(last.e) };
    if (timeline.kind === 'execution' && input) timeline.execution = this.execution(input, start);
    if (timeline.kind === 'incident' && input) timeline.incident = this.incident(input);
    return timeline;
  }

  // -------------------------------------------------------------------------------------------------------------------
  // One pass over the events: the records every kind of workflow shares, and the plain-words entries

  private scan(): void {
    const timersById = new Map<string, TimerEntry>();
    const scheduled = this.scheduled;
    for (const located of this.events) {
      const { run, e } = located;
      const a = attributesOf(e);
      const at = timeOf(e);
      const eventId = idOf(e);
      const key = (id: unknown) => `${run.runId}/${String(id)}`;
      const entry = (kind: string, summary: string) =>
        this.entries.push({ runId: run.runId, eventId, at, kind, summary });
      switch (typeOf(e)) {
        case 'WORKFLOW_EXECUTION_STARTED': {
          const from = a.continuedExecutionRunId ? ` (continued from run ${a.continuedExecutionRunId})` : '';
          entry('started', `${a.workflowType?.name ?? 'workflow'} started${from}`);
          break;
        }
        case 'ACTIVITY_TASK_SCHEDULED': {
          const act: ActivityRun & { runId: string } = {
            runId: run.runId,
            activityId: String(a.activityId),
            activityType: String(a.activityType?.name ?? ''),
            scheduledEventId: eventId,
            scheduledAt: at,
            status: 'scheduled',
            attempts: 0,
            failures: [],
            input: firstPayload(a.input),
          };
          scheduled.set(key(eventId), act);
          this.activityOrder.push(act);
          entry('activity', `scheduled ${act.activityType} (${this.activityName(act)})`);
          break;
        }
        case 'ACTIVITY_TASK_STARTED': {
          const act = scheduled.get(key(a.scheduledEventId));
          if (!act) break;
          act.startedAt = at;
          act.attempts = Number(a.attempt ?? 1);
          const previous = failureOf(a.lastFailure);
          if (previous) act.failures.push({ attempt: act.attempts - 1, ...withoutAttemptDetail(previous).failure });
          break;
        }
        case 'ACTIVITY_TASK_COMPLETED': {
          const act = scheduled.get(key(a.scheduledEventId));
          if (!act) break;
          const envelope = firstPayload(a.result) as { output?: unknown; attempt?: number } | undefined;
          act.closedAt = at;
          act.status = 'succeeded';
          // The worker wraps outputs in { output, attempt } (activities/envelope.ts).
          if (envelope && typeof envelope === 'object' && 'output' in envelope) {
            act.output = envelope.output;
            if (typeof envelope.attempt === 'number') act.attempts = envelope.attempt;
          } else act.output = envelope;
          const granted = isGrantedLock(act) ? ', lock granted in its answer' : '';
          entry('activity', `${this.activityName(act)} succeeded after ${plural(act.attempts, 'attempt')}${granted}`);
          break;
        }
        case 'ACTIVITY_TASK_FAILED':
        case 'ACTIVITY_TASK_TIMED_OUT':
        case 'ACTIVITY_TASK_CANCELED': {
          const act = scheduled.get(key(a.scheduledEventId));
          if (!act) break;
          act.closedAt = at;
          const type = typeOf(e);
          act.status =
            type === 'ACTIVITY_TASK_FAILED' ? 'failed' : type === 'ACTIVITY_TASK_TIMED_OUT' ? 'timed-out' : 'cancelled';
          const failure = failureOf(a.failure);
          if (failure) {
            const { failure: clean, attempt } = withoutAttemptDetail(failure);
            if (attempt) act.attempts = attempt;
            act.failures.push({ attempt: act.attempts || 1, at, ...clean });
          }
          const why = failure ? `: ${failure.message}` : '';
          entry('activity', `${this.activityName(act)} ${act.status} after ${plural(act.attempts, 'attempt')}${why}`);
          break;
        }
        case 'TIMER_STARTED': {
          const timeoutMs = durationMs(a.startToFireTimeout);
          const timer: TimerEntry = {
            timerId: String(a.timerId),
            eventId,
            startedAt: at,
            ...(timeoutMs !== undefined
              ? { timeoutMs, deadline: new Date(Date.parse(at) + timeoutMs).toISOString() }
              : {}),
            fate: 'pending',
          };
          timersById.set(key(timer.timerId), timer);
          this.timerByEvent.set(key(eventId), timer);
          this.timers.push(timer);
          entry('timer', `timer ${timer.timerId} started${timer.deadline ? `, fires at ${timer.deadline}` : ''}`);
          break;
        }
        case 'TIMER_FIRED':
        case 'TIMER_CANCELED': {
          const timer = timersById.get(key(a.timerId));
          if (!timer) break;
          timer.fate = typeOf(e) === 'TIMER_FIRED' ? 'fired' : 'cancelled';
          timer.closedAt = at;
          entry('timer', `timer ${timer.timerId} ${timer.fate}`);
          break;
        }
        case 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED': {
          const req = a.acceptedRequest ?? {};
          const updateId = String(req.meta?.updateId ?? a.protocolInstanceId ?? eventId);
          const args = decodePayloads(req.input?.args);
          this.updates.set(updateId, { accepted: located, args });
          entry('update', `update ${req.input?.name ?? '?'} accepted${describeUpdate(req.input?.name, args[0])}`);
          break;
        }
        case 'WORKFLOW_EXECUTION_UPDATE_COMPLETED': {
          const updateId = String(a.meta?.updateId ?? '');
          const u = this.updates.get(updateId);
          if (u)
            u.result = a.outcome?.success
              ? firstPayload(a.outcome.success)
              : { failure: failureOf(a.outcome?.failure) };
          break;
        }
        case 'WORKFLOW_EXECUTION_SIGNALED': {
          const input = firstPayload(a.input);
          entry('signal', `signal ${a.signalName} received${describeSignal(a.signalName, input)}`);
          break;
        }
        case 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED':
          entry('signal', `signal ${a.signalName} sent to ${a.workflowExecution?.workflowId ?? '?'}`);
          break;
        case 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
          const field = a.searchAttributes?.indexedFields?.[SA.status.name];
          const status = field ? decodePayload(field) : undefined;
          if (typeof status === 'string') {
            const change = { eventId, at, status };
            this.statusChanges.push(change);
            this.statusOrder.set(change, this.order.get(e)!);
            entry('status', `status ${status}`);
          }
          break;
        }
        case 'START_CHILD_WORKFLOW_EXECUTION_INITIATED':
          entry('child', `child ${a.workflowType?.name} ${a.workflowId} requested`);
          break;
        case 'CHILD_WORKFLOW_EXECUTION_STARTED':
          entry('child', `child ${a.workflowExecution?.workflowId} started (run ${a.workflowExecution?.runId})`);
          break;
        case 'CHILD_WORKFLOW_EXECUTION_COMPLETED':
        case 'CHILD_WORKFLOW_EXECUTION_FAILED':
        case 'CHILD_WORKFLOW_EXECUTION_CANCELED':
        case 'CHILD_WORKFLOW_EXECUTION_TERMINATED':
        case 'CHILD_WORKFLOW_EXECUTION_TIMED_OUT':
          entry('child', `child ${a.workflowExecution?.workflowId} ${CHILD_CLOSED[typeOf(e)]}`);
          break;
        case 'WORKFLOW_EXECUTION_CANCEL_REQUESTED':
          entry(
            'cancel',
            `cancellation requested${a.identity ? ` by ${a.identity}` : ''}${a.cause ? `: ${a.cause}` : ''}`,
          );
          break;
        default:
          if (CLOSING[typeOf(e)]) {
            const failure = failureOf(a.failure);
            entry(
              'closed',
              `workflow ${CLOSING[typeOf(e)]}${failure ? `: ${failure.message}` : a.reason ? `: ${a.reason}` : ''}`,
            );
          }
      }
    }
  }

  /** Incident activities carry their purpose in their input (`ctx.stepId`, e.g. `notify-opened`); runbook ones in the ID. */
  private activityName(act: ActivityRun): string {
    const stepId = (act.input as { ctx?: { stepId?: string } } | undefined)?.ctx?.stepId;
    return stepId && stepId !== act.activityId ? `${stepId}, activity ${act.activityId}` : act.activityId;
  }

  /**
   * The workflow's own clock when it handled what a timer did: the start of the next workflow task (what `Date.now()`
   * returns in workflow code), so deadline decisions carry the time the workflow recorded.
   */
  private workflowTimeAfter(timer: TimerEntry): string {
    const closed = this.events.findIndex(({ run, e }) => this.timerByEvent.get(`${run.runId}/${e.eventId}`) === timer);
    const closing = this.events.findIndex(
      ({ e }, i) =>
        i > closed &&
        ['TIMER_FIRED', 'TIMER_CANCELED'].includes(typeOf(e)) &&
        String(attributesOf(e).timerId) === timer.timerId,
    );
    const task = this.events.find(({ e }, i) => i > closing && typeOf(e) === 'WORKFLOW_TASK_STARTED');
    return task ? timeOf(task.e) : timer.closedAt!;
  }

  private outcome(): Outcome {
    const last = this.events[this.events.length - 1];
    const status = this.statusChanges[this.statusChanges.length - 1]?.status;
    const type = typeOf(last.e);
    if (!CLOSING[type]) return { workflowStatus: 'running', ...(status ? { status } : {}) };
    const a = attributesOf(last.e);
    const failure = failureOf(a.failure);
    const result =
      type === 'WORKFLOW_EXECUTION_COMPLETED' ? (firstPayload(a.result) as { status?: string }) : undefined;
    return {
      workflowStatus: CLOSING[type],
      at: timeOf(last.e),
      eventId: idOf(last.e),
      ...(result?.status ? { status: result.status } : status ? { status } : {}),
      ...(failure ? { failure: withoutAttemptDetail(failure).failure } : {}),
      ...(a.reason ? { reason: String(a.reason) } : {}),
    };
  }

  private updatesNamed(name: string) {
    return [...this.updates.entries()]
      .filter(([, u]) => attributesOf(u.accepted.e).acceptedRequest?.input?.name === name)
      .map(([updateId, u]) => ({ updateId, ...u, eventId: idOf(u.accepted.e), at: timeOf(u.accepted.e) }));
  }

  private signalsReceived() {
    return this.events
      .filter(({ e }) => typeOf(e) === 'WORKFLOW_EXECUTION_SIGNALED')
      .map(({ e }) => {
        const a = attributesOf(e);
        const input = firstPayload(a.input);
        return {
          eventId: idOf(e),
          at: timeOf(e),
          name: String(a.signalName),
          ...(input !== undefined ? { input } : {}),
        };
      });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Runbook executions

  private execution(input: Record<string, any>, start: Record<string, any>): ExecutionPart {
    const runbook = input.runbook ?? {};
    const definitionSteps: Record<string, any>[] = Array.isArray(runbook.steps) ? runbook.steps : [];
    const steps: StepTimeline[] = definitionSteps.map((s) => ({
      id: String(s.id),
      kind: String(s.kind),
      ...(s.title ? { title: String(s.title) } : {}),
      ...(s.kind === 'action' ? { action: String(s.action) } : {}),
      status: 'pending',
      attempts: 0,
      failures: [],
    }));
    const byId = new Map(steps.map((s, i) => [s.id, { step: s, def: definitionSteps[i], index: i }]));
    const approvals: ApprovalEntry[] = this.updatesNamed('decideApproval').map((u) => {
      const args = (u.args[0] ?? {}) as Record<string, any>;
      const record = (u.result ?? {}) as Record<string, any>;
      return {
        stepId: String(args.stepId),
        decision: args.decision,
        ...(args.comment !== undefined ? { comment: String(args.comment) } : {}),
        decidedBy: args.decidedBy ?? { id: 'unknown' },
        decidedAt: typeof record.decidedAt === 'string' ? record.decidedAt : u.at,
        via: 'human' as const,
        updateId: u.updateId,
        eventId: u.eventId,
      };
    });
    const rollbackRequests = this.updatesNamed('requestRollback').map((u) => {
      const args = (u.args[0] ?? {}) as Record<string, any>;
      return {
        eventId: u.eventId,
        at: u.at,
        updateId: u.updateId,
        reason: String(args.reason ?? ''),
        requestedBy: args.requestedBy ?? { id: 'unknown' },
      };
    });
    const cancel = this.events.find(({ e }) => typeOf(e) === 'WORKFLOW_EXECUTION_CANCEL_REQUESTED');
    const rollingBack = this.statusChanges.find((c) => c.status === 'rolling-back');
    const succeededAt = this.statusChanges.find((c) => c.status === 'succeeded');

    // Walk the events as the interpreter walks the definition.
    let cursor = 0;
    let openWait: { index: number; timer: TimerEntry } | undefined;
    const passTo = (index: number) => {
      for (let i = cursor; i < index; i++) {
        const s = steps[i];
        if (s.status !== 'pending') continue;
        const def = definitionSteps[i];
        // Only a step with a `when` can be skipped; a wait step without one that left no event held at once.
        if (def.when === undefined && def.kind === 'wait') s.status = 'succeeded';
        else {
          s.status = 'skipped';
          if (def.kind === 'wait') s.note = 'no event: skipped by its condition, or its condition held at once';
        }
      }
      cursor = Math.max(cursor, index + 1);
    };
    const placeOf = (change: object) => this.statusOrder.get(change)!;
    const inForward = (e: HistoryEvent) => !rollingBack || this.order.get(e)! < placeOf(rollingBack);
    // The resource lock (0.2.0 on): its request activity is followed by a timer bounding the wait for the grant; that
    // timer belongs to no step.
    let lockWait = false;
    // An approval gate with escalation tiers starts one more timer per tier right after its deadline timer (0.2.0 on):
    // timers that come while the gate is still the last thing the execution did are its escalations.
    let openGate: number | undefined;
    for (const act of this.activityOrder) {
      const rollbackOf = /^rollback:(.+)$/.exec(act.activityId)?.[1];
      if (rollbackOf && byId.has(rollbackOf)) {
        const { step } = byId.get(rollbackOf)!;
        const { runId: _runId, ...run } = act;
        step.rollback = run;
        if (act.status === 'succeeded') step.status = 'rolled-back';
        else if (act.status !== 'scheduled') step.status = 'rollback-failed';
      }
    }
    for (const { run, e } of this.events) {
      const type = typeOf(e);
      const a = attributesOf(e);
      if (type === 'ACTIVITY_TASK_SCHEDULED' && a.activityType?.name === 'resource.requestLock') {
        // From 0.4 on a free resource is granted in the request's answer, and no wait timer follows.
        lockWait = !isGrantedLock(this.scheduled.get(`${run.runId}/${idOf(e)}`));
        continue;
      }
      if (type === 'ACTIVITY_TASK_SCHEDULED' && byId.has(String(a.activityId)) && inForward(e)) {
        const { step, index } = byId.get(String(a.activityId))!;
        passTo(index);
        openWait = undefined;
        openGate = undefined;
        const act = this.scheduled.get(`${run.runId}/${e.eventId}`)!;
        Object.assign(step, {
          scheduledAt: act.scheduledAt,
          ...(act.startedAt ? { startedAt: act.startedAt } : {}),
          ...(act.closedAt ? { closedAt: act.closedAt } : {}),
          attempts: act.attempts,
          failures: act.failures,
          ...(act.input !== undefined ? { input: act.input } : {}),
          ...(act.output !== undefined ? { output: act.output } : {}),
        });
        if (step.status === 'pending') {
          step.status = {
            scheduled: 'running',
            succeeded: 'succeeded',
            failed: 'failed',
            'timed-out': 'failed',
            cancelled: 'failed',
          }[act.status];
        } else if (act.status === 'failed' || act.status === 'timed-out') step.status = 'failed';
      } else if (type === 'TIMER_STARTED' && inForward(e)) {
        const timer = this.timerByEvent.get(`${run.runId}/${e.eventId}`)!;
        if (lockWait) {
          lockWait = false;
          timer.purpose = 'resource-lock';
          continue;
        }
        if (openGate !== undefined) {
          timer.purpose = `escalation:${steps[openGate].id}`;
          continue;
        }
        if (succeededAt && this.order.get(e)! > placeOf(succeededAt)) {
          timer.purpose = 'rollback-window';
          continue;
        }
        if (openWait && openWait.timer.fate === 'cancelled' && steps[openWait.index].status === 'waiting') {
          timer.purpose = `wait:${steps[openWait.index].id}`;
          openWait.timer = timer;
          continue;
        }
        const next = definitionSteps.findIndex((s, i) => i >= cursor && (s.kind === 'approval' || s.kind === 'wait'));
        if (next < 0) continue;
        passTo(next);
        const step = steps[next];
        timer.purpose = `${step.kind}:${step.id}`;
        step.startedAt = timer.startedAt;
        if (timer.deadline) step.deadline = timer.deadline;
        step.status = step.kind === 'approval' ? 'waiting-approval' : 'waiting';
        if (step.kind === 'wait') openWait = { index: next, timer };
        else openGate = next;
      }
    }

    // Approval and wait steps: settled by decisions, deadlines or what came after.
    const lastForwardEvent = rollingBack ? placeOf(rollingBack) : Number.MAX_SAFE_INTEGER;
    const laterProgress = (index: number) =>
      steps.some((s, i) => i > index && s.status !== 'pending' && s.status !== 'skipped') ||
      (succeededAt !== undefined && placeOf(succeededAt) < lastForwardEvent);
    steps.forEach((step, index) => {
      const def = definitionSteps[index];
      const timers = this.timers.filter((t) => t.purpose === `${step.kind}:${step.id}`);
      const timer = timers[timers.length - 1];
      if (!timer) return;
      if (step.kind === 'approval') {
        const decision = approvals.find((d) => d.stepId === step.id);
        if (decision) {
          step.approval = decision;
          step.closedAt = decision.decidedAt;
          step.status = decision.decision === 'approve' ? 'succeeded' : 'rejected';
        } else if (timer.fate === 'fired') {
          const onTimeout = String(def.onTimeout ?? 'reject');
          const auto: ApprovalEntry = {
            stepId: step.id,
            decision: onTimeout === 'approve' ? 'approve' : 'reject',
            comment: `no decision before ${timer.deadline}; onTimeout=${onTimeout}`,
            decidedBy: { id: 'system:deadline' },
            decidedAt: this.workflowTimeAfter(timer),
            via: 'timeout',
            eventId: timer.eventId,
          };
          step.approval = auto;
          approvals.push(auto);
          step.closedAt = timer.closedAt;
          step.status = onTimeout === 'approve' ? 'succeeded' : onTimeout === 'fail' ? 'failed' : 'rejected';
        } else if (timer.fate === 'cancelled') {
          // Interrupted by a rollback request or a cancellation: the interpreter puts the step back to pending.
          step.status = 'pending';
          step.note = 'interrupted before a decision (rollback requested or execution cancelled)';
        }
      } else if (step.kind === 'wait') {
        if (timer.fate === 'fired') {
          step.status = 'failed';
          step.closedAt = timer.closedAt;
          step.failures = [
            {
              attempt: 1,
              at: timer.closedAt,
              message: `"${def.until}" did not hold before ${timer.deadline}`,
              type: 'WaitTimeout',
            },
          ];
        } else if (timer.fate === 'cancelled' && laterProgress(index)) {
          step.status = 'succeeded';
          step.closedAt = timer.closedAt;
        } else if (timer.fate === 'cancelled' && (rollbackRequests.length > 0 || cancel)) {
          step.status = 'pending';
          step.note = 'interrupted while waiting (rollback requested or execution cancelled)';
        }
      }
    });

    approvals.sort((x, y) => x.decidedAt.localeCompare(y.decidedAt));
    const rollbackActs = steps.filter((s) => s.rollback);
    const windowTimer = this.timers.find((t) => t.purpose === 'rollback-window');
    const part: ExecutionPart = {
      runbook: {
        id: String(runbook.id ?? ''),
        version: String(runbook.version ?? ''),
        title: String(runbook.title ?? ''),
        digest: String(input.digest ?? ''),
        definition: runbook,
      },
      params: input.params ?? {},
      startedBy: input.startedBy ?? { id: 'unknown' },
      ...(input.reason !== undefined ? { reason: String(input.reason) } : {}),
      severity: String(input.severity ?? runbook.severity ?? ''),
      ...(input.incidentId ? { incidentId: String(input.incidentId) } : {}),
      ...(resourceOf(input) ? { resource: resourceOf(input) } : {}),
      ...targetOf(input, this.activityOrder),
      ...(start.parentWorkflowExecution?.workflowId
        ? {
            parent: {
              workflowId: String(start.parentWorkflowExecution.workflowId),
              ...(start.parentWorkflowExecution.runId ? { runId: String(start.parentWorkflowExecution.runId) } : {}),
            },
          }
        : {}),
      status: this.statusChanges[this.statusChanges.length - 1]?.status ?? 'running',
      statusChanges: this.statusChanges,
      steps,
      approvals,
      rollbackRequests,
      ...(cancel
        ? {
            cancelRequested: {
              eventId: idOf(cancel.e),
              at: timeOf(cancel.e),
              ...(attributesOf(cancel.e).identity ? { identity: String(attributesOf(cancel.e).identity) } : {}),
            },
          }
        : {}),
      ...(windowTimer?.deadline ? { rollbackWindowUntil: windowTimer.deadline } : {}),
      signals: this.signalsReceived(),
    };
    if (rollingBack) {
      const settled = this.statusChanges.find((c) => placeOf(c) > placeOf(rollingBack));
      const ends = rollbackActs.map((s) => s.rollback!.closedAt).filter((t): t is string => !!t);
      part.rollback = {
        trigger: rollbackTrigger(part, cancel !== undefined),
        startedAt: rollingBack.at,
        eventId: rollingBack.eventId,
        ...(settled ? { endedAt: ends.sort().pop() ?? settled.at } : {}),
        ...(settled ? { complete: rollbackActs.every((s) => s.rollback!.status === 'succeeded') } : {}),
      };
    }
    return part;
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Incidents

  private incident(input: Record<string, any>): IncidentPart {
    const route = input.route ?? { kind: 'none' };
    const alerts: AlertEntry[] = [];
    const resolutions: IncidentPart['resolutions'] = [];
    let severity = String(input.severity ?? '');
    const severityChanges: IncidentPart['severityChanges'] = [];

    // Updates in the order they were accepted, and alerts admitted as signals (0.3.0 on) in the order received.
    const updates = [...this.updates.entries()].map(([updateId, u]) => ({
      updateId,
      ...u,
      index: this.events.indexOf(u.accepted),
      name: attributesOf(u.accepted.e).acceptedRequest?.input?.name as string | undefined,
    }));
    const alertSignals = this.events
      .map((l, index) => ({ l, index }))
      .filter(
        ({ l }) => typeOf(l.e) === 'WORKFLOW_EXECUTION_SIGNALED' && attributesOf(l.e).signalName === alertSignal.name,
      )
      .map(({ l, index }) => ({
        updateId: undefined,
        accepted: l,
        index,
        name: 'alerts',
        args: [firstPayload(attributesOf(l.e).input)] as unknown[],
        result: undefined as unknown,
      }));
    const ordered = [...updates, ...alertSignals].sort((x, y) => x.index - y.index);
    // A signal has no answer in history: its outcome is derived as the workflow decides it (workflows/incident.ts
    // `receive`): a delivery ID seen before is a duplicate, the first alert opens, OK resolves once, a firing alert
    // after a resolution re-opens. The Updates' recorded answers feed the same state, so both kinds interleave.
    const seen = new Set<string>();
    let taken = 0;
    let resolved = false;
    const derive = (alert: Record<string, any>): string => {
      const id = String(alert.deliveryId ?? '');
      if (seen.has(id)) return 'duplicate';
      seen.add(id);
      if (taken++ === 0) return 'opened';
      if (alert.state === 'resolved') {
        if (resolved) return 'already-resolved';
        resolved = true;
        return 'resolved';
      }
      if (resolved) {
        resolved = false;
        return 'reopened';
      }
      return 'refired';
    };
    for (const u of ordered) {
      const eventId = idOf(u.accepted.e);
      const at = timeOf(u.accepted.e);
      if (u.name === 'alerts') {
        const batch = Array.isArray(u.args[0]) ? (u.args[0] as Record<string, any>[]) : [];
        const acks = Array.isArray(u.result) ? (u.result as Record<string, any>[]) : undefined;
        batch.forEach((alert, i) => {
          const wasResolved = resolved;
          const derived = derive(alert);
          const outcome = acks ? (acks[i]?.outcome as string | undefined) : derived;
          // An answered alert: the workflow's own word sets the state (older code kept some resolutions on a re-fire).
          if (acks)
            resolved =
              outcome === 'resolved' ||
              outcome === 'already-resolved' ||
              (outcome !== 'reopened' && wasResolved && outcome !== 'opened');
          alerts.push({
            eventId,
            at,
            ...(u.updateId ? { updateId: u.updateId } : {}),
            deliveryId: String(alert.deliveryId ?? ''),
            source: String(alert.source ?? ''),
            ...(alert.via ? { via: String(alert.via) } : {}),
            name: String(alert.name ?? ''),
            ...(alert.title ? { title: String(alert.title) } : {}),
            state: String(alert.state ?? ''),
            ...(alert.occurredAt ? { occurredAt: String(alert.occurredAt) } : {}),
            ...(alert.severity ? { severity: String(alert.severity) } : {}),
            ...(alert.resource
              ? { resource: { type: String(alert.resource.type), id: String(alert.resource.id) } }
              : {}),
            ...(alert.rawSummary
              ? {
                  rawSummary: {
                    digest: String(alert.rawSummary.digest),
                    bytes: Number(alert.rawSummary.bytes),
                    kept: String(alert.rawSummary.kept),
                  },
                }
              : {}),
            ...(outcome ? { outcome } : {}),
          });
          const open = resolutions[resolutions.length - 1];
          if (outcome === 'resolved') {
            resolutions.push({ eventId, at, kind: 'alert', by: `${alert.source}:${alert.name}` });
          } else if (
            (outcome === 'refired' || outcome === 'reopened') &&
            open &&
            (open.kind === 'alert' || outcome === 'reopened') &&
            !open.withdrawnAt
          ) {
            // Flapping: the alarm fired again after going back to OK (0.2.0 on: `reopened`, whoever resolved it).
            open.withdrawnAt = at;
          }
        });
      } else if (u.name === 'setSeverity') {
        const change = (u.args[0] ?? {}) as Record<string, any>;
        severityChanges.push({
          eventId,
          at,
          from: severity,
          to: String(change.severity),
          reason: String(change.reason ?? ''),
          by: change.by ?? { id: 'unknown' },
        });
        severity = String(change.severity);
      } else if (u.name === 'resolve') {
        resolved = true;
        const req = (u.args[0] ?? {}) as Record<string, any>;
        resolutions.push({
          eventId,
          at,
          kind: 'human',
          by: String(req.by?.id ?? 'unknown'),
          ...(req.reason ? { reason: String(req.reason) } : {}),
        });
      }
    }

    // The runbook execution; not the evidence archive a closing incident starts.
    const initiated = this.events.find(
      ({ e }) =>
        typeOf(e) === 'START_CHILD_WORKFLOW_EXECUTION_INITIATED' &&
        attributesOf(e).workflowType?.name === RUNBOOK_WORKFLOW,
    );
    let child: IncidentPart['child'];
    if (initiated) {
      const a = attributesOf(initiated.e);
      const childInput = firstPayload(a.input) as Record<string, any> | undefined;
      const ofChild = ({ e }: Located) => attributesOf(e).workflowExecution?.workflowId === a.workflowId;
      const started = this.events.find((l) => typeOf(l.e) === 'CHILD_WORKFLOW_EXECUTION_STARTED' && ofChild(l));
      const closed = this.events.find((l) => CHILD_CLOSED[typeOf(l.e)] && ofChild(l));
      child = {
        workflowId: String(a.workflowId),
        workflowType: String(a.workflowType?.name ?? ''),
        initiatedAt: timeOf(initiated.e),
        ...(started
          ? { runId: String(attributesOf(started.e).workflowExecution?.runId ?? ''), startedAt: timeOf(started.e) }
          : {}),
        ...(closed ? { closedAt: timeOf(closed.e), closedAs: CHILD_CLOSED[typeOf(closed.e)] } : {}),
        ...(childInput?.runbook?.id ? { runbookId: String(childInput.runbook.id) } : {}),
        ...(childInput?.digest ? { digest: String(childInput.digest) } : {}),
      };
    }
    const signals = this.signalsReceived();
    return {
      incidentId: String(input.incidentId ?? ''),
      fingerprint: String(input.fingerprint ?? ''),
      severity,
      initialSeverity: String(input.severity ?? ''),
      severityReason: String(input.severityReason ?? ''),
      route: {
        kind: String(route.kind),
        ...(route.runbook?.id || route.runbookId ? { runbookId: String(route.runbook?.id ?? route.runbookId) } : {}),
        ...(route.digest ? { digest: String(route.digest) } : {}),
        ...(route.runbook ? { definition: route.runbook } : {}),
        ...(route.params ? { params: route.params } : {}),
        ...(route.reason ? { reason: String(route.reason) } : {}),
      },
      status: this.statusChanges[this.statusChanges.length - 1]?.status ?? 'opened',
      statusChanges: this.statusChanges,
      alerts,
      severityChanges,
      resolutions,
      ...(child ? { child } : {}),
      runbookProgress: signals
        .filter((s) => s.name === 'runbookProgress')
        .map((s) => {
          const p = (s.input ?? {}) as Record<string, any>;
          return {
            eventId: s.eventId,
            at: s.at,
            status: String(p.status ?? ''),
            ...(p.failure ? { failure: p.failure } : {}),
            ...(p.rollback ? { rollback: p.rollback } : {}),
          };
        }),
      notifications: this.activityOrder.map(({ runId: _runId, ...act }) => ({
        ...act,
        event: String((act.input as { ctx?: { stepId?: string } })?.ctx?.stepId ?? act.activityId).replace(
          /^notify-/,
          '',
        ),
      })),
      signals,
      signalsSent: this.events
        .filter(({ e }) => typeOf(e) === 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED')
        .map(({ e }) => {
          const a = attributesOf(e);
          const input = firstPayload(a.input);
          return {
            eventId: idOf(e),
            at: timeOf(e),
            name: String(a.signalName),
            workflowId: String(a.workflowExecution?.workflowId ?? ''),
            ...(input !== undefined ? { input } : {}),
          };
        }),
    };
  }
}

const CLOSING: Record<string, string> = {
  WORKFLOW_EXECUTION_COMPLETED: 'completed',
  WORKFLOW_EXECUTION_FAILED: 'failed',
  WORKFLOW_EXECUTION_CANCELED: 'cancelled',
  WORKFLOW_EXECUTION_TERMINATED: 'terminated',
  WORKFLOW_EXECUTION_TIMED_OUT: 'timed-out',
  WORKFLOW_EXECUTION_CONTINUED_AS_NEW: 'continued-as-new',
};

const CHILD_CLOSED: Record<string, string> = {
  CHILD_WORKFLOW_EXECUTION_COMPLETED: 'completed',
  CHILD_WORKFLOW_EXECUTION_FAILED: 'failed',
  CHILD_WORKFLOW_EXECUTION_CANCELED: 'cancelled',
  CHILD_WORKFLOW_EXECUTION_TERMINATED: 'terminated',
  CHILD_WORKFLOW_EXECUTION_TIMED_OUT: 'timed-out',
};

/** Why the rollback ran, in the interpreter's words (RollbackTrigger), from what the history shows before it. */
function rollbackTrigger(part: ExecutionPart, cancelled: boolean): string {
  if (cancelled) return 'cancelled';
  if (part.rollbackRequests.length > 0) return 'requested';
  const settled = part.approvals.find(
    (a) => a.decision === 'reject' || part.steps.find((s) => s.id === a.stepId)?.status === 'failed',
  );
  if (settled) return settled.via === 'timeout' ? 'approval-timeout' : 'rejected';
  return 'step-failed';
}

/**
 * The account and region the execution acted in: its target's, completed from its resource lock request's result
 * (`resource:<account>:<region>:<resource>`, the worker's own where the target named none; `self` before 0.3).
 */
function targetOf(
  input: Record<string, any>,
  activities: Pick<ActivityRun, 'activityType' | 'output'>[],
): Pick<ExecutionPart, 'target'> {
  const named = { account: input.target?.account, region: input.target?.region };
  const lock = activities.find((a) => a.activityType === 'resource.requestLock' && a.output !== undefined);
  const m = /^resource:([^:]+):([^:]+):/.exec(String((lock?.output as { workflowId?: unknown })?.workflowId ?? ''));
  const resolved = (v: string | undefined) => (v && v !== 'self' ? v : undefined);
  const account = typeof named.account === 'string' ? named.account : resolved(m?.[1]);
  const region = typeof named.region === 'string' ? named.region : resolved(m?.[2]);
  if (!account && !region) return {};
  const source = named.account || named.region ? 'target' : 'worker';
  return { target: { ...(account ? { account } : {}), ...(region ? { region } : {}), source } };
}

/** A lock request whose answer held the grant (0.4 on). */
function isGrantedLock(act: Pick<ActivityRun, 'activityType' | 'output'> | undefined): boolean {
  return act?.activityType === 'resource.requestLock' && Boolean((act.output as { granted?: unknown })?.granted);
}

function resourceOf(input: Record<string, any>): string | undefined {
  if (typeof input.resource === 'string') return input.resource;
  const r = input.runbook?.resource;
  const id = r ? input.params?.[r.param] : undefined;
  return typeof id === 'string' ? `${r.type}/${id}` : undefined;
}

/** The worker appends `{ firebreakAttempt }` to failure details (activities/envelope.ts): the attempt, not evidence. */
function withoutAttemptDetail<F extends { details?: unknown[] }>(failure: F): { failure: F; attempt?: number } {
  const detail = failure.details?.find(
    (d): d is { firebreakAttempt: number } =>
      typeof (d as { firebreakAttempt?: unknown })?.firebreakAttempt === 'number',
  );
  if (!detail) return { failure };
  const rest = failure.details!.filter((d) => d !== detail);
  const { details: _details, ...clean } = failure;
  return { failure: (rest.length > 0 ? { ...clean, details: rest } : clean) as F, attempt: detail.firebreakAttempt };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeUpdate(name: string | undefined, arg: unknown): string {
  const a = (arg ?? {}) as Record<string, any>;
  switch (name) {
    case 'decideApproval':
      return `: ${a.decision} ${a.stepId} by ${a.decidedBy?.id}${a.comment ? ` ("${a.comment}")` : ''}`;
    case 'requestRollback':
      return `: rollback by ${a.requestedBy?.id} ("${a.reason}")`;
    case 'alerts':
      return Array.isArray(arg)
        ? `: ${(arg as Record<string, any>[]).map((x) => `${x.source} "${x.name}" ${x.state}`).join(', ')}`
        : '';
    case 'setSeverity':
      return `: ${a.severity} by ${a.by?.id} ("${a.reason}")`;
    case 'resolve':
      return `: by ${a.by?.id} ("${a.reason}")`;
    default:
      return '';
  }
}

function describeSignal(name: string, input: unknown): string {
  const a = (input ?? {}) as Record<string, any>;
  if (name === 'runbookProgress') return `: ${a.executionId} ${a.status}`;
  if (name === 'incidentNews') return `: alert ${a.alertState}`;
  if (name === alertSignal.name && Array.isArray(input))
    return `: ${(input as Record<string, any>[]).map((x) => `${x.source} "${x.name}" ${x.state}`).join(', ')}`;
  return '';
}
