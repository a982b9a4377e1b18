/**
 * Who may call what: every registered route × every kind of caller, generated from the app's own route table (a new
 * route cannot be forgotten), path spellings over a real socket, credentials (hashed tokens, JWTs), refusals logged and
 * counted without the secret.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { JwtVerifier } from '../../api/jwt';
import { PERMISSIONS, permissionsOf, type Permission } from '../../api/permissions';
import { MissingPermissionError, type AuthOptions } from '../../api/plugins/auth';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import type { Principal } from '../../workflows/messages';
import { testTemporal, type TestTemporal } from '../stack/temporal';

const ISSUER = 'https://idp.firebreak.test/';
const AUDIENCE = 'firebreak-api';

let temporal: TestTemporal;
let signingKey: KeyLike;
let foreignKey: KeyLike;
let jwks: { keys: unknown[] };

beforeAll(async () => {
  temporal = await testTemporal();
  const pair = await generateKeyPair('ES256');
  ({ privateKey: foreignKey } = await generateKeyPair('ES256'));
  signingKey = pair.privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
});
afterAll(async () => {
  await temporal?.close();
});

const TOKENS: Record<string, Principal> = {
  'viewer-token-0123456789': { id: 'user:vera', roles: ['viewer'] },
  'responder-token-0123456789': { id: 'user:rory', roles: ['responder'] },
  'commander-token-0123456789': { id: 'user:cass', roles: ['incident-commander'] },
  'admin-token-0123456789abc': { id: 'user:ada', roles: ['admin'] },
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function jwt(claims: Record<string, unknown>, opts: { key?: KeyLike; exp?: string | number } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(String(claims.sub ?? 'jwt-user'))
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(opts.key ?? signingKey);
}

async function app(auth?: AuthOptions, logs?: string[]): Promise<FastifyInstance> {
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs?.push(String(chunk));
      done();
    },
  });
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue: `auth-${Date.now()}`,
    publicUrl: 'http://firebreak.test',
    logger: logs ? { level: 'info', stream } : false,
    auth: auth ?? {
      mode: 'token',
      tokens: TokenStore.fromPlain(TOKENS),
      jwt: new JwtVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { json: jwks },
        rolesClaim: 'groups',
        principalClaim: 'sub',
        clockToleranceSec: 30,
        algorithms: ['ES256'],
      }),
    },
    alerts: { webhookSecret: 'webhook-secret-0123456789', snsTopics: ['arn:aws:sns:us-east-1:123456789012:*'] },
  });
}

/** A concrete URL for a route pattern (`:id` → a name that exists nowhere). */
const concrete = (url: string) => url.replace(/:(\w+)/g, (_m, name: string) => `no-such-${name}`);

test('every route declares a permission from the table; a route without one stops the app from starting', async () => {
  const api = await app();
  await api.ready();
  const routes = api.routePermissions();
  expect(routes.length).toBeGreaterThan(15);
  for (const r of routes) expect(PERMISSIONS).toContain(r.permission);
  // The ones that need no bearer credential are exactly these.
  const open = routes.filter((r) => r.permission === 'public' || r.permission === 'alerts:ingest');
  for (const r of open)
    expect(r.url).toMatch(/^(\/healthz|\/readyz|\/metrics|\/docs.*|\/console.*|\/v1\/alerts\/?.*)$/);
  expect(routes.filter((r) => r.url.startsWith('/v1/') && !r.url.startsWith('/v1/alerts')).length).toBeGreaterThan(8);
  for (const r of routes.filter((x) => x.url.startsWith('/v1/alerts'))) expect(r.permission).toBe('alerts:ingest');
  await api.close();

  const broken = await app();
  broken.get('/v1/forgotten', async () => ({ leaked: true }));
  await expect(broken.ready()).rejects.toThrow(MissingPermissionError);
  await expect(broken.ready()).rejects.toThrow(/GET \/v1\/forgotten/);
});

test('every route × no credential, bad credential, expired and foreign JWTs, wrong role, right role', async () => {
  const api = await app();
  await api.ready();
  const expired = await jwt({ sub: 'old', groups: ['admin'] }, { exp: Math.floor(Date.now() / 1000) - 3600 });
  const foreign = await jwt({ sub: 'mallory', groups: ['admin'] }, { key: foreignKey });
  const noRoles = await jwt({ sub: 'nobody', groups: [] });
  // Callers from least to most privileged: "wrong role" is the most privileged one lacking the permission.
  const callers: { name: string; principal: Principal; header: Record<string, string> }[] = [
    { name: 'jwt without roles', principal: { id: 'user:nobody', roles: [] }, header: bearer(noRoles) },
    ...Object.entries(TOKENS).map(([t, p]) => ({ name: p.roles![0], principal: p, header: bearer(t) })),
    {
      name: 'jwt admin',
      principal: { id: 'user:jane', roles: ['admin'] },
      header: bearer(await jwt({ sub: 'jane', groups: ['admin'] })),
    },
  ];
  let checked = 0;
  for (const route of api.routePermissions()) {
    const permission = route.permission as Permission;
    if (permission === 'alerts:ingest') continue; // below: these authenticate their senders themselves
    for (const method of route.method.split(',')) {
      const call = (headers: Record<string, string>) =>
        api.inject({
          method: method as 'GET',
          url: concrete(route.url),
          headers,
          ...(method === 'POST' ? { payload: {} } : {}),
        });
      const where = `${method} ${route.url} (${permission})`;
      const statusOf = async (headers: Record<string, string>) => `${where}: ${(await call(headers)).statusCode}`;
      if (permission === 'public') {
        expect(await statusOf({})).not.toMatch(/: 40[13]$/);
        continue;
      }
      expect(await statusOf({})).toBe(`${where}: 401`);
      expect(await statusOf(bearer('not-a-token-0123456789'))).toBe(`${where}: 401`);
      expect(await statusOf({ authorization: 'Basic dmVyYTpwdw==' })).toBe(`${where}: 401`);
      expect(await statusOf(bearer(expired))).toBe(`${where}: 401`);
      expect(await statusOf(bearer(foreign))).toBe(`${where}: 401`);
      const lacking = callers.filter((c) => !permissionsOf(c.principal).has(permission)).at(-1);
      const holding = callers.find((c) => permissionsOf(c.principal).has(permission))!;
      if (lacking)
        expect(`${lacking.name} → ${await statusOf(lacking.header)}`).toBe(`${lacking.name} → ${where}: 403`);
      // The right role gets past authorisation: whatever the handler answers for an unknown ID, it is not 401/403.
      expect(`${holding.name} → ${await statusOf(holding.header)}`).not.toMatch(/: 40[13]$/);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(8);
  await api.close();
});

test('alert endpoints ignore bearer credentials: an API token alone does not get an alert in', async () => {
  const api = await app();
  for (const url of ['/v1/alerts', '/v1/alerts/eventbridge']) {
    const res = await api.inject({ method: 'POST', url, headers: bearer('admin-token-0123456789abc'), payload: {} });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('ALERT_FORBIDDEN');
  }
  await api.close();
});

test('the table: viewer reads, responder starts and resolves, a gate role decides and releases, admin everything', () => {
  const perms = (roles: string[]) => [...permissionsOf({ id: 'user:x', roles })].sort();
  expect(perms(['viewer'])).toEqual(['approvals:read', 'executions:read', 'incidents:read', 'runbooks:read']);
  expect(perms(['responder'])).toEqual([
    'approvals:read',
    'executions:read',
    'executions:rollback',
    'executions:start',
    'incidents:read',
    'incidents:write',
    'runbooks:read',
  ]);
  expect(perms(['security-lead'])).toEqual([
    'approvals:decide',
    'approvals:read',
    'executions:read',
    'executions:release',
    'executions:rollback',
    'incidents:read',
    'runbooks:read',
  ]);
  expect(perms(['admin'])).toEqual(PERMISSIONS.filter((p) => p !== 'public' && p !== 'alerts:ingest').sort());
  expect(perms([])).toEqual([]);
});

/** One raw HTTP/1.1 request over a real socket, so request targets inject() would normalise reach the server as sent. */
function raw(port: number, requestLine: string, headers: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => {
      data += String(d);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        resolve(Number(m[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    const body = requestLine.startsWith('POST') ? '{"params":{},"reason":"x"}' : '';
    socket.write(
      [
        requestLine,
        'Host: 127.0.0.1',
        'Connection: close',
        ...(body ? ['Content-Type: application/json', `Content-Length: ${body.length}`] : []),
        ...headers,
        '',
        body,
      ].join('\r\n'),
    );
  });
}

test('path spellings never reach a handler unchecked (real socket)', async () => {
  const api = await app();
  await api.listen({ host: '127.0.0.1', port: 0 });
  const port = (api.server.address() as { port: number }).port;
  const targets = [
    'POST /%761/runbooks/ec2-compromise/executions',
    'POST /v1/runbooks/ec2-compromise/executions',
    'POST /v1/runbooks/ec2%2Dcompromise/executions',
    'GET /%761/executions',
    'GET /v1/%65xecutions',
    `GET http://127.0.0.1:${port}/v1/executions`,
    `POST http://127.0.0.1:${port}/v1/runbooks/ec2-compromise/executions`,
    'GET //v1/executions',
    'GET /v1//executions',
    'GET /V1/executions',
    'GET /v1/EXECUTIONS',
    'GET /v1/./executions',
    'GET /v1/../v1/executions',
    'GET /v1/alerts/../executions',
    'GET /v1/alerts/%2e%2e/executions',
    'GET /healthz/../v1/executions',
    'GET /docs/../v1/executions',
    'GET /console/../v1/executions',
    'GET /console/%2e%2e/v1/executions',
    'GET /console/..%2f..%2fpackage.json',
    'GET /v1/executions;',
    'GET /v1/executions;x=1',
    'GET /v1/executions?',
    'GET /v1/executions/',
    'GET /v1/executions%2F',
    'GET /v1/executions#',
    'HEAD /v1/executions',
    'HEAD /v1/incidents',
    'OPTIONS /v1/executions',
    'PROPFIND /v1/executions',
    'DELETE /v1/executions',
    'PUT /v1/runbooks/ec2-compromise/executions',
    'POST /v1/executions/x/rollback',
    'POST /v1/executions/x/approvals/y',
    'POST /v1/incidents/x/resolve',
  ];
  const answers: string[] = [];
  for (const t of targets) answers.push(`${t} → ${await raw(port, `${t} HTTP/1.1`)}`);
  // Anonymous: never 2xx or 3xx, never a 5xx; each answer is a refusal.
  for (const a of answers) expect(a).toMatch(/→ (400|401|403|404|405)$/);
  // And the router's own normalisations (percent-encoded letters, absolute-form) are checked like the plain path.
  expect(answers.filter((a) => a.includes('%761') || a.includes('http://')).every((a) => a.endsWith('401'))).toBe(true);
  // The console's page route is public for any ID: an ID spelled as a path to the API still gets only the page shell.
  const shell = await api.inject({ method: 'GET', url: '/console/executions/..%2f..%2fv1%2fexecutions' });
  expect([shell.statusCode, shell.headers['content-type']]).toEqual([200, expect.stringMatching(/^text\/html/)]);
  expect(shell.body).not.toContain('"items"');
  // A viewer on the same spellings of a write route is refused too (403), never 2xx.
  for (const t of [
    'POST /%761/runbooks/ec2-compromise/executions',
    `POST http://127.0.0.1:${port}/v1/runbooks/ec2-compromise/executions`,
  ]) {
    expect(await raw(port, `${t} HTTP/1.1`, ['Authorization: Bearer viewer-token-0123456789'])).toBe(403);
  }
  await api.close();
});

test('refusals are logged with principal, route, method and reason, counted, and never show the credential', async () => {
  const logs: string[] = [];
  const api = await app(undefined, logs);
  const secretish = 'wrong-token-SECRET-0123456789';
  expect((await api.inject({ method: 'GET', url: '/v1/executions', headers: bearer(secretish) })).statusCode).toBe(401);
  const forbidden = await api.inject({
    method: 'POST',
    url: '/v1/runbooks/ec2-compromise/executions',
    headers: bearer('viewer-token-0123456789'),
    payload: { params: {} },
  });
  expect(forbidden.statusCode).toBe(403);
  expect(forbidden.json()).toEqual({
    error: {
      code: 'FORBIDDEN',
      message: expect.stringContaining('executions:start is required'),
      requestId: forbidden.headers['x-request-id'],
    },
  });
  const unauth = await api.inject({ method: 'GET', url: '/v1/incidents' });
  expect(unauth.statusCode).toBe(401);
  expect(unauth.headers['www-authenticate']).toMatch(/^Bearer/);
  expect(unauth.json().error.code).toBe('UNAUTHENTICATED');

  const refusals = logs.map((l) => JSON.parse(l)).filter((l) => l.event === 'auth.refused');
  expect(refusals).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ status: 401, reason: 'unknown-token', route: '/v1/executions', method: 'GET' }),
      expect.objectContaining({
        status: 403,
        reason: 'missing-permission',
        principal: 'user:vera',
        route: '/v1/runbooks/:id/executions',
        method: 'POST',
      }),
      expect.objectContaining({ status: 401, reason: 'missing', route: '/v1/incidents' }),
    ]),
  );
  expect(logs.join('\n')).not.toContain(secretish);
  expect(logs.join('\n')).not.toContain('viewer-token-0123456789');

  const metrics = (await api.inject({ method: 'GET', url: '/metrics' })).body;
  expect(metrics).toMatch(
    /firebreak_auth_refused_total\{status="401",reason="unknown-token",route="\/v1\/executions"\} 1/,
  );
  expect(metrics).toMatch(
    /firebreak_auth_refused_total\{status="403",reason="missing-permission",route="\/v1\/runbooks\/:id\/executions"\} 1/,
  );
  await api.close();
});

test('JWTs: issuer, audience, expiry with clock skew, signature, roles from the configured claim', async () => {
  const verifier = new JwtVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { json: jwks },
    rolesClaim: 'realm.roles',
    principalClaim: 'sub',
    clockToleranceSec: 30,
    algorithms: ['ES256'],
  });
  const now = Math.floor(Date.now() / 1000);
  await expect(verifier.verify(await jwt({ sub: 'kim', realm: { roles: ['responder', '*'] } }))).resolves.toEqual({
    id: 'user:kim',
    roles: ['responder'],
  });
  // Expired 10 s ago: inside the 30 s skew, accepted; an hour ago: refused as expired.
  await expect(verifier.verify(await jwt({ sub: 'kim' }, { exp: now - 10 }))).resolves.toMatchObject({
    id: 'user:kim',
  });
  await expect(verifier.verify(await jwt({ sub: 'kim' }, { exp: now - 3600 }))).rejects.toMatchObject({
    problem: 'jwt-expired',
  });
  await expect(verifier.verify(await jwt({ sub: 'kim' }, { key: foreignKey }))).rejects.toMatchObject({
    problem: 'jwt-invalid',
  });
  const otherAudience = await new SignJWT({ sub: 'kim' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('someone-else')
    .setExpirationTime('5m')
    .sign(signingKey);
  await expect(verifier.verify(otherAudience)).rejects.toMatchObject({ problem: 'jwt-invalid' });
  const otherIssuer = await new SignJWT({ sub: 'kim' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer('https://evil.test/')
    .setAudience(AUDIENCE)
    .setExpirationTime('5m')
    .sign(signingKey);
  await expect(verifier.verify(otherIssuer)).rejects.toMatchObject({ problem: 'jwt-invalid' });
  // Unsigned ("alg": "none") is never accepted.
  const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ sub: 'kim', iss: ISSUER, aud: AUDIENCE, exp: now + 60 })).toString(
    'base64url',
  );
  await expect(verifier.verify(`${header}.${payload}.x`)).rejects.toMatchObject({ problem: 'jwt-invalid' });
});

test('a JWT is refused where no OIDC issuer is configured; mode none admits everyone as the local operator', async () => {
  const tokensOnly = await app({ mode: 'token', tokens: TokenStore.fromPlain(TOKENS) });
  const token = await jwt({ sub: 'jane', groups: ['admin'] });
  expect((await tokensOnly.inject({ method: 'GET', url: '/v1/runbooks', headers: bearer(token) })).statusCode).toBe(
    401,
  );
  await tokensOnly.close();
  const open = await app({ mode: 'none' });
  expect((await open.inject({ method: 'GET', url: '/v1/runbooks' })).statusCode).toBe(200);
  await open.close();
});
