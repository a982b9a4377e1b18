/**
 * A drill goes through an incident marked as a drill: its state says so, FirebreakDrill is on the incident and its
 * runbook execution, the incident list shows it only with `?drill=true`, and neither the visibility gauges (open
 * incidents, executions) nor the API's decision histogram count it. Driven in manual mode, so the test can look while
 * the drill waits at its gate, and decide it through the API as a person would.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { runDrill } from '../../drills/run';
import { loadScenario } from '../../drills/scenario';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { SA } from '../../workflows/search-attributes';
import { emulatorConfig, unique } from '../stack/aws';
import { testTemporal, type TestTemporal } from '../stack/temporal';
import { poll } from '../stack/poll';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

it('a drill is an incident marked as a drill: listed on request, never counted', async () => {
  const { endpoint, region } = emulatorConfig();
  // Its own runbook ID, so the executions gauge of this runbook is this drill's alone.
  const runbookId = unique('drilled');
  const registry = new RunbookRegistry([{ ...ec2Compromise, id: runbookId }]);
  const runbook = registry.get(runbookId)!;
  const api: FastifyInstance = await buildApp({
    client: temporal.client,
    registry,
    taskQueue: unique('tq'),
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
    metricsCacheMs: 0,
  });
  const scrape = async () => (await api.inject({ method: 'GET', url: '/metrics' })).body;
  const count = async (query: string) =>
    Number((await temporal.client.workflowService.countWorkflowExecutions({ namespace: 'default', query })).count ?? 0);
  const severity = ec2Compromise.severity;

  const lines: string[] = [];
  const drill = runDrill({
    client: temporal.client,
    connection: temporal.connection,
    runbook,
    scenario: loadScenario('ec2-compromise'),
    endpoint,
    region,
    approvals: 'manual',
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    log: (l) => lines.push(l),
  });
  drill.catch(() => undefined); // awaited below; a failure meanwhile must not go unhandled

  // The drill waits at its gate for a person.
  await poll(
    'the gate',
    async () => lines,
    (l) => l.some((x) => x.includes('waits for a person')),
  );
  const [, drillId, incidentId, executionId] = /drill (\S+): incident (\S+), execution (\S+)/.exec(lines.join('\n'))!;

  // The incident: marked as a drill in its state and in visibility, like its runbook execution.
  const incident = (await api.inject({ method: 'GET', url: `/v1/incidents/${incidentId}` })).json();
  expect(incident).toMatchObject({ drill: drillId, status: 'runbook-running', automation: { executionId } });
  for (const id of [incidentId, executionId]) {
    const description = await temporal.client.workflow.getHandle(id).describe();
    expect({ id, drill: description.typedSearchAttributes.get(SA.drill) }).toEqual({ id, drill: drillId });
  }

  // Listed with ?drill=true (once visibility has it), and not in the default list or with ?drill=false.
  const list = async (query: string) =>
    (await api.inject({ method: 'GET', url: `/v1/incidents?${query}` })).json().items as {
      id: string;
      drill?: string;
    }[];
  const drills = await poll(
    'listed as a drill',
    () => list('drill=true&status=open&pageSize=500'),
    (items) => items.some((i) => i.id === incidentId),
  );
  expect(drills.find((i) => i.id === incidentId)).toMatchObject({ drill: drillId });
  expect(drills.every((i) => i.drill !== undefined)).toBe(true);
  for (const query of ['status=open&pageSize=500', 'drill=false&status=open&pageSize=500']) {
    const items = await list(query);
    expect({ query, listed: items.some((i) => i.id === incidentId) }).toEqual({ query, listed: false });
    expect(items.every((i) => i.drill === undefined)).toBe(true);
  }
  expect((await api.inject({ method: 'GET', url: '/v1/incidents?drill=maybe' })).statusCode).toBe(400);

  // Visibility holds an open incident and an execution of this runbook waiting, both drills: the gauges count neither.
  expect(await count(`WorkflowId = '${incidentId}' AND ExecutionStatus = 'Running'`)).toBe(1);
  expect(await count(`${SA.runbookId.name} = '${runbookId}' AND ${SA.status.name} = 'waiting-approval'`)).toBe(1);
  // Other test files open and close incidents of this severity meanwhile, so the gauge is compared with the real
  // (non-drill) open incidents counted just before and just after it, until the three agree. Counting the drill, which
  // is open and of this severity, would keep the gauge above that count, and the wait would fail.
  const openQuery =
    `${SA.kind.name} = 'incident' AND ExecutionStatus = 'Running' AND ${SA.severity.name} = '${severity}' ` +
    `AND ${SA.status.name} NOT IN ('resolved', 'closed')`;
  expect(await count(`${openQuery} AND WorkflowId = '${incidentId}'`)).toBe(1);
  await poll(
    'the open-incidents gauge equals the real open incidents',
    async () => {
      const before = await count(`${openQuery} AND ${SA.drill.name} IS NULL`);
      const gauge = sample(await scrape(), 'firebreak_incidents_open', { severity });
      const after = await count(`${openQuery} AND ${SA.drill.name} IS NULL`);
      return { before, gauge, after };
    },
    (v) => v.before === v.gauge && v.gauge === v.after,
  );
  const during = await scrape();
  expect(sample(during, 'firebreak_executions', { runbook: runbookId, status: 'waiting-approval' })).toBe(0);

  // A person decides the drill's gate through the API: the decision is not timed in the real metrics.
  const decided = await api.inject({
    method: 'POST',
    url: `/v1/executions/${executionId}/approvals/approve-isolation`,
    payload: { decision: 'approve', comment: 'drill' },
  });
  expect(decided.statusCode).toBe(200);
  const card = await drill;
  expect(card).toMatchObject({ drillId, incidentId, executionId, status: 'rolled-back', passed: true });
  expect(sample(await scrape(), 'firebreak_approval_decision_seconds_count', { runbook: runbookId })).toBeUndefined();

  // The drill is over: its incident closed, still marked as a drill; no evidence archive for a drill.
  const closed = (await api.inject({ method: 'GET', url: `/v1/incidents/${incidentId}` })).json();
  expect(closed).toMatchObject({ drill: drillId, status: 'closed', workflowStatus: 'COMPLETED' });
  await api.close();
}, 240_000);
