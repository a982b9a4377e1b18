/**
 * Every input is checked before it reaches Temporal: strict bodies and query strings, fixed vocabularies that list
 * their values, page tokens, impossible times, over-long IDs; and the errors Fastify and Node produce before any route
 * runs all answer in the standard shape (some over a real socket, since inject() never meets Node's HTTP parser).
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { EXECUTION_STATUSES, INCIDENT_STATUS_FILTERS } from '../../api/schemas';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { SA } from '../../workflows/search-attributes';
import { testTemporal, uniqueId, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
let api: FastifyInstance;
beforeAll(async () => {
  temporal = await testTemporal();
  api = await buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue: uniqueId('validation'),
    publicUrl: 'http://firebreak.test',
    bodyLimit: 64 * 1024,
    auth: {
      mode: 'token',
      tokens: TokenStore.fromPlain({ 'admin-token-0123456789': { id: 'ada', roles: ['admin'] } }),
    },
  });
  await api.ready();
});
afterAll(async () => {
  await api?.close();
  await temporal?.close();
});

const headers = { authorization: 'Bearer admin-token-0123456789' };
const get = (url: string) => api.inject({ method: 'GET', url, headers });
const post = (url: string, payload: unknown) =>
  api.inject({ method: 'POST', url, headers, payload: payload as object });

/** The standard error shape, with the request's ID in body and header alike. */
function expectError(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number) {
  expect(res.statusCode).toBe(status);
  const body = JSON.parse(res.body);
  expect(body).toEqual({
    error: expect.objectContaining({
      code: expect.any(String),
      message: expect.any(String),
      requestId: expect.any(String),
    }),
  });
  expect(Object.keys(body)).toEqual(['error']);
  expect(res.headers['x-request-id']).toBe(body.error.requestId);
  return body.error as { code: string; message: string; details?: { path: string; message: string }[] };
}

test('every write body refuses unknown properties (from the route table), and says which one', async () => {
  const spec = api.swagger() as { paths: Record<string, Record<string, any>> };
  const bodies = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.requestBody)
      .map(([method, op]) => ({ path, method, schema: op.requestBody.content['application/json'].schema })),
  );
  expect(bodies.length).toBeGreaterThanOrEqual(8);
  for (const b of bodies) {
    // The alert endpoints take third-party payloads (SNS, EventBridge, Alertmanager), checked by their parsers.
    if (b.path.startsWith('/v1/alerts')) continue;
    expect([b.method, b.path, b.schema.additionalProperties]).toEqual([b.method, b.path, false]);
  }
  const cases: [string, unknown][] = [
    ['/v1/runbooks/ec2-compromise/executions', { params: {}, reason: 'x', startedBy: 'someone-else' }],
    ['/v1/incidents/incident-x/severity', { severity: 'SEV1', reason: 'x', startedBy: 'someone-else' }],
    ['/v1/incidents/incident-x/resolve', { reason: 'x', startedBy: 'someone-else' }],
    ['/v1/executions/ec2-compromise-x/rollback', { reason: 'x', startedBy: 'someone-else' }],
    ['/v1/executions/ec2-compromise-x/approvals/approve', { decision: 'approve', startedBy: 'someone-else' }],
  ];
  for (const [url, payload] of cases) {
    const error = expectError(await post(url, payload), 400);
    expect(error.details).toContainEqual({ path: '/body/startedBy', message: 'is not allowed' });
  }
});

test('bodies are not coerced: a boolean or number where a string belongs is a 400 (found by schemathesis)', async () => {
  for (const [url, payload] of [
    ['/v1/incidents/incident-x/resolve', { reason: false }],
    ['/v1/incidents/incident-x/severity', { severity: 'SEV1', reason: 42 }],
    ['/v1/executions/ec2-compromise-x/rollback', { reason: ['a'] }],
    ['/v1/runbooks/ec2-compromise/executions', { params: {}, reason: true }],
  ] as const) {
    expect(expectError(await post(url, payload), 400).details).toEqual([
      { path: '/body/reason', message: 'must be string' },
    ]);
  }
  // Query strings are text: they are still read as the schema's types.
  expect((await get('/v1/incidents?pageSize=2')).statusCode).toBe(200);
  expect(expectError(await get('/v1/incidents?pageSize=two'), 400).details).toEqual([
    { path: '/querystring/pageSize', message: 'must be integer' },
  ]);
});

test('fixed vocabularies are enums: an unknown value is a 400 that lists the valid ones', async () => {
  const incidents = expectError(await get('/v1/incidents?status=bogus'), 400);
  expect(incidents.message).toContain(`must be one of: ${INCIDENT_STATUS_FILTERS.join(', ')}`);
  // `open` is an incident filter, not an execution status.
  const executions = expectError(await get('/v1/executions?status=open'), 400);
  expect(executions.message).toContain(`must be one of: ${EXECUTION_STATUSES.join(', ')}`);
  const severity = expectError(await get('/v1/incidents?severity=SEV9'), 400);
  expect(severity.details).toEqual([
    { path: '/querystring/severity', message: 'must be one of: SEV1, SEV2, SEV3, SEV4' },
  ]);
  const body = expectError(await post('/v1/incidents/incident-x/severity', { severity: 'HIGH', reason: 'x' }), 400);
  expect(body.message).toContain('must be one of: SEV1, SEV2, SEV3, SEV4');
  // A misspelt filter would silently list everything.
  expect(expectError(await get('/v1/incidents?stauts=opened'), 400).details).toEqual([
    { path: '/querystring/stauts', message: 'is not allowed' },
  ]);
  expect((await get('/v1/executions?status=waiting-approval')).statusCode).toBe(200);
});

test('status=open lists every incident that is not closed', async () => {
  const type = uniqueId('open-filter').replace(/-/g, '.');
  // Workflows with the incident search attributes and no worker: they stay running with the status they started with.
  const handles = await Promise.all(
    ['opened', 'triaged', 'contained', 'closed'].map((status) =>
      temporal.client.workflow.start('incidentWorkflow', {
        taskQueue: uniqueId('no-worker'),
        workflowId: uniqueId(`incident-${status}`),
        args: [],
        typedSearchAttributes: [
          { key: SA.kind, value: 'incident' },
          { key: SA.status, value: status },
          { key: SA.incidentType, value: type },
        ],
      }),
    ),
  );
  try {
    const ids = (status: string) => async () => {
      const res = await get(`/v1/incidents?type=${type}&status=${status}`);
      expect(res.statusCode).toBe(200);
      return res
        .json()
        .items.map((i: { status: string }) => i.status)
        .sort();
    };
    expect(await poll(ids('open'), (s) => s.length === 3)).toEqual(['contained', 'opened', 'triaged']);
    expect(await poll(ids('closed'), (s) => s.length === 1)).toEqual(['closed']);
    expect(await poll(ids('triaged'), (s) => s.length === 1)).toEqual(['triaged']);
  } finally {
    await Promise.all(handles.map((h) => h.terminate('test done')));
  }
});

test('a pageToken not of the shape Temporal issues is a 400 at once', async () => {
  const forged = [
    '!!!',
    'a'.repeat(5000),
    Buffer.from('not json at all').toString('base64url'),
    Buffer.from('[1,2]').toString('base64url'),
    // Padding and standard-alphabet characters: not what this API hands out.
    `${Buffer.from('{"a":1}').toString('base64')}==`,
    // JSON, but not of the shape Temporal issues: its decoder fails in a way its client retries until the deadline.
    ...['{"StartTime":5}', '{"CloseTime":"garbage"}', '{"RunID":5}', '{"StartTime":"2026-01-01"}', '{}', '{"x":1}'].map(
      (t) => Buffer.from(t).toString('base64url'),
    ),
  ];
  for (const token of forged) {
    const started = Date.now();
    const error = expectError(await get(`/v1/incidents?pageToken=${encodeURIComponent(token)}`), 400);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(Date.now() - started).toBeLessThan(1_000);
  }
  // A token of the right shape pages on (here past everything, so an empty page), promptly.
  const started = Date.now();
  const token = { CloseTime: '0001-01-01T00:00:00Z', StartTime: '0001-01-01T00:00:00Z', RunID: '' };
  const res = await get(`/v1/executions?pageToken=${Buffer.from(JSON.stringify(token)).toString('base64url')}`);
  expect([res.statusCode, res.json()]).toEqual([200, { items: [] }]);
  expect(Date.now() - started).toBeLessThan(3_000);
});

test('Temporal refusing a list request as INVALID_ARGUMENT is a 400, not a 500 or 503', async () => {
  // A stub service: no input that passes the API's checks makes the dev server answer INVALID_ARGUMENT (a token it
  // cannot decode fails with a code its client retries, which is why tokens are checked above).
  const refusing = await buildApp({
    client: {
      ...temporal.client,
      options: temporal.client.options,
      connection: temporal.client.connection,
      workflowService: {
        listWorkflowExecutions: async () => {
          throw Object.assign(new Error('3 INVALID_ARGUMENT: invalid page token'), { code: 3 });
        },
      },
    } as unknown as typeof temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue: 'unused',
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
  });
  const res = await refusing.inject({ method: 'GET', url: '/v1/incidents' });
  expect(expectError(res, 400).message).toMatch(/refused by Temporal: 3 INVALID_ARGUMENT/);
  await refusing.close();
});

test('impossible times are a 400, not a 500', async () => {
  for (const t of ['2016-12-31T23:59:60Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', 'yesterday', '2026-11-27']) {
    const error = expectError(await get(`/v1/incidents?since=${encodeURIComponent(t)}`), 400);
    expect(error.details).toEqual([{ path: '/querystring/since', message: 'must match format "date-time"' }]);
    expectError(await get(`/v1/executions?until=${encodeURIComponent(t)}`), 400);
  }
  expect((await get('/v1/incidents?since=2026-11-27T09:00:00.123%2B01:00')).statusCode).toBe(200);
});

test('IDs: too long or with odd characters a 400 in the standard shape, whether the schema or the router says so', async () => {
  // Up to the limit: looked up (404), including the 101–255 characters Fastify's default router refused with its 414.
  for (const n of [101, 255])
    expect(expectError(await get(`/v1/executions/${'e'.repeat(n)}`), 404).code).toBe('NOT_FOUND');
  for (const url of [
    `/v1/executions/${'e'.repeat(256)}`,
    `/v1/incidents/${'i'.repeat(256)}`,
    `/v1/executions/${'e'.repeat(2000)}`,
    `/v1/runbooks/${'r'.repeat(766)}`,
    '/v1/executions/a%20b',
    '/v1/incidents/%00',
  ]) {
    expect(expectError(await get(url), 400).code).toBe('VALIDATION_FAILED');
  }
  const bad = await post(`/v1/executions/x/approvals/${'s'.repeat(300)}`, { decision: 'approve' });
  expect(expectError(bad, 400).code).toBe('VALIDATION_FAILED');
  expect(expectError(await get('/v1/incidents/%E0%A4%A'), 400).code).toBe('BAD_URL');
});

test('framework errors answer in the standard shape: 404, 413, 415, JSON parse, 431 and malformed requests', async () => {
  expectError(await api.inject({ method: 'GET', url: '/v1/nothing-here', headers }), 404);
  expectError(await api.inject({ method: 'DELETE', url: '/v1/incidents', headers }), 404);
  const big = await post('/v1/incidents/incident-x/resolve', { reason: 'x'.repeat(70 * 1024) });
  expect(expectError(big, 413).code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
  const xml = await api.inject({
    method: 'POST',
    url: '/v1/incidents/incident-x/resolve',
    headers: { ...headers, 'content-type': 'application/xml' },
    payload: '<reason>x</reason>',
  });
  expect(expectError(xml, 415).code).toBe('FST_ERR_CTP_INVALID_MEDIA_TYPE');
  const broken = await api.inject({
    method: 'POST',
    url: '/v1/incidents/incident-x/resolve',
    headers: { ...headers, 'content-type': 'application/json' },
    payload: '{"reason": ',
  });
  expect(expectError(broken, 400).code).toMatch(/^FST_ERR_CTP_/);

  // Before any route: Node's HTTP parser, over a real socket.
  await api.listen({ host: '127.0.0.1', port: 0 });
  const { port } = api.server.address() as AddressInfo;
  const raw = async (request: string) => parseHttp(await exchange(port, request));
  const huge = await raw(`GET /v1/incidents HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  expect(expectError(huge, 431).code).toBe('HEADERS_TOO_LARGE');
  const longTarget = await raw(`GET /v1/incidents/${'i'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  expectError(longTarget, 431);
  const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
  expect(expectError(garbage, 400).code).toBe('BAD_REQUEST');
  // A long ID over the socket (the router's limit, not inject's view of it).
  const longId = await raw(`GET /v1/executions/${'e'.repeat(900)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  expect(expectError(longId, 400).code).toBe('VALIDATION_FAILED');
});

function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (data += chunk));
    socket.on('error', (err) => (data ? resolve(data) : reject(err)));
    socket.on('close', () => resolve(data));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(data)}`)));
    socket.write(request);
  });
}

function parseHttp(text: string) {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}
