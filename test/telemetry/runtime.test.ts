/**
 * The worker's Temporal runtime metrics: off by default, served in Prometheus format at the configured address.
 * Runtime.install runs once per process, so the worker's runtime options run in a child process.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { buildApp } from '../../api/app';
import { RunbookRegistry } from '../../runbooks/registry';
import { loadConfig } from '../../config/env';
import { freePort, ROOT } from '../../scripts/stack';
import { createLogger } from '../../telemetry/logger';
import { runtimeOptions } from '../../worker/runtime';
import { testTemporal } from '../stack/temporal';

const log = createLogger('test', 'silent');
const SECRET = 'runtime-metrics-secret-0123456789';

it('serves no runtime metrics unless FIREBREAK_TEMPORAL_METRICS_ADDRESS is set', () => {
  expect(runtimeOptions(loadConfig({}), log).telemetryOptions).toBeUndefined();
  expect(() => loadConfig({ FIREBREAK_TEMPORAL_METRICS_ADDRESS: '9464' })).toThrow(
    /FIREBREAK_TEMPORAL_METRICS_ADDRESS/,
  );
});

it('serves the SDK runtime metrics in Prometheus format at the address', async () => {
  const port = await freePort();
  const env = { ...process.env, FIREBREAK_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${port}` };
  expect(runtimeOptions(loadConfig(env), log).telemetryOptions?.metrics).toEqual({
    prometheus: { bindAddress: `127.0.0.1:${port}` },
  });
  // `node --import tsx`, not the tsx command: killing its wrapper would leave the real process behind.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test', 'telemetry', 'fixtures', 'runtime-metrics.ts')],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^temporal_\w+/m);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}, 60_000);

it('counts the deliveries incidents handle by outcome, redeliveries as duplicate (workflow metrics on the runtime endpoint)', async () => {
  const port = await freePort();
  const taskQueue = `runtime-metrics-${randomUUID()}`;
  const env = {
    ...process.env,
    FIREBREAK_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${port}`,
    FIREBREAK_TASK_QUEUE: taskQueue,
  };
  const temporal = await testTemporal();
  const api = await buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([]),
    taskQueue,
    publicUrl: 'http://firebreak.test',
    auth: { mode: 'none' },
    logger: false,
    alerts: { webhookSecret: SECRET },
  });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test', 'telemetry', 'fixtures', 'runtime-metrics.ts')],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const count = async (outcome: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('firebreak_alert_deliveries') && l.includes(`outcome="${outcome}"`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    const name = `metrics-${randomUUID()}`;
    const first = randomUUID();
    // One alarm: its first delivery, the same delivery again (a redelivery), a new firing of it.
    for (const id of [first, first, randomUUID()]) {
      const res = await api.inject({
        method: 'POST',
        url: '/v1/alerts',
        headers: { 'x-firebreak-secret': SECRET },
        payload: { id, name, state: 'firing', severity: 'SEV4' },
      });
      expect(res.statusCode).toBe(202);
    }
    const deadline = Date.now() + 60_000;
    let seen: number[] = [];
    while (Date.now() < deadline) {
      seen = [await count('opened'), await count('duplicate'), await count('refired')];
      if (seen.every((n) => n >= 1)) break;
      await new Promise((r) => setTimeout(r, 250)); // polling the endpoint, not waiting for a time
    }
    // This worker's queue handled only this test's alarm: exactly one of each.
    expect(seen).toEqual([1, 1, 1]);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    await api.close();
    await temporal.close();
  }
}, 120_000);
