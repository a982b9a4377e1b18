/**
 * The lock request activity against the real dev server. Its Update waits for the record's workflow task, which a
 * worker that is shutting down no longer runs: the request must give up when the activity is cancelled, or the
 * worker's shutdown waits on it for ever.
 */
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createResourceActivities } from '../../activities/resource';
import { RESOURCE_WORKFLOW } from '../../workflows/resource-messages';
import { testTemporal, uniqueId, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

/** Asks for a lock that is never answered, cancels the activity so once the request is in flight; what it threw. */
async function cancelledRequest(
  cancel: (env: MockActivityEnvironment) => void,
  info: { startToCloseTimeoutMs?: number } = {},
): Promise<unknown> {
  // No worker serves this queue: the record is started but never answers, as on a worker that stopped polling.
  const activities = createResourceActivities(uniqueId('unserved-tq'));
  const env = new MockActivityEnvironment(info, { client: temporal.client });
  const key = { account: '123456789012', region: 'us-east-1', resource: `ec2:instance/${uniqueId('i')}` };
  const request = {
    executionId: uniqueId('exec'),
    runbookId: 'ec2-compromise',
    purpose: 'contain' as const,
    leaseMs: 60_000,
  };
  const settled = env
    .run(activities['resource.requestLock'], { key, request, requestId: `${request.executionId}:lock:1` })
    .then(
      () => 'answered',
      (err: unknown) => err,
    );
  // The record exists once the Update-with-Start reached the server: the request is then truly in flight.
  const record = temporal.client.workflow.getHandle(`resource:${key.account}:${key.region}:${key.resource}`);
  for (let found = false; !found; await new Promise((r) => setTimeout(r, 50))) {
    found = await record.describe().then(
      () => true,
      () => false,
    );
  }
  cancel(env);
  const outcome = await settled;
  await record.terminate('test done');
  return outcome;
}

// Without the cancellation reaching the Update call, the request never settles: the tests' bound is the failure.
test('a lock request whose workflow cancels it gives up its unanswered Update, as a cancellation', async () => {
  expect(await cancelledRequest((env) => env.cancel('CANCELLED'))).toBeInstanceOf(CancelledFailure);
}, 30_000);

test("a lock request gives up its unanswered Update on the worker's shutdown, as a failure retried elsewhere", async () => {
  const err = await cancelledRequest((env) =>
    env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true })),
  );
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(CancelledFailure);
}, 30_000);

test('a lock request nothing cancels gives up its unanswered Update when its start-to-close time is over', async () => {
  // As on a draining worker that took the task after its shutdown's cancellations went out.
  const startedAt = Date.now();
  const err = await cancelledRequest(() => undefined, { startToCloseTimeoutMs: 1_500 });
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(CancelledFailure);
  expect(Date.now() - startedAt).toBeLessThan(20_000);
}, 30_000);

test('a record on a queue this worker does not serve (another FIREBREAK_TASK_QUEUE): a final failure that says so', async () => {
  const key = { account: '123456789012', region: 'us-east-1', resource: `ec2:instance/${uniqueId('i')}` };
  const workflowId = `resource:${key.account}:${key.region}:${key.resource}`;
  const oldQueue = uniqueId('old-tq');
  const record = await temporal.client.workflow.start(RESOURCE_WORKFLOW, { workflowId, taskQueue: oldQueue, args: [] });
  try {
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 1_500 }, { client: temporal.client });
    const request = { executionId: uniqueId('exec'), runbookId: 'rb', purpose: 'contain' as const, leaseMs: 60_000 };
    const err = await env
      .run(createResourceActivities(uniqueId('new-tq'))['resource.requestLock'], {
        key,
        request,
        requestId: `${request.executionId}:lock:1`,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'ResourceRecordElsewhere', nonRetryable: true });
    expect((err as Error).message).toContain(`task queue "${oldQueue}"`);
  } finally {
    await record.terminate('test done');
  }
}, 30_000);
