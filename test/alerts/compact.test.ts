import { createHash } from 'node:crypto';
import { compactAlert, compactBatch, MAX_RAW_BYTES } from '../../alerts/compact';
import type { NormalisedAlert } from '../../alerts/alert';

const alert = (state: 'firing' | 'resolved', raw: unknown, deliveryId = 'd'): NormalisedAlert => ({
  source: 'generic',
  via: 'webhook',
  deliveryId,
  name: 'disk-full',
  title: 'Disk full',
  description: 'long text '.repeat(100),
  state,
  labels: { team: 'ops' },
  occurredAt: '2026-11-28T00:00:00.000Z',
  raw,
});
const digest = (v: unknown) => `sha256:${createHash('sha256').update(JSON.stringify(v)).digest('hex')}`;

test('a small payload is kept whole, with its digest and size', () => {
  const raw = { a: 1, text: 'é' };
  const c = compactAlert(alert('firing', raw), true);
  expect(c.raw).toEqual(raw);
  expect(c.rawSummary).toEqual({ digest: digest(raw), bytes: Buffer.byteLength(JSON.stringify(raw)), kept: 'full' });
});

test('a payload over the cap keeps its first bytes as text, flagged truncated, with the digest of the whole', () => {
  const raw = { blob: 'x'.repeat(MAX_RAW_BYTES * 2) };
  const c = compactAlert(alert('firing', raw), true);
  expect(c.rawSummary).toMatchObject({ digest: digest(raw), kept: 'truncated', bytes: MAX_RAW_BYTES * 2 + 11 });
  expect(typeof c.raw).toBe('string');
  expect(Buffer.byteLength(c.raw as string)).toBeLessThanOrEqual(MAX_RAW_BYTES);
  expect(JSON.stringify(raw).startsWith(c.raw as string)).toBe(true);
});

test('a batch keeps the payload on its first alert and on each change of state only', () => {
  const batch = ['firing', 'firing', 'resolved', 'resolved', 'firing'].map((s, i) =>
    alert(s as 'firing', { i }, `d${i}`),
  );
  const out = compactBatch(batch);
  expect(out.map((a) => a.rawSummary!.kept)).toEqual(['full', 'omitted', 'full', 'omitted', 'full']);
  const omitted = out[1];
  expect(omitted).toMatchObject({ deliveryId: 'd1', state: 'firing', name: 'disk-full', labels: {} });
  expect(omitted.raw).toBeUndefined();
  expect(omitted.description).toBeUndefined();
  expect(omitted.rawSummary!.digest).toBe(digest({ i: 1 }));
  // Compacting again (a retried batch) changes nothing.
  expect(compactBatch(out)).toEqual(out);
});
