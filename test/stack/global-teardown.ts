import type { Started } from '../../scripts/stack';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as any).__FIREBREAK_STACK__ as { temporal: Started; moto: Started } | undefined;
  if (!stack) return;
  await Promise.all([stack.temporal.stop(), stack.moto.stop()]);
}
