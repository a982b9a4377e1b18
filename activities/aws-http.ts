/**
 * The HTTP handler under every AWS client. Without it an AWS call has no deadline and ignores the activity's
 * cancellation, so one call that never answers (a half-open connection, a wedged endpoint) holds its step and the
 * worker's shutdown for ever: the worker waits for running steps, and this one never returns.
 */
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';
import { activityContext } from './activity-context';

/** Connecting to an AWS endpoint takes milliseconds; a connection still pending after this is not coming. */
export const AWS_CONNECT_TIMEOUT_MS = 10_000;
/**
 * The longest one AWS call (request sent to answer read) may take. AWS APIs answer in seconds; the SDK retries a
 * timed-out call (its attempts) and the failure is retryable (activities/errors.ts), well inside a step's timeout.
 */
export const AWS_REQUEST_TIMEOUT_MS = 60_000;

type HandleArgs = Parameters<NodeHttpHandler['handle']>;

/**
 * Deadlines for every call; and a call made inside an activity is aborted when the activity is cancelled: by its
 * workflow, or by the worker's shutdown once the grace time is over (the step then fails as retryable and Temporal
 * retries it elsewhere; the actions are idempotent: activities/errors.ts). Outside an activity (the API, scripts)
 * only the deadlines apply.
 */
export class AwsHttpHandler extends NodeHttpHandler {
  constructor(options: NodeHttpHandlerOptions = {}) {
    super({
      connectionTimeout: AWS_CONNECT_TIMEOUT_MS,
      requestTimeout: AWS_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      ...options,
    });
  }

  override handle(request: HandleArgs[0], options: HttpHandlerOptions = {}): ReturnType<NodeHttpHandler['handle']> {
    const signal = options.abortSignal ?? activityContext()?.cancellationSignal;
    return super.handle(request, signal ? { ...options, abortSignal: signal } : options);
  }
}
