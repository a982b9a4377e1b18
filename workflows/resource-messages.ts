/**
 * The resource record's messages: one workflow per (account, region, resource) that serialises the executions changing
 * that resource (a lock, as samples-typescript `mutex` does) and remembers who holds a containment on it and what the
 * resource looked like before the first of them (so a later execution never takes a quarantine for the original).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const RESOURCE_WORKFLOW = 'resourceWorkflow';

/** The resource an execution acts on, where it lives. */
export interface ResourceKey {
  account: string;
  region: string;
  /** `type/id`, e.g. `ec2:instance/i-0abc`. */
  resource: string;
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
  /** The lock is taken back after this long, so a holder that died cannot block the resource for ever. */
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

export interface ResourceRecord {
  key: string;
  holder?: LockRequest & { since: string; leaseUntil: string };
  queue: (LockRequest & { requestedAt: string })[];
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

export const lockRequestSignal = defineSignal<[LockRequest]>('lockRequest');
export const lockReleaseSignal = defineSignal<[LockRelease]>('lockRelease');
/** Sent by the resource record to the execution that now holds the lock. */
export const lockGrantedSignal = defineSignal<[LockGrant]>('lockGranted');
export const resourceRecordQuery = defineQuery<ResourceRecord>('resourceRecord');
