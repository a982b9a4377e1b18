/**
 * Forensics on a live execution (the jest stack's Temporal and moto): the API's timeline equals the one rebuilt from
 * its own history export, the export's hash holds, state at a point, and the pinned definition after the runbook file
 * changed. Then the `firebreak` CLI, spawned as a user runs it, against the same app on a real socket.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { parseHistory, sha256Hex } from '../../forensics/history';
import { buildTimeline, type Timeline } from '../../forensics/timeline';
import { canonicalJson } from '../../cli/output';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import type { RunbookDefinition } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('forensics', { instances: 1 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const ALICE = 'commander-token-0123456789';
const asAlice = { authorization: `Bearer ${ALICE}` };
// Four-eyes: the starter (alice) may not approve her own gate; carol decides it.
const CAROL = 'security-lead-token-0123456789';
const asCarol = { authorization: `Bearer ${CAROL}` };

function app(taskQueue: string, runbook: RunbookDefinition = ec2Compromise): Promise<FastifyInstance> {
  return buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([runbook]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: {
      mode: 'token',
      tokens: TokenStore.fromPlain({
        [ALICE]: { id: 'user:alice', roles: ['responder', 'incident-commander'] },
        [CAROL]: { id: 'user:carol', roles: ['security-lead'] },
      }),
    },
  });
}

async function poll(api: FastifyInstance, id: string, predicate: (body: any) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.inject({ method: 'GET', url: `/v1/executions/${id}`, headers: asAlice });
    if (res.statusCode === 200 && predicate(res.json())) return res.json();
    if (Date.now() > deadline) throw new Error(`timed out; last ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const BIN = path.join(__dirname, '..', '..', 'cli', 'bin.js');
function cli(args: string[], extraEnv: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, FIREBREAK_CONFIG: '/nonexistent/firebreak.json', ...extraEnv }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('a released execution: timeline from the API equals the one rebuilt from its exported history; the CLI agrees', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await app(taskQueue);
    const started = await api.inject({
      method: 'POST',
      url: '/v1/runbooks/ec2-compromise/executions',
      headers: asAlice,
      payload: {
        params: { instanceId: env.instances[0].instanceId, notifyTopicArn: env.topicArn },
        reason: 'forensics',
      },
    });
    const { executionId, digest } = started.json();
    await poll(api, executionId, (b) => b.status === 'waiting-approval');
    const approved = await api.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/approvals/approve-isolation`,
      headers: asCarol,
      payload: { decision: 'approve', comment: 'go' },
    });
    expect(approved.statusCode).toBe(200);
    await poll(api, executionId, (b) => b.status === 'succeeded');
    const released = await api.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/rollback`,
      headers: asAlice,
      payload: { reason: 'release after review' },
    });
    expect(released.statusCode).toBe(202);
    const final = await poll(api, executionId, (b) => b.status === 'rolled-back' && b.workflowStatus === 'COMPLETED');

    const res = await api.inject({ method: 'GET', url: `/v1/executions/${executionId}/timeline`, headers: asAlice });
    expect(res.statusCode).toBe(200);
    const timeline: Timeline = res.json();
    // The worker's own final state and the history-only timeline agree, step by step.
    expect(timeline.execution!.steps.map((s) => [s.id, s.status, s.attempts])).toEqual(
      final.steps.map((s: any) => [s.id, s.status, s.attempts]),
    );
    expect(timeline.execution!.approvals).toEqual([
      expect.objectContaining({
        stepId: 'approve-isolation',
        decision: 'approve',
        comment: 'go',
        decidedBy: final.steps.find((s: any) => s.id === 'approve-isolation').approval.decidedBy,
      }),
    ]);
    expect(timeline.execution!.rollbackRequests).toEqual([
      expect.objectContaining({
        reason: 'release after review',
        requestedBy: expect.objectContaining({ id: 'user:alice' }),
      }),
    ]);
    expect(timeline.execution!.runbook.digest).toBe(digest);

    // The raw history, hash in a header; the timeline rebuilt from those bytes is the API's.
    const history = await api.inject({ method: 'GET', url: `/v1/executions/${executionId}/history`, headers: asAlice });
    expect(history.statusCode).toBe(200);
    expect(history.headers['x-content-sha256']).toBe(sha256Hex(history.rawPayload));
    expect(history.headers['x-temporal-run-id']).toBe(timeline.runs[0].runId);
    const fromFile = buildTimeline([
      { workflowId: executionId, runId: timeline.runs[0].runId, history: parseHistory(history.body) },
    ]);
    expect(fromFile).toEqual(timeline);
    expect(timeline.runs[0].historySha256).toBe(history.headers['x-content-sha256']);

    // State at a point: while the approval was pending.
    const timer = timeline.timers.find((t) => t.purpose === 'approval:approve-isolation')!;
    const then = await api.inject({
      method: 'GET',
      url: `/v1/executions/${executionId}/timeline?at=${timer.eventId}`,
      headers: asAlice,
    });
    expect(then.json().execution.steps.find((s: any) => s.id === 'approve-isolation').status).toBe('waiting-approval');
    expect(then.json().outcome.workflowStatus).toBe('running');
    const bad = await api.inject({
      method: 'GET',
      url: `/v1/executions/${executionId}/timeline?at=soon`,
      headers: asAlice,
    });
    expect(bad.statusCode).toBe(400);
    const wrongKind = await api.inject({
      method: 'GET',
      url: `/v1/incidents/${executionId}/timeline`,
      headers: asAlice,
    });
    expect(wrongKind.statusCode).toBe(404);

    // The runbook file is edited afterwards (a restarted API serves the new one): the timeline keeps the pinned one.
    const edited: RunbookDefinition = { ...ec2Compromise, version: '9.9.9', steps: ec2Compromise.steps.slice(0, 2) };
    const api2 = await app(taskQueue, edited);
    const later = await api2.inject({ method: 'GET', url: `/v1/executions/${executionId}/timeline`, headers: asAlice });
    expect(later.json()).toEqual(timeline);
    await api2.close();

    // The CLI, over a real socket.
    await api.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.server.address() as { port: number };
    const target = { FIREBREAK_URL: `http://127.0.0.1:${port}`, FIREBREAK_TOKEN: ALICE };
    const dir = mkdtempSync(path.join(tmpdir(), 'firebreak-export-'));
    try {
      const shown = await cli(['timeline', executionId, '--json'], target);
      expect(shown).toMatchObject({ code: 0, stderr: '' });
      expect(shown.stdout).toBe(canonicalJson(timeline));

      const exported = await cli(['export', executionId, dir], target);
      expect(exported.code).toBe(0);
      const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
      expect(sums.map((l) => l.split('  ')[1])).toEqual(['history.json', 'timeline.json', 'evidence.json']);
      for (const line of sums) {
        const [hash, name] = line.split('  ');
        expect(sha256Hex(readFileSync(path.join(dir, name)))).toBe(hash);
      }
      expect(readFileSync(path.join(dir, 'history.json'))).toEqual(history.rawPayload);
      const evidence = JSON.parse(readFileSync(path.join(dir, 'evidence.json'), 'utf8'));
      const snapshotStep = timeline.execution!.steps.find((s) => s.id === 'snapshot-volumes')!;
      expect(evidence.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            kind: 'step-output',
            sha256: sha256Hex(JSON.stringify(snapshotStep.output)),
            ids: (snapshotStep.output as any).snapshots.map((s: any) => s.snapshotId),
          }),
        ]),
      );

      // Import: the same file gives the same timeline, byte for byte, without the API.
      const imported = await cli(['timeline', '--file', path.join(dir, 'history.json'), '--json']);
      expect(imported.code).toBe(0);
      expect(imported.stdout).toBe(readFileSync(path.join(dir, 'timeline.json'), 'utf8'));

      const human = await cli(['timeline', '--file', dir]);
      expect(human.stdout).toContain(`| approve-isolation | approval | succeeded | 0 |`);

      const replayed = await cli(['replay', path.join(dir, 'history.json')]);
      expect(replayed).toMatchObject({ code: 0, stderr: '' });
      expect(replayed.stdout).toMatch(/: identical \(runbookWorkflow, \d+ events\)/);
      // Split between two processes (the second a child of the CLI's), the same verdicts in the same order.
      const file = path.join(dir, 'history.json');
      const split = await cli(['replay', file, file, file, '--processes', '2', '--json']);
      expect(split).toMatchObject({ code: 0, stderr: '' });
      expect(
        (JSON.parse(split.stdout) as { name: string; identical: boolean }[]).map((v) => [v.name, v.identical]),
      ).toEqual([file, file, file].map((f) => [f, true]));
      expect((await cli(['replay', file, '--processes', '0'])).code).toBe(2);

      // Refusals: one line, no stack, exit 1; usage errors exit 2.
      const missing = await cli(['report', executionId], target);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`firebreak: 404 NOT_FOUND: no incident ${executionId}\n`);
      const anonymous = await cli(['timeline', executionId], { FIREBREAK_URL: target.FIREBREAK_URL });
      expect(anonymous.code).toBe(1);
      expect(anonymous.stderr).toMatch(/^firebreak: 401 UNAUTHENTICATED: .*\n$/);
      const usage = await cli(['timeline', executionId, '--at', 'whenever'], target);
      expect(usage.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await api.close();
    }
  });
});
