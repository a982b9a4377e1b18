/**
 * Fuzzing with schemathesis (installed into .tools/venv by scripts/tools.sh) against the API on a real socket, over
 * the jest stack (real Temporal, a worker, moto), with valid admin credentials and the webhook secret, from the
 * OpenAPI document the app serves. Bounded: a fixed number of examples per operation and a fixed seed, so a CI run
 * takes the same time (well under two minutes on two cores) and finds the same things.
 *
 * Fails on any 5xx, any answer whose status the document does not list, any body that does not match the schema
 * documented for its status, a wrong content type, and any invalid input that is not refused with a 4xx.
 *
 * Two passes: one with every parameter generated (mostly unknown IDs: 404s and refusals), and one with the path IDs
 * pinned to a real runbook, a real execution waiting for its approval and a real incident, so generated bodies reach
 * the workflows' Updates and queries.
 *
 * Nothing is excluded: the alert endpoints are fuzzed too (with the webhook secret; SNS deliveries carry no valid
 * signature, so they exercise parsing and refusal). Rate limits are raised out of the way: the fuzzer is one client.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

const SCHEMATHESIS = path.join(__dirname, '..', '..', '.tools', 'venv', 'bin', 'schemathesis');
const EXAMPLES_PER_OPERATION = 30;
const SEED = 20261128;
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'response_schema_conformance',
  'content_type_conformance',
  'negative_data_rejection',
];
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789';
const WEBHOOK_SECRET = 'fuzz-webhook-secret-0123456789';

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

test('schemathesis finds no server error and no answer outside the OpenAPI document', async () => {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: run scripts/tools.sh`);
  const env = await aws.seed('fuzz', { instances: 1 });
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const api = await buildApp({
      client: temporal.client,
      registry: new RunbookRegistry([ec2Compromise]),
      taskQueue,
      publicUrl: 'http://firebreak.test',
      auth: { mode: 'token', tokens: TokenStore.fromPlain({ [ADMIN_TOKEN]: { id: 'user:fuzz', roles: ['admin'] } }) },
      alerts: { webhookSecret: WEBHOOK_SECRET, snsTopics: ['arn:aws:sns:*:111122223333:*'] },
      rateLimit: { windowMs: 60_000, perPrincipal: 1e6, perAddress: 1e6, alertsPerAddress: 1e6 },
      logger: process.env.FUZZ_LOG ? { level: 'warn' } : false,
    });
    await api.listen({ host: '127.0.0.1', port: 0 });
    const { port } = api.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const call = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      // Real targets for the second pass.
      const started = await call('POST', '/v1/runbooks/ec2-compromise/executions', {
        params: { instanceId: env.instances[0].instanceId, notifyTopicArn: env.topicArn },
        reason: 'fuzz target',
      });
      expect(started.status).toBe(201);
      const executionId = started.body.executionId as string;
      await until(async () => (await call('GET', `/v1/executions/${executionId}`)).body.pendingApproval);
      const alert = await fetch(`${base}/v1/alerts`, {
        method: 'POST',
        headers: { 'x-firebreak-secret': WEBHOOK_SECRET, 'content-type': 'application/json' },
        body: JSON.stringify({ id: randomUUID(), name: `fuzz-${randomUUID()}`, state: 'firing' }),
      });
      expect(alert.status).toBe(202);
      const incidentId = ((await alert.json()) as any).results[0].incidentId as string;

      const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-config-'));
      // Both passes: no IDs learnt from list answers. The jest stack's Temporal also holds other test files' workflows,
      // whose workers are gone: a query to one cannot be answered (503), which says nothing about the API.
      const common = `[phases.coverage]\nextra-data-sources = { responses = false }\n[phases.fuzzing]\nextra-data-sources = { responses = false }\n`;
      const generated = path.join(dir, 'generated.toml');
      writeFileSync(generated, common);
      const config = path.join(dir, 'real-ids.toml');
      writeFileSync(
        config,
        common +
          [
            ['^/v1/runbooks/\\{id\\}', { 'path.id': 'ec2-compromise' }],
            ['^/v1/executions/\\{id\\}', { 'path.id': executionId, 'path.stepId': 'approve-isolation' }],
            ['^/v1/incidents/\\{id\\}', { 'path.id': incidentId }],
          ]
            .map(
              ([regex, params]) =>
                `[[operations]]\ninclude-path-regex = '${regex}'\nparameters = { ${Object.entries(params)
                  .map(([k, v]) => `"${k}" = "${v}"`)
                  .join(', ')} }\n`,
            )
            .join('\n'),
      );
      // Every operation the document lists (a new route is fuzzed without touching this file).
      const spec = api.swagger() as { paths: Record<string, object> };
      const operations = Object.values(spec.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
      expect(operations).toBeGreaterThanOrEqual(16);
      for (const [pass, configArgs] of [
        ['generated IDs', ['--config-file', generated]],
        ['real IDs', ['--config-file', config]],
      ] as const) {
        const { code, output } = await run(SCHEMATHESIS, [...configArgs, ...schemathesisRun(base)]);
        if (process.env.FUZZ_OUTPUT) console.log(`${pass}:\n${output}`);
        if (code !== 0) throw new Error(`schemathesis (${pass}) exited with ${code}:\n${output}`);
        // It did test every operation (a run that tests nothing would also exit 0).
        expect([pass, output]).toEqual([pass, expect.stringMatching(new RegExp(`Tested: ${operations}\\b`))]);
      }
    } finally {
      await api.close();
    }
  });
  // About 40 s alone; room for a loaded CI machine.
}, 240_000);

function schemathesisRun(base: string): string[] {
  return [
    'run',
    `${base}/docs/json`,
    '--url',
    base,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    String(EXAMPLES_PER_OPERATION),
    '--seed',
    String(SEED),
    '--phases',
    'examples,coverage,fuzzing',
    '--workers',
    '1',
    '--generation-database',
    'none',
    '--request-timeout',
    '20',
    '--header',
    `Authorization: Bearer ${ADMIN_TOKEN}`,
    '--header',
    `x-firebreak-secret: ${WEBHOOK_SECRET}`,
    '--no-color',
  ];
}

async function until(read: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await read())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Its own working directory: schemathesis and hypothesis write nothing into the repository.
    const cwd = mkdtempSync(path.join(tmpdir(), 'fuzz-'));
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}
