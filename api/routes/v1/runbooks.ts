import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { LoadedRunbook } from '../../../runbooks/dsl/types';
import type { RunbookRegistry } from '../../../runbooks/registry';
import { gatePolicy, releaseRoles } from '../../../workflows/approval-policy';
import { NotFoundError } from '../../errors';
import type { ExecutionService } from '../../executions';
import type { PlanService } from '../../plans';
import {
  errors,
  IdParams,
  PlanBody,
  PlanSchema,
  RunbookDetail,
  RunbookSummary,
  StartedExecution,
  StartExecutionBody,
} from '../../schemas';

export interface RunbookRoutesOptions {
  registry: RunbookRegistry;
  executions: ExecutionService;
  plans: PlanService;
}

function summary({ definition: d, digest }: LoadedRunbook) {
  return {
    id: d.id,
    version: d.version,
    title: d.title,
    description: d.description,
    incidentType: d.incidentType,
    severity: d.severity,
    digest,
  };
}

const runbooks: FastifyPluginAsyncTypebox<RunbookRoutesOptions> = async (app, { registry, executions, plans }) => {
  const find = (id: string): LoadedRunbook => {
    const rb = registry.get(id);
    if (!rb) throw new NotFoundError(`no runbook "${id}"`);
    return rb;
  };

  app.get(
    '/',
    {
      config: { permission: 'runbooks:read' },
      schema: { tags: ['runbooks'], response: { 200: Type.Object({ runbooks: Type.Array(RunbookSummary) }) } },
    },
    async () => ({ runbooks: registry.list().map(summary) }),
  );

  app.get(
    '/:id',
    {
      config: { permission: 'runbooks:read' },
      schema: { tags: ['runbooks'], params: IdParams, response: { 200: RunbookDetail, ...errors(404) } },
    },
    async (request) => {
      const rb = find(request.params.id);
      return {
        ...summary(rb),
        params: rb.definition.params,
        rollbackWindow: rb.definition.rollbackWindow,
        release: {
          roles: releaseRoles(rb.definition),
          source: rb.definition.release ? ('runbook' as const) : ('gate-roles' as const),
        },
        steps: rb.definition.steps.map((s) => {
          switch (s.kind) {
            case 'action':
              return {
                id: s.id,
                kind: s.kind,
                title: s.title,
                action: s.action,
                rollbackAction: s.rollback?.action,
                timeout: s.timeout,
              };
            case 'approval':
              return {
                id: s.id,
                kind: s.kind,
                title: s.title,
                approvers: s.approvers,
                policy: gatePolicy(s),
                instructions: s.instructions,
                escalation: s.escalation?.map((t) => ({ after: t.after, topicArn: t.topicArn, message: t.message })),
                timeout: s.timeout,
                onTimeout: s.onTimeout,
              };
            case 'wait':
              return {
                id: s.id,
                kind: s.kind,
                title: s.title,
                until: s.until,
                timeout: s.timeout,
                onTimeout: s.onTimeout,
              };
            default:
              throw new Error(`unknown step kind ${(s as { kind: string }).kind}`);
          }
        }),
      };
    },
  );

  app.post(
    '/:id/executions',
    {
      config: { permission: 'executions:start' },
      schema: {
        tags: ['executions'],
        params: IdParams,
        body: StartExecutionBody,
        response: { 201: StartedExecution, ...errors(400, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const rb = find(request.params.id);
      const started = await executions.start(rb, request.body, request.principal);
      request.log.info({ executionId: started.executionId, runbookId: rb.definition.id }, 'execution started');
      return reply.status(201).send(started);
    },
  );

  app.post(
    '/:id/plan',
    {
      // A plan reads live AWS state with the worker's credentials: as much as starting the runbook would.
      config: { permission: 'executions:start' },
      schema: {
        tags: ['runbooks'],
        summary:
          'Plan (dry run): what each step would do to which resource, approvals and the rollback plan; no change',
        params: IdParams,
        body: PlanBody,
        response: { 200: PlanSchema, ...errors(400, 404, 503) },
      },
    },
    async (request) => {
      const rb = find(request.params.id);
      const plan = await plans.plan(rb, request.body, request.principal);
      request.log.info({ planId: plan.planId, runbookId: rb.definition.id }, 'plan made');
      return plan;
    },
  );
};

export default runbooks;
