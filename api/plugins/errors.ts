/**
 * The root error handler: every error leaves as `{ error: { code, message, details?, requestId } }` with an
 * `x-request-id` header, a 5xx hides internals. The errors Fastify and Node produce before any route runs (a path
 * parameter longer than the router takes, a bad URL, an oversized header block, a malformed request line) use the
 * same shape: see {@link frameworkErrors} and {@link clientErrorHandler}, which app.ts passes to Fastify.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AlertError } from '../../alerts/errors';
import { ApiError } from '../errors';

export const REQUEST_ID_HEADER = 'x-request-id';
/** An incoming request ID is kept only if it is a short token that cannot forge or break a log line. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** Fastify's genReqId: the caller's `x-request-id` when it is safe, else a fresh UUID. */
export function genReqId(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

function send(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  details?: unknown,
) {
  return reply
    .status(status)
    .header(REQUEST_ID_HEADER, request.id)
    .send({ error: { code, message, details, requestId: request.id } });
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword: string;
  params?: Record<string, unknown>;
}

/** One validation issue; an enum mismatch names the values that are allowed (`?status=` is a fixed vocabulary). */
function issue(v: AjvIssue, context: string | undefined) {
  let path = `${context ? `/${context}` : ''}${v.instancePath ?? ''}`;
  if (v.keyword === 'additionalProperties' && typeof v.params?.additionalProperty === 'string') {
    return { path: `${path}/${v.params.additionalProperty}`, message: 'is not allowed' };
  }
  if (v.keyword === 'required' && typeof v.params?.missingProperty === 'string') {
    return { path: `${path}/${v.params.missingProperty}`, message: 'is required' };
  }
  path ||= '/';
  if (v.keyword === 'enum' && Array.isArray(v.params?.allowedValues)) {
    return { path, message: `must be one of: ${v.params.allowedValues.join(', ')}` };
  }
  return { path, message: v.message ?? v.keyword };
}

const errors: FastifyPluginAsync = async (app) => {
  // First hook of all: even a request refused by authentication or rate limits carries its ID back.
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    if (err instanceof ApiError || err instanceof AlertError) {
      if (err.statusCode >= 500) request.log.warn({ err }, err.message);
      return send(request, reply, err.statusCode, err.code, err.message, (err as { details?: unknown }).details);
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const details = fe.validation.map((v) => issue(v as AjvIssue, fe.validationContext));
      const message = `invalid request: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`;
      return send(request, reply, 400, 'VALIDATION_FAILED', message, details);
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return send(request, reply, fe.statusCode, fe.code ?? 'BAD_REQUEST', fe.message);
    }
    request.log.error({ err }, 'unhandled error');
    return send(request, reply, 500, 'INTERNAL', 'internal error; see the server log');
  });
  app.setNotFoundHandler((request, reply) =>
    send(request, reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url}`),
  );
};

/**
 * Fastify's `frameworkErrors`: errors of the router before any route matched. A path parameter longer than the
 * router's maxParamLength (an over-long ID) is a 400 like any other invalid ID, not Fastify's own 414 body.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  switch (err.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      void send(request, reply, 400, 'VALIDATION_FAILED', 'a path parameter is longer than the API accepts', [
        { path: '/params', message: 'too long' },
      ]);
      return;
    case 'FST_ERR_BAD_URL':
      void send(request, reply, 400, 'BAD_URL', 'the URL is not valid (bad percent-encoding)');
      return;
    default:
      request.log.error({ err }, 'framework error');
      void send(request, reply, 500, 'INTERNAL', 'internal error; see the server log');
  }
}

/**
 * Node's `clientError` (the request could not even be parsed), in the standard shape: 431 for an oversized header
 * block or request line, 408 for a request that took too long to arrive, 400 for the rest.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'the request line or headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request did not arrive in time']
        : [400, 'Bad Request', 'BAD_REQUEST', 'the request could not be parsed as HTTP'];
  const requestId = randomUUID();
  const body = JSON.stringify({ error: { code, message, requestId } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export default fp(errors, { name: 'firebreak-errors' });
