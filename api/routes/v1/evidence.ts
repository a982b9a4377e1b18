/**
 * An execution's evidence manifest (api/evidence.ts), as JSON; `?download=true` serves it as a file to keep.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { EvidenceService } from '../../evidence';
import { errors, EvidenceManifestSchema, IdParams } from '../../schemas';

export interface EvidenceRoutesOptions {
  evidence: EvidenceService;
}

const evidence: FastifyPluginAsyncTypebox<EvidenceRoutesOptions> = async (app, { evidence: service }) => {
  app.get(
    '/:id/evidence',
    {
      config: { permission: 'executions:read' },
      schema: {
        tags: ['executions'],
        summary: 'Every artefact the execution produced, with SHA-256, time and step',
        params: IdParams,
        querystring: Type.Object({ download: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: EvidenceManifestSchema, ...errors(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const manifest = await service.manifest(request.params.id);
      if (request.query.download) {
        const file = `evidence-${request.params.id.replace(/[^\w.-]/g, '_')}.json`;
        void reply.header('content-disposition', `attachment; filename="${file}"`);
      }
      return manifest;
    },
  );
};

export default evidence;
