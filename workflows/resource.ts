/**
 * The resource record: one per (account, region, resource), started by signal-with-start (activities/resource.ts). It
 * grants the resource to one execution at a time, in request order, for a bounded lease; and it keeps the containments
 * on the resource and its true original state, so executions build on each other instead of undoing each other.
 * It closes when nobody holds, waits for or contains the resource, and continues as new before its history grows large.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  lockGrantedSignal,
  lockQueuedSignal,
  lockReleaseSignal,
  lockRequestSignal,
  lockRequestUpdate,
  resourceRecordQuery,
  type LockGrant,
  type LockHolder,
  type LockRequest,
  type ResourceRecord,
} from './resource-messages';

/** Continue as new after this many events even if the server does not suggest it yet (each grant is a handful). */
const MAX_EVENTS = 2_000;

export async function resourceWorkflow(carried?: ResourceRecord): Promise<ResourceRecord> {
  const now = () => new Date().toISOString();
  const record: ResourceRecord = carried ?? {
    key: workflowInfo().workflowId,
    queue: [],
    containments: [],
    expiredLeases: 0,
  };

  setHandler(resourceRecordQuery, () => record);
  setHandler(lockRequestSignal, (request) => admit(request));
  setHandler(lockRequestUpdate, (request) => {
    admit(request);
    const head = record.queue[0];
    // Free and this request first in line: granted here, in the answer, instead of by the loop's signal.
    if (!record.holder && head?.executionId === request.executionId && head.purpose === request.purpose) {
      take(record.queue.shift()!);
    }
    return record.holder?.executionId === request.executionId ? { granted: grantOf(record.holder) } : {};
  });
  setHandler(lockReleaseSignal, (release) => {
    const others = record.containments.filter((c) => c.executionId !== release.executionId);
    switch (release.outcome) {
      case 'contained': {
        const runbookId = record.holder?.executionId === release.executionId ? record.holder.runbookId : 'unknown';
        const mine = record.containments.find((c) => c.executionId === release.executionId);
        if (!mine) record.containments.push({ executionId: release.executionId, runbookId, since: now() });
        if (!record.original && release.original !== undefined) {
          record.original = { executionId: release.executionId, capturedAt: now(), state: release.original };
        }
        break;
      }
      case 'released':
      case 'unchanged':
        record.containments = others;
        // The last containment is gone, so the resource is back to its original: forget it.
        if (others.length === 0) record.original = undefined;
        break;
      default:
        unreachable(release.outcome);
    }
    if (record.holder?.executionId === release.executionId) record.holder = undefined;
    else record.queue = record.queue.filter((q) => q.executionId !== release.executionId);
  });

  for (;;) {
    const ready = () => (!record.holder && record.queue.length > 0) || untold() || idle() || tooLong();
    if (record.holder) await condition(ready, Math.max(1, Date.parse(record.holder.leaseUntil) - Date.now()));
    else await condition(ready);
    if (record.holder && Date.now() >= Date.parse(record.holder.leaseUntil)) {
      log.warn('resource lease expired', { key: record.key, holder: record.holder.executionId });
      record.expiredLeases++;
      record.holder = undefined;
    }
    if (!record.holder && record.queue.length > 0) {
      const next = take(record.queue.shift()!);
      try {
        await getExternalWorkflowHandle(next.executionId).signal(lockGrantedSignal, grantOf(next));
      } catch (err) {
        // The execution is gone (closed or terminated): it cannot use or release the lock.
        log.warn('lock holder unreachable; lock taken back', { holder: next.executionId, error: String(err) });
        // (A release may have come in while the signal was out: only the same holder is taken back.)
        const holder = record.holder as LockHolder | undefined;
        if (holder?.executionId === next.executionId) record.holder = undefined;
      }
      continue;
    }
    if (untold()) {
      await tellQueue();
      continue;
    }
    if (idle()) {
      await condition(allHandlersFinished);
      if (idle()) return record;
      continue;
    }
    if (tooLong()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof resourceWorkflow>(record);
    }
  }

  /** A lock request, by signal or Update. Idempotent: the activity that sends it retries. */
  function admit(request: LockRequest): void {
    if (record.holder?.executionId === request.executionId) {
      // The holder asks again (e.g. to roll back after a failure): renew its lease; it keeps its place.
      record.holder.purpose = request.purpose;
      record.holder.leaseMs = request.leaseMs;
      record.holder.leaseUntil = new Date(Date.now() + request.leaseMs).toISOString();
      return;
    }
    if (record.queue.some((q) => q.executionId === request.executionId && q.purpose === request.purpose)) return;
    record.queue.push({ ...request, requestedAt: now() });
  }
  /** Makes the request the holder, with its lease from now. */
  function take(next: LockRequest): LockHolder {
    record.holder = { ...next, since: now(), leaseUntil: new Date(Date.now() + next.leaseMs).toISOString() };
    return record.holder;
  }
  /** What the holder learns: the containments by others and the resource's original state. */
  function grantOf(holder: LockHolder): LockGrant {
    return {
      key: record.key,
      purpose: holder.purpose,
      others: record.containments.filter((c) => c.executionId !== holder.executionId),
      original: record.original,
    };
  }
  /** Waiting executions not yet told who holds the resource now. */
  function untold(): boolean {
    const holder = record.holder?.executionId;
    return holder !== undefined && record.queue.some((q) => q.told !== holder);
  }
  /** Tells each waiting execution who holds the resource and its place, so it can show whom it waits for. */
  async function tellQueue(): Promise<void> {
    const holder = record.holder!;
    const shown = {
      executionId: holder.executionId,
      runbookId: holder.runbookId,
      purpose: holder.purpose,
      since: holder.since,
      leaseUntil: holder.leaseUntil,
    };
    const gone: string[] = [];
    await Promise.all(
      record.queue.map(async (q, index) => {
        if (q.told === holder.executionId) return;
        q.told = holder.executionId;
        try {
          await getExternalWorkflowHandle(q.executionId).signal(lockQueuedSignal, {
            key: record.key,
            holder: shown,
            position: index + 1,
          });
        } catch (err) {
          log.warn('waiting execution unreachable; dropped from the queue', { id: q.executionId, error: String(err) });
          gone.push(q.executionId);
        }
      }),
    );
    record.queue = record.queue.filter((q) => !gone.includes(q.executionId));
  }
  function idle(): boolean {
    return !record.holder && record.queue.length === 0 && record.containments.length === 0;
  }
  function tooLong(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > MAX_EVENTS;
  }
}

function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
