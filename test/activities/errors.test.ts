/**
 * AWS error classification. Service errors are built as real SDK ServiceExceptions (what the SDK throws after
 * deserialising an error response), since moto cannot be made to throttle or fail with a 5xx on demand; network
 * errors come from a real client pointed at a closed port.
 */
import { DescribeInstancesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { awsCall, classifyAwsError, describeAwsError } from '../../activities/errors';
import { freePort } from '../../scripts/stack';

function serviceError(name: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
  return new EC2ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
    message: `synthetic ${name}`,
  });
}

function failureOf(err: unknown, what = 'ec2.test', resource?: string): ApplicationFailure {
  try {
    classifyAwsError(err, what, resource);
  } catch (thrown) {
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    return thrown as ApplicationFailure;
  }
  throw new Error('classifyAwsError returned');
}

describe('classifyAwsError', () => {
  it.each([
    ['Throttling', 400],
    ['ThrottlingException', 400],
    ['RequestLimitExceeded', 503],
    ['TooManyRequestsException', 429],
    ['RequestThrottled', 400],
  ])('%s (HTTP %i) is retryable throttling', (name, status) => {
    const err = serviceError(name, status, 'client');
    const f = failureOf(err);
    expect(f.type).toBe(name);
    expect(f.nonRetryable).toBe(false);
    expect(f.cause).toBe(err);
    expect(describeAwsError(err).kind).toBe('throttling');
  });

  it.each([
    ['InternalError', 500, 'server'],
    ['ServiceUnavailable', 503, 'server'],
    ['BadGateway', 502, 'client'], // the status alone decides
    ['SomethingNew', 500, 'client'],
    ['SomethingElse', 200, 'server'], // the fault alone decides
  ] as const)('%s (HTTP %i, $fault %s) is a retryable server error', (name, status, fault) => {
    const f = failureOf(serviceError(name, status, fault));
    expect(f.type).toBe(name);
    expect(f.nonRetryable).toBe(false);
  });

  it.each([
    ['InvalidInstanceID.NotFound', 'instance i-123', 'ec2.captureInstance: instance i-123 not found'],
    ['InvalidGroup.NotFound', 'security group sg-1', 'ec2.captureInstance: security group sg-1 not found'],
    ['UnauthorizedOperation', 'instance i-123', 'ec2.captureInstance: not authorized to act on instance i-123'],
    ['InvalidParameterValue', 'instance i-123', 'ec2.captureInstance: instance i-123: synthetic InvalidParameterValue'],
  ])('%s is a non-retryable client error naming the resource and action', (name, resource, text) => {
    const err = serviceError(name, name === 'UnauthorizedOperation' ? 403 : 400);
    const f = failureOf(err, 'ec2.captureInstance', resource);
    expect(f.type).toBe(name);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toBe(`${text} (${name})`);
    expect(f.cause).toBe(err);
    expect(f.details?.[0]).toMatchObject({
      kind: 'client',
      name,
      httpStatusCode: expect.any(Number),
      requestId: 'req-1',
    });
  });

  it('uses the AWS message when no resource is named', () => {
    const f = failureOf(serviceError('InvalidInstanceID.NotFound', 400), 'ec2.x');
    expect(f.message).toBe('ec2.x: synthetic InvalidInstanceID.NotFound (InvalidInstanceID.NotFound)');
  });

  it('treats errors without response metadata as retryable network errors', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const f = failureOf(err);
    expect(f.type).toBe('ECONNREFUSED');
    expect(f.nonRetryable).toBe(false);
    expect(describeAwsError(err).kind).toBe('network');
  });

  it('rethrows Temporal failures unchanged', () => {
    const original = ApplicationFailure.nonRetryable('already classified', 'Mine');
    expect(failureOf(original)).toBe(original);
  });

  it('wraps a thrown non-error so that it can be the cause', () => {
    const f = failureOf('plain string');
    expect(f.cause).toBeInstanceOf(Error);
    expect(f.cause?.message).toBe('plain string');
  });
});

describe('awsCall', () => {
  it('returns the result of a call that succeeds', async () => {
    await expect(awsCall('x', async () => 42)).resolves.toBe(42);
  });

  it('classifies a real connection failure as retryable', async () => {
    // Nothing listens on a port freePort just released.
    const port = await freePort();
    const ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    try {
      const err = await awsCall(
        'ec2.captureInstance',
        () => ec2.send(new DescribeInstancesCommand({})),
        'instance i-1',
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApplicationFailure);
      const f = err as ApplicationFailure;
      expect(f.nonRetryable).toBe(false);
      expect(f.message).toMatch(/^ec2\.captureInstance: instance i-1/);
      expect(f.details?.[0]).toMatchObject({ kind: 'network', retryable: true });
    } finally {
      ec2.destroy();
    }
  });
});
