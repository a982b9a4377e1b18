/**
 * How a change's failure to be confirmed is answered: an Update the client stopped waiting for (deadline or
 * cancellation, however wrapped) is NOT_CONFIRMED, never an unmapped 500; an unreachable server is UNAVAILABLE.
 * The client here only carries the call: the errors are the ones @temporalio/client throws, built directly, because a
 * real server cannot be made to cancel an Update RPC on cue (the end-to-end case is test/api/not-confirmed.test.ts).
 */
import { WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { NotConfirmedError, UnavailableError } from '../../api/errors';
import { callTemporalChange } from '../../api/temporal';

/** A client whose calls run as given, and whose server answers a probe when `serverUp`. */
function carrier(serverUp: boolean): Client {
  return {
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflowService: {
      getSystemInfo: async () => {
        if (!serverUp) throw Object.assign(new Error('14 UNAVAILABLE: Connection refused'), { code: 14 });
        return {};
      },
    },
  } as unknown as Client;
}

const grpc = (code: number, message: string) => Object.assign(new Error(message), { code });

test.each([
  ['cancelled', grpc(1, '1 CANCELLED: call cancelled')],
  ['deadline exceeded', grpc(4, '4 DEADLINE_EXCEEDED: deadline exceeded')],
])('an Update the client stopped waiting for (%s) is NOT_CONFIRMED', async (_name, cause) => {
  const err = new WorkflowUpdateRPCTimeoutOrCancelledError('Workflow update call timeout or cancelled', { cause });
  await expect(callTemporalChange(carrier(true), () => Promise.reject(err))).rejects.toBeInstanceOf(NotConfirmedError);
});

test('the same, wrapped by another error, is still NOT_CONFIRMED', async () => {
  const inner = new WorkflowUpdateRPCTimeoutOrCancelledError('timeout', { cause: grpc(1, '1 CANCELLED') });
  const outer = new Error('update-with-start failed', { cause: inner });
  await expect(callTemporalChange(carrier(true), () => Promise.reject(outer))).rejects.toMatchObject({
    code: 'NOT_CONFIRMED',
    statusCode: 503,
  });
});

test('a server that cannot be reached is UNAVAILABLE', async () => {
  await expect(
    callTemporalChange(carrier(false), () => Promise.reject(grpc(14, '14 UNAVAILABLE: Connection refused'))),
  ).rejects.toBeInstanceOf(UnavailableError);
});
