import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IncidentService } from '../../incidents';
import {
  errors,
  IdParams,
  IncidentListQuery,
  IncidentSchema,
  ListResponse,
  RunId,
  SeverityLiteral,
} from '../../schemas';

export interface IncidentRoutesOptions {
  incidents: IncidentService;
}

const incidents: FastifyPluginAsyncTypebox<IncidentRoutesOptions> = async (app, { incidents: service }) => {
  app.get(
    '/',
    {
      config: { permission: 'incidents:read' },
      schema: {
        tags: ['incidents'],
        querystring: IncidentListQuery,
        response: { 200: ListResponse, ...errors(400, 503) },
      },
    },
    async (request) => {
      const { status, severity, type, resource, since, until, pageSize, pageToken, drill } = request.query;
      // Drills are incidents too, listed only when asked for (`?drill=true`): the default list is the real ones.
      return service.list({
        status,
        severity,
        type,
        resource,
        since,
        until,
        drill: drill ?? false,
        pageSize: pageSize ?? 50,
        pageToken,
      });
    },
  );

  app.get(
    '/:id',
    {
      config: { permission: 'incidents:read' },
      schema: {
        tags: ['incidents'],
        params: IdParams,
        querystring: Type.Object({ runId: Type.Optional(RunId) }, { additionalProperties: false }),
        response: { 200: IncidentSchema, ...errors(400, 404, 503) },
      },
    },
    async (request) => service.get(request.params.id, request.query.runId),
  );

  app.post(
    '/:id/severity',
    {
      config: { permission: 'incidents:write' },
      schema: {
        tags: ['incidents'],
        params: IdParams,
        body: Type.Object(
          { severity: SeverityLiteral, reason: Type.String({ minLength: 1, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 200: IncidentSchema, ...errors(400, 404, 409, 503) },
      },
    },
    async (request) => {
      const state = await service.setSeverity(
        request.params.id,
        request.body.severity,
        request.body.reason,
        request.principal,
      );
      return { ...state, workflowStatus: 'RUNNING' };
    },
  );

  app.post(
    '/:id/resolve',
    {
      config: { permission: 'incidents:write' },
      schema: {
        tags: ['incidents'],
        params: IdParams,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000 }) }, { additionalProperties: false }),
        response: { 200: IncidentSchema, ...errors(400, 404, 409, 503) },
      },
    },
    async (request) => {
      const state = await service.resolve(request.params.id, request.body.reason, request.principal);
      return { ...state, workflowStatus: 'RUNNING' };
    },
  );
};

export default incidents;
