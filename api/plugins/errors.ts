/**
 * The root error handler: every error leaves as `{ error: { code, message, details? } }`; a 5xx hides internals.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { AlertError } from '../../alerts/errors';
import { ApiError } from '../errors';

const errors: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    if (err instanceof ApiError || err instanceof AlertError) {
      if (err.statusCode >= 500) request.log.warn({ err }, err.message);
      return reply
        .status(err.statusCode)
        .send({ error: { code: err.code, message: err.message, details: (err as { details?: unknown }).details } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.status(400).send({
        error: {
          code: 'VALIDATION_FAILED',
          message: fe.message,
          details: fe.validation.map((v) => ({ path: v.instancePath || '/', message: v.message ?? v.keyword })),
        },
      });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: { code: fe.code ?? 'BAD_REQUEST', message: fe.message } });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error; see the server log' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );
};

export default fp(errors, { name: 'firebreak-errors' });
