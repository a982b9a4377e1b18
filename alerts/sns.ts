/**
 * Amazon SNS HTTP(S) deliveries: parsing the envelope, verifying its signature, the topic allow-list and the
 * subscription confirmation flow.
 *
 * Verification follows https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html: the
 * certificate must come over https from an SNS host, the signature is RSA over a canonical string of fixed keys
 * (SHA1 for SignatureVersion 1, SHA256 for 2).
 */
import { X509Certificate, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { AlertRejectedError, AlertVerificationUnavailableError, UnsupportedAlertError } from './errors';
import { Nullable, StringEnum, checker, malformed, readJsonObject } from './validate';

/** The SNS message types an HTTP(S) subscription receives. */
export const SNS_MESSAGE_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;
export type SnsMessageType = (typeof SNS_MESSAGE_TYPES)[number];

const NonEmpty = Type.String({ minLength: 1 });

// Unknown extra fields (MessageAttributes, future ones) are allowed: SNS may add fields, and they are not signed.
const common = {
  MessageId: NonEmpty,
  TopicArn: NonEmpty,
  Message: Type.String(),
  Timestamp: NonEmpty,
  SignatureVersion: NonEmpty,
  Signature: NonEmpty,
  SigningCertURL: NonEmpty,
};

/** An SNS Notification as posted to an HTTP(S) subscription. */
export const SnsNotificationSchema = Type.Object(
  {
    Type: Type.Literal('Notification'),
    ...common,
    Subject: Type.Optional(Nullable(Type.String())),
    UnsubscribeURL: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: true },
);
export type SnsNotification = Static<typeof SnsNotificationSchema>;

/** A SubscriptionConfirmation or UnsubscribeConfirmation. */
export const SnsConfirmationSchema = Type.Object(
  {
    Type: StringEnum(['SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const),
    ...common,
    Token: NonEmpty,
    SubscribeURL: NonEmpty,
  },
  { additionalProperties: true },
);
export type SnsConfirmation = Static<typeof SnsConfirmationSchema>;

export type SnsMessage = SnsNotification | SnsConfirmation;

const checkNotification = checker(SnsNotificationSchema);
const checkConfirmation = checker(SnsConfirmationSchema);

const WHAT = 'SNS message';

/**
 * Parses an SNS HTTP(S) delivery. `body` is the raw text (SNS posts JSON as text/plain) or an already parsed object;
 * `headerType` is the `x-amz-sns-message-type` header, when sent (moto does not send it). The type is the body's
 * `Type`; a header that disagrees with it is a parse error, since one of them was forged or mangled.
 *
 * @throws AlertParseError unreadable JSON, unknown or disagreeing type, missing or mistyped fields (all listed).
 */
export function parseSnsBody(body: string | object, headerType?: string): SnsMessage {
  const obj = readJsonObject(body, WHAT);
  const type = obj.Type;
  if (headerType !== undefined && headerType !== '' && !(SNS_MESSAGE_TYPES as readonly string[]).includes(headerType)) {
    malformed(WHAT, 'x-amz-sns-message-type', `must be one of: ${SNS_MESSAGE_TYPES.join(', ')}`);
  }
  if (type === undefined) malformed(WHAT, '/Type', 'is required');
  if (typeof type !== 'string' || !(SNS_MESSAGE_TYPES as readonly string[]).includes(type)) {
    malformed(WHAT, '/Type', `must be one of: ${SNS_MESSAGE_TYPES.join(', ')}`);
  }
  if (headerType !== undefined && headerType !== '' && headerType !== type) {
    malformed(WHAT, '/Type', `is ${type} but the x-amz-sns-message-type header says ${headerType}`);
  }
  return type === 'Notification' ? checkNotification(obj, WHAT) : checkConfirmation(obj, WHAT);
}

/**
 * The string SNS signs, per message type, exactly as AWS documents: each key then its value, each followed by a
 * newline, keys in byte order. A Notification's Subject takes part only when present.
 */
export function canonicalString(msg: SnsMessage): string {
  const keys =
    msg.Type === 'Notification'
      ? typeof msg.Subject === 'string'
        ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
        : ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const record = msg as unknown as Record<string, unknown>;
  return keys.map((k) => `${k}\n${String(record[k])}\n`).join('');
}

/** Default allowed certificate hosts: `sns.<region>.amazonaws.com`, and `.com.cn` for the China regions. */
export const DEFAULT_CERT_HOSTS = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

const SIGNATURE_ALGORITHMS: Record<string, string> = { '1': 'sha1', '2': 'sha256' };

export interface SnsSignatureVerifierOptions {
  /** Fetches the PEM at a (pre-checked) certificate URL. Default: {@link createCertificateFetcher}(). */
  fetchCertificate?: (url: string) => Promise<string>;
  /** Hosts the certificate may come from; the whole host must match. Default {@link DEFAULT_CERT_HOSTS}. */
  allowedCertHosts?: RegExp;
  /** Certificates kept, by URL (least recently used dropped first). Default 32. */
  cacheSize?: number;
  /** Oldest accepted message, by its signed `Timestamp`, so a captured message cannot be replayed later. Default 1 h. */
  maxAgeMs?: number;
  /** How far in the future a `Timestamp` may be (the sender's clock against ours). Default 5 min. */
  clockSkewMs?: number;
  /** The current time (tests). Default Date.now. */
  now?: () => number;
}

export const DEFAULT_SNS_MAX_AGE_MS = 3_600_000;
export const DEFAULT_SNS_CLOCK_SKEW_MS = 300_000;

/**
 * Verifies SNS message signatures. One instance per process: it caches the signing certificates by URL (SNS rotates
 * them rarely) and shares an in-flight fetch between concurrent messages.
 */
export class SnsSignatureVerifier {
  private readonly fetchCertificate: (url: string) => Promise<string>;
  private readonly allowedCertHosts: RegExp;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, Promise<KeyObject>>();
  private readonly maxAgeMs: number;
  private readonly clockSkewMs: number;
  private readonly now: () => number;

  constructor(options: SnsSignatureVerifierOptions = {}) {
    this.fetchCertificate = options.fetchCertificate ?? createCertificateFetcher();
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_SNS_MAX_AGE_MS;
    this.clockSkewMs = options.clockSkewMs ?? DEFAULT_SNS_CLOCK_SKEW_MS;
    this.now = options.now ?? Date.now;
    // Stateful flags would make test() depend on the previous call.
    const re = options.allowedCertHosts ?? DEFAULT_CERT_HOSTS;
    this.allowedCertHosts = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
    this.cacheSize = Math.max(1, options.cacheSize ?? 32);
  }

  /**
   * Resolves when the message's signature verifies against the certificate at its SigningCertURL. Everything that
   * can be checked without the network (URL, host, signature version) is checked before any fetch.
   *
   * @throws AlertRejectedError bad certificate URL or host, unknown SignatureVersion, a Timestamp outside the accepted
   *   window, invalid certificate or signature.
   * @throws AlertVerificationUnavailableError the certificate could not be fetched.
   */
  async verify(msg: SnsMessage): Promise<void> {
    const algorithm = SIGNATURE_ALGORITHMS[msg.SignatureVersion];
    if (!algorithm) {
      throw new AlertRejectedError(
        'signature-version',
        `unsupported SignatureVersion ${JSON.stringify(msg.SignatureVersion)}`,
      );
    }
    const url = this.checkCertUrl(msg.SigningCertURL);
    // Before the fetch: a replayed message costs no certificate download. The Timestamp is signed, so once the
    // signature verifies below, it is the time SNS published the message.
    this.checkTimestamp(msg.Timestamp);
    const signature = Buffer.from(msg.Signature, 'base64');
    if (signature.length === 0)
      throw new AlertRejectedError('signature-invalid', 'the signature is empty or not base64');
    const key = await this.certificateKey(url);
    let ok = false;
    try {
      ok = cryptoVerify(algorithm, Buffer.from(canonicalString(msg), 'utf8'), key, signature);
    } catch (err) {
      throw new AlertRejectedError('signature-invalid', 'the signature does not verify', { cause: err });
    }
    if (!ok) throw new AlertRejectedError('signature-invalid', 'the signature does not verify');
  }

  /** Refuses a message published longer ago than the window, or later than now plus the clock skew. */
  checkTimestamp(timestamp: string): void {
    const at = Date.parse(timestamp);
    if (!/^\d{4}-\d\d-\d\dT/.test(timestamp) || Number.isNaN(at)) {
      throw new AlertRejectedError('stale', `Timestamp ${JSON.stringify(timestamp)} is not an ISO 8601 time`);
    }
    const age = this.now() - at;
    if (age > this.maxAgeMs) {
      throw new AlertRejectedError(
        'stale',
        `the message was published at ${timestamp}, more than ${this.maxAgeMs / 1000} s ago (a replay?)`,
      );
    }
    if (-age > this.clockSkewMs) {
      throw new AlertRejectedError(
        'stale',
        `the message's Timestamp ${timestamp} is more than ${this.clockSkewMs / 1000} s in the future`,
      );
    }
  }

  /** The certificate URL as a normalised string, or a rejection: https, allowed host, no userinfo, default port. */
  checkCertUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch (err) {
      throw new AlertRejectedError('cert-url', 'SigningCertURL is not a URL', { cause: err });
    }
    if (url.protocol !== 'https:') throw new AlertRejectedError('cert-url', 'SigningCertURL must use https');
    if (url.username !== '' || url.password !== '') {
      throw new AlertRejectedError('cert-url', 'SigningCertURL must not carry credentials');
    }
    // URL drops an explicit :443, so any port left is a non-default one.
    if (url.port !== '') throw new AlertRejectedError('cert-url', 'SigningCertURL must use the default https port');
    const host = url.hostname;
    const m = this.allowedCertHosts.exec(host);
    // A whole-host match, even if a configured pattern forgot its anchors (`sns.x.amazonaws.com.evil.com`).
    if (!m || m.index !== 0 || m[0] !== host) {
      throw new AlertRejectedError('cert-url', `SigningCertURL host ${host} is not an allowed SNS host`);
    }
    url.hash = '';
    return url.toString();
  }

  private certificateKey(url: string): Promise<KeyObject> {
    const hit = this.cache.get(url);
    if (hit) {
      // Re-insert: Map order is the recency order of the LRU.
      this.cache.delete(url);
      this.cache.set(url, hit);
      return hit;
    }
    const pending = this.loadKey(url);
    this.cache.set(url, pending);
    // A failed fetch is not cached: the next message tries again.
    pending.catch(() => {
      if (this.cache.get(url) === pending) this.cache.delete(url);
    });
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return pending;
  }

  private async loadKey(url: string): Promise<KeyObject> {
    let pem: string;
    try {
      pem = await this.fetchCertificate(url);
    } catch (err) {
      throw new AlertVerificationUnavailableError(`could not fetch the SNS signing certificate ${url}`, { cause: err });
    }
    let key: KeyObject;
    try {
      key = new X509Certificate(pem).publicKey;
    } catch (err) {
      throw new AlertRejectedError('cert-invalid', 'SigningCertURL did not serve an X.509 certificate', { cause: err });
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new AlertRejectedError(
        'cert-invalid',
        `the signing certificate has a ${key.asymmetricKeyType} key, not RSA`,
      );
    }
    return key;
  }
}

export interface CertificateFetcherOptions {
  /** Whole-request deadline. Default 5 s. */
  timeoutMs?: number;
  /** Largest accepted certificate. Default 64 KiB (SNS certificates are about 2 KiB). */
  maxBytes?: number;
}

/**
 * The default certificate fetcher: global fetch, no redirects (a redirect could leave the checked host), a deadline,
 * and a size limit enforced while reading (Content-Length may be absent or wrong).
 */
export function createCertificateFetcher(options: CertificateFetcherOptions = {}): (url: string) => Promise<string> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  return async (url) => {
    const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > maxBytes) {
      await res.body?.cancel();
      throw new Error(`GET ${url}: certificate larger than ${maxBytes} bytes`);
    }
    if (!res.body) return '';
    const chunks: Buffer[] = [];
    let size = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new Error(`GET ${url}: certificate larger than ${maxBytes} bytes`);
      }
      chunks.push(Buffer.from(value));
    }
    return Buffer.concat(chunks).toString('utf8');
  };
}

/**
 * Whether a topic is in the allow-list. Entries are exact ARNs, or patterns where `*` stands for any run of
 * characters within one ARN segment (it never spans a `:`): `arn:aws:sns:*:111122223333:ops-*` allows every `ops-`
 * topic of that account in any region. Matching is case-sensitive, like ARNs. An empty list allows nothing.
 */
export function isTopicAllowed(topicArn: string, allowList: readonly string[]): boolean {
  if (typeof topicArn !== 'string' || topicArn === '') return false;
  return allowList.some((entry) => {
    if (!entry.includes('*')) return entry === topicArn;
    const source = entry
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^:]*');
    return new RegExp(`^${source}$`).test(topicArn);
  });
}

/**
 * Confirms a subscription: calls `confirm(topicArn, token)` (the API passes SNS ConfirmSubscription through the AWS
 * SDK, in the topic's region) for a SubscriptionConfirmation. The caller must have verified the signature and
 * checked the topic against the allow-list first: confirming subscribes this endpoint to the topic.
 *
 * @returns the confirmed topic ARN.
 * @throws UnsupportedAlertError when the message is not a SubscriptionConfirmation.
 */
export async function confirmSubscription(
  msg: SnsMessage,
  confirm: (topicArn: string, token: string) => Promise<void>,
): Promise<{ topicArn: string }> {
  if (msg.Type !== 'SubscriptionConfirmation') {
    throw new UnsupportedAlertError('message-type', `an SNS ${msg.Type} is not a subscription confirmation`, {
      type: msg.Type,
    });
  }
  await confirm(msg.TopicArn, msg.Token);
  return { topicArn: msg.TopicArn };
}

/** Narrows a parsed message to a Notification, or throws: alert parsers take notifications only. */
export function asNotification(msg: SnsMessage): SnsNotification {
  if (msg.Type !== 'Notification') {
    throw new UnsupportedAlertError('message-type', `an SNS ${msg.Type} carries no alert`, { type: msg.Type });
  }
  return msg;
}
