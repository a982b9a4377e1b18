/**
 * The namespace retention the worker sets at start (FIREBREAK_NAMESPACE_RETENTION), on the jest stack's dev server:
 * set when it differs, left alone when it matches or is not configured, and read back through Temporal.
 */
import { ensureRetention } from '../../worker/retention';
import { testTemporal, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

const DAY = 24 * 60 * 60 * 1000;

it('sets the namespace retention when it differs, and only then', async () => {
  const before = await ensureRetention(temporal.client, 'default');
  expect(before.outcome).toBe('not-configured');
  expect(before.retentionMs).toBeGreaterThanOrEqual(DAY);
  // A retention other than the one in force: 1 day more.
  const want = before.retentionMs! + DAY;
  try {
    expect(await ensureRetention(temporal.client, 'default', want)).toMatchObject({
      outcome: 'updated',
      retentionMs: want,
    });
    expect(await ensureRetention(temporal.client, 'default')).toMatchObject({ retentionMs: want });
    expect(await ensureRetention(temporal.client, 'default', want)).toMatchObject({ outcome: 'unchanged' });
  } finally {
    await ensureRetention(temporal.client, 'default', before.retentionMs);
  }
});
