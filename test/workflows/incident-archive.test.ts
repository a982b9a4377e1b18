/**
 * An incident that continued as new closes: its evidence bundle (every run's history, timeline, evidence manifest,
 * sums) appears in the evidence store, each file's SHA-256 recomputed matches, the histories are the server's bytes,
 * and the timeline, export and report span both runs. Archiving again is a no-op; a tampered bundle is refused.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { archiveIncident, EvidenceMismatchError, occurrenceFolder, verifyArchive } from '../../forensics/archive';
import { parseSums } from '../../forensics/bundle';
import { fetchRunHistory, serialiseHistory, sha256Hex } from '../../forensics/history';
import { defineRunbook, expr } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import type { SeedResult } from '../../scripts/seed';
import { archiveWorkflowId } from '../../workflows/archive';
import { testAws, unique, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';
import { poll } from '../stack/poll';

const SECRET = 'archive-test-secret-0123456789';

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;
let store: string;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('archive', { instances: 1 });
  store = mkdtempSync(path.join(tmpdir(), 'firebreak-evidence-'));
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
  if (store) rmSync(store, { recursive: true, force: true });
});

/** One tagging step, no approval, no rollback window: the execution closes at once. */
const tagging = defineRunbook({
  id: 'archive-tag',
  version: '1.0.0',
  title: 'tag the instance',
  description: 'tag',
  incidentType: 'archive-test',
  severity: 'SEV3',
  params: Type.Object({ instanceId: Type.String() }),
  resource: { type: 'ec2:instance', param: 'instanceId' },
  triggers: [{ sources: ['generic'], alarmNames: ['archive-*'], params: { instanceId: expr('alert.resource.id') } }],
  steps: [
    {
      id: 'tag',
      kind: 'action',
      action: 'ec2.tagInstance',
      with: { instanceId: expr('params.instanceId'), tags: { archived: 'yes' } },
    },
  ],
});

/** Every file under `dir`, relative, with its modification time. */
function listing(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(dir, p)] = statSync(p).mtimeMs;
    }
  };
  walk(dir);
  return out;
}

test('a closed two-run incident is archived once, with correct checksums, spanning both runs', async () => {
  await withWorker(temporal, { clients: aws.clients, evidenceDir: store }, async ({ taskQueue }) => {
    const api: FastifyInstance = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([tagging]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      auth: { mode: 'none' },
      logger: false,
      notifyTopics: { default: env.topicArn },
      alerts: { webhookSecret: SECRET, webhookHeader: 'x-firebreak-secret' },
      // Two updates a run: the opening alert and one re-firing make the incident continue as new.
      incidentHistory: { maxUpdates: 2 },
    });
    const name = unique('archive');
    const instanceId = env.instances[0].instanceId;
    const get = async (id: string) => (await api.inject({ method: 'GET', url: `/v1/incidents/${id}` })).json();
    /** Delivers an alert; admission answers at once, so what became of it is read from the incident. */
    const post = async (state: 'firing' | 'resolved') => {
      const deliveryId = randomUUID();
      const res = await api.inject({
        method: 'POST',
        url: '/v1/alerts',
        headers: { 'x-firebreak-secret': SECRET },
        payload: { id: deliveryId, name, state, resource: { type: 'ec2:instance', id: instanceId } },
      });
      expect(res.statusCode).toBe(202);
      const { incidentId } = res.json().results[0] as { incidentId: string };
      const seen = await poll(
        `delivery ${deliveryId} handled`,
        () => get(incidentId),
        (b) => b.lastDelivery?.deliveryId === deliveryId && (state === 'resolved' || b.automation?.executionId),
      );
      return {
        incidentId,
        outcome: seen.lastDelivery.outcome as string,
        automation: { executionId: seen.automation?.executionId as string },
      };
    };

    const opened = await post('firing');
    expect(opened.outcome).toBe('opened');
    const id = opened.incidentId;
    expect((await post('firing')).outcome).toBe('refired');
    await poll(
      'second run',
      () => get(id),
      (b) => (b.run ?? 1) >= 2,
    );
    expect((await post('resolved')).outcome).toBe('resolved');
    const closed = await poll(
      'closed',
      () => get(id),
      (b) => b.workflowStatus === 'COMPLETED',
    );
    expect(closed).toMatchObject({ status: 'closed', run: 2, automation: { status: 'succeeded' } });

    // The archive workflow runs once the incident has closed; its result names the folder.
    const folder = occurrenceFolder(id, closed.occurrence);
    const archived = await temporal.client.workflow.getHandle(archiveWorkflowId(id, closed.occurrence)).result();
    expect(archived).toMatchObject({ path: folder, outcome: 'archived' });
    const dir = path.join(store, folder);

    // Every listed file's SHA-256, recomputed; nothing unlisted; the sub-bundles' own sums hold too.
    const sums = parseSums(readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8'));
    for (const { name: file, sha256 } of sums) {
      expect({ file, sha256: sha256Hex(readFileSync(path.join(dir, file))) }).toEqual({ file, sha256 });
    }
    expect(Object.keys(listing(dir)).sort()).toEqual([...sums.map((s) => s.name), 'SHA256SUMS'].sort());
    for (const sub of ['incident', 'execution']) {
      for (const { name: file, sha256 } of parseSums(readFileSync(path.join(dir, sub, 'SHA256SUMS'), 'utf8'))) {
        expect(sha256Hex(readFileSync(path.join(dir, sub, file)))).toBe(sha256);
      }
    }

    // Both runs of the incident, as the server holds them, oldest first; the runbook execution's history.
    const timeline = (await api.inject({ method: 'GET', url: `/v1/incidents/${id}/timeline` })).json();
    expect(timeline.runs).toHaveLength(2);
    expect(timeline.runs[1].runId).toBe(closed.runId);
    for (const [i, run] of timeline.runs.entries()) {
      const server = serialiseHistory(await fetchRunHistory(temporal.client, id, run.runId));
      expect(readFileSync(path.join(dir, 'incident', `history-${i + 1}.json`), 'utf8')).toBe(server);
      expect(sha256Hex(server)).toBe(run.historySha256);
    }
    const execution = serialiseHistory(await fetchRunHistory(temporal.client, opened.automation.executionId));
    expect(readFileSync(path.join(dir, 'execution', 'history.json'), 'utf8')).toBe(execution);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'ARCHIVE.json'), 'utf8'));
    expect(manifest).toMatchObject({
      incidentId: id,
      occurrence: closed.occurrence,
      incidentRuns: timeline.runs.map((r: { runId: string }) => r.runId),
      executionId: opened.automation.executionId,
    });

    // The timeline spans both runs: the first run's alerts and the second run's resolution and close.
    const archivedTimeline = JSON.parse(readFileSync(path.join(dir, 'incident', 'timeline.json'), 'utf8'));
    expect(archivedTimeline.runs).toEqual(timeline.runs);
    expect(archivedTimeline.incident.alerts.length).toBe(3);
    // Admitted as signals, the alerts' outcomes are read from history alone, as the incident decided them.
    expect(archivedTimeline.incident.alerts.map((a: { outcome: string }) => a.outcome)).toEqual([
      'opened',
      'refired',
      'resolved',
    ]);
    expect(archivedTimeline.incident.status).toBe('closed');
    expect(archivedTimeline.incident.child).toMatchObject({ workflowId: opened.automation.executionId });
    const entryRuns = new Set(archivedTimeline.entries.map((e: { runId: string }) => e.runId));
    expect([...entryRuns]).toEqual(timeline.runs.map((r: { runId: string }) => r.runId));
    // The report quotes both runs' histories as evidence.
    const report = (await api.inject({ method: 'GET', url: `/v1/incidents/${id}/report?format=json` })).json();
    const historyEvidence = report.evidence.filter((e: { kind: string }) => e.kind === 'history');
    for (const run of timeline.runs) {
      expect(historyEvidence).toContainEqual(expect.objectContaining({ sha256: run.historySha256 }));
    }

    // A second archive run is a no-op: same answer, no file written or touched.
    const before = listing(dir);
    const request = { incidentId: id, occurrence: closed.occurrence, runId: closed.runId };
    const again = await archiveIncident(temporal.client, store, {
      ...request,
      executionId: opened.automation.executionId,
    });
    expect(again).toMatchObject({ path: folder, outcome: 'already-archived' });
    expect(listing(dir)).toEqual(before);
    expect(existsSync(path.join(store, '.partial')) ? readdirSync(path.join(store, '.partial')) : []).toEqual([]);

    // A bundle altered in the store is never overwritten: the archive refuses and names the file.
    const copy = mkdtempSync(path.join(tmpdir(), 'firebreak-evidence-tampered-'));
    try {
      cpSync(store, copy, { recursive: true });
      writeFileSync(path.join(copy, folder, 'incident', 'history-1.json'), '{"events":[]}\n');
      expect(verifyArchive(path.join(copy, folder))).toEqual(['incident/history-1.json: SHA-256 differs']);
      await expect(archiveIncident(temporal.client, copy, request)).rejects.toBeInstanceOf(EvidenceMismatchError);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    await api.close();
  });
}, 180_000);
