/**
 * A fault-injecting HTTP proxy in front of moto: the worker's AWS clients use it as their endpoint, and a plan picks
 * for each call whether it reaches moto untouched or meets a fault, answered in the call's own protocol (EC2 query,
 * AWS query, JSON) so that the SDK classifies it as it would AWS's:
 *   throttle       a throttling error (EC2 RequestLimitExceeded, Throttling, ThrottlingException); not forwarded
 *   server-error   a 503 (the plan may make it a burst); not forwarded
 *   lost-response  forwarded to moto (the effect happens), then answered with a 500: the caller must not do it twice
 *   timeout        forwarded, then no answer for `holdMs` and the connection reset (a call that timed out)
 *   permanent      a 403 UnauthorizedOperation / AccessDenied; not forwarded
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind = 'throttle' | 'server-error' | 'lost-response' | 'timeout' | 'permanent';
export const FAULT_KINDS: FaultKind[] = ['throttle', 'server-error', 'lost-response', 'timeout', 'permanent'];

export interface Call {
  /** The service from the signature's credential scope (ec2, ssm, autoscaling …). */
  service: string;
  /** The operation: the query protocol's Action, or the JSON protocol's X-Amz-Target operation. */
  action: string;
  body: string;
}

export type FaultPlan = (call: Call) => FaultKind | undefined;

type Protocol = 'ec2' | 'query' | 'json';

function protocolOf(req: http.IncomingMessage, service: string): Protocol {
  if (req.headers['x-amz-target']) return 'json';
  return service === 'ec2' ? 'ec2' : 'query';
}

function errorBody(protocol: Protocol, code: string, message: string): { type: string; body: string } {
  switch (protocol) {
    case 'ec2':
      return {
        type: 'text/xml',
        body:
          `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code>` +
          `<Message>${message}</Message></Error></Errors><RequestID>chaos</RequestID></Response>`,
      };
    case 'query':
      return {
        type: 'text/xml',
        body:
          `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
          `<RequestId>chaos</RequestId></ErrorResponse>`,
      };
    case 'json':
      return { type: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: code, message }) };
    default: {
      const unreachable: never = protocol;
      throw new Error(`unreachable protocol ${String(unreachable)}`);
    }
  }
}

const ERRORS: Record<Exclude<FaultKind, 'timeout'>, { status: number; code: Record<Protocol, string> }> = {
  throttle: {
    status: 400,
    code: { ec2: 'RequestLimitExceeded', query: 'Throttling', json: 'ThrottlingException' },
  },
  'server-error': {
    status: 503,
    code: { ec2: 'Unavailable', query: 'ServiceUnavailable', json: 'ServiceUnavailableException' },
  },
  'lost-response': {
    status: 500,
    code: { ec2: 'InternalError', query: 'InternalFailure', json: 'InternalServerError' },
  },
  permanent: {
    status: 403,
    code: { ec2: 'UnauthorizedOperation', query: 'AccessDenied', json: 'AccessDeniedException' },
  },
};

export interface FaultProxy {
  url: string;
  /** Faults injected so far, by kind. */
  injected: Record<FaultKind, number>;
  /** Calls seen, by `service:action`. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, plan: FaultPlan, opts: { holdMs?: number } = {}) {
  const holdMs = opts.holdMs ?? 3000;
  const upstream = new URL(target);
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const calls = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();

  const forward = (req: http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const out = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
        const service = scope?.[1] ?? 'unknown';
        const target = req.headers['x-amz-target'];
        const action =
          (typeof target === 'string' ? target.split('.').pop() : undefined) ??
          new URLSearchParams(text).get('Action') ??
          `${req.method} ${req.url}`;
        calls.set(`${service}:${action}`, (calls.get(`${service}:${action}`) ?? 0) + 1);
        const fault = plan({ service, action, body: text });
        if (fault) injected[fault]++;
        try {
          if (fault === 'throttle' || fault === 'server-error' || fault === 'permanent') {
            const { status, code } = ERRORS[fault];
            const protocol = protocolOf(req, service);
            const err = errorBody(protocol, code[protocol], `chaos: injected ${fault}`);
            res.writeHead(status, { 'content-type': err.type, 'x-amzn-errortype': code[protocol] });
            res.end(err.body);
            return;
          }
          const answer = await forward(req, body);
          if (fault === 'lost-response') {
            const protocol = protocolOf(req, service);
            const err = errorBody(protocol, ERRORS[fault].code[protocol], 'chaos: the answer was lost');
            res.writeHead(ERRORS[fault].status, { 'content-type': err.type });
            res.end(err.body);
            return;
          }
          if (fault === 'timeout') {
            await new Promise((r) => setTimeout(r, holdMs));
            req.socket.destroy();
            return;
          }
          const headers = { ...answer.headers };
          delete headers['transfer-encoding'];
          res.writeHead(answer.status, headers);
          res.end(answer.body);
        } catch (err) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`proxy: ${String(err)}`);
        }
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    injected,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
