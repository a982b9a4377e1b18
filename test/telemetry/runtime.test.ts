/**
 * The worker's Temporal runtime metrics: off by default, served in Prometheus format at the configured address.
 * Runtime.install runs once per process, so the worker's runtime options run in a child process.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../config/env';
import { freePort, ROOT } from '../../scripts/stack';
import { createLogger } from '../../telemetry/logger';
import { runtimeOptions } from '../../worker/runtime';

const log = createLogger('test', 'silent');

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
