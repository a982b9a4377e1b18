/**
 * A drill end to end on the jest stack (dev server + moto): the ec2-compromise scenario in a throw-away account,
 * approved by the drill approver, released, scored; the account's instance is back as it was, checked through AWS.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { runbooks } from '../../runbooks';
import type { Step } from '../../runbooks/dsl/types';
import { RunbookRegistry } from '../../runbooks/registry';
import { formatScorecard, runDrill } from '../../drills/run';
import { loadScenario, scenarioNames } from '../../drills/scenario';
import { SA } from '../../workflows/search-attributes';
import { emulatorConfig } from '../stack/aws';
import { testTemporal, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

it('ships a valid scenario for every runbook it names', () => {
  const registry = new RunbookRegistry(runbooks);
  expect(scenarioNames()).toContain('ec2-compromise');
  for (const name of scenarioNames()) expect(registry.get(loadScenario(name).runbook)).toBeDefined();
  expect(() => loadScenario('/nonexistent.json')).toThrow(/cannot read drill scenario/);
});

it('runs ec2-compromise in a throw-away account and scores it', async () => {
  const { endpoint, region } = emulatorConfig();
  const scenario = loadScenario('ec2-compromise');
  const runbook = new RunbookRegistry(runbooks).get(scenario.runbook)!;
  const lines: string[] = [];
  const card = await runDrill({
    client: temporal.client,
    connection: temporal.connection,
    runbook,
    scenario,
    endpoint,
    region,
    workflowBundle: { codePath: process.env.FIREBREAK_TEST_BUNDLE! },
    log: (l) => lines.push(l),
  });

  expect(card).toMatchObject({
    runbookId: 'ec2-compromise',
    approvals: 'auto',
    status: 'rolled-back',
    passed: true,
    failures: [],
    rollback: { requested: true, trigger: 'requested', complete: true },
  });
  expect(card.account).toMatch(/^9\d{11}$/);
  expect(card.account).not.toBe('123456789012');
  // Every step ran; each one with a compensation was rolled back by the release (derived from the runbook, which
  // the drill runs as it ships).
  const compensated = (st: Step) => st.kind === 'action' && st.rollback !== undefined;
  expect(card.steps.map((s) => [s.id, s.status])).toEqual(
    runbook.definition.steps.map((st) => [st.id, compensated(st) ? 'rolled-back' : 'succeeded']),
  );
  for (const s of card.steps) {
    expect(s.startedAfterMs).toBeGreaterThanOrEqual(0);
    expect(s.durationMs).toBeGreaterThanOrEqual(0);
  }
  const gate = card.steps.find((s) => s.id === 'approve-isolation')!;
  expect(card.humanWaitMs).toBe(gate.durationMs);
  expect(card.rollback.steps.map((r) => [r.stepId, r.status])).toEqual(
    [...runbook.definition.steps]
      .reverse()
      .filter(compensated)
      .map((st) => [st.id, 'succeeded']),
  );
  expect(card.totalMs).toBeGreaterThanOrEqual(
    Math.max(...card.steps.map((s) => (s.startedAfterMs ?? 0) + (s.durationMs ?? 0))),
  );
  expect(formatScorecard(card)).toContain('PASSED (rolled-back)');
  expect(lines.join('\n')).toContain('approve approve-isolation as drill:approver');

  // Marked as a drill in visibility, and decided by a second principal (four-eyes).
  const description = await temporal.client.workflow.getHandle(card.executionId).describe();
  expect(description.typedSearchAttributes.get(SA.drill)).toBe(card.drillId);
  const state = (await temporal.client.workflow.getHandle(card.executionId).result()) as {
    startedBy: { id: string };
    steps: { id: string; approval?: { decidedBy: { id: string } } }[];
  };
  const decidedBy = state.steps.find((s) => s.id === 'approve-isolation')?.approval?.decidedBy.id;
  expect(decidedBy).toBe('drill:approver');
  expect(decidedBy).not.toBe(state.startedBy.id);

  // In the drill's account, through AWS: the instance is released (its groups back, tagged released).
  const sts = new STSClient(emulatorConfig());
  const c = (
    await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${card.account}:role/check`, RoleSessionName: 'check' }),
    )
  ).Credentials!;
  sts.destroy();
  const ec2 = new EC2Client({
    endpoint,
    region,
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken },
  });
  const out = await ec2.send(new DescribeInstancesCommand({}));
  ec2.destroy();
  const instances = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  expect(instances).toHaveLength(1);
  const tags = Object.fromEntries((instances[0].Tags ?? []).map((t) => [t.Key, t.Value]));
  expect(tags['firebreak:status']).toBe('released');
  expect((instances[0].SecurityGroups ?? []).map((g) => g.GroupName).sort()).toEqual(
    expect.not.arrayContaining(['firebreak-quarantine']),
  );
}, 180_000);
