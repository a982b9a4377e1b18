/**
 * SNS envelope parsing, canonical strings, signature verification (a locally generated key and certificate, served
 * by an injected fetcher: no network), the topic allow-list and the confirmation flow.
 */
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  AlertParseError,
  AlertRejectedError,
  AlertVerificationUnavailableError,
  SnsSignatureVerifier,
  UnsupportedAlertError,
  canonicalString,
  confirmSubscription,
  createCertificateFetcher,
  isTopicAllowed,
  parseSnsBody,
  type SnsConfirmation,
  type SnsNotification,
} from '../../alerts';
import { FIXTURES, fakeFetcher, fixture, selfSignedCertificate, signSns, type TestCertificate } from './helpers';

const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem';
const OTHER_CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1111111111111111111111.pem';

let cert: TestCertificate;
let otherCert: TestCertificate;
beforeAll(() => {
  cert = selfSignedCertificate();
  otherCert = selfSignedCertificate();
});

const notificationText = () => readFileSync(path.join(FIXTURES, 'sns-notification-cloudwatch-alarm.json'), 'utf8');
const notification = (): SnsNotification => parseSnsBody(notificationText()) as SnsNotification;
const confirmation = (): SnsConfirmation =>
  parseSnsBody(fixture('sns-subscription-confirmation.json')) as SnsConfirmation;

function parseError(fn: () => unknown): AlertParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AlertParseError);
    return err as AlertParseError;
  }
  throw new Error('expected an AlertParseError');
}

async function rejection(p: Promise<unknown>): Promise<AlertRejectedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AlertRejectedError);
  return err as AlertRejectedError;
}

describe('fixtures', () => {
  const shared = path.resolve(__dirname, '../../../shared/fixtures/aws');
  // The fixtures are copied into the repository so that the tests run anywhere; where the shared originals are
  // present, the copies must not have drifted (compared as JSON: `npm run format` may re-indent the copies).
  (existsSync(shared) ? it : it.skip)('are copies of the shared fixtures', () => {
    const files = readdirSync(shared).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(readdirSync(FIXTURES).sort());
    const read = (dir: string, f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    for (const f of files) expect(read(FIXTURES, f)).toEqual(read(shared, f));
  });
});

describe('parseSnsBody', () => {
  it('parses the Notification fixture from text/plain, a Buffer and an already parsed object', () => {
    const text = notificationText();
    for (const body of [text, Buffer.from(text, 'utf8'), JSON.parse(text)]) {
      const msg = parseSnsBody(body, 'Notification');
      expect(msg.Type).toBe('Notification');
      expect(msg.MessageId).toBe('6f0d3e8c-51a2-5b7e-9d3c-1a2b3c4d5e6f');
      expect(msg.TopicArn).toBe('arn:aws:sns:eu-west-1:111122223333:ops-alarms');
      expect((msg as SnsNotification).Subject).toBe('ALARM: "web-egress-spike" in EU (Ireland)');
    }
  });

  it('parses the SubscriptionConfirmation fixture, with or without the header (moto sends none)', () => {
    for (const header of [undefined, 'SubscriptionConfirmation']) {
      const msg = parseSnsBody(fixture('sns-subscription-confirmation.json'), header) as SnsConfirmation;
      expect(msg.Type).toBe('SubscriptionConfirmation');
      expect(msg.Token).toMatch(/^2336412f/);
      expect(msg.SubscribeURL).toContain('Action=ConfirmSubscription');
    }
  });

  it('accepts an UnsubscribeConfirmation and a Notification without Subject or with a null Subject', () => {
    const unsub = { ...fixture('sns-subscription-confirmation.json'), Type: 'UnsubscribeConfirmation' };
    expect(parseSnsBody(unsub, 'UnsubscribeConfirmation').Type).toBe('UnsubscribeConfirmation');
    const { Subject: _s, ...noSubject } = fixture('sns-notification-cloudwatch-alarm.json');
    expect((parseSnsBody(noSubject) as SnsNotification).Subject).toBeUndefined();
    expect((parseSnsBody({ ...noSubject, Subject: null }) as SnsNotification).Subject).toBeNull();
  });

  it('rejects a header that disagrees with the body Type', () => {
    const err = parseError(() => parseSnsBody(notificationText(), 'SubscriptionConfirmation'));
    expect(err.code).toBe('ALERT_MALFORMED');
    expect(err.statusCode).toBe(400);
    expect(err.details).toEqual([
      { path: '/Type', message: 'is Notification but the x-amz-sns-message-type header says SubscriptionConfirmation' },
    ]);
  });

  it('rejects an unknown header value and an unknown or missing body Type', () => {
    expect(parseError(() => parseSnsBody(notificationText(), 'Bogus')).details[0].path).toBe('x-amz-sns-message-type');
    const body = fixture('sns-notification-cloudwatch-alarm.json');
    expect(parseError(() => parseSnsBody({ ...body, Type: 'Foo' })).details).toEqual([
      { path: '/Type', message: 'must be one of: Notification, SubscriptionConfirmation, UnsubscribeConfirmation' },
    ]);
    const { Type: _t, ...untyped } = body;
    expect(parseError(() => parseSnsBody(untyped, 'Notification')).details).toEqual([
      { path: '/Type', message: 'is required' },
    ]);
  });

  it('lists every missing or mistyped field of a Notification', () => {
    const { MessageId: _m, Signature: _s, ...body } = fixture('sns-notification-cloudwatch-alarm.json');
    const err = parseError(() => parseSnsBody({ ...body, TopicArn: 42, Subject: 7 }));
    expect(err.details).toEqual(
      expect.arrayContaining([
        { path: '/MessageId', message: 'is required' },
        { path: '/Signature', message: 'is required' },
        { path: '/TopicArn', message: 'must be string' },
        { path: '/Subject', message: 'must be string or null' },
      ]),
    );
    expect(err.details).toHaveLength(4);
    expect(err.message).toContain('/MessageId is required');
  });

  it('requires Token and SubscribeURL on a SubscriptionConfirmation', () => {
    const { Token: _t, SubscribeURL: _u, ...body } = fixture('sns-subscription-confirmation.json');
    expect(parseError(() => parseSnsBody(body)).details).toEqual([
      { path: '/Token', message: 'is required' },
      { path: '/SubscribeURL', message: 'is required' },
    ]);
  });

  it('rejects truncated, empty and non-object bodies with a clear detail', () => {
    const text = notificationText();
    const truncated = parseError(() => parseSnsBody(text.slice(0, text.length / 2)));
    expect(truncated.details).toHaveLength(1);
    expect(truncated.details[0]).toMatchObject({ path: '/', message: expect.stringMatching(/^is not valid JSON/) });
    expect(parseError(() => parseSnsBody('   ')).details).toEqual([{ path: '/', message: 'is empty' }]);
    expect(parseError(() => parseSnsBody('[1,2]')).details).toEqual([
      { path: '/', message: 'must be a JSON object, not an array' },
    ]);
    expect(parseError(() => parseSnsBody('null')).details).toEqual([
      { path: '/', message: 'must be a JSON object, not null' },
    ]);
    expect(parseError(() => parseSnsBody('"x"')).details).toEqual([
      { path: '/', message: 'must be a JSON object, not string' },
    ]);
  });
});

describe('canonicalString', () => {
  it('builds the Notification string with Subject, in AWS key order', () => {
    const msg = notification();
    expect(canonicalString(msg)).toBe(
      `Message\n${msg.Message}\nMessageId\n6f0d3e8c-51a2-5b7e-9d3c-1a2b3c4d5e6f\n` +
        `Subject\nALARM: "web-egress-spike" in EU (Ireland)\nTimestamp\n2026-11-27T09:00:12.611Z\n` +
        `TopicArn\narn:aws:sns:eu-west-1:111122223333:ops-alarms\nType\nNotification\n`,
    );
  });

  it('leaves Subject out when absent or null', () => {
    const msg = { ...notification(), Message: 'hello' };
    const expected =
      'Message\nhello\nMessageId\n6f0d3e8c-51a2-5b7e-9d3c-1a2b3c4d5e6f\nTimestamp\n2026-11-27T09:00:12.611Z\n' +
      'TopicArn\narn:aws:sns:eu-west-1:111122223333:ops-alarms\nType\nNotification\n';
    const { Subject: _s, ...absent } = msg;
    expect(canonicalString(absent as SnsNotification)).toBe(expected);
    expect(canonicalString({ ...msg, Subject: null })).toBe(expected);
  });

  it('builds the confirmation string with SubscribeURL and Token', () => {
    const msg = confirmation();
    expect(canonicalString(msg)).toBe(
      `Message\n${msg.Message}\nMessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\nSubscribeURL\n${msg.SubscribeURL}\n` +
        `Timestamp\n2026-11-27T08:00:00.000Z\nToken\n${msg.Token}\nTopicArn\narn:aws:sns:eu-west-1:111122223333:ops-alarms\n` +
        `Type\nSubscriptionConfirmation\n`,
    );
  });
});

describe('SnsSignatureVerifier', () => {
  // The verifier's clock stands just after the fixtures were published (confirmation 08:00, notification 09:00:12),
  // with a window wide enough for both; the window itself is tested below with the default settings.
  const clock = { now: () => Date.parse('2026-11-27T09:00:30Z'), maxAgeMs: 2 * 3_600_000 };
  const verifierFor = (certs: Record<string, string> = { [CERT_URL]: cert.certPem }, opts = {}) => {
    const fake = fakeFetcher(certs);
    return {
      verifier: new SnsSignatureVerifier({ fetchCertificate: fake.fetchCertificate, ...clock, ...opts }),
      ...fake,
    };
  };

  it('verifies SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA) notifications', async () => {
    const { verifier, fetchCertificate } = verifierFor();
    await expect(verifier.verify(signSns(notification(), cert.privateKey, { version: '1' }))).resolves.toBeUndefined();
    await expect(verifier.verify(signSns(notification(), cert.privateKey, { version: '2' }))).resolves.toBeUndefined();
    expect(fetchCertificate).toHaveBeenCalledWith(CERT_URL);
  });

  it('verifies a subscription confirmation and a Subject with quotes and non-ASCII', async () => {
    const { verifier } = verifierFor();
    await expect(verifier.verify(signSns(confirmation(), cert.privateKey, { version: '2' }))).resolves.toBeUndefined();
    const subject = 'ALARM: "caf\u00e9 \u2615 \u00fcber-alarm" in Asia Pacific (T\u014dky\u014d) \u2014 \u65e5\u672c';
    const msg = signSns({ ...notification(), Subject: subject }, cert.privateKey, { version: '1' });
    // Round trip through JSON text, as it arrives.
    const received = parseSnsBody(JSON.stringify(msg), 'Notification');
    await expect(verifier.verify(received)).resolves.toBeUndefined();
  });

  it.each([
    ['Message', { Message: '{"AlarmName":"other"}' }],
    ['Subject', { Subject: 'OK: "web-egress-spike"' }],
    ['Subject removed', { Subject: undefined }],
    ['TopicArn', { TopicArn: 'arn:aws:sns:eu-west-1:111122223333:other' }],
    ['Timestamp', { Timestamp: '2026-11-27T09:00:13.611Z' }],
  ])('rejects a message whose %s was tampered with after signing', async (_what, change) => {
    const { verifier } = verifierFor();
    const signed = signSns(notification(), cert.privateKey, { version: '2' });
    const err = await rejection(verifier.verify({ ...signed, ...change } as SnsNotification));
    expect(err.reason).toBe('signature-invalid');
    expect(err.code).toBe('ALERT_FORBIDDEN');
    expect(err.statusCode).toBe(403);
  });

  it('rejects a message signed by another key, and a signature of the other version', async () => {
    const { verifier } = verifierFor();
    expect((await rejection(verifier.verify(signSns(notification(), otherCert.privateKey)))).reason).toBe(
      'signature-invalid',
    );
    const v1 = signSns(notification(), cert.privateKey, { version: '1' });
    expect((await rejection(verifier.verify({ ...v1, SignatureVersion: '2' }))).reason).toBe('signature-invalid');
  });

  it('rejects a garbage or empty signature', async () => {
    const { verifier } = verifierFor();
    expect(
      (await rejection(verifier.verify({ ...notification(), Signature: 'PLACEHOLDER-does-not-verify==' }))).reason,
    ).toBe('signature-invalid');
    expect((await rejection(verifier.verify({ ...notification(), Signature: '!!!!' }))).reason).toBe(
      'signature-invalid',
    );
  });

  it.each(['3', '0', 'SHA256', '1.0'])('rejects SignatureVersion %j without fetching', async (version) => {
    const { verifier, fetchCertificate } = verifierFor();
    const msg = { ...signSns(notification(), cert.privateKey), SignatureVersion: version };
    expect((await rejection(verifier.verify(msg))).reason).toBe('signature-version');
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it.each([
    ['http', 'http://sns.eu-west-1.amazonaws.com/cert.pem'],
    ['a foreign host', 'https://example.com/SimpleNotificationService-0.pem'],
    ['a look-alike suffix', 'https://sns.us-east-1.amazonaws.com.evil.com/cert.pem'],
    ['a look-alike prefix', 'https://evilsns.us-east-1.amazonaws.com/cert.pem'],
    ['a subdomain of the SNS host', 'https://x.sns.us-east-1.amazonaws.com/cert.pem'],
    ['another AWS service', 'https://s3.us-east-1.amazonaws.com/cert.pem'],
    ['userinfo', 'https://user:pw@sns.us-east-1.amazonaws.com/cert.pem'],
    ['userinfo pointing elsewhere', 'https://sns.us-east-1.amazonaws.com@evil.com/cert.pem'],
    ['a non-default port', 'https://sns.us-east-1.amazonaws.com:8443/cert.pem'],
    ['a trailing dot', 'https://sns.us-east-1.amazonaws.com./cert.pem'],
    ['not a URL', 'sns.us-east-1.amazonaws.com/cert.pem'],
    ['file:', 'file:///etc/passwd'],
  ])('rejects a SigningCertURL with %s before any fetch', async (_what, url) => {
    const { verifier, fetchCertificate } = verifierFor({ [url]: cert.certPem });
    const msg = signSns(notification(), cert.privateKey, { certUrl: url });
    const err = await rejection(verifier.verify(msg));
    expect(err.reason).toBe('cert-url');
    expect(err.details).toEqual({ reason: 'cert-url' });
    expect(fetchCertificate).not.toHaveBeenCalled();
  });

  it('accepts the China partition host, an explicit :443 and mixed-case hosts', async () => {
    const urls = [
      'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem',
      'https://sns.eu-west-1.amazonaws.com:443/SimpleNotificationService-y.pem',
      'https://SNS.EU-WEST-1.AMAZONAWS.COM/SimpleNotificationService-z.pem',
    ];
    const { verifier, fetchCertificate } = verifierFor(
      Object.fromEntries(urls.map((u) => [new URL(u).toString(), cert.certPem])),
    );
    for (const url of urls)
      await expect(
        verifier.verify(signSns(notification(), cert.privateKey, { certUrl: url })),
      ).resolves.toBeUndefined();
    // The URL is normalised before the fetch: lowercase host, no default port.
    expect(fetchCertificate.mock.calls.map(([u]) => u)).toEqual([
      'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem',
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-y.pem',
      'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-z.pem',
    ]);
  });

  it('matches a configured host pattern against the whole host, even without anchors', async () => {
    const { verifier, fetchCertificate } = verifierFor(
      { 'https://sns.localtest.example/c.pem': cert.certPem },
      {
        allowedCertHosts: /sns\.localtest\.example/g,
      },
    );
    await expect(
      verifier.verify(signSns(notification(), cert.privateKey, { certUrl: 'https://sns.localtest.example/c.pem' })),
    ).resolves.toBeUndefined();
    // The global flag must not make a second call start from lastIndex.
    await expect(
      verifier.verify(signSns(notification(), cert.privateKey, { certUrl: 'https://sns.localtest.example/c.pem' })),
    ).resolves.toBeUndefined();
    const lookAlike = signSns(notification(), cert.privateKey, {
      certUrl: 'https://sns.localtest.example.evil.com/c.pem',
    });
    expect((await rejection(verifier.verify(lookAlike))).reason).toBe('cert-url');
    expect(fetchCertificate).toHaveBeenCalledTimes(1);
  });

  it('fetches a certificate once for several messages, and shares an in-flight fetch', async () => {
    const { verifier, fetchCertificate } = verifierFor();
    await verifier.verify(signSns(notification(), cert.privateKey, { version: '1' }));
    await verifier.verify(signSns(confirmation(), cert.privateKey, { version: '2' }));
    expect(fetchCertificate).toHaveBeenCalledTimes(1);

    const fresh = verifierFor();
    await Promise.all([1, 2, 3].map(() => fresh.verifier.verify(signSns(notification(), cert.privateKey))));
    expect(fresh.fetchCertificate).toHaveBeenCalledTimes(1);
  });

  it('keeps at most cacheSize certificates, dropping the least recently used', async () => {
    const { verifier, fetchCertificate } = verifierFor(
      { [CERT_URL]: cert.certPem, [OTHER_CERT_URL]: otherCert.certPem },
      { cacheSize: 1 },
    );
    const a = signSns(notification(), cert.privateKey, { certUrl: CERT_URL });
    const b = signSns(notification(), otherCert.privateKey, { certUrl: OTHER_CERT_URL });
    await verifier.verify(a);
    await verifier.verify(a);
    await verifier.verify(b);
    await verifier.verify(a);
    expect(fetchCertificate.mock.calls.map(([u]) => u)).toEqual([CERT_URL, OTHER_CERT_URL, CERT_URL]);
  });

  it('answers unavailable when the fetch fails, and does not cache the failure', async () => {
    let fail = true;
    const fetchCertificate = jest.fn(async () => {
      if (fail) throw new Error('ECONNRESET');
      return cert.certPem;
    });
    const verifier = new SnsSignatureVerifier({ fetchCertificate, ...clock });
    const msg = signSns(notification(), cert.privateKey);
    const err = await verifier.verify(msg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlertVerificationUnavailableError);
    expect((err as AlertVerificationUnavailableError).statusCode).toBe(503);
    expect((err as Error).cause).toEqual(new Error('ECONNRESET'));
    fail = false;
    await expect(verifier.verify(msg)).resolves.toBeUndefined();
    expect(fetchCertificate).toHaveBeenCalledTimes(2);
  });

  it('refuses a signed message older than the window (1 h by default) or too far in the future, before any fetch', async () => {
    const published = Date.parse(notification().Timestamp);
    const at = (offsetMs: number, opts = {}) =>
      verifierFor(undefined, { now: () => published + offsetMs, maxAgeMs: undefined, ...opts });
    const signed = signSns(notification(), cert.privateKey, { version: '2' });
    // Inside the default window: 59 min late, or a sender clock 4 min ahead.
    await expect(at(59 * 60_000).verifier.verify(signed)).resolves.toBeUndefined();
    await expect(at(-4 * 60_000).verifier.verify(signed)).resolves.toBeUndefined();
    // A captured message replayed after the window, or one dated past the clock skew allowance.
    for (const [offset, opts, words] of [
      [61 * 60_000, {}, /more than 3600 s ago/],
      [-6 * 60_000, {}, /more than 300 s in the future/],
      [11 * 60_000, { maxAgeMs: 10 * 60_000 }, /more than 600 s ago/],
      [-61_000, { clockSkewMs: 60_000 }, /more than 60 s in the future/],
    ] as const) {
      const v = at(offset, opts);
      const err = await rejection(v.verifier.verify(signed));
      expect(err.reason).toBe('stale');
      expect(err.message).toMatch(words);
      expect(v.fetchCertificate).not.toHaveBeenCalled();
    }
    // An unreadable Timestamp is refused the same way (it would otherwise never be stale).
    const odd = signSns({ ...notification(), Timestamp: 'yesterday' }, cert.privateKey, { version: '2' });
    expect((await rejection(at(0).verifier.verify(odd))).reason).toBe('stale');
  });

  it('rejects a URL that serves something other than an RSA certificate', async () => {
    const ec = selfSignedCertificate({ keyType: 'ec' });
    const notPem = verifierFor({ [CERT_URL]: '<Error><Code>AccessDenied</Code></Error>' });
    expect((await rejection(notPem.verifier.verify(signSns(notification(), cert.privateKey)))).reason).toBe(
      'cert-invalid',
    );
    const ecKey = verifierFor({ [CERT_URL]: ec.certPem });
    expect((await rejection(ecKey.verifier.verify(signSns(notification(), cert.privateKey)))).reason).toBe(
      'cert-invalid',
    );
  });
});

describe('createCertificateFetcher', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/cert.pem') return res.end(cert.certPem);
      if (req.url === '/big') {
        // Chunked, no Content-Length: the limit must hold while reading.
        res.write('x'.repeat(40_000));
        return res.end('x'.repeat(40_000));
      }
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/cert.pem' });
        return res.end();
      }
      if (req.url === '/slow') return void setTimeout(() => res.end(cert.certPem), 2_000).unref();
      res.writeHead(404);
      res.end('not found');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
  });

  it('returns the body of a 2xx answer', async () => {
    await expect(createCertificateFetcher()(`${base}/cert.pem`)).resolves.toBe(cert.certPem);
  });

  it('refuses non-2xx answers, redirects, oversized bodies and slow servers', async () => {
    const fetcher = createCertificateFetcher({ maxBytes: 64 * 1024, timeoutMs: 300 });
    await expect(fetcher(`${base}/missing`)).rejects.toThrow('HTTP 404');
    await expect(fetcher(`${base}/redirect`)).rejects.toThrow();
    await expect(fetcher(`${base}/big`)).rejects.toThrow('larger than 65536 bytes');
    await expect(fetcher(`${base}/slow`)).rejects.toThrow(/abort|timeout/i);
  });
});

describe('isTopicAllowed', () => {
  const topic = 'arn:aws:sns:eu-west-1:111122223333:ops-alarms';

  it('matches exact ARNs only exactly', () => {
    expect(isTopicAllowed(topic, [topic])).toBe(true);
    expect(isTopicAllowed(topic, ['arn:aws:sns:eu-west-1:111122223333:ops'])).toBe(false);
    expect(isTopicAllowed(topic, ['arn:aws:sns:eu-west-1:111122223333:OPS-ALARMS'])).toBe(false);
    expect(isTopicAllowed(topic, [])).toBe(false);
  });

  it('lets * stand for any run of characters within one ARN segment', () => {
    expect(isTopicAllowed(topic, ['arn:aws:sns:*:111122223333:ops-*'])).toBe(true);
    expect(isTopicAllowed(topic, ['arn:aws:sns:eu-west-1:111122223333:*'])).toBe(true);
    expect(isTopicAllowed(topic, ['arn:aws:sns:*:*:*'])).toBe(true);
    expect(isTopicAllowed(topic, ['arn:aws:sns:*:444455556666:*'])).toBe(false);
    expect(isTopicAllowed(topic, ['arn:aws:sns:eu-west-1:111122223333:dev-*'])).toBe(false);
    // `*` never spans a colon, so it cannot swallow the account segment.
    expect(isTopicAllowed(topic, ['arn:aws:sns:eu-west-1:*'])).toBe(false);
    expect(isTopicAllowed(topic, ['*'])).toBe(false);
  });

  it('treats regex characters in entries literally', () => {
    expect(
      isTopicAllowed('arn:aws:sns:eu-west-1:111122223333:opsXalarms', [
        'arn:aws:sns:eu-west-1:111122223333:ops.alarms',
      ]),
    ).toBe(false);
    expect(isTopicAllowed('arn:aws:sns:eu-west-1:111122223333:a.b', ['arn:aws:sns:eu-west-1:111122223333:a.*'])).toBe(
      true,
    );
  });

  it('checks every entry', () => {
    expect(isTopicAllowed(topic, ['arn:aws:sns:us-east-1:111122223333:x', 'arn:aws:sns:eu-west-1:*:ops-alarms'])).toBe(
      true,
    );
  });
});

describe('confirmSubscription', () => {
  it('calls confirm with the topic and token of a SubscriptionConfirmation', async () => {
    const confirm = jest.fn(async () => undefined);
    const msg = confirmation();
    await expect(confirmSubscription(msg, confirm)).resolves.toEqual({
      topicArn: 'arn:aws:sns:eu-west-1:111122223333:ops-alarms',
    });
    expect(confirm).toHaveBeenCalledWith('arn:aws:sns:eu-west-1:111122223333:ops-alarms', msg.Token);
  });

  it('refuses other message types without calling confirm, and passes confirm errors through', async () => {
    const confirm = jest.fn(async () => undefined);
    await expect(confirmSubscription(notification(), confirm)).rejects.toBeInstanceOf(UnsupportedAlertError);
    const unsub = parseSnsBody({ ...fixture('sns-subscription-confirmation.json'), Type: 'UnsubscribeConfirmation' });
    await expect(confirmSubscription(unsub, confirm)).rejects.toMatchObject({
      code: 'ALERT_UNSUPPORTED',
      reason: 'message-type',
    });
    expect(confirm).not.toHaveBeenCalled();
    await expect(
      confirmSubscription(confirmation(), async () => Promise.reject(new Error('AuthorizationError'))),
    ).rejects.toThrow('AuthorizationError');
  });
});
