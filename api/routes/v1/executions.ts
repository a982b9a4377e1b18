import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors';
import type { ExecutionService } from '../../executions';
import type { ExecutionState } from '../../../workflows/messages';
import {
  ApprovalBody,
  ApprovalRecordSchema,
  errors,
  ExecutionListQuery,
  ExecutionSchema,
  Id,
  IdParams,
  ListResponse,
  RollbackAccepted,
  RollbackBody,
} from '../../schemas';

export interface ExecutionRoutesOptions {
  executions: ExecutionService;
}

/**
 * A refused decision leaves no trace in the workflow's history (its Update validator refused it), so the API logs it:
 * who, on what, and why.
 */
async function logRefusal<T>(
  request: FastifyRequest,
  what: { action: 'approval' | 'rollback'; executionId: string; stepId?: string; decision?: string },
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError && err.statusCode < 500) {
      request.log.warn(
        {
          event: `${what.action}.refused`,
          ...what,
          principal: request.principal.id,
          status: err.statusCode,
          reason: err.message,
        },
        `${what.action} refused`,
      );
    }
    throw err;
  }
}

const executions: FastifyPluginAsyncTypebox<ExecutionRoutesOptions> = async (app, { executions: service }) => {
  /**
   * Metrics that need the execution's state (its runbook, when the gate opened): best effort, never the answer's.
   * A drill's decisions and releases are not counted.
   */
  const observe = async (request: FastifyRequest, executionId: string, record: (s: ExecutionState) => void) => {
    try {
      const [state, drill] = await Promise.all([service.state(executionId), service.isDrill(executionId)]);
      if (!drill) record(state);
    } catch (err) {
      request.log.debug({ err, executionId }, 'metrics: execution state unreadable');
    }
  };

  app.get(
    '/',
    {
      config: { permission: 'executions:read' },
      schema: {
        tags: ['executions'],
        querystring: ExecutionListQuery,
        response: { 200: ListResponse, ...errors(400, 503) },
      },
    },
    async (request) => {
      const { status, severity, runbook, startedBy, account, region, resource, since, until, pageSize, pageToken } =
        request.query;
      return service.list({
        status,
        severity,
        runbook,
        startedBy,
        account,
        region,
        resource,
        since,
        until,
        pageSize: pageSize ?? 50,
        pageToken,
      });
    },
  );

  app.get(
    '/:id',
    {
      config: { permission: 'executions:read' },
      schema: { tags: ['executions'], params: IdParams, response: { 200: ExecutionSchema, ...errors(404, 503) } },
    },
    async (request) => service.get(request.params.id),
  );

  app.post(
    '/:id/approvals/:stepId',
    {
      config: { permission: 'approvals:decide' },
      schema: {
        tags: ['approvals'],
        params: Type.Object({ id: Id, stepId: Id }),
        body: ApprovalBody,
        response: { 200: ApprovalRecordSchema, ...errors(400, 403, 404, 409, 503) },
      },
    },
    async (request) => {
      const { id: executionId, stepId } = request.params;
      const record = await logRefusal(
        request,
        { action: 'approval', executionId, stepId, decision: request.body.decision },
        () => service.decide(executionId, stepId, request.body, request.principal),
      );
      request.log.info(
        { executionId, stepId, decision: record.decision, by: record.decidedBy.id, gate: record.gate },
        'approval decided',
      );
      await observe(request, executionId, (state) => {
        const opened = state.steps.find((s) => s.id === stepId)?.startedAt;
        if (!opened) return;
        const seconds = (Date.parse(record.decidedAt) - Date.parse(opened)) / 1000;
        if (seconds >= 0) {
          app.metrics.approvalDecisionSeconds.observe({ runbook: state.runbookId, decision: record.decision }, seconds);
        }
      });
      return record;
    },
  );

  app.post(
    '/:id/rollback',
    {
      config: { permission: 'executions:rollback' },
      schema: {
        tags: ['executions'],
        params: IdParams,
        body: RollbackBody,
        response: { 202: RollbackAccepted, ...errors(400, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const ack = await logRefusal(request, { action: 'rollback', executionId: request.params.id }, () =>
        service.rollback(request.params.id, request.body.reason, request.principal),
      );
      request.log.info(
        { executionId: request.params.id, by: request.principal.id, confirmed: ack.confirmed },
        'rollback requested',
      );
      // Unconfirmed: no worker answers a state query either.
      if (ack.confirmed) {
        await observe(request, request.params.id, (state) =>
          app.metrics.rollbackRequests.inc({
            runbook: state.runbookId,
            kind: ack.status === 'succeeded' ? 'release' : 'rollback',
          }),
        );
      }
      return reply.status(202).send({ executionId: request.params.id, ...ack });
    },
  );
};

export default executions;
