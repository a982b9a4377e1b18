/**
 * Test helpers for alerts/: fixtures, a self-signed X.509 certificate built with node:crypto alone (a few lines of
 * DER, so no openssl CLI and no dependency), and SNS message signing.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalString, type SnsMessage } from '../../alerts';

export const FIXTURES = path.join(__dirname, 'fixtures');

/** A fixture, parsed (each test gets its own copy). */
export function fixture(name: string): any {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
}

// ---- DER, just enough for a certificate ----

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const int = (bytes: Buffer) => der(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const NULL = Buffer.from([0x05, 0x00]);
const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));
const bitString = (b: Buffer) => der(0x03, Buffer.concat([Buffer.from([0]), b]));
const explicit = (n: number, content: Buffer) => der(0xa0 + n, content);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return der(0x17, Buffer.from(s, 'ascii'));
}

export interface TestCertificate {
  privateKey: KeyObject;
  certPem: string;
}

/** A self-signed certificate for `commonName` with a fresh RSA-2048 (default) or P-256 key. */
export function selfSignedCertificate(opts: { commonName?: string; keyType?: 'rsa' | 'ec' } = {}): TestCertificate {
  const keyType = opts.keyType ?? 'rsa';
  const { privateKey, publicKey } =
    keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // sha256WithRSAEncryption (with NULL parameters), or ecdsa-with-SHA256 (without).
  const alg = keyType === 'rsa' ? seq(oid('1.2.840.113549.1.1.11'), NULL) : seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(set(seq(oid('2.5.4.3'), utf8(opts.commonName ?? 'sns.amazonaws.com'))));
  const now = Date.now();
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))), // v3
    int(Buffer.concat([Buffer.from([0x01]), randomBytes(8)])),
    alg,
    name,
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const certificate = seq(tbs, alg, bitString(sign('sha256', tbs, privateKey)));
  const b64 = certificate
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return { privateKey, certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n` };
}

/** Signs an SNS message as SNS does (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) and returns a copy. */
export function signSns<T extends SnsMessage>(
  msg: T,
  key: KeyObject,
  opts: { version?: '1' | '2'; certUrl?: string } = {},
): T {
  const version = opts.version ?? (msg.SignatureVersion === '2' ? '2' : '1');
  const out = { ...msg, SignatureVersion: version, ...(opts.certUrl && { SigningCertURL: opts.certUrl }) };
  out.Signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(canonicalString(out), 'utf8'), key).toString(
    'base64',
  );
  return out;
}

/** A fetcher serving fixed PEMs by URL, counting its calls. */
export function fakeFetcher(certs: Record<string, string>) {
  const calls: string[] = [];
  const fetchCertificate = jest.fn(async (url: string) => {
    calls.push(url);
    const pem = certs[url];
    if (pem === undefined) throw new Error(`404 ${url}`);
    return pem;
  });
  return { fetchCertificate, calls };
}

/** The SNS notification fixture with its Message replaced (re-serialised), and optional envelope overrides. */
export function snsWithMessage(message: unknown, envelope: Record<string, unknown> = {}) {
  const sns = fixture('sns-notification-cloudwatch-alarm.json');
  return { ...sns, Message: typeof message === 'string' ? message : JSON.stringify(message), ...envelope };
}

/** What `fn` throws; fails the test when it does not throw. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
