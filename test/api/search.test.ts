/**
 * Searching past executions by who started them (a search attribute set with the start) and by the account and region
 * they act in (set with the start by the API, upserted by the workflow for executions an incident starts).
 */
import { randomInt } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ownTargetOf } from '../../activities/resource';
import type { ActionActivities } from '../../activities/schemas';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { DEFAULT_ACCOUNT, testAws, unique, type TestAws } from '../stack/aws';
import { startRunbook, testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
let aws: TestAws;
beforeAll(async () => {
  temporal = await testTemporal();
  aws = testAws();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
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

test("GET /v1/executions?account=&region= finds executions by where they act, named or the worker's own", async () => {
  const who = unique('carol');
  // An account no other test uses, so the visibility store (shared by the test files) holds only these.
  const elsewhere = String(randomInt(100_000_000_000, 999_999_999_999));
  const rb = new RunbookRegistry([ec2Compromise]).get('ec2-compromise')!;
  const params = () => ({
    instanceId: `i-${Math.random().toString(16).slice(2, 18).padEnd(16, '0')}`,
    notifyTopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
  });
  // The runbooks' steps are not this test's subject (their made-up instances exist nowhere): each action refuses at
  // once, without AWS, so the worker only runs the workflows whose search attributes are searched.
  const refuse = (real: ActionActivities): ActionActivities =>
    Object.fromEntries(
      Object.keys(real).map((name) => [
        name,
        async () => {
          throw ApplicationFailure.nonRetryable(`${name}: not run in the search test`, 'NotInThisTest');
        },
      ]),
    ) as unknown as ActionActivities;
  await withWorker(temporal, { clients: aws.clients, activities: refuse }, async ({ taskQueue }) => {
    const api = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([ec2Compromise]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      ownTarget: ownTargetOf(aws.clients.sts, 'us-east-1'),
      auth: {
        mode: 'token',
        tokens: TokenStore.fromPlain({ 'carol-token-0123456789': { id: `user:${who}`, roles: ['responder'] } }),
      },
    });
    const headers = { authorization: 'Bearer carol-token-0123456789' };
    const start = async (target?: { account: string; region: string }) => {
      const res = await api.inject({
        method: 'POST',
        url: '/v1/runbooks/ec2-compromise/executions',
        headers,
        payload: { params: params(), target },
      });
      expect(res.statusCode).toBe(201);
      return res.json().executionId as string;
    };
    const named = await start({ account: elsewhere, region: 'eu-west-3' });
    const own = await start();
    // As an incident starts one: no account or region with the start; the workflow upserts what its target names.
    const fromIncident = await startRunbook(temporal, taskQueue, {
      runbook: rb.definition,
      digest: rb.digest,
      params: params(),
      startedBy: { id: `alert:${who}` },
      reason: 'test',
      target: { account: elsewhere, region: 'ap-south-1' },
    });

    type Item = { id: string; account?: string; region?: string };
    const list = async (query: string): Promise<Item[]> =>
      (await api.inject({ method: 'GET', url: `/v1/executions?${query}`, headers })).json().items;
    const until = async (query: string, count: number): Promise<Item[]> => {
      let items: Item[] = [];
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        items = await list(query);
        if (items.length >= count) break;
        await new Promise((r) => setTimeout(r, 250)); // visibility is eventually consistent
      }
      return items;
    };
    const inElsewhere = await until(`account=${elsewhere}`, 2);
    expect(inElsewhere.map((i) => i.id).sort()).toEqual([named, fromIncident.workflowId].sort());
    expect(inElsewhere.find((i) => i.id === fromIncident.workflowId)).toMatchObject({
      account: elsewhere,
      region: 'ap-south-1',
    });
    expect((await list(`account=${elsewhere}&region=eu-west-3`)).map((i) => i.id)).toEqual([named]);
    // No target: the worker's own account (moto's default) and region, resolved by the API.
    const mine = await until(`account=${DEFAULT_ACCOUNT}&region=us-east-1&startedBy=user:${who}`, 1);
    expect(mine.map((i) => i.id)).toEqual([own]);
    expect((await api.inject({ method: 'GET', url: '/v1/executions?account=12345', headers })).statusCode).toBe(400);
    for (const id of [named, own, fromIncident.workflowId]) {
      await temporal.client.workflow
        .getHandle(id)
        .terminate('test done')
        .catch(() => undefined); // already failed (its steps refuse)
    }
    await api.close();
  });
});
