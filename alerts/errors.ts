/**
 * Errors of alert ingestion. Each has a stable `code` and the HTTP status the API answers with (`statusCode`), so a
 * route can map them without knowing each case; `details` says what is wrong in a form safe to send back.
 */

/** One problem found in a payload: a JSON pointer into the body (`/Message/NewStateValue`) and what is wrong there. */
export interface AlertIssue {
  path: string;
  message: string;
}

/** Base class of the alert errors (not thrown as such). */
export abstract class AlertError extends Error {
  abstract readonly code: string;
  abstract readonly statusCode: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The payload is not what it claims to be: unreadable JSON, missing or mistyped fields. The API answers 400. */
export class AlertParseError extends AlertError {
  override readonly name = 'AlertParseError';
  readonly code = 'ALERT_MALFORMED';
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly details: AlertIssue[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Why a well-formed payload was refused. */
export type AlertRejectReason =
  | 'cert-url' // SigningCertURL not https, not on an allowed host, userinfo, odd port
  | 'cert-invalid' // what the URL served is not an RSA X.509 certificate
  | 'signature-version' // SignatureVersion other than 1 or 2
  | 'signature-invalid' // the signature does not verify
  | 'stale' // Timestamp older than the accepted window, in the future beyond the clock skew, or unreadable
  | 'topic-not-allowed' // TopicArn not in the allow-list
  | 'bad-secret'; // a webhook's shared secret is missing or wrong

/** The sender is not trusted: bad signature, foreign certificate host, topic not allowed, bad secret. The API answers 403. */
export class AlertRejectedError extends AlertError {
  override readonly name = 'AlertRejectedError';
  readonly code = 'ALERT_FORBIDDEN';
  readonly statusCode = 403;
  constructor(
    readonly reason: AlertRejectReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** Safe to return to the caller: the reason only, never key or certificate material. */
  get details(): { reason: AlertRejectReason } {
    return { reason: this.reason };
  }
}

/** Why a well-formed, trusted payload is not turned into an alert. */
export type UnsupportedReason =
  | 'detail-type' // an EventBridge detail-type no parser handles
  | 'not-an-alarm' // an SNS notification whose Message is not a CloudWatch alarm or EventBridge event
  | 'insufficient-data' // a CloudWatch alarm entering INSUFFICIENT_DATA (see cloudwatch.ts)
  | 'message-type'; // an SNS message type that carries no alert (e.g. a confirmation handed to an alert parser)

/** A valid payload that no runbook handles (e.g. an unknown EventBridge detail-type). The API answers 422. */
export class UnsupportedAlertError extends AlertError {
  override readonly name = 'UnsupportedAlertError';
  readonly code = 'ALERT_UNSUPPORTED';
  readonly statusCode = 422;
  constructor(
    readonly reason: UnsupportedReason,
    message: string,
    readonly details?: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The signing certificate could not be fetched (network error, timeout, non-2xx, too large). Not the sender's fault
 * as far as we know, so the API answers 503: SNS retries a delivery that failed with a 5xx.
 */
export class AlertVerificationUnavailableError extends AlertError {
  override readonly name = 'AlertVerificationUnavailableError';
  readonly code = 'ALERT_VERIFY_UNAVAILABLE';
  readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
