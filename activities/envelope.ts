/**
 * The worker wraps every activity so that the workflow learns how many attempts a step took: the output comes back in
 * an envelope and a failure carries the attempt in its details. It also heartbeats while the activity runs (see
 * whileHeartbeating). Activities themselves stay plain functions.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { partialReported, whileHeartbeating } from './clients';

export interface ActivityEnvelope<T = unknown> {
  output: T;
  attempt: number;
}

/** Detail object appended to a failure's details. */
export interface AttemptDetail {
  firebreakAttempt: number;
}

/** Detail appended to a failure when the activity changed something before it failed (see reportPartial). */
export interface PartialDetail {
  firebreakPartial: unknown;
}

export function withAttempt<I, O>(fn: (input: I) => Promise<O>): (input: I) => Promise<ActivityEnvelope<O>> {
  return async (input: I) => {
    const attempt = Context.current().info.attempt;
    try {
      return { output: await whileHeartbeating(() => fn(input)), attempt };
    } catch (err) {
      // Cancellation must reach Temporal as it is.
      if (err instanceof CancelledFailure) throw err;
      const attemptDetail: AttemptDetail = { firebreakAttempt: attempt };
      const partial = partialReported();
      const added: unknown[] = partial === undefined ? [attemptDetail] : [attemptDetail, { firebreakPartial: partial }];
      if (err instanceof ApplicationFailure) {
        throw ApplicationFailure.create({
          message: err.message,
          type: err.type ?? undefined,
          nonRetryable: err.nonRetryable ?? undefined,
          details: [...(err.details ?? []), ...added],
          cause: err.cause,
        });
      }
      const e = err instanceof Error ? err : new Error(String(err));
      throw ApplicationFailure.create({ message: e.message, type: e.name, details: added, cause: e });
    }
  };
}
