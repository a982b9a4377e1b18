/**
 * Forensic review routes: timelines rebuilt from history (JSON; `?at=` for the state at an event ID or a time), the
 * raw history in Temporal's JSON form with its SHA-256 in `x-content-sha256`, and the incident's post-mortem draft.
 * Registered under /v1 beside the execution and incident routes.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ForensicsKind, ForensicsService } from '../../forensics';
import { ReportSchema } from '../../../forensics/report';
import { TimelineSchema } from '../../../forensics/timeline-schema';
import { errors, IdParams, RunId } from '../../schemas';

export interface ForensicsRoutesOptions {
  forensics: ForensicsService;
}

/** The header carrying the SHA-256 (hex) of the exact body bytes of a history export. */
export const SHA256_HEADER = 'x-content-sha256';
export const RUN_ID_HEADER = 'x-temporal-run-id';

const AtQuery = Type.Object(
  {
    at: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'An event ID (digits) or an ISO time: the state then' }),
    ),
  },
  { additionalProperties: false },
);
const HistoryQuery = Type.Object({ runId: Type.Optional(RunId) }, { additionalProperties: false });
const HistoryBody = Type.Object(
  { events: Type.Array(Type.Unknown()) },
  { description: "Temporal's JSON history (what `temporal workflow show --output json` writes)" },
);
/** Chunks of the body as it is streamed out. */
const CHUNK = 64 * 1024;

const forensics: FastifyPluginAsyncTypebox<ForensicsRoutesOptions> = async (app, { forensics: service }) => {
  const routes: { kind: ForensicsKind; prefix: string; permission: 'executions:read' | 'incidents:read' }[] = [
    { kind: 'execution', prefix: '/executions', permission: 'executions:read' },
    { kind: 'incident', prefix: '/incidents', permission: 'incidents:read' },
  ];
  for (const { kind, prefix, permission } of routes) {
    const tags = [`${kind}s`];
    app.get(
      `${prefix}/:id/timeline`,
      {
        config: { permission },
        schema: {
          tags,
          params: IdParams,
          querystring: AtQuery,
          response: { 200: TimelineSchema, ...errors(400, 404, 503) },
        },
      },
      async (request) => service.timeline(kind, request.params.id, request.query.at),
    );

    app.get(
      `${prefix}/:id/history`,
      {
        config: { permission },
        schema: {
          tags,
          params: IdParams,
          querystring: HistoryQuery,
          response: { 200: HistoryBody, ...errors(404, 503) },
        },
      },
      async (request, reply) => {
        // The hash goes in a header, so the body is assembled (page by page) before its first byte is sent.
        const exported = await service.history(kind, request.params.id, request.query.runId);
        const bytes = Buffer.from(exported.body, 'utf8');
        const chunks = Array.from({ length: Math.ceil(bytes.length / CHUNK) }, (_, i) =>
          bytes.subarray(i * CHUNK, (i + 1) * CHUNK),
        );
        return reply
          .type('application/json; charset=utf-8')
          .header(SHA256_HEADER, exported.sha256)
          .header(RUN_ID_HEADER, exported.runId)
          .header('content-length', bytes.length)
          .send(Readable.from(chunks) as never); // a stream: not serialised against the schema
      },
    );
  }

  app.get(
    '/incidents/:id/report',
    {
      config: { permission: 'incidents:read' },
      schema: {
        tags: ['incidents'],
        params: IdParams,
        querystring: Type.Object(
          { format: Type.Optional(Type.Union([Type.Literal('markdown'), Type.Literal('json')])) },
          { additionalProperties: false },
        ),
        response: {
          // Markdown by default, the data behind it with ?format=json: each documented under its own media type.
          200: {
            description: 'the post-incident report draft',
            content: {
              'text/markdown': { schema: Type.String() },
              'application/json': { schema: ReportSchema },
            },
          },
          ...errors(404, 503),
        },
      },
    },
    async (request, reply) => {
      const report = await service.report(request.params.id);
      // Sent as text either way: the union schema documents both forms, it does not serialise.
      if (request.query.format === 'json')
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(report));
      return reply.type('text/markdown; charset=utf-8').send(report.markdown);
    },
  );
};

export default forensics;
