import { withAttempt } from '../activities/envelope';
import type { ActionActivities } from '../activities/schemas';

/** Wraps every action so the workflow learns each step's attempt count (see activities/envelope.ts). */
export function instrumentActivities(activities: ActionActivities): Record<string, (input: any) => Promise<unknown>> {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [name, withAttempt(fn as (input: unknown) => Promise<unknown>)]),
  );
}
