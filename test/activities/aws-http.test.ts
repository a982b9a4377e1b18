/**
 * The AWS clients' HTTP handler (activities/aws-http.ts) against an endpoint that accepts connections and never
 * answers, as a wedged endpoint or a half-open connection does: inside an activity the call ends when the activity is
 * cancelled, and outside one it ends at the request deadline. A worker whose step is stuck in such a call still shuts
 * down.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ActivityCancellationDetails, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AwsHttpHandler } from '../../activities/aws-http';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../activities/clients';
import { awsCall } from '../../activities/errors';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { EMULATOR_CREDENTIALS } from '../../scripts/stack';
import { startRunbook, testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

/** Accepts every connection and never writes a byte; resolves `requested` at the first request's bytes. */
async function silentEndpoint() {
  const sockets = new Set<Socket>();
  let requests = 0;
  const waiters: (() => void)[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {
      requests += 1;
      for (const w of waiters.splice(0)) w();
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    /** Resolves once a request reached the endpoint (it is then in flight, unanswered). */
    requested: () => (requests > 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const credentials = {
  accessKeyId: EMULATOR_CREDENTIALS.AWS_ACCESS_KEY_ID,
  secretAccessKey: EMULATOR_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
};

let endpoint: Awaited<ReturnType<typeof silentEndpoint>>;
let clients: AwsClients;
beforeEach(async () => {
  endpoint = await silentEndpoint();
  clients = createAwsClients({ region: 'us-east-1', endpoint: endpoint.url, credentials, maxAttempts: 1 });
});
afterEach(async () => {
  destroyAwsClients(clients);
  await endpoint.close();
});

test('every client the factory makes gets the handler (the deadline and the abort below are its)', () => {
  for (const client of Object.values(clients)) expect(client.config.requestHandler).toBeInstanceOf(AwsHttpHandler);
});

/** Runs one DescribeInstances to the silent endpoint in an activity, cancels it so, and returns what it threw. */
async function cancelledCall(cancel: (env: MockActivityEnvironment) => void): Promise<unknown> {
  const env = new MockActivityEnvironment();
  const settled = env
    .run(() =>
      awsCall('ec2.captureInstance', () => clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-1'] }))),
    )
    .then(
      () => 'answered',
      (err: unknown) => err,
    );
  await endpoint.requested();
  cancel(env);
  return settled;
}

test('a call that gets no answer ends when its workflow cancels the step, as a cancellation', async () => {
  const err = (await cancelledCall((env) => env.cancel('CANCELLED'))) as Error;
  expect(err.name).toBe('AbortError');
  expect(err).not.toBeInstanceOf(ApplicationFailure);
});

test("a call that gets no answer ends with the worker's shutdown, as a retryable failure (retried elsewhere)", async () => {
  // Not a cancellation: the server refuses one nobody asked for, and the step would wait out its heartbeat timeout.
  const err = await cancelledCall((env) =>
    env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true })),
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: 'AbortError', nonRetryable: false });
});

test('outside an activity the call is not aborted by anything but its deadline, which fails it as retryable', async () => {
  const quick = createAwsClients({ region: 'us-east-1', endpoint: endpoint.url, credentials, maxAttempts: 1 });
  quick.ec2.config.requestHandler = new AwsHttpHandler({ requestTimeout: 300 });
  try {
    const err = await awsCall('ec2.captureInstance', () =>
      quick.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-1'] })),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'TimeoutError', nonRetryable: false });
  } finally {
    destroyAwsClients(quick);
  }
});

describe('a worker whose step waits on an AWS endpoint that never answers', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await testTemporal();
  });
  afterAll(async () => {
    await temporal?.close();
  });

  test('shuts down: the call is aborted with the step, which is left for the next worker', async () => {
    const rb = new RunbookRegistry([ec2Compromise]).get('ec2-compromise')!;
    let workflowId = '';
    // runUntil shuts the worker down when the body ends, with no grace time (the tests' default): before the
    // handler, this never returned, the worker waiting on the unanswered call.
    await withWorker(temporal, { clients }, async ({ taskQueue }) => {
      const handle = await startRunbook(temporal, taskQueue, {
        runbook: rb.definition,
        digest: rb.digest,
        params: { instanceId: 'i-0123456789abcdef0', notifyTopicArn: 'arn:aws:sns:us-east-1:123456789012:t' },
        startedBy: { id: 'user:test' },
        reason: 'test',
      });
      workflowId = handle.workflowId;
      await endpoint.requested();
    });
    const handle = temporal.client.workflow.getHandle(workflowId);
    // Not failed or rolled back by the shutdown: still running, its step to be retried by the next worker.
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.terminate('test done');
  }, 60_000);
});
