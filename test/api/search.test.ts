/**
 * Searching past executions by who started them: the principal is a search attribute set with the start.
 */
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { unique } from '../stack/aws';
import { testTemporal, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

test('GET /v1/executions?startedBy= finds the executions a principal started, and only those', async () => {
  const alice = unique('alice');
  const bob = unique('bob');
  const api = await buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    // No worker: starting and listing need none; the executions are terminated at the end.
    taskQueue: unique('search-tq'),
    publicUrl: 'http://firebreak.test',
    auth: {
      mode: 'token',
      tokens: TokenStore.fromPlain({
        'alice-token-0123456789': { id: `user:${alice}`, roles: ['responder'] },
        'bob-token-0123456789ab': { id: `user:${bob}`, roles: ['responder'] },
      }),
    },
  });
  const start = async (token: string) => {
    const res = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/executions',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        params: {
          instanceId: `i-${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}`,
          notifyTopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
        },
      },
    });
    expect(res.statusCode).toBe(201);
    return res.json().executionId as string;
  };
  const mine = [await start('alice-token-0123456789'), await start('alice-token-0123456789')];
  const theirs = await start('bob-token-0123456789ab');

  const list = async (who: string) =>
    (
      await api.inject({
        method: 'GET',
        url: `/v1/executions?startedBy=${encodeURIComponent(who)}`,
        headers: { authorization: 'Bearer alice-token-0123456789' },
      })
    ).json();
  let found: { items: { id: string }[] } = { items: [] };
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    found = await list(`user:${alice}`);
    if (found.items?.length >= 2) break;
    await new Promise((r) => setTimeout(r, 250)); // visibility is eventually consistent
  }
  expect(found.items.map((i) => i.id).sort()).toEqual([...mine].sort());
  expect((await list(`user:${bob}`)).items.map((i: { id: string }) => i.id)).toEqual([theirs]);
  // A value outside the safe alphabet is refused before it reaches a visibility query.
  const bad = await api.inject({
    method: 'GET',
    url: `/v1/executions?startedBy=${encodeURIComponent("x' OR 1=1")}`,
    headers: { authorization: 'Bearer alice-token-0123456789' },
  });
  expect(bad.statusCode).toBe(400);
  for (const id of [...mine, theirs]) await temporal.client.workflow.getHandle(id).terminate('test done');
  await api.close();
});
