import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApprovalService } from '../../approvals';
import { ApprovalsQuery, ApprovalsResponse, errors } from '../../schemas';

export interface ApprovalRoutesOptions {
  approvals: ApprovalService;
}

const approvals: FastifyPluginAsyncTypebox<ApprovalRoutesOptions> = async (app, { approvals: service }) => {
  app.get(
    '/',
    {
      config: { permission: 'approvals:read' },
      schema: {
        tags: ['approvals'],
        description:
          'Pending approval gates across executions. `mine=true`: only the gates the caller may approve now (a role ' +
          'the gate names, not its own execution under four-eyes, not already approved by the caller).',
        querystring: ApprovalsQuery,
        response: { 200: ApprovalsResponse, ...errors(400, 503) },
      },
    },
    async (request) => {
      const { mine, pageSize, pageToken } = request.query;
      const page = await service.pending(request.principal, {
        mine: mine ?? false,
        pageSize: pageSize ?? 50,
        pageToken,
      });
      for (const u of page.unreadable) {
        request.log.warn({ executionId: u.executionId, error: u.error }, 'pending gate left out: state unreadable');
      }
      return { items: page.items, nextPageToken: page.nextPageToken };
    },
  );
};

export default approvals;
