/**
 * A noisy alert's history stays small: a burst of deliveries of one alert carries the payload (and its free text) only
 * on the first alert of each signal (a batch) and on changes of state, while every delivery is still counted.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { RunbookRegistry } from '../../runbooks/registry';
import type { NormalisedAlert } from '../../alerts/alert';
import { alertSignal } from '../../workflows/incident-messages';
import { testAws, unique, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

const SECRET = 'history-test-secret-0123456789';
let temporal: TestTemporal;
let aws: TestAws;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

/** Every alert carried by a signal (or an accepted Update, in older histories) in the history, as the workflow got them. */
async function alertsInHistory(
  incidentId: string,
): Promise<{ updates: number; alerts: NormalisedAlert[]; bytes: number }> {
  const history = await temporal.client.workflow.getHandle(incidentId).fetchHistory();
  let updates = 0;
  let bytes = 0;
  const alerts: NormalisedAlert[] = [];
  for (const e of history.events ?? []) {
    const signal = e.workflowExecutionSignaledEventAttributes;
    const args =
      (signal?.signalName === alertSignal.name ? signal.input?.payloads : undefined) ??
      e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads;
    if (!args) continue;
    updates++;
    for (const p of args) {
      bytes += p.data?.length ?? 0;
      alerts.push(...(JSON.parse(Buffer.from(p.data!).toString('utf8')) as NormalisedAlert[]));
    }
  }
  return { updates, alerts, bytes };
}

test('300 deliveries of one alert with a large payload: counted exactly, payload kept once per Update', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api: FastifyInstance = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      auth: { mode: 'none' },
      alerts: { webhookSecret: SECRET },
    });
    const name = unique('noisy-disk');
    const description = 'd'.repeat(16_000);
    const labels = { blob: 'l'.repeat(4_000) };
    const post = (id: string, state: 'firing' | 'resolved' = 'firing') =>
      api.inject({
        method: 'POST',
        url: '/v1/alerts',
        headers: { 'x-firebreak-secret': SECRET },
        payload: { id, name, state, description, labels, resource: { type: 'host', id: 'db-1' } },
      });
    const first = await post(unique('d'));
    const incidentId: string = first.json().results[0].incidentId;
    const burst = await Promise.all(Array.from({ length: 299 }, () => post(unique('d'))));
    expect(burst.map((r) => r.statusCode).filter((s) => s !== 202)).toEqual([]);
    const ok = await post(unique('d'), 'resolved');
    expect(ok.json().results[0]).toMatchObject({ incidentId, outcome: 'accepted' });
    // The incident handled them all (the API answered before), the return to OK last.
    const deadline = Date.now() + 60_000;
    let state = (await api.inject({ method: 'GET', url: `/v1/incidents/${incidentId}` })).json();
    while (state.lastDelivery?.outcome !== 'resolved' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      state = (await api.inject({ method: 'GET', url: `/v1/incidents/${incidentId}` })).json();
    }
    expect(state).toMatchObject({ alertCount: 301, refiredCount: 299, lastDelivery: { outcome: 'resolved' } });

    const { updates, alerts, bytes } = await alertsInHistory(incidentId);
    expect(alerts).toHaveLength(301);
    const kept = alerts.filter((a) => a.rawSummary?.kept !== 'omitted');
    // The opening alert, the first of each later Update, and the return to OK; never more than one per Update.
    expect(kept.length).toBeLessThanOrEqual(updates);
    // The payload (description and labels inside it) is over the cap: its first 16 KiB as text, and the digest.
    expect(alerts[0].rawSummary).toMatchObject({ kept: 'truncated', bytes: expect.any(Number) });
    expect(alerts[0].rawSummary!.bytes).toBeGreaterThan(20_000);
    expect(typeof alerts[0].raw).toBe('string');
    expect(alerts[0].description).toBe(description);
    expect(alerts.at(-1)).toMatchObject({ state: 'resolved', rawSummary: { kept: 'truncated' } });
    for (const a of alerts.filter((x) => x.rawSummary?.kept === 'omitted')) {
      expect([a.raw, a.description, a.labels]).toEqual([undefined, undefined, {}]);
      expect(a.rawSummary!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    // Uncompacted, each delivery would carry ~36 KB (description, labels, and the payload that repeats both).
    expect(bytes).toBeLessThan(updates * 45_000 + 301 * 1_500);
    expect(bytes).toBeLessThan(301 * 36_000 * 0.5);
    await api.close();
  });
});
