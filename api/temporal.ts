/**
 * Temporal calls as the API makes them: with a deadline, with "unreachable" as 503, with workflows described as the
 * kind the caller expects, and with Updates whose validator rejections become API errors. Shared by the execution
 * and incident services.
 */
import {
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import {
  ConflictError,
  NotConfirmedError,
  NotFoundError,
  UnavailableError,
  ValidationFailedError,
  type ApiError,
} from './errors';

/**
 * Every call has a deadline: a sender waits for the answer (SNS gives up after 15 s), and a prompt 503 gets an alert
 * redelivered sooner than a hung request would.
 */
export const TEMPORAL_DEADLINE_MS = 10_000;

export async function callTemporal<T>(client: Client, call: () => Promise<T>): Promise<T> {
  try {
    return await client.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, call);
  } catch (err) {
    if (isUnavailable(err))
      throw new UnavailableError('Temporal is unavailable; retry later', undefined, { cause: err });
    if (isInvalidArgument(err)) {
      throw new ValidationFailedError(`Temporal refused the request as invalid: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * A call that changes a workflow (an Update, an update-with-start). Temporal answering too late is not "unavailable":
 * the server may have admitted the Update and is waiting for a worker to run it, so the caller learns exactly that
 * (503 NOT_CONFIRMED, safe to retry). Only a server that cannot be reached at all is "unavailable".
 */
export async function callTemporalChange<T>(client: Client, call: () => Promise<T>): Promise<T> {
  try {
    return await callTemporal(client, call);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const late =
      updateUnconfirmed(err) || (err instanceof UnavailableError && isDeadline(cause) && (await serverAnswers(client)));
    if (late) {
      throw new NotConfirmedError(
        `Temporal took the request but no worker confirmed it within ${TEMPORAL_DEADLINE_MS / 1000}s (is the worker ` +
          'running and keeping up?); it may still be applied when a worker picks it up. Retrying is safe.',
        undefined,
        { cause: err },
      );
    }
    throw err;
  }
}

/** The client gave up waiting for an Update's outcome (deadline or cancellation), wherever in the cause chain. */
function updateUnconfirmed(err: unknown): boolean {
  for (let e = err as { name?: string; cause?: unknown } | undefined, i = 0; e && i < 5; i++, e = e.cause as never) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError || e.name === 'WorkflowUpdateRPCTimeoutOrCancelledError')
      return true;
  }
  return false;
}

/** Whether the Temporal server answers at all, now (a short probe): a late answer from a live server is no outage. */
async function serverAnswers(client: Client): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + 2_000, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}

/** gRPC DEADLINE_EXCEEDED (4) anywhere in the cause chain, and no sign of an unreachable server. */
export function isDeadline(err: unknown): boolean {
  type E = { code?: number; message?: string; cause?: unknown };
  let deadline = false;
  for (let e = err as E | undefined, depth = 0; e && depth < 5; depth++, e = e.cause as E | undefined) {
    if (e.code === 14 || /ECONNREFUSED|Connection refused/i.test(e.message ?? '')) return false;
    if (e.code === 4 || /DEADLINE_EXCEEDED|deadline exceeded/i.test(e.message ?? '')) deadline = true;
  }
  return deadline;
}

/** gRPC INVALID_ARGUMENT (3) anywhere in the cause chain: the caller's input (an ID, a run ID) was malformed. */
export function isInvalidArgument(err: unknown): boolean {
  for (let e = err as { code?: number; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === 3) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Describes a workflow that must be of `workflowType`; anything else, or nothing, is a 404 naming the `noun`. */
export async function describeWorkflow(
  client: Client,
  handle: WorkflowHandle,
  workflowType: string,
  noun: string,
): Promise<WorkflowExecutionDescription> {
  try {
    const d = await callTemporal(client, () => handle.describe());
    if (d.type !== workflowType) throw new NotFoundError(`no ${noun} ${handle.workflowId}`);
    return d;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new NotFoundError(`no ${noun} ${handle.workflowId}`, undefined, { cause: err });
    }
    throw err;
  }
}

/**
 * Runs an Update on a running workflow of `workflowType`. A closed workflow is a 409; a validator's rejection becomes
 * whatever `rejection` maps its failure to.
 */
export async function runUpdate<T>(
  client: Client,
  handle: WorkflowHandle,
  workflowType: string,
  noun: string,
  call: () => Promise<T>,
  rejection: (failure: ApplicationFailure) => ApiError,
): Promise<T> {
  const description = await describeWorkflow(client, handle, workflowType, noun);
  if (description.status.name !== 'RUNNING') {
    throw new ConflictError(`${noun} ${handle.workflowId} is closed (${description.status.name})`);
  }
  try {
    return await callTemporalChange(client, call);
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) throw rejection(err.cause);
    // The workflow closed between the describe and the update.
    if (err instanceof WorkflowNotFoundError) {
      throw new ConflictError(`${noun} ${handle.workflowId} is closed`, undefined, { cause: err });
    }
    throw err;
  }
}

/** The failure type a workflow's update validator rejected with, if that is what `err` is. */
export function rejectionType(err: unknown): string | undefined {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  return undefined;
}

/**
 * gRPC UNAVAILABLE (14) or DEADLINE_EXCEEDED (4), or a connection that was never made, anywhere in the cause chain
 * (the client wraps them, e.g. in a ServiceError): callers should retry.
 */
export function isUnavailable(err: unknown): boolean {
  type E = { code?: number; name?: string; message?: string; cause?: unknown };
  for (let e = err as E | undefined, depth = 0; e && depth < 5; depth++, e = e.cause as E | undefined) {
    if (e.code === 14 || e.code === 4 || e.name === 'TransportError') return true;
    if (/ECONNREFUSED|Connection refused|14 UNAVAILABLE/i.test(e.message ?? '')) return true;
  }
  return false;
}
