/**
 * API errors: one small class per kind, each with an HTTP status and a stable code. The root error handler renders
 * them as `{ error: { code, message, details } }`.
 */
export abstract class ApiError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ValidationFailedError extends ApiError {
  override readonly name = 'ValidationFailedError';
  readonly statusCode = 400;
  readonly code = 'VALIDATION_FAILED';
}

export class UnauthenticatedError extends ApiError {
  override readonly name = 'UnauthenticatedError';
  readonly statusCode = 401;
  readonly code = 'UNAUTHENTICATED';
}

export class ForbiddenError extends ApiError {
  override readonly name = 'ForbiddenError';
  readonly statusCode = 403;
  readonly code = 'FORBIDDEN';
}

export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  readonly statusCode = 404;
  readonly code = 'NOT_FOUND';
}

export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  readonly statusCode = 409;
  readonly code = 'CONFLICT';
}

export class RateLimitedError extends ApiError {
  override readonly name = 'RateLimitedError';
  readonly statusCode = 429;
  readonly code = 'RATE_LIMITED';
}

export class UnavailableError extends ApiError {
  override readonly name = 'UnavailableError';
  readonly statusCode = 503;
  readonly code = 'UNAVAILABLE';
}

/**
 * A change was handed to Temporal, but no worker confirmed it before the deadline: it may still be applied when a worker
 * picks it up (an Update stays admitted). Retrying is safe: decisions and rollbacks are refused once applied, alerts
 * are deduplicated by delivery ID.
 */
export class NotConfirmedError extends ApiError {
  override readonly name = 'NotConfirmedError';
  readonly statusCode = 503;
  readonly code = 'NOT_CONFIRMED';
}
