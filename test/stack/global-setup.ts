/**
 * Jest global setup: a real Temporal dev server and a moto server on free ports, and the workflow bundle built once.
 * Test files read the addresses from the environment (jest workers inherit it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUNDLE_LOGGER, bundleWorkflows } from '../../worker/bundle';
import { EMULATOR_CREDENTIALS, freePort, ROOT, startMoto, startTemporal } from '../../scripts/stack';

export default async function globalSetup(): Promise<void> {
  const dir = path.join(ROOT, '.data', 'test');
  mkdirSync(dir, { recursive: true });
  const [temporalPort, motoPort] = [await freePort(), await freePort()];
  const [temporal, moto, bundle] = await Promise.all([
    startTemporal({ port: temporalPort, logFile: path.join(dir, 'temporal.log') }),
    startMoto({ port: motoPort, logFile: path.join(dir, 'moto.log') }),
    bundleWorkflows({ logger: BUNDLE_LOGGER }),
  ]);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  (globalThis as any).__FIREBREAK_STACK__ = { temporal, moto };
  Object.assign(process.env, {
    FIREBREAK_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    FIREBREAK_AWS_ENDPOINT: `http://127.0.0.1:${motoPort}`,
    FIREBREAK_TEST_BUNDLE: bundlePath,
    AWS_REGION: 'us-east-1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The SDK warns once per process that it will need Node 22 from 2027; it is noise in every test file.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...EMULATOR_CREDENTIALS,
  });
}
