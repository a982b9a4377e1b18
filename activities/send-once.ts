/**
 * Calls that are not idempotent (EC2 CreateSnapshot and SSM SendCommand take no client token) must reach AWS at most
 * once per activity attempt: the SDK's own retry of an attempt whose answer was lost (a 5xx after AWS acted, a reset
 * connection) would create a second snapshot or run the command twice. The activity's retry is the safe one: it looks
 * up what an earlier attempt created (by tags, by the command's marker) before it creates anything.
 */
import type { MiddlewareStack } from '@smithy/types';
import { describeAwsError } from './errors';

/**
 * Marks `command` to be sent once: should the SDK try it again, the new try fails unsent with the first try's error,
 * so the SDK gives up with that error (classified as before, retryable by the activity when it was transient). A
 * throttled try does not count: AWS refused it unprocessed, so the SDK's own retry of it is safe.
 */
export function sendOnce<C extends { middlewareStack: MiddlewareStack<any, any> }>(command: C): C {
  let sent = false;
  let firstError: unknown;
  command.middlewareStack.add(
    (next) => async (args) => {
      if (sent) throw firstError;
      sent = true;
      try {
        return await next(args);
      } catch (err) {
        // A throttled call was refused before AWS acted on it: the SDK may try it again, with its throttling back-off
        // (a burst of throttling would otherwise use up the step's attempts, each one a single try).
        if (describeAwsError(err).kind === 'throttling') sent = false;
        else firstError = err;
        throw err;
      }
    },
    // The deserialize step runs inside the retry middleware (finalizeRequest), once per try.
    { step: 'deserialize', name: 'firebreakSendOnce', priority: 'high' },
  );
  return command;
}
