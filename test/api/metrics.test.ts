/**
 * /metrics on the real stack (dev server + moto): the gauges read from visibility follow an execution through its
 * gate, decision and release, drills left out; decisions, releases and dedup hits are counted as they pass through
 * the API; the worker times every step and its compensation on its own endpoint.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { createActivities } from '../../activities';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { openIncidentsQuery } from '../../api/visibility-metrics';
import { expr, type RunbookDefinition } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import { freePort } from '../../scripts/stack';
import type { SeedResult } from '../../scripts/seed';
import { createWorkerMetrics, serveWorkerMetrics } from '../../worker/metrics';
import { createWorker } from '../../worker/worker';
import { RUNBOOK_WORKFLOW } from '../../workflows/messages';
import { SA } from '../../workflows/search-attributes';
import { testAws, unique, type TestAws } from '../stack/aws';
import { testTemporal, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  // Two instances: the drill works on its own, so it never holds the resource lock the counted execution needs.
  env = await aws.seed('metrics', { instances: 2 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const TOKENS = {
  'sam-token-0123456789abcdef': { id: 'user:sam', roles: ['responder'] },
  'alice-token-0123456789abcd': { id: 'user:alice', roles: ['incident-commander'] },
};
const as = (who: 'sam' | 'alice') => ({
  authorization: `Bearer ${Object.keys(TOKENS).find((t) => t.startsWith(`${who}-`))!}`,
});
const SECRET = 'metrics-secret-0123456789';

/** A unique runbook, so that its counts are this test's alone: a gate, then a tag with a compensation. */
function runbook(id: string): RunbookDefinition {
  return {
    id,
    version: '1.0.0',
    title: `Metrics ${id}`,
    description: 'metrics test',
    incidentType: 'test',
    severity: 'SEV3',
    rollbackWindow: '1h',
    params: Type.Object({ instanceId: Type.String() }, { additionalProperties: false }),
    resource: { type: 'ec2:instance', param: 'instanceId' },
    steps: [
      {
        id: 'approve',
        kind: 'approval',
        title: 'Tag?',
        approvers: { roles: ['incident-commander'] },
        timeout: '10m',
        onTimeout: 'reject',
      },
      {
        id: 'tag',
        kind: 'action',
        title: 'Tag',
        action: 'ec2.tagInstance',
        with: { instanceId: expr('params.instanceId'), tags: { [`firebreak:${id}`]: 'tagged' } },
        rollback: {
          action: 'ec2.tagInstance',
          with: { instanceId: expr('params.instanceId'), tags: { [`firebreak:${id}`]: 'released' } },
        },
      },
    ],
  };
}

/** The value of one sample in a Prometheus text exposition; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('counts executions, approvals, releases, dedup hits and open incidents, without drills; times steps', async () => {
  const id = unique('metrics');
  const taskQueue = unique('tq');
  const workerMetrics = createWorkerMetrics();
  const worker = await createWorker({
    config: { temporalAddress: '', temporalNamespace: 'default', taskQueue, awsRegion: 'us-east-1' },
    connection: temporal.connection,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    clients: aws.clients,
    activities: createActivities(aws.clients),
    metrics: workerMetrics,
  });
  const api: FastifyInstance = await buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([runbook(id)]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'token', tokens: TokenStore.fromPlain(TOKENS) },
    metricsCacheMs: 0,
    alerts: { webhookSecret: SECRET, webhookHeader: 'x-firebreak-secret' },
  });
  const port = await freePort();
  const server = await serveWorkerMetrics(workerMetrics, {
    port,
    host: '127.0.0.1',
    healthy: () => worker.getState() === 'RUNNING',
  });
  const scrape = async () => (await api.inject({ method: 'GET', url: '/metrics' })).body;
  const executions = (text: string, status: string) => sample(text, 'firebreak_executions', { runbook: id, status });
  const drillId = unique('drill');

  try {
    await worker.runUntil(async () => {
      // Never run: every status is there, at 0.
      const before = await scrape();
      for (const s of ['running', 'waiting-approval', 'succeeded', 'rolled-back'])
        expect(executions(before, s)).toBe(0);
      expect(sample(before, 'firebreak_approvals_pending', { runbook: id })).toBe(0);
      const sev4Before = sample(before, 'firebreak_incidents_open', { severity: 'SEV4' })!;
      expect(sev4Before).toBeGreaterThanOrEqual(0);

      // A drill of the same runbook waits at the same gate; it must not show.
      await temporal.client.workflow.start(RUNBOOK_WORKFLOW, {
        taskQueue,
        workflowId: drillId,
        args: [
          {
            runbook: runbook(id),
            digest: 'drill',
            params: { instanceId: env.instances[1].instanceId },
            startedBy: { id: 'system:drill' },
          },
        ],
        typedSearchAttributes: [
          { key: SA.kind, value: 'runbook' },
          { key: SA.runbookId, value: id },
          { key: SA.status, value: 'running' },
          { key: SA.drill, value: drillId },
        ],
      });
      const started = await api.inject({
        method: 'POST',
        url: `/v1/runbooks/${id}/executions`,
        headers: as('sam'),
        payload: { params: { instanceId: env.instances[0].instanceId }, reason: 'metrics test' },
      });
      expect(started.statusCode).toBe(201);
      const executionId = started.json().executionId as string;

      const waiting = await until(scrape, (t) => executions(t, 'waiting-approval') === 1, 'waiting-approval 1');
      expect(sample(waiting, 'firebreak_approvals_pending', { runbook: id })).toBe(1);
      expect(executions(waiting, 'succeeded')).toBe(0);

      const decided = await api.inject({
        method: 'POST',
        url: `/v1/executions/${executionId}/approvals/approve`,
        headers: as('alice'),
        payload: { decision: 'approve', comment: 'go' },
      });
      expect(decided.statusCode).toBe(200);
      const succeeded = await until(scrape, (t) => executions(t, 'succeeded') === 1, 'succeeded 1');
      expect(executions(succeeded, 'waiting-approval')).toBe(0);
      expect(sample(succeeded, 'firebreak_approval_decision_seconds_count', { runbook: id, decision: 'approve' })).toBe(
        1,
      );

      const released = await api.inject({
        method: 'POST',
        url: `/v1/executions/${executionId}/rollback`,
        headers: as('alice'),
        payload: { reason: 'metrics test release' },
      });
      expect(released.statusCode).toBe(202);
      const rolledBack = await until(scrape, (t) => executions(t, 'rolled-back') === 1, 'rolled-back 1');
      expect(sample(rolledBack, 'firebreak_rollback_requests_total', { runbook: id, kind: 'release' })).toBe(1);

      // An alert delivered twice: both admitted, one incident (SEV4); the redelivery is the incident's duplicate.
      const alert = { id: unique('dup'), name: 'metrics dedup', state: 'firing', severity: 'SEV4' };
      let incidentId = '';
      for (let i = 0; i < 2; i++) {
        const res = await api.inject({
          method: 'POST',
          url: '/v1/alerts',
          headers: { 'x-firebreak-secret': SECRET },
          payload: alert,
        });
        expect(res.json().results[0].outcome).toBe('accepted');
        incidentId = res.json().results[0].incidentId;
      }
      // The gauge is namespace-wide, and test files running beside this one open and close SEV4 incidents too: it
      // must count this incident on top of every other open SEV4 incident at that moment (read just after the scrape).
      const othersOpen = () =>
        temporal.client.workflow
          .count(`${openIncidentsQuery('SEV4')} AND WorkflowId != '${incidentId}'`)
          .then((r) => r.count);
      let afterAlerts = '';
      await until(
        async () => {
          afterAlerts = await scrape();
          return sample(afterAlerts, 'firebreak_incidents_open', { severity: 'SEV4' })! - (await othersOpen());
        },
        (mine) => mine === 1,
        'SEV4 incident counted',
      );
      expect(
        sample(afterAlerts, 'firebreak_alerts_accepted_total', { endpoint: '/v1/alerts', outcome: 'accepted' }),
      ).toBe(2);

      // The worker timed the tag and its compensation, on its own endpoint.
      const workerText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const phase of ['step', 'rollback']) {
        expect(
          sample(workerText, 'firebreak_step_duration_seconds_count', {
            action: 'ec2.tagInstance',
            phase,
            outcome: 'succeeded',
          }),
        ).toBe(1);
      }
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    });
  } finally {
    await temporal.client.workflow
      .getHandle(drillId)
      .terminate('test over')
      .catch(() => undefined);
    server.close();
    await api.close();
  }
  expect((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status).toBeUndefined();
}, 120_000);
