/**
 * What an action step gets when it sets nothing: the interpreter's activity options and the resource lock's lease
 * (which must cover every attempt) read them from here. Workflow-safe: no runtime imports.
 */
import type { RetryPolicy } from '../runbooks/dsl/types';

/** Start-to-close of one attempt of a step. */
export const DEFAULT_TIMEOUT = '2m';
/**
 * Every activity gets a heartbeat timeout (the worker heartbeats in the background while one runs, see
 * activities/envelope.ts), so a step on a worker that died is retried within this time, not its start-to-close.
 */
export const DEFAULT_HEARTBEAT_TIMEOUT = '15s';
/**
 * A step's retry unless it sets its own: about 2.5 minutes of back-off (1, 2, 4 … 30 s) across 10 attempts. Only
 * transient errors are retried (activities fail client errors as non-retryable), so this is how long a step rides out
 * an AWS brownout (throttling, 5xx, and the SDK's own retry quota running dry under them) before the runbook rolls
 * back. Five attempts (15 s) failed runs under the AWS-fault chaos scenario.
 */
export const DEFAULT_RETRY: Required<Omit<RetryPolicy, 'nonRetryableErrorTypes'>> = {
  maximumAttempts: 10,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
};
