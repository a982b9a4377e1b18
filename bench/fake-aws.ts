/**
 * A fast fake AWS for the benchmarks: one in-process HTTP endpoint answering the EC2 (EC2 query XML), SNS and STS
 * (query XML) and SSM (JSON 1.1, X-Amz-Target) calls that ec2-compromise makes up to its approval gate and that the
 * interpreter bench's runbook makes, with canned, instant, correctly shaped answers. Every call is timestamped with
 * the instance it names, so a bench can tell when a runbook's first AWS call arrived. It keeps no state: a retry sees
 * what the first attempt saw. Anything else is answered with an error and counted in `unknown`, so a bench that
 * drifts out of what the fake knows says so instead of measuring failures.
 *
 * Not a test double for correctness (moto is that): only for figures where moto's own latency would dominate. With
 * `upstream` (`--aws moto`), it answers nothing itself: it records each call the same way, then forwards it to moto
 * and relays moto's answer, so the benches time moto-backed runs at the same place with the same clock.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BENCH_ACCOUNT } from './bench';

export interface FakeCall {
  /** Wall-clock milliseconds with sub-millisecond precision (performance.timeOrigin + now). */
  at: number;
  service: 'ec2' | 'sns' | 'ssm' | 'sts' | 'autoscaling' | 'elbv2' | 'mark';
  action: string;
  /** The instance the call names, when it names one (or the mark's key). */
  key?: string;
  /** What a ModifyInstanceAttribute changes: the attribute, or `BlockDeviceMapping`. */
  detail?: string;
}

export interface FakeAws {
  endpoint: string;
  calls: FakeCall[];
  /** Actions the fake does not know, with how often they were asked. */
  unknown: Map<string, number>;
  /** With an upstream: its answers other than 2xx, by `status service:action` (moto's refusals, for the report). */
  upstreamErrors: Map<string, number>;
  /** Called on every call (after it is recorded). */
  onCall?: (call: FakeCall) => void;
  close(): Promise<void>;
}

export const now = (): number => performance.timeOrigin + performance.now();

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

function ec2Xml(action: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NS}"><requestId>${randomUUID()}</requestId>${body}</${action}Response>`;
}

function queryXml(ns: string, action: string, result: string): string {
  return (
    `<?xml version="1.0"?>\n<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** A hex suffix derived from the instance ID, so its volume and ENI IDs are stable and distinct. */
const suffix = (instanceId: string) => instanceId.slice(2).padEnd(17, '0').slice(0, 17);

function instanceXml(id: string): string {
  const s = suffix(id);
  return (
    `<reservationSet><item><reservationId>r-${s}</reservationId><ownerId>${BENCH_ACCOUNT}</ownerId><groupSet/>` +
    `<instancesSet><item><instanceId>${id}</instanceId><imageId>ami-0123456789abcdef0</imageId>` +
    `<instanceState><code>16</code><name>running</name></instanceState><instanceType>t3.micro</instanceType>` +
    `<placement><availabilityZone>us-east-1a</availabilityZone></placement>` +
    `<launchTime>2026-11-01T00:00:00.000Z</launchTime>` +
    `<vpcId>vpc-0bench000000000000</vpcId><subnetId>subnet-0bench00000000000</subnetId>` +
    `<privateIpAddress>10.0.1.23</privateIpAddress><rootDeviceName>/dev/xvda</rootDeviceName>` +
    `<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><volumeId>vol-${s}</volumeId>` +
    `<status>attached</status><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>` +
    `<networkInterfaceSet><item><networkInterfaceId>eni-${s}</networkInterfaceId>` +
    `<subnetId>subnet-0bench00000000000</subnetId><vpcId>vpc-0bench000000000000</vpcId>` +
    `<status>in-use</status><privateIpAddress>10.0.1.23</privateIpAddress>` +
    `<groupSet><item><groupId>sg-0bench000000000000</groupId><groupName>web</groupName></item></groupSet>` +
    `<attachment><attachmentId>eni-attach-${s}</attachmentId><deviceIndex>0</deviceIndex>` +
    `<status>attached</status><deleteOnTermination>true</deleteOnTermination></attachment></item>` +
    `</networkInterfaceSet>` +
    `<groupSet><item><groupId>sg-0bench000000000000</groupId><groupName>web</groupName></item></groupSet>` +
    `<tagSet><item><key>Name</key><value>bench</value></item></tagSet></item></instancesSet></item></reservationSet>`
  );
}

const CONSOLE = Buffer.from('[    0.000000] Linux version 6.1 (bench)\nlogin: \n').toString('base64');

/** EC2 answers by action; undefined for an action the fake does not know. */
function ec2Answer(action: string, p: URLSearchParams): string | undefined {
  const instanceId = p.get('InstanceId') ?? p.get('InstanceId.1') ?? 'i-0000000000000000';
  switch (action) {
    case 'DescribeInstances':
      return instanceXml(instanceId);
    case 'DescribeInstanceAttribute': {
      const attribute = p.get('Attribute');
      const value =
        attribute === 'disableApiTermination'
          ? '<disableApiTermination><value>false</value></disableApiTermination>'
          : attribute === 'instanceInitiatedShutdownBehavior'
            ? '<instanceInitiatedShutdownBehavior><value>terminate</value></instanceInitiatedShutdownBehavior>'
            : '';
      return `<instanceId>${instanceId}</instanceId>${value}`;
    }
    case 'CreateTags':
    case 'DeleteTags':
    case 'ModifyInstanceAttribute':
      return '<return>true</return>';
    case 'DescribeSnapshots':
      return '<snapshotSet/>';
    case 'DescribeIamInstanceProfileAssociations':
      return '<iamInstanceProfileAssociationSet/>';
    case 'CreateSnapshot':
      return (
        `<snapshotId>snap-${randomUUID().replace(/-/g, '').slice(0, 17)}</snapshotId>` +
        `<volumeId>${p.get('VolumeId')}</volumeId><status>pending</status>` +
        `<startTime>${new Date().toISOString()}</startTime><progress></progress><ownerId>${BENCH_ACCOUNT}</ownerId>` +
        `<volumeSize>8</volumeSize><encrypted>false</encrypted>`
      );
    case 'GetConsoleOutput':
      return `<instanceId>${instanceId}</instanceId><timestamp>${new Date().toISOString()}</timestamp><output>${CONSOLE}</output>`;
    default:
      return undefined;
  }
}

/** SSM (JSON 1.1) answers by operation; commands succeed at once. */
function ssmAnswer(op: string, body: Record<string, any>): unknown {
  switch (op) {
    case 'SendCommand':
      return {
        Command: {
          CommandId: randomUUID(),
          DocumentName: body.DocumentName,
          InstanceIds: body.InstanceIds ?? [],
          Comment: body.Comment,
          Status: 'Pending',
          RequestedDateTime: Date.now() / 1000,
        },
      };
    case 'ListCommands':
      // No earlier command of a step: every attempt sends its own (a retry is not what the benches measure).
      return { Commands: [] };
    case 'GetCommandInvocation':
      return {
        CommandId: body.CommandId,
        InstanceId: body.InstanceId,
        Status: 'Success',
        StatusDetails: 'Success',
        ResponseCode: 0,
        StandardOutputContent: 'bench volatile data\n',
        StandardErrorContent: '',
      };
    case 'ListCommandInvocations':
      return { CommandInvocations: [] };
    default:
      return undefined;
  }
}

const INSTANCE_RE = /i-[0-9a-f]{8,17}/;

/** Forwards a call to `upstream` as it came and relays the answer; counts answers other than 2xx. */
function forward(
  upstream: URL,
  req: http.IncomingMessage,
  raw: Buffer,
  res: http.ServerResponse,
  onError: (status: number) => void,
): void {
  const out = http.request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: upstream.host, 'content-length': String(raw.length) },
    },
    (answer) => {
      const status = answer.statusCode ?? 502;
      if (status >= 300) onError(status);
      res.writeHead(status, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', (err) => {
    onError(502);
    // Cut off mid-answer: the client sees the connection end, as it would from AWS.
    if (res.headersSent) return void res.destroy(err);
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`bench proxy: ${err.message}`);
  });
  out.end(raw);
}

/** Starts the fake on a free loopback port; with `upstream`, a recording proxy in front of it instead. */
export async function startFakeAws(opts: { upstream?: string } = {}): Promise<FakeAws> {
  const fake: FakeAws = {
    endpoint: '',
    calls: [],
    unknown: new Map(),
    upstreamErrors: new Map(),
    close: async () => undefined,
  };
  const upstream = opts.upstream ? new URL(opts.upstream) : undefined;
  const keep = (call: FakeCall) => {
    fake.calls.push(call);
    fake.onCall?.(call);
  };
  const miss = (what: string) => !upstream && fake.unknown.set(what, (fake.unknown.get(what) ?? 0) + 1);

  const server = http.createServer((req, res) => {
    const at = now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const raw = body.toString('utf8');
      const answer = (status: number, type: string, text: string) => {
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      // Behind a proxy every call has been recorded (below) before its answer is chosen: moto's replaces the fake's.
      let lastCall: FakeCall | undefined;
      const record = (call: FakeCall) => {
        lastCall = call;
        keep(call);
      };
      const send = upstream
        ? () =>
            forward(upstream, req, body, res, (status) => {
              const what = `${status} ${lastCall?.service ?? '?'}:${lastCall?.action ?? '?'}`;
              fake.upstreamErrors.set(what, (fake.upstreamErrors.get(what) ?? 0) + 1);
            })
        : answer;
      // The baseline's no-op activity marks its arrival here, so both sides are timed by the same clock.
      if (req.url?.startsWith('/__mark/')) {
        record({ at, service: 'mark', action: 'Mark', key: decodeURIComponent(req.url.slice(8)) });
        return answer(200, 'text/plain', 'ok');
      }
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') {
        const op = target.split('.').pop() ?? '';
        const body = raw ? JSON.parse(raw) : {};
        const key = body.InstanceId ?? body.InstanceIds?.[0];
        const answer = ssmAnswer(op, body);
        record({ at, service: 'ssm', action: op, key });
        if (answer === undefined) {
          miss(`ssm:${op}`);
          return send(
            400,
            'application/x-amz-json-1.1',
            JSON.stringify({ __type: 'UnsupportedOperation', message: `fake AWS: ${op}` }),
          );
        }
        return send(200, 'application/x-amz-json-1.1', JSON.stringify(answer));
      }
      const p = new URLSearchParams(raw);
      const action = p.get('Action') ?? '';
      const version = p.get('Version');
      const key = (raw.match(INSTANCE_RE) ?? [])[0];
      if (version === '2010-03-31') {
        record({ at, service: 'sns', action, key });
        if (action === 'Publish')
          return send(
            200,
            'text/xml',
            queryXml('http://sns.amazonaws.com/doc/2010-03-31/', action, `<MessageId>${randomUUID()}</MessageId>`),
          );
      } else if (version === '2011-06-15') {
        record({ at, service: 'sts', action, key });
        if (action === 'GetCallerIdentity')
          return send(
            200,
            'text/xml',
            queryXml(
              'https://sts.amazonaws.com/doc/2011-06-15/',
              action,
              `<Arn>arn:aws:iam::${BENCH_ACCOUNT}:user/bench</Arn><UserId>AIDABENCH</UserId><Account>${BENCH_ACCOUNT}</Account>`,
            ),
          );
      } else if (version === '2011-01-01' || version === '2015-12-01') {
        // The capture's membership look-ups (activities/ec2-membership.ts): the bench's instances are in no Auto
        // Scaling group and no target group.
        const service = version === '2011-01-01' ? 'autoscaling' : 'elbv2';
        record({ at, service, action, key });
        const empty: Record<string, string> = {
          DescribeAutoScalingInstances: '<AutoScalingInstances/>',
          DescribeTargetGroups: '<TargetGroups/>',
        };
        if (empty[action] !== undefined)
          return send(
            200,
            'text/xml',
            queryXml(
              service === 'autoscaling'
                ? 'http://autoscaling.amazonaws.com/doc/2011-01-01/'
                : 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
              action,
              empty[action],
            ),
          );
      } else {
        const detail =
          action === 'ModifyInstanceAttribute'
            ? p.has('BlockDeviceMapping.1.DeviceName')
              ? 'BlockDeviceMapping'
              : (p.get('Attribute') ?? [...p.keys()].find((k) => k.endsWith('.Value'))?.split('.')[0])
            : undefined;
        record({ at, service: 'ec2', action, key, ...(detail ? { detail } : {}) });
        const answer = ec2Answer(action, p);
        if (answer !== undefined) return send(200, 'text/xml', ec2Xml(action, answer));
      }
      miss(`${version}:${action}`);
      send(
        400,
        'text/xml',
        `<Response><Errors><Error><Code>UnsupportedOperation</Code><Message>fake AWS: ${action}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
      );
    });
  });
  // Many keep-alive sockets from the SDK's agents: no idle limit of our own to add latency.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
