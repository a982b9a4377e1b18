/**
 * The lock request activity against the real dev server. Its Update waits for the record's workflow task, which a
 * worker that is shutting down no longer runs: the request must give up when the activity is cancelled, or the
 * worker's shutdown waits on it for ever.
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createResourceActivities } from '../../activities/resource';
import { testTemporal, uniqueId, type TestTemporal } from '../stack/temporal';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await testTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

test.each(['WORKER_SHUTDOWN', 'CANCELLED'] as const)(
  'resource.requestLock gives up its unanswered Update when the activity is cancelled (%s)',
  async (reason) => {
    // No worker serves this queue: the record is started but never answers, as on a worker that stopped polling.
    const activities = createResourceActivities(uniqueId('unserved-tq'));
    const env = new MockActivityEnvironment(undefined, { client: temporal.client });
    const key = { account: '123456789012', region: 'us-east-1', resource: `ec2:instance/${uniqueId('i')}` };
    const request = {
      executionId: uniqueId('exec'),
      runbookId: 'ec2-compromise',
      purpose: 'contain' as const,
      leaseMs: 60_000,
    };
    const asked = env.run(activities['resource.requestLock'], {
      key,
      request,
      requestId: `${request.executionId}:lock:1`,
    });
    const settled = asked.then(
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
    env.cancel(reason);
    const outcome = await settled;
    expect(outcome).toBeInstanceOf(CancelledFailure);
    await record.terminate('test done');
  },
  // Without the cancellation reaching the Update call, the request never settles: this bound is the failure.
  30_000,
);
