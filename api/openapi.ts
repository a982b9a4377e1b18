/**
 * What the OpenAPI document says about each route beyond its own schema, derived from what the route declares so it
 * cannot drift: its security (from `config.permission`), and the error answers every route of its kind can give
 * (400 and 431 for any input, 413/415 for a body, 401/403 behind a credential, 429 everywhere).
 */
import type { RouteOptions } from 'fastify';
import { UNAUTHENTICATED, isPermission } from './permissions';
import { ErrorBody } from './schemas';

export const SECURITY_SCHEMES = (webhookHeader: string) =>
  ({
    bearer: {
      type: 'http',
      scheme: 'bearer',
      description: 'A static API token (`npm run token`) or an OIDC JWT from the configured issuer',
    },
    webhookSecret: {
      type: 'apiKey',
      in: 'header',
      name: webhookHeader,
      description: 'The shared secret of EventBridge API destinations and webhooks (FIREBREAK_WEBHOOK_SECRET)',
    },
  }) as const;

type Schema = Record<string, unknown> & {
  response?: Record<string, unknown>;
  security?: readonly Record<string, readonly string[]>[];
  hide?: boolean;
};

/** onRoute hook (registered before @fastify/swagger, which keeps a reference to the same route options). */
export function documentRoute(route: RouteOptions): void {
  const schema = route.schema as Schema | undefined;
  if (!schema || schema.hide) return;
  const permission = route.config?.permission;
  const authenticated = isPermission(permission) && !UNAUTHENTICATED.includes(permission);
  const codes = [429];
  // 431: a query string or header block over Node's header limit is refused before routing, in the standard shape.
  if (schema.params || schema.querystring || schema.body || schema.headers) codes.push(400, 431);
  if (schema.body) codes.push(413, 415);
  if (authenticated) codes.push(401, 403);
  const derived = Object.fromEntries(codes.map((c) => [c, ErrorBody]));
  // A new object: route schemas share their parts (ErrorBody, IdParams), which must not be changed in place.
  route.schema = {
    ...(schema as RouteOptions['schema']),
    security: schema.security ?? (authenticated ? [{ bearer: [] }] : []),
    response: { ...derived, ...schema.response },
  };
}
