/**
 * Rate limits, request IDs, security headers, secrets kept out of logs and workflow histories, and stale SNS messages
 * refused at the API.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { SnsSignatureVerifier } from '../../alerts/sns';
import { buildApp, type AppDeps } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { fixture, selfSignedCertificate, signSns, type TestCertificate } from '../alerts/helpers';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, uniqueId, withWorker, type TestTemporal } from '../stack/temporal';

const CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem';
const WEBHOOK_SECRET = 'webhook-secret-must-not-leak-0123';
const TOKENS = {
  'alice-token-must-not-leak-0123': { id: 'user:alice', roles: ['admin'] },
  'bob-token-must-not-leak-0123456': { id: 'user:bob', roles: ['viewer'] },
};
const asAlice = { authorization: 'Bearer alice-token-must-not-leak-0123' };
const asBob = { authorization: 'Bearer bob-token-must-not-leak-0123456' };

let temporal: TestTemporal;
let aws: TestAws;
let cert: TestCertificate;
beforeAll(async () => {
  temporal = await testTemporal();
  aws = testAws();
  cert = selfSignedCertificate();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

function app(overrides: Partial<AppDeps> = {}, logs?: string[]): Promise<FastifyInstance> {
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs?.push(String(chunk));
      done();
    },
  });
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue: uniqueId('hardening'),
    publicUrl: 'http://firebreak.test',
    logger: logs ? { level: 'trace', stream } : false,
    auth: { mode: 'token', tokens: TokenStore.fromPlain(TOKENS) },
    alerts: {
      snsTopics: ['arn:aws:sns:*:111122223333:ops-*'],
      verifier: new SnsSignatureVerifier({ fetchCertificate: async () => cert.certPem }),
      webhookSecret: WEBHOOK_SECRET,
      confirmSubscription: async () => undefined,
    },
    ...overrides,
  });
}

test('rate limits: per principal after authentication, per source address before it, alerts apart; 429 with Retry-After', async () => {
  const api = await app({ rateLimit: { windowMs: 60_000, perPrincipal: 3, perAddress: 5, alertsPerAddress: 8 } });
  const get = (headers: Record<string, string>, remoteAddress = '10.0.0.1') =>
    api.inject({ method: 'GET', url: '/v1/runbooks', headers, remoteAddress });
  for (let i = 0; i < 3; i++) expect((await get(asAlice)).statusCode).toBe(200);
  const limited = await get(asAlice);
  expect(limited.statusCode).toBe(429);
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(limited.json()).toEqual({
    error: {
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/3 per 60 s per principal/),
      details: { retryAfterSeconds: Number(limited.headers['retry-after']) },
      requestId: limited.headers['x-request-id'],
    },
  });
  // Alice from another address is still Alice; Bob from the same address has his own allowance.
  expect((await get(asAlice, '10.0.0.2')).statusCode).toBe(429);
  expect((await get(asBob)).statusCode).toBe(200);
  // The address's allowance (5) is now spent: whoever calls from it, even with a bad or no credential.
  expect((await get({ authorization: 'Bearer guessing-0123456789abcdef' })).statusCode).toBe(429);
  expect((await get({})).statusCode).toBe(429);
  expect((await get({}, '10.0.0.3')).statusCode).toBe(401);
  // Guessing credentials from one address runs into the address's limit, before authentication.
  const guesses: number[] = [];
  for (let i = 0; i < 6; i++)
    guesses.push((await get({ authorization: `Bearer guess-${i}-0123456789abcdef` }, '10.0.0.4')).statusCode);
  expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
  // The alert endpoints have their own, higher limit per address.
  const alert = () =>
    api.inject({
      method: 'POST',
      url: '/v1/alerts',
      remoteAddress: '10.0.0.1',
      headers: { 'x-firebreak-secret': 'wrong-secret-0123456789' },
      payload: {},
    });
  const alerts: number[] = [];
  for (let i = 0; i < 9; i++) alerts.push((await alert()).statusCode);
  expect(alerts).toEqual([...Array(8).fill(403), 429]);
  const metrics = (await api.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.9.9.9' })).body;
  expect(metrics).toMatch(/firebreak_rate_limited_total\{scope="per principal"\} 2/);
  expect(metrics).toMatch(/firebreak_rate_limited_total\{scope="per source address"\} 4/);
  await api.close();
});

test('behind a trusted proxy, the per-address limit counts the clients it forwards, not the proxy', async () => {
  const api = await app({
    trustProxy: '10.1.0.1',
    rateLimit: { windowMs: 60_000, perPrincipal: 100, perAddress: 2, alertsPerAddress: 100 },
  });
  const get = (client: string, via = '10.1.0.1') =>
    api.inject({ method: 'GET', url: '/healthz', remoteAddress: via, headers: { 'x-forwarded-for': client } });
  const codes = [];
  for (const client of ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2', '203.0.113.2'])
    codes.push((await get(client)).statusCode);
  expect(codes).toEqual([200, 200, 429, 200, 200]);
  // From an untrusted address, X-Forwarded-For is ignored: a client cannot buy a fresh allowance by forging it.
  const forged = [];
  for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
    forged.push((await get(client, '10.2.0.9')).statusCode);
  expect(forged).toEqual([200, 200, 429]);
  await api.close();
});

test('request IDs: a UUID on every answer and in every log line; a safe incoming x-request-id is kept', async () => {
  const logs: string[] = [];
  const api = await app({}, logs);
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const ok = await api.inject({ method: 'GET', url: '/healthz' });
  const unauth = await api.inject({ method: 'GET', url: '/v1/incidents' });
  const missing = await api.inject({ method: 'GET', url: '/nowhere' });
  for (const res of [ok, unauth, missing]) expect(res.headers['x-request-id']).toMatch(uuid);
  expect(new Set([ok, unauth, missing].map((r) => r.headers['x-request-id'])).size).toBe(3);
  expect(unauth.json().error.requestId).toBe(unauth.headers['x-request-id']);

  const kept = await api.inject({
    method: 'GET',
    url: '/v1/runbooks',
    headers: { ...asBob, 'x-request-id': 'lb-7f3a9c2e.01' },
  });
  expect(kept.headers['x-request-id']).toBe('lb-7f3a9c2e.01');
  for (const unsafe of ['short', 'a'.repeat(65), 'has space in it', 'quote"injection-attempt', 'new\\nline-attempt']) {
    const res = await api.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': unsafe } });
    expect(res.headers['x-request-id']).toMatch(uuid);
  }
  // Every line logged while serving a request names it.
  const lines = logs.map((l) => JSON.parse(l));
  const ofRequests = lines.filter((l) => l.req || l.res || l.event === 'auth.refused');
  expect(ofRequests.length).toBeGreaterThanOrEqual(8);
  for (const l of ofRequests) expect(l.reqId).toEqual(expect.any(String));
  const keptLines = lines.filter((l) => l.reqId === 'lb-7f3a9c2e.01');
  expect(keptLines.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
  await api.close();
});

test('security headers on every answer, with a CSP that keeps the docs page to this origin', async () => {
  const api = await app();
  const docs = await api.inject({ method: 'GET', url: '/docs/' });
  expect(docs.statusCode).toBe(200);
  for (const res of [
    docs,
    await api.inject({ method: 'GET', url: '/docs/json' }),
    await api.inject({ method: 'GET', url: '/healthz' }),
    await api.inject({ method: 'GET', url: '/v1/incidents' }),
    await api.inject({ method: 'GET', url: '/nowhere' }),
  ]) {
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'strict-transport-security': expect.stringMatching(/max-age=\d+/),
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    // No host, scheme wildcard or https: source anywhere: the page fetches nothing from a third party.
    expect(csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1))).toEqual(expect.arrayContaining(["'self'"]));
    for (const source of csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1))) {
      expect(["'self'", "'none'", "'unsafe-inline'", 'data:']).toContain(source);
    }
  }
  // Everything the page loads comes from this origin, and the UI is told not to call its validator service.
  const html = docs.body;
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(assets.length).toBeGreaterThan(3);
  for (const a of assets) expect(a).not.toMatch(/^(https?:)?\/\//);
  const init = await api.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  expect(init.statusCode).toBe(200);
  expect(init.body).toMatch(/"validatorUrl":\s*null/);
  await api.close();
});

test('a signed SNS message older than the window is refused as a replay (403 stale), a fresh one accepted', async () => {
  const api = await app();
  const confirmation = (timestamp: string) =>
    signSns({ ...fixture('sns-subscription-confirmation.json'), Timestamp: timestamp }, cert.privateKey, {
      certUrl: CERT_URL,
    });
  const post = (body: unknown) =>
    api.inject({
      method: 'POST',
      url: '/v1/alerts/sns',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify(body),
    });
  const old = await post(confirmation(new Date(Date.now() - 61 * 60_000).toISOString()));
  expect(old.statusCode).toBe(403);
  expect(old.json().error).toMatchObject({ code: 'ALERT_FORBIDDEN', details: { reason: 'stale' } });
  const future = await post(confirmation(new Date(Date.now() + 10 * 60_000).toISOString()));
  expect([future.statusCode, future.json().error.details]).toEqual([403, { reason: 'stale' }]);
  expect((await post(confirmation(new Date().toISOString()))).statusCode).toBe(200);
  await api.close();
});

test('no secret in the logs: bearer tokens, the webhook secret and SNS confirmation tokens are never written', async () => {
  const logs: string[] = [];
  const confirmations: string[] = [];
  const api = await app(
    {
      alerts: {
        snsTopics: ['arn:aws:sns:*:111122223333:ops-*'],
        verifier: new SnsSignatureVerifier({ fetchCertificate: async () => cert.certPem }),
        webhookSecret: WEBHOOK_SECRET,
        // Fails like a real ConfirmSubscription might, so the error path gets logged too.
        confirmSubscription: async (_topic, token) => {
          confirmations.push(token);
          throw new Error('SNS said no');
        },
      },
    },
    logs,
  );
  const snsToken = `sns-confirmation-token-${randomUUID()}`;
  const confirmation = signSns(
    { ...fixture('sns-subscription-confirmation.json'), Token: snsToken, Timestamp: new Date().toISOString() },
    cert.privateKey,
    { certUrl: CERT_URL },
  );
  const sent = [
    await api.inject({ method: 'GET', url: '/v1/runbooks', headers: asAlice }),
    await api.inject({
      method: 'GET',
      url: '/v1/runbooks',
      headers: { authorization: 'Bearer wrong-token-must-not-leak-0123' },
    }),
    await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/executions',
      headers: asBob,
      payload: { params: {} },
    }),
    await api.inject({
      method: 'POST',
      url: '/v1/alerts',
      headers: { 'x-firebreak-secret': WEBHOOK_SECRET },
      payload: { not: 'an alert' },
    }),
    await api.inject({
      method: 'POST',
      url: '/v1/alerts',
      headers: { 'x-firebreak-secret': 'wrong-secret-must-not-leak' },
      payload: {},
    }),
    await api.inject({
      method: 'POST',
      url: '/v1/alerts/sns',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify(confirmation),
    }),
  ];
  expect(sent.map((r) => r.statusCode)).toEqual([200, 401, 403, 400, 403, 500]);
  expect(confirmations).toEqual([snsToken]);
  // Whatever a future log line might include: the logger itself censors these paths.
  api.log.info(
    { req: { headers: { ...asAlice, 'x-firebreak-secret': WEBHOOK_SECRET } }, body: { Token: snsToken } },
    'probe',
  );
  const text = logs.join('');
  expect(text).toMatch(/"msg":"probe"/);
  expect(text).toMatch(/"\[redacted\]"/);
  expect(text).toMatch(/refused: a valid bearer credential is required/);
  const secrets = [
    ...Object.keys(TOKENS),
    'wrong-token-must-not-leak',
    WEBHOOK_SECRET,
    'wrong-secret-must-not-leak',
    snsToken,
  ];
  expect(secrets.filter((s) => text.includes(s))).toEqual([]);
  // Nor in what the API answers.
  const answers = sent.map((r) => r.body).join('');
  expect(secrets.filter((s) => answers.includes(s))).toEqual([]);
  await api.close();
});

test('no secret in the workflow history of an alert-started incident', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app({ taskQueue });
    const name = uniqueId('history-secrets');
    const res = await api.inject({
      method: 'POST',
      url: '/v1/alerts',
      headers: { 'x-firebreak-secret': WEBHOOK_SECRET, ...asAlice },
      payload: { id: randomUUID(), name, state: 'firing', resource: { type: 'host', id: name } },
    });
    expect(res.statusCode).toBe(202);
    const { incidentId } = res.json().results[0];
    const handle = temporal.client.workflow.getHandle(incidentId);
    // The incident has taken the alert in (so the history holds it) before the export.
    const deadline = Date.now() + 30_000;
    let text = '';
    while (Date.now() < deadline) {
      text = readable(await handle.fetchHistory());
      if (text.includes(name)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(text).toContain(name);
    for (const secret of [WEBHOOK_SECRET, ...Object.keys(TOKENS)]) expect(text).not.toContain(secret);
    await handle.terminate('test done');
    await api.close();
  });
});

/** A history export as text, with every payload's data (base64 in the export) decoded, so a secret in one shows. */
function readable(history: unknown): string {
  return JSON.stringify(history, (key, value) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
}
