/**
 * Helpers the SSM activity files share.
 */
import { createHash } from 'node:crypto';
import { activityContext } from './clients';

/** SSM returns at most this much of an invocation's stdout / stderr (GetCommandInvocation). */
export const MAX_STDOUT = 24_000;
export const MAX_STDERR = 8_000;

/** `sha256:<hex>` of a text. */
export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Sleeps; inside an activity the sleep rejects with CancelledFailure when the activity is cancelled. */
export function pause(ms: number): Promise<void> {
  const ctx = activityContext();
  return ctx ? ctx.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}
