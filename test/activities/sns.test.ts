/**
 * sns.publish against moto: notifications are read back from the SQS queue subscribed to the seeded topic.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createSnsActivities, NOT_SENT, sanitizeSubject, type NotificationBody } from '../../activities/sns';
import { readNotifications, type SeedResult } from '../../scripts/seed';
import { stepContext, testAws, unique, type TestAws } from '../stack/aws';

let aws: TestAws;
let env: SeedResult;
let publish: ReturnType<typeof createSnsActivities>['sns.publish'];

beforeAll(async () => {
  aws = testAws();
  publish = createSnsActivities(aws.clients)['sns.publish'];
  env = await aws.seed('sns', { instances: 0 });
});
afterAll(() => aws.close());

describe('sns.publish', () => {
  it('delivers the sanitised subject and a JSON body with the message and the execution context', async () => {
    const ctx = stepContext('notify', { incidentId: unique('INC') });
    const subject = `Incident ${ctx.incidentId}: caf\u00e9 \u2615 down\nsecond line ${'x'.repeat(120)}`;
    const message = { instanceId: 'i-0123456789abcdef0', action: 'isolated', groups: ['sg-1'] };
    const before = Date.now();

    const out = await publish({ topicArn: env.topicArn, subject, message, ctx });

    const [n, ...more] = await readNotifications(aws.sqs, env.queueUrl, { count: 1 });
    expect(more).toHaveLength(0);
    expect(n.messageId).toBe(out.messageId);
    expect(n.topicArn).toBe(env.topicArn);
    expect(n.subject).toBe(sanitizeSubject(subject));
    expect(n.subject).toMatch(/^Incident INC-[a-z0-9-]+: cafe \? down second line x+\.\.\.$/);
    expect(n.subject!.length).toBe(100);
    const body = n.json as NotificationBody;
    expect(body).toEqual({ subject, message, context: ctx, sentAt: expect.any(String) });
    expect(Date.parse(body.sentAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(n.messageAttributes['firebreak.execution-id']).toMatchObject({ Value: ctx.executionId });
  });

  it('keeps a string message as text, and works without a step context', async () => {
    const out = await publish({ topicArn: env.topicArn, subject: 'Plain text', message: 'hello\nworld' });
    const [n] = await readNotifications(aws.sqs, env.queueUrl, { count: 1 });
    expect(n.messageId).toBe(out.messageId);
    expect(n.subject).toBe('Plain text');
    expect(n.json).toEqual({ subject: 'Plain text', text: 'hello\nworld', context: null, sentAt: expect.any(String) });
  });

  it('in a dry run reports the Publish it would make and sends nothing', async () => {
    const ctx = stepContext('notify');
    const out = await publish({ topicArn: env.topicArn, subject: 'Dry run', message: { x: 1 }, ctx, dryRun: true });

    expect(out).toMatchObject({ messageId: NOT_SENT, dryRun: true });
    expect(out.calls).toEqual([
      {
        service: 'sns',
        operation: 'Publish',
        input: expect.objectContaining({ TopicArn: env.topicArn, Subject: 'Dry run' }),
      },
    ]);
    const sent = JSON.parse((out.calls![0].input as { Message: string }).Message) as NotificationBody;
    expect(sent).toMatchObject({ subject: 'Dry run', message: { x: 1 }, context: ctx });
    // Nothing reached the subscribed queue (the other tests read and delete their own notifications).
    expect(await readNotifications(aws.sqs, env.queueUrl, { count: 1, timeoutMs: 3000 })).toEqual([]);
  });

  it('fails non-retryable for a topic that does not exist', async () => {
    const topicArn = `${env.topicArn}-missing`;
    const err = await publish({ topicArn, subject: 's', message: 'm' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    const f = err as ApplicationFailure;
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain(topicArn);
    expect(f.type).toMatch(/NotFound/);
  });
});

describe('sanitizeSubject', () => {
  it.each([
    ['Incident\r\nalert', 'Incident alert'],
    ['  \t leading space', 'leading space'],
    ['Caf\u00e9 \u2615 down', 'Cafe ? down'],
    ['\n\n', 'firebreak notification'],
    ['a'.repeat(100), 'a'.repeat(100)],
  ])('%j becomes %j', (input, expected) => {
    expect(sanitizeSubject(input)).toBe(expected);
  });

  it('cuts long subjects to 100 printable ASCII characters', () => {
    const s = sanitizeSubject(`${'\u00fc'.repeat(60)}\u4e2d${'y'.repeat(100)}`);
    expect(s).toHaveLength(100);
    expect(s).toMatch(/^[\x20-\x7e]+$/);
    expect(s.endsWith('...')).toBe(true);
  });
});
