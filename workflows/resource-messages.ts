/**
 * The resource record's messages: one workflow per (account, region, resource) that serialises the executions changing
 * that resource (a lock, as samples-typescript `mutex` does) and remembers who holds a containment on it and what the
 * resource looked like before the first of them (so a later execution never takes a quarantine for the original).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ExecutionTarget } from '../activities/schemas';

export const RESOURCE_WORKFLOW = 'resourceWorkflow';

/** The resource an execution acts on, where it lives. */
export interface ResourceKey {
  account: string;
  region: string;
  /** `type/id`, e.g. `ec2:instance/i-0abc`. */
  resource: string;
}

/**
 * What stands for the account or region when the execution names none: the worker's own, which the workflow does not
 * know. The lock request activity resolves it (STS GetCallerIdentity, the worker's region) before keying the record,
 * so an execution that names the worker's own account and one that names none take the same lock.
 */
export const OWN = 'self';

/** The record of a resource: the execution's target account and region (`self` when not named) and `type/id`. */
export function resourceKeyOf(target: ExecutionTarget | undefined, resource: string): ResourceKey {
  return { account: target?.account ?? OWN, region: target?.region ?? OWN, resource };
}

/** One workflow ID per resource, so requests for it from anywhere meet in one place. */
export function resourceWorkflowId(key: ResourceKey): string {
  return `resource:${key.account}:${key.region}:${key.resource}`;
}

/** Why an execution wants the resource: to change it (contain) or to undo its change (release). */
export type LockPurpose = 'contain' | 'release';

export interface LockRequest {
  executionId: string;
  runbookId: string;
  purpose: LockPurpose;
  /**
   * The lock is taken back after this long, so a holder that died cannot block the resource for ever. A request by the
   * current holder renews its lease (and changes its purpose) instead of queueing: an execution that fails while it
   * holds the lock asks for the time its rollback needs.
   */
  leaseMs: number;
}

export interface Containment {
  executionId: string;
  runbookId: string;
  since: string;
}

/** The state an execution's capture step saw before anyone contained the resource. */
export interface OriginalState {
  executionId: string;
  capturedAt: string;
  /** The capture step's output. */
  state: unknown;
}

export interface LockHolder extends LockRequest {
  since: string;
  leaseUntil: string;
}

export interface ResourceRecord {
  key: string;
  holder?: LockHolder;
  /** `told`: the holder this waiting execution was last told of (lockQueuedSignal). */
  queue: (LockRequest & { requestedAt: string; told?: string })[];
  /** Executions that hold a containment on the resource now (e.g. inside their rollback window). */
  containments: Containment[];
  original?: OriginalState;
  /** Leases that ran out: a holder that never released (its execution died or hung). */
  expiredLeases: number;
}

/** What the holder learns when it gets the lock. */
export interface LockGrant {
  key: string;
  purpose: LockPurpose;
  /** Containments by other executions: while any remains, undoing the change would undo theirs too. */
  others: Containment[];
  original?: OriginalState;
}

/** What a waiting execution learns while another holds the resource: who, and its own place in the queue. */
export interface LockQueued {
  key: string;
  holder: Omit<LockHolder, 'leaseMs'>;
  /** 1: next. */
  position: number;
}

/** How the holder leaves the resource. */
export interface LockRelease {
  executionId: string;
  /**
   * `contained`: the execution's change stays (it holds a containment now); `released`: its containment is gone
   * (undone, or handed over to the others); `unchanged`: it changed nothing it keeps.
   */
  outcome: 'contained' | 'released' | 'unchanged';
  /** With `contained`: the state its capture saw, recorded when no original is known yet. */
  original?: unknown;
}

/** The record's answer to a lock request made as an Update: the grant when the resource was free, else none yet. */
export interface LockAnswer {
  /** Granted at once (free, nobody ahead; or the holder renewing). Without it the grant comes as `lockGranted`. */
  granted?: LockGrant;
}

export const lockRequestSignal = defineSignal<[LockRequest]>('lockRequest');
/**
 * The same request as an Update (with start), so an uncontended lock is granted in the answer: the execution learns
 * it without waiting for the record's grant signal and a workflow task of its own. Used by executions that have the
 * `resource-lock-answer` patch; the signal stays for histories made before it.
 */
export const lockRequestUpdate = defineUpdate<LockAnswer, [LockRequest]>('requestLock');
export const lockReleaseSignal = defineSignal<[LockRelease]>('lockRelease');
/** Sent by the resource record to the execution that now holds the lock. */
export const lockGrantedSignal = defineSignal<[LockGrant]>('lockGranted');
/** Sent by the resource record to each waiting execution when it queues and whenever the holder changes. */
export const lockQueuedSignal = defineSignal<[LockQueued]>('lockQueued');
export const resourceRecordQuery = defineQuery<ResourceRecord>('resourceRecord');
