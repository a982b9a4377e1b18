/**
 * The operator commands of the `firebreak` CLI, spawned as a user runs them, against the app on a real socket with the
 * jest stack's Temporal and moto: runbooks list/show/validate, plan (AWS unchanged), run, watch to the gate, the
 * approvals lists, refused decisions as one-line errors with exit 1, approve, watch to the end, status, rollback,
 * incidents list, and usage errors with exit 2.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
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
  env = await aws.seed('cli-operator', { instances: 1 });
});
afterAll(async () => {
  await temporal?.close();
  aws?.close();
});

const TOKENS = {
  alice: 'commander-token-0123456789', // responder and incident-commander: starts, rolls back
  carol: 'security-lead-token-0123456789', // decides the gate (four-eyes keeps alice out)
  bob: 'viewer-token-0123456789', // reads only
};
const SECRET = 'cli-webhook-secret-0123456789';

const BIN = path.join(__dirname, '..', '..', 'cli', 'bin.js');
type Result = { code: number; stdout: string; stderr: string };
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, FIREBREAK_CONFIG: '/nonexistent/firebreak.json', ...extraEnv }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A refusal or failure: exit 1, one line on stderr naming the cause, no stack trace. */
function expectRefused(r: Result, pattern: RegExp) {
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

async function groupsOf(instanceId: string): Promise<string[]> {
  const out = await aws.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  // The groups of every network interface: what isolation changes and a rollback restores.
  return (out.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces ?? [])
    .flatMap((n) => (n.Groups ?? []).map((g) => `${n.NetworkInterfaceId}:${g.GroupName}`))
    .sort();
}

test('an operator runs a runbook end to end from the CLI: plan, run, watch, approve, status, window, release', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api: FastifyInstance = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([ec2Compromise]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      auth: {
        mode: 'token',
        tokens: TokenStore.fromPlain({
          [TOKENS.alice]: { id: 'user:alice', roles: ['responder', 'incident-commander'] },
          [TOKENS.carol]: { id: 'user:carol', roles: ['security-lead'] },
          [TOKENS.bob]: { id: 'user:bob', roles: ['viewer'] },
        }),
      },
      alerts: { webhookSecret: SECRET, webhookHeader: 'x-firebreak-secret' },
    });
    await api.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.server.address() as { port: number };
    const as = (who: keyof typeof TOKENS) => ({
      FIREBREAK_URL: `http://127.0.0.1:${port}`,
      FIREBREAK_TOKEN: TOKENS[who],
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'firebreak-cli-'));
    try {
      const instanceId = env.instances[0].instanceId;
      const params = ['--param', `instanceId=${instanceId}`, '--param', `notifyTopicArn=${env.topicArn}`];

      // Runbooks: the list, and one as an outline with its gate policy and rollback plan.
      const list = await cli(['runbooks', 'list'], as('bob'));
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^ID\s+VERSION\s+SEVERITY/);
      expect(list.stdout).toContain(`ec2-compromise  ${ec2Compromise.version}`);
      const detail = JSON.parse((await cli(['runbooks', 'show', 'ec2-compromise', '--json'], as('bob'))).stdout);
      const shown = await cli(['runbooks', 'show', 'ec2-compromise'], as('bob'));
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('approve-isolation [approval]');
      expect(shown.stdout).toContain(
        'approval by incident-commander or security-lead: 1 needed, not the starter (four-eyes)',
      );
      const undo = detail.steps.filter((s: any) => s.rollbackAction).reverse();
      expect(undo.length).toBeGreaterThan(0);
      const rollbackSection = shown.stdout.split('Rollback plan (last step first):\n')[1].trimEnd();
      expect(rollbackSection).toBe(
        undo.map((s: any, i: number) => `  ${i + 1}. ${s.id}: ${s.rollbackAction}`).join('\n'),
      );
      expectRefused(
        await cli(['runbooks', 'show', 'no-such-runbook'], as('bob')),
        /^firebreak: 404 NOT_FOUND: no runbook/,
      );

      // Validate: the shipped runbooks pass; a broken file fails with its problems, exit 1.
      expect((await cli(['runbooks', 'validate'])).stdout).toContain(`ok  ec2-compromise@${ec2Compromise.version}`);
      const broken = path.join(dir, 'broken.json');
      writeFileSync(
        broken,
        JSON.stringify({
          ...ec2Compromise,
          params: undefined,
          steps: [{ id: 'x', kind: 'action', action: 'ec2.nope' }],
        }),
      );
      const invalid = await cli(['runbooks', 'validate', broken]);
      expect(invalid.code).toBe(1);
      expect(invalid.stdout).toContain('step x');
      expect(invalid.stdout).toMatch(/ec2\.nope/);

      // Plan: names the instance, the gate, the rollback plan; AWS is unchanged.
      const before = await groupsOf(instanceId);
      expect(before.length).toBeGreaterThan(0);
      const plan = await cli(['plan', 'ec2-compromise', ...params], as('alice'));
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain(`Plan for ec2-compromise ${ec2Compromise.version} on ec2:instance/${instanceId}`);
      expect(plan.stdout).toContain('nothing was changed');
      expect(plan.stdout).toMatch(/approve-isolation: 1 approval by incident-commander or security-lead \(four-eyes\)/);
      expect(plan.stdout).toContain('Rollback plan (in the order it would run):');
      expect(plan.stdout).toContain(instanceId);
      expect(await groupsOf(instanceId)).toEqual(before);
      expectRefused(
        await cli(
          ['plan', 'ec2-compromise', '--param', 'instanceId=nope', '--param', `notifyTopicArn=${env.topicArn}`],
          as('alice'),
        ),
        /^firebreak: 400 VALIDATION_FAILED: invalid params for runbook ec2-compromise \(\/instanceId must match pattern/,
      );

      // Run, and watch until the gate: exit 0, and how to decide.
      const started = await cli(['run', 'ec2-compromise', ...params, '--reason', 'cli test', '--json'], as('alice'));
      expect(started.code).toBe(0);
      const { executionId } = JSON.parse(started.stdout);
      expect(executionId).toMatch(/^ec2-compromise-/);
      const toGate = await cli(['watch', executionId, '--interval', '200'], as('bob'));
      expect(toGate.code).toBe(0);
      expect(toGate.stdout).toMatch(/capture succeeded/);
      expect(toGate.stdout).toContain('waiting for approval: approve-isolation');
      expect(toGate.stdout).toContain(`firebreak approve ${executionId} approve-isolation`);
      expect(toGate.stdout).toContain(`http://firebreak.test/console/executions/${executionId}`);

      // Who may decide: carol's --mine has it, bob's and alice's (four-eyes) do not; everyone sees it pending.
      const mine = JSON.parse((await cli(['approvals', '--mine', '--json'], as('carol'))).stdout);
      expect(mine.map((g: any) => [g.executionId, g.stepId])).toContainEqual([executionId, 'approve-isolation']);
      expect((await cli(['approvals', '--mine'], as('bob'))).stdout.trim()).toBe('nothing waits for your decision');
      expect((await cli(['approvals', '--mine', '--json'], as('alice'))).stdout).not.toContain(executionId);
      expect((await cli(['approvals'], as('bob'))).stdout).toMatch(
        new RegExp(`${executionId}\\s+approve-isolation\\s+SEV2`),
      );

      // Refused decisions: one line, exit 1. Then carol approves.
      expectRefused(
        await cli(['approve', executionId, 'approve-isolation'], as('bob')),
        /^firebreak: 403 FORBIDDEN: approvals:decide is required/,
      );
      expectRefused(
        await cli(['approve', executionId, 'approve-isolation'], as('alice')),
        /^firebreak: 403 FORBIDDEN: /,
      );
      expectRefused(await cli(['approve', executionId, 'no-such-step'], as('carol')), /^firebreak: 404 NOT_FOUND: /);
      const approved = await cli(['approve', executionId, 'approve-isolation', '--comment', 'go ahead'], as('carol'));
      expect(approved.stderr).toBe('');
      expect(approved.stdout.trim()).toBe(`approved approve-isolation of ${executionId} as user:carol; gate approved`);
      expectRefused(await cli(['reject', executionId, 'approve-isolation'], as('carol')), /^firebreak: 409 CONFLICT: /);

      const toEnd = await cli(['watch', executionId, '--interval', '200'], as('bob'));
      expect(toEnd.code).toBe(0);
      expect(toEnd.stdout).toMatch(/isolate succeeded/);
      expect(toEnd.stdout).toMatch(/execution succeeded/);
      expect((await groupsOf(instanceId)).every((g) => g.endsWith(':firebreak-quarantine'))).toBe(true);

      const status = await cli(['status', executionId], as('bob'));
      expect(status.code).toBe(0);
      expect(status.stdout.split('\n')[0]).toBe(`${executionId}: succeeded (workflow RUNNING)`);
      expect(status.stdout).toMatch(/approve-isolation\s+approval\s+succeeded\s+/);
      expect(status.stdout).toContain('approve by user:carol "go ahead"');
      const json = JSON.parse((await cli(['status', executionId, '--json'], as('bob'))).stdout);
      expect(json).toMatchObject({ executionId, status: 'succeeded' });

      // Rollback and release: a viewer is refused; the reason is required; alice's goes through and watch ends 0.
      expectRefused(await cli(['rollback', executionId, '--reason', 'no'], as('bob')), /^firebreak: 403 FORBIDDEN/);
      const noReason = await cli(['rollback', executionId], as('alice'));
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
      // The investigation needs longer: the window is extended (a release role), then the containment released.
      const extended = await cli(['window', executionId, '--extend-by', '2h', '--reason', 'forensics'], as('alice'));
      expect(extended.code).toBe(0);
      expect(extended.stdout).toMatch(new RegExp(`^rollback window of ${executionId} now ends \\S+ \\(was \\S+\\)`));
      expectRefused(await cli(['release', executionId, '--reason', 'no'], as('bob')), /^firebreak: 403 FORBIDDEN/);
      const rolled = await cli(['release', executionId, '--reason', 'released after review'], as('alice'));
      expect(rolled.code).toBe(0);
      expect(rolled.stdout).toContain(`release of ${executionId} accepted`);
      const toRolledBack = await cli(['watch', executionId, '--interval', '200', '--json'], as('bob'));
      expect(toRolledBack.code).toBe(0);
      const events = toRolledBack.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.at(-1)).toEqual({ event: 'execution', executionId, status: 'rolled-back' });
      expect(await groupsOf(instanceId)).toEqual(before);

      // Incidents: an alert no runbook handles opens one; the list shows it.
      const alertName = `cli-${randomUUID()}`;
      const ack = await api.inject({
        method: 'POST',
        url: '/v1/alerts',
        headers: { 'x-firebreak-secret': SECRET },
        payload: {
          id: randomUUID(),
          name: alertName,
          state: 'firing',
          resource: { type: 'ec2:instance', id: instanceId },
        },
      });
      expect(ack.statusCode).toBe(202);
      const incidentId: string = ack.json().results[0].incidentId;
      const deadline = Date.now() + 30_000;
      let listed: any[] = [];
      while (!listed.some((i) => i.id === incidentId) && Date.now() < deadline) {
        const r = await cli(['incidents', 'list', '--json'], as('bob'));
        expect(r.code).toBe(0);
        listed = JSON.parse(r.stdout);
      }
      expect(listed.find((i) => i.id === incidentId)).toMatchObject({ resource: `ec2:instance/${instanceId}` });
      const human = await cli(['incidents', 'list', '--limit', '5'], as('bob'));
      expect(human.stdout).toMatch(/^INCIDENT\s+SEVERITY\s+STATUS/);
      expect(human.stdout).toContain(incidentId);
      await temporal.client.workflow.getHandle(incidentId).terminate('test done');

      // Usage errors: exit 2.
      expect((await cli(['run', 'ec2-compromise', '--param', 'novalue'], as('alice'))).code).toBe(2);
      expect((await cli(['watch', executionId, '--interval', 'soon'], as('alice'))).code).toBe(2);
      expect((await cli(['no-such-command'], as('alice'))).code).toBe(2);
      expect((await cli(['status', executionId])).code).toBe(2); // no URL anywhere
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await api.close();
    }
  });
});

test('`firebreak drill` hands its arguments to the drill runner and returns its exit code', async () => {
  const help = await cli(['drill', '--help'], {});
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('firebreak drills in a throw-away emulated account');
  const missing = await cli(['drill', 'run'], {});
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain("missing required argument 'scenario'");
});
