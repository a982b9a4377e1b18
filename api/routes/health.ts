import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errors } from '../schemas';

export interface HealthOptions {
  /** Resolves when Temporal answers; rejects otherwise. */
  temporalReady: () => Promise<void>;
}

const health: FastifyPluginAsyncTypebox<HealthOptions> = async (app, opts) => {
  app.get(
    '/healthz',
    {
      config: { permission: 'public' },
      schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      config: { permission: 'public' },
      schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ready') }), ...errors(503) } },
    },
    async (_request, reply) => {
      try {
        await opts.temporalReady();
        return { status: 'ready' as const };
      } catch {
        return reply.status(503).send({ error: { code: 'UNAVAILABLE', message: 'Temporal is not reachable' } });
      }
    },
  );
};

export default health;
