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
let ec2: EC2Client;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(500, { 'content-type': 'text/xml' });
      res.end(
        '<Response><Errors><Error><Code>InternalError</Code><Message>lost</Message></Error></Errors>' +
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
beforeEach(() => (received = 0));

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
