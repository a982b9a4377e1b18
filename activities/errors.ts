/**
 * AWS error classification for activities.
 *
 * Temporal decides whether to retry an activity from the failure it throws, so every AWS error is turned into an
 * `ApplicationFailure` whose `type` is the AWS error name and whose `nonRetryable` flag says whether trying again can
 * help: throttling, server faults and network errors can; client errors (bad IDs, missing permissions) cannot.
 */
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { cancellationRequestedByWorkflow } from './activity-context';

/** Error names AWS services use for throttling (they come back as 4xx but are worth retrying). */
const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
]);

/** Error names that mean "the service had a transient problem" whatever the status code says. */
const TRANSIENT_NAMES = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
  'TimeoutError',
]);

/** The parts of an SDK v3 `ServiceException` (or a network error) that classification reads. */
interface AwsErrorShape {
  name?: string;
  message?: string;
  Code?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  code?: string;
}

export type AwsErrorKind = 'throttling' | 'server' | 'network' | 'client';

/** What classification found out about an error; also attached as the failure's details. */
export interface AwsErrorInfo {
  kind: AwsErrorKind;
  /** AWS error name, e.g. `InvalidInstanceID.NotFound`; becomes the ApplicationFailure type. */
  name: string;
  retryable: boolean;
  httpStatusCode?: number;
  requestId?: string;
}

/** Thrown for a value that is not an Error at all (a rejected non-error); wraps it so it can be a cause. */
export class AwsActionError extends Error {
  override readonly name = 'AwsActionError';
  readonly code = 'AWS_ACTION_ERROR';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** A step's target account is neither the worker's own nor on FIREBREAK_TARGET_ACCOUNTS. */
export class TargetNotAllowedError extends Error {
  static readonly type = 'TargetAccountNotAllowed';
  override readonly name = TargetNotAllowedError.type;
  readonly code = 'TARGET_ACCOUNT_NOT_ALLOWED';
  constructor(
    readonly account: string,
    override readonly cause?: unknown,
  ) {
    super(`account ${account} is not an allowed target (FIREBREAK_TARGET_ACCOUNTS); nothing was done in it`);
  }
}

/** STS AssumeRole into the target account's responder role failed. */
export class AssumeRoleError extends Error {
  static readonly type = 'AssumeRoleFailed';
  override readonly name = AssumeRoleError.type;
  readonly code = 'ASSUME_ROLE_FAILED';
  constructor(
    message: string,
    readonly roleArn: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

function isAbortError(err: unknown): boolean {
  return shape(err).name === 'AbortError';
}

function shape(err: unknown): AwsErrorShape {
  return typeof err === 'object' && err !== null ? (err as AwsErrorShape) : {};
}

/** Classifies an error from an AWS SDK v3 call without throwing. */
export function describeAwsError(err: unknown): AwsErrorInfo {
  const e = shape(err);
  const name = e.name && e.name !== 'Error' ? e.name : e.Code || e.code || e.name || 'UnknownError';
  const status = e.$metadata?.httpStatusCode;
  const base = { name, httpStatusCode: status, requestId: e.$metadata?.requestId };
  if (THROTTLING_NAMES.has(name) || status === 429 || e.$retryable?.throttling) {
    return { ...base, kind: 'throttling', retryable: true };
  }
  if (e.$fault === 'server' || (status !== undefined && status >= 500) || TRANSIENT_NAMES.has(name)) {
    return { ...base, kind: 'server', retryable: true };
  }
  // No response metadata means the request never got an answer (connection refused, reset, DNS, socket timeout).
  if (e.$metadata === undefined || status === undefined) return { ...base, kind: 'network', retryable: true };
  // The SDK marks a few client errors as retryable itself (e.g. clock skew); trust it.
  if (e.$retryable) return { ...base, kind: 'client', retryable: true };
  return { ...base, kind: 'client', retryable: false };
}

function phrase(info: AwsErrorInfo, awsMessage: string, resource?: string): string {
  if (!resource) return awsMessage || info.name;
  if (/NotFound$/.test(info.name)) return `${resource} not found`;
  if (/\.Malformed$/.test(info.name)) return `${resource} is malformed`;
  if (info.name === 'UnauthorizedOperation' || /AccessDenied/.test(info.name)) {
    return `not authorized to act on ${resource}`;
  }
  return awsMessage ? `${resource}: ${awsMessage}` : resource;
}

/**
 * Throws the Temporal-facing failure for an error from an AWS call.
 *
 * Already-converted Temporal failures (including cancellation) are rethrown untouched.
 *
 * @param err the error the SDK threw
 * @param what the action (or action and AWS operation) that failed, e.g. `ec2.captureInstance`
 * @param resource what the call acted on, e.g. `instance i-123`; named in the message
 * @throws ApplicationFailure with `type` = AWS error name, `nonRetryable` = true for client errors, `cause` = `err`
 */
export function classifyAwsError(err: unknown, what: string, resource?: string): never {
  if (err instanceof TemporalFailure) throw err;
  // The call was aborted with its activity (activities/aws-http.ts). Cancelled by its workflow: the SDK reports the
  // cancellation it is. Cancelled by the worker's shutdown: classified below as a network error (retryable), so
  // Temporal retries the step elsewhere at once; the server refuses a cancellation nobody asked for, and the step
  // would wait out its heartbeat timeout instead.
  if (isAbortError(err) && cancellationRequestedByWorkflow()) throw err;
  const info = describeAwsError(err);
  const awsMessage = shape(err).message ?? (typeof err === 'string' ? err : '');
  const message = `${what}: ${phrase(info, awsMessage, resource)} (${info.name})`;
  const cause = err instanceof Error ? err : new AwsActionError(String(err), err);
  throw ApplicationFailure.create({
    message,
    type: info.name,
    nonRetryable: !info.retryable,
    cause,
    details: [info],
  });
}

/**
 * Runs one AWS call and classifies whatever it throws.
 *
 * @example const out = await awsCall('ec2.captureInstance', () => ec2.send(cmd), `instance ${id}`);
 */
export async function awsCall<T>(what: string, fn: () => Promise<T>, resource?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return classifyAwsError(err, what, resource);
  }
}

/**
 * Throws the non-retryable failure for a missing resource or an input that cannot work, naming it.
 *
 * @example refuse('ec2.stopInstance', `instance ${id} not found`, 'InvalidInstanceID.NotFound')
 */
export function refuse(what: string, message: string, type: string): never {
  throw ApplicationFailure.nonRetryable(`${what}: ${message} (${type})`, type);
}
