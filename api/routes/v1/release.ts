/**
 * Release mode (as AWSSupport-ContainEC2Instance's): undo what a succeeded execution contained, inside its rollback
 * window; and extend that window when an investigation needs longer. Both are Updates on the execution, so they are in
 * its history; a refused one is logged here (a refused Update leaves no trace in history). Rolling back a running or
 * failed execution stays /rollback's.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../../errors';
import type { ExecutionService } from '../../executions';
import { errors, IdParams, RollbackAccepted, RollbackBody, WindowBody, WindowExtensionSchema } from '../../schemas';

export interface ReleaseRoutesOptions {
  executions: ExecutionService;
}

const release: FastifyPluginAsyncTypebox<ReleaseRoutesOptions> = async (app, { executions: service }) => {
  /** Logs a refusal (who, on what, why) and passes it on. */
  const logged = async <T>(
    request: { log: typeof app.log; principal: { id: string } },
    event: string,
    id: string,
    call: () => Promise<T>,
  ) => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError && err.statusCode < 500) {
        request.log.warn(
          {
            event: `${event}.refused`,
            executionId: id,
            principal: request.principal.id,
            status: err.statusCode,
            reason: err.message,
          },
          `${event} refused`,
        );
      }
      throw err;
    }
  };

  app.post(
    '/:id/release',
    {
      config: { permission: 'executions:release' },
      schema: {
        tags: ['executions'],
        summary: 'Release a succeeded execution inside its rollback window (roll back what it contained)',
        params: IdParams,
        body: RollbackBody,
        response: { 202: RollbackAccepted, ...errors(400, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const ack = await logged(request, 'release', id, () =>
        service.release(id, request.body.reason, request.principal),
      );
      request.log.info({ executionId: id, by: request.principal.id, confirmed: ack.confirmed }, 'release requested');
      return reply.status(202).send({ executionId: id, ...ack });
    },
  );

  app.post(
    '/:id/window',
    {
      config: { permission: 'executions:release' },
      schema: {
        tags: ['executions'],
        summary: "Extend a succeeded execution's rollback window",
        params: IdParams,
        body: WindowBody,
        response: { 200: WindowExtensionSchema, ...errors(400, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const record = await logged(request, 'window-extension', id, () =>
        service.extendWindow(id, request.body, request.principal),
      );
      request.log.info({ executionId: id, by: request.principal.id, until: record.until }, 'rollback window extended');
      return record;
    },
  );
};

export default release;
