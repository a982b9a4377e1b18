/**
 * The incident's dedup window: redeliveries inside it are recognised, the window is bounded by count and by age, and
 * what it hands to the next run (continue-as-new) recognises the same redeliveries.
 */
import { DeliveryWindow } from '../../workflows/delivery-window';

const HOUR = 3_600_000;

test('a redelivery inside the window is recognised; the oldest IDs leave it first', () => {
  const w = new DeliveryWindow({ maxIds: 3, maxAgeMs: 24 * HOUR });
  expect(['a', 'b', 'a', 'c'].map((id) => w.check(id, 0))).toEqual([false, false, true, false]);
  expect(w.check('d', 1)).toBe(false); // evicts a, the oldest first seen
  expect(w.size).toBe(3);
  expect(['b', 'c', 'd'].map((id) => w.check(id, 2))).toEqual([true, true, true]);
  expect(w.check('a', 3)).toBe(false); // outside the window: a new delivery again, remembered from now
  expect(w.check('a', 4)).toBe(true);
});

test('an ID first seen longer ago than the window counts as new, and is remembered from then', () => {
  const w = new DeliveryWindow({ maxIds: 100, maxAgeMs: 24 * HOUR });
  w.check('x', 0);
  expect(w.check('x', 24 * HOUR - 1)).toBe(true);
  expect(w.check('x', 24 * HOUR)).toBe(false);
  expect(w.check('x', 30 * HOUR)).toBe(true);
});

test('what is carried to the next run is the window still open, and recognises the same redeliveries', () => {
  const w = new DeliveryWindow({ maxIds: 100, maxAgeMs: 10 * HOUR });
  w.check('old', 0);
  w.check('recent', 5 * HOUR);
  const carried = w.carry(12 * HOUR);
  expect(carried).toEqual([['recent', 5 * HOUR]]);
  const next = new DeliveryWindow({ maxIds: 100, maxAgeMs: 10 * HOUR }, JSON.parse(JSON.stringify(carried)));
  expect(next.check('recent', 12 * HOUR)).toBe(true);
  expect(next.check('old', 12 * HOUR)).toBe(false);
});
