/** Waiting for the fake AWS endpoint to see a key's first call of a kind (the benches' clock for "it got there"). */
import { now, type FakeCall } from './fake-aws';
import type { BenchStack } from './stack';

/** Records each key's first call matching `match`, from now until `stop()`; `arrived` waits for one key's. */
export function watch(stack: BenchStack, match: (c: FakeCall) => boolean) {
  const first = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const prev = stack.fake.onCall;
  stack.fake.onCall = (c) => {
    prev?.(c);
    if (c.key && match(c) && !first.has(c.key)) {
      first.set(c.key, c.at);
      waiting.get(c.key)?.();
    }
  };
  return {
    first,
    /** When the watch began (the fake's clock). */
    since: now(),
    arrived: (key: string, timeoutMs: number) =>
      first.has(key)
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), timeoutMs);
            waiting.set(key, () => {
              clearTimeout(t);
              resolve(true);
            });
          }),
    stop: () => {
      stack.fake.onCall = prev;
    },
  };
}
