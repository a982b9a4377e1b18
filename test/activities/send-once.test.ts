/**
 * sendOnce: a call that is not idempotent reaches AWS once per activity attempt, even when its answer is lost (a 5xx
 * after AWS acted) and the SDK would try again. A stand-in endpoint answers every call with a 500 and counts them;
 * moto cannot lose an answer (test/chaos/aws-faults.test.ts does, through its fault proxy).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateSnapshotCommand, EC2Client } from '@aws-sdk/client-ec2';
import { sendOnce } from '../../activities/send-once';

let server: http.Server;
let received = 0;
/** The endpoint's answers in turn (the last one repeats): status and EC2 error code. */
let answers: [number, string][] = [];
let ec2: EC2Client;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      const [status, code] = answers[Math.min(received, answers.length) - 1];
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(
        `<Response><Errors><Error><Code>${code}</Code><Message>chaos</Message></Error></Errors>` +
          '<RequestID>r</RequestID></Response>',
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ec2 = new EC2Client({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 3,
  });
});
afterAll(async () => {
  ec2.destroy();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  received = 0;
  answers = [[500, 'InternalError']];
});

test('the SDK tries a plain call again after a 500', async () => {
  await expect(ec2.send(new CreateSnapshotCommand({ VolumeId: 'vol-1' }))).rejects.toMatchObject({
    name: 'InternalError',
  });
  expect(received).toBe(3);
});

test('a call sent once reaches the endpoint once and fails with the first answer, still a server fault', async () => {
  const err = await ec2.send(sendOnce(new CreateSnapshotCommand({ VolumeId: 'vol-1' }))).catch((e) => e);
  expect(err).toMatchObject({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
  expect(received).toBe(1);
});

test('a throttled try does not count: refused unprocessed, the SDK tries again, and a later 500 is still sent once', async () => {
  answers = [
    [503, 'RequestLimitExceeded'],
    [500, 'InternalError'],
  ];
  const err = await ec2.send(sendOnce(new CreateSnapshotCommand({ VolumeId: 'vol-1' }))).catch((e) => e);
  // Throttled (not processed), then sent: the 500 after it may have acted, so no third try.
  expect(err).toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
  expect(received).toBe(2);
});

test('throttled on every try: every attempt the SDK makes, then the throttling error (retryable by the activity)', async () => {
  answers = [[503, 'RequestLimitExceeded']];
  const err = await ec2.send(sendOnce(new CreateSnapshotCommand({ VolumeId: 'vol-1' }))).catch((e) => e);
  expect(err).toMatchObject({ name: 'RequestLimitExceeded' });
  expect(received).toBe(3);
});
