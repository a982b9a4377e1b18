/**
 * The runbook execution's side of its resource's lock (workflows/resource.ts holds the other): request it through the
 * `resource.requestLock` activity (signal-with-start), wait for the grant (bounded, visible as `waiting-resource` with
 * the holder named), and release it with how the execution leaves the resource. Used by workflows/runbook.ts only
 * when the execution names a resource and the `resource-lock` patch is on.
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { durationMs } from '../runbooks/dsl/duration';
import type { ResourceActivities } from '../activities/resource';
import type { Duration, RetryPolicy, RunbookDefinition, Step } from '../runbooks/dsl/types';
import type { ExecutionState, ResourceLockState } from './messages';
import { DEFAULT_RETRY, DEFAULT_TIMEOUT } from './step-defaults';
import {
  lockGrantedSignal,
  lockQueuedSignal,
  lockReleaseSignal,
  resourceWorkflowId,
  type LockGrant,
  type LockPurpose,
  type LockRelease,
  type LockRequest,
  type ResourceKey,
} from './resource-messages';

/** Histories recorded before the lock existed replay without its commands. */
export const PATCH_RESOURCE_LOCK = 'resource-lock';
/**
 * The request activity asks by Update-with-Start, and a free resource is granted in its answer. Before, it signalled
 * the record, whose grant came back as a signal: one more workflow task of this execution, a timer and the record's
 * signal on the way to every containment's first AWS call (bench 1).
 * Not a local activity: a local activity keeps its workflow task (and its slot) open while it waits, and the record's
 * own task needs a slot on the same worker; under a burst every slot held a waiting execution and nothing moved.
 */
export const PATCH_LOCK_ANSWER = 'resource-lock-answer';

/** How long an execution waits for the holder of its resource unless the runbook says (`resource.wait`). */
export const DEFAULT_RESOURCE_WAIT = '30m';
/** How long a rollback waits for the lock: the holders ahead of it are bounded by their leases, so this is a backstop. */
export const RELEASE_WAIT = '24h';

const DEFAULT_STEP_TIMEOUT_MS = durationMs(DEFAULT_TIMEOUT);
const DEFAULT_ATTEMPTS = DEFAULT_RETRY.maximumAttempts;
const DEFAULT_INTERVAL_MS = durationMs(DEFAULT_RETRY.maximumInterval);
/** A step that retries without limit counts this long. */
const UNLIMITED_STEP_MS = 24 * 3_600_000;

const ms = (d: Duration | undefined, fallback: number): number => (d === undefined ? fallback : durationMs(d));

function attemptsMs(timeoutMs: number, retry: RetryPolicy | undefined): number {
  const attempts = retry?.maximumAttempts ?? DEFAULT_ATTEMPTS;
  if (attempts <= 0) return UNLIMITED_STEP_MS;
  return attempts * (timeoutMs + ms(retry?.maximumInterval, DEFAULT_INTERVAL_MS));
}

/** The time the runbook's steps may take: every attempt of every action, the gates' and waits' timeouts. */
export function stepsLeaseMs(runbook: RunbookDefinition): number {
  let total = 0;
  for (const step of runbook.steps as Step[]) {
    if (step.kind === 'action') total += attemptsMs(ms(step.timeout, DEFAULT_STEP_TIMEOUT_MS), step.retry);
    else total += durationMs(step.timeout);
  }
  return withMargin(total);
}

/** The time the runbook's compensations may take, each given its schedule-to-close. */
export function rollbackLeaseMs(runbook: RunbookDefinition, scheduleToCloseMs: (step: Step) => number): number {
  let total = 0;
  for (const step of runbook.steps as Step[])
    if (step.kind === 'action' && step.rollback) total += scheduleToCloseMs(step);
  return withMargin(total);
}

/** Half again, and a little for the workflow's own turns. */
function withMargin(total: number): number {
  return Math.ceil(total * 1.5) + 10_000;
}

/** Whom an execution waits for, for humans: `<execution> (<runbook>, <purpose> since <time>)`. */
export function describeHolder(holder: NonNullable<ResourceLockState['holder']>): string {
  return `${holder.executionId} (${holder.runbookId}, ${holder.purpose} since ${holder.since})`;
}

const REQUEST_OPTIONS = {
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '10s' },
} as const;
const { 'resource.requestLock': requestLock } = proxyActivities<ResourceActivities>(REQUEST_OPTIONS);

/** One execution's lock on its resource; its state lives in `state.resourceLock`. */
export class ResourceLock {
  private grant?: LockGrant;
  private queuedVersion = 0;
  /** Requests made by this run: with the run ID, each request's own Update ID. */
  private requests = 0;
  /** The record's ID: `self` in the key until the request activity returns the resolved one (then that one). */
  private workflowId: string;

  /** `grant`: the grant a run that continued as new held the lock with (it still holds it). */
  constructor(
    private readonly key: ResourceKey,
    private readonly state: ExecutionState,
    private readonly now: () => string,
    grant?: LockGrant,
  ) {
    this.grant = grant;
    this.workflowId = resourceWorkflowId(key);
    setHandler(lockGrantedSignal, (grant) => {
      this.grant = grant;
    });
    setHandler(lockQueuedSignal, (queued) => {
      const lock = this.state.resourceLock;
      if (!lock || lock.status !== 'waiting') return;
      lock.holder = queued.holder;
      lock.position = queued.position;
      this.queuedVersion++;
    });
  }

  get held(): boolean {
    return this.state.resourceLock?.status === 'held';
  }

  /** What the grant said about the resource: other containments on it and its recorded original. */
  get granted(): LockGrant | undefined {
    return this.grant;
  }

  /**
   * Requests the lock and waits until it is granted, `timeoutMs` passes, or `stop()` holds (e.g. a rollback request).
   * While another execution holds it, the status is `waiting-resource` (via `onWaiting`), with the holder in state.
   * A holder that asks again renews its lease and is granted at once.
   *
   * @returns the grant, or undefined when the wait ended without one
   */
  async acquire(opts: {
    purpose: LockPurpose;
    leaseMs: number;
    timeoutMs: number;
    stop?: () => boolean;
    onWaiting: (waiting: boolean) => void;
  }): Promise<LockGrant | undefined> {
    const { state } = this;
    const request = {
      executionId: state.executionId,
      runbookId: state.runbookId,
      purpose: opts.purpose,
      leaseMs: opts.leaseMs,
    };
    if (this.held) {
      // Renewal: the record keeps this execution as holder with a new lease; nothing changed meanwhile.
      this.resolved(await this.request(request));
      state.resourceLock!.purpose = opts.purpose;
      return { ...this.grant!, purpose: opts.purpose };
    }
    this.grant = undefined;
    const deadline = Date.now() + opts.timeoutMs;
    state.resourceLock = {
      // How it left the resource last time (a containment) stays until it leaves it again.
      outcome: state.resourceLock?.outcome,
      key: this.workflowId,
      purpose: opts.purpose,
      status: 'waiting',
      requestedAt: this.now(),
      waitUntil: new Date(deadline).toISOString(),
    };
    // Taken before the request: the record's word back (queued behind a holder) can arrive while the request activity
    // is still completing, and must not be mistaken for news already seen.
    let seen = this.queuedVersion;
    const answer = await this.request(request);
    this.resolved(answer);
    if (answer.granted) this.grant = answer.granted;
    const lock = state.resourceLock;
    const granted = () => this.grant?.purpose === opts.purpose;
    let waiting = false;
    try {
      // Granted in the answer: no wait (and no timer). Without the patch the grant always comes as a signal.
      while (!(answer.granted && granted())) {
        const remaining = deadline - Date.now();
        if (remaining > 0) {
          await condition(() => granted() || this.queuedVersion !== seen || (opts.stop?.() ?? false), remaining);
        }
        seen = this.queuedVersion;
        if (granted() || opts.stop?.() || Date.now() >= deadline) break;
        if (!waiting && lock.holder) {
          waiting = true;
          opts.onWaiting(true);
        }
      }
    } catch (err) {
      if (isCancellation(err)) {
        lock.status = 'abandoned';
        await CancellationScope.nonCancellable(() => this.leaveQueue());
      }
      throw err;
    }
    if (waiting) opts.onWaiting(false);
    if (!granted()) {
      lock.status = opts.stop?.() ? 'abandoned' : 'timed-out';
      await this.leaveQueue();
      return undefined;
    }
    const grant = this.grant!;
    lock.status = 'held';
    lock.grantedAt = this.now();
    lock.holder = undefined;
    lock.position = undefined;
    lock.waitUntil = undefined;
    lock.others = grant.others.map((c) => c.executionId);
    return grant;
  }

  /** Leaves the resource: `contained` keeps this execution's containment on the record (with its original state). */
  async release(outcome: LockRelease['outcome'], original?: unknown): Promise<void> {
    const lock = this.state.resourceLock;
    if (!lock || lock.status !== 'held') return;
    lock.status = 'released';
    lock.outcome = outcome;
    lock.releasedAt = this.now();
    await this.signalRelease({
      executionId: this.state.executionId,
      outcome,
      original: outcome === 'contained' ? original : undefined,
    });
  }

  /** Drops this execution's containment from the record without holding the lock (nobody will release it). */
  async forget(): Promise<void> {
    const lock = this.state.resourceLock;
    if (!lock || lock.outcome !== 'contained') return;
    lock.outcome = 'released';
    await this.signalRelease({ executionId: this.state.executionId, outcome: 'released' });
  }

  /** Asks the record: by Update (patched), or by signal (older histories). */
  private async request(request: LockRequest): Promise<{ workflowId?: string; granted?: LockGrant }> {
    if (patched(PATCH_LOCK_ANSWER)) {
      const requestId = `${workflowInfo().runId}:lock:${++this.requests}`;
      return requestLock({ key: this.key, request, requestId });
    }
    return (await requestLock({ key: this.key, request })) ?? {};
  }

  /**
   * The activity keys the record by the worker's real account and region when the execution names none (`self`), so
   * releases go where the request went. Histories recorded before that returned the `self` ID: they replay unchanged.
   */
  private resolved(out: { workflowId?: string } | undefined): void {
    if (!out?.workflowId) return;
    this.workflowId = out.workflowId;
    if (this.state.resourceLock) this.state.resourceLock.key = out.workflowId;
  }

  /** Leaves the record's queue: a grant after this would hold the resource for nobody until its lease ran out. */
  private leaveQueue(): Promise<void> {
    return this.signalRelease({ executionId: this.state.executionId, outcome: 'unchanged' });
  }

  /**
   * Awaited, so the signal is out before the execution ends. The record is open while anyone holds or waits for the
   * resource; a closed one has nothing to release (e.g. it was terminated), which is logged, not failed.
   */
  private async signalRelease(release: LockRelease): Promise<void> {
    try {
      await getExternalWorkflowHandle(this.workflowId).signal(lockReleaseSignal, release);
    } catch (err) {
      log.warn('could not release the resource lock', { key: this.workflowId, error: String(err) });
    }
  }
}
