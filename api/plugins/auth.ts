/**
 * Authentication and authorisation in one place, keyed to the MATCHED ROUTE, never the URL text: each route declares
 * `config: { permission }` (api/permissions.ts), the app refuses to start while any route declares none, and the
 * onRequest hook checks the caller's credential and roles against the matched route's permission. Path spellings
 * (percent-encoding, absolute-form targets, doubled slashes …) therefore cannot skip the check: whatever the router
 * matched is what gets checked.
 *
 * Modes:
 * - `token`: `Authorization: Bearer <credential>`: a static API token (stored as a SHA-256 hash) or an OIDC JWT.
 * - `none`: local emulator stack only; every caller is `user:local-operator` with every role (logged loudly).
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import type { Principal } from '../../workflows/messages';
import { looksLikeJwt, type JwtVerifier } from '../jwt';
import { CredentialError, type CredentialProblem, type TokenStore } from '../tokens';
import { ForbiddenError, UnauthenticatedError } from '../errors';
import { ALL_ROLES, isPermission, permissionsOf, UNAUTHENTICATED, type Permission } from '../permissions';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; for `public` and `alerts:ingest` routes, `anonymous`. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** What the caller needs to reach this route. Every route must declare one, or the app does not start. */
    permission?: Permission;
  }
  interface FastifyInstance {
    /** Every registered route with its declared permission (for the route-table tests and the docs). */
    routePermissions: () => { method: string; url: string; permission: Permission | undefined }[];
  }
}

export type AuthOptions = { mode: 'none' } | { mode: 'token'; tokens: TokenStore; jwt?: JwtVerifier };

const LOCAL_OPERATOR: Principal = { id: 'user:local-operator', roles: [ALL_ROLES] };
const ANONYMOUS: Principal = { id: 'anonymous', roles: [] };

export class MissingPermissionError extends Error {
  override readonly name = 'MissingPermissionError';
  readonly code = 'ROUTE_WITHOUT_PERMISSION';
  constructor(readonly routes: string[]) {
    super(`routes without a declared permission (config.permission): ${routes.join(', ')}`);
  }
}

const auth: FastifyPluginAsync<AuthOptions> = async (app, opts) => {
  app.decorateRequest('principal', null as unknown as Principal);
  if (opts.mode === 'none') {
    app.log.warn('AUTH DISABLED (FIREBREAK_AUTH_MODE=none): every caller acts as user:local-operator with all roles');
  }

  // Fail closed at start: collect every route (of every encapsulated context) and check them once all are registered.
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  const table = () =>
    routes.map((r) => ({
      method: ([] as string[]).concat(r.method).join(','),
      url: r.url,
      permission: isPermission(r.config?.permission) ? r.config.permission : undefined,
    }));
  app.decorate('routePermissions', table);
  app.addHook('onReady', async () => {
    const missing = table().filter((r) => !r.permission);
    if (missing.length > 0) throw new MissingPermissionError(missing.map((r) => `${r.method} ${r.url}`));
  });

  const refuse = (request: FastifyRequest, status: 401 | 403, reason: string, message: string): never => {
    const route = request.routeOptions.url ?? '(none)';
    request.log.warn(
      { event: 'auth.refused', status, reason, principal: request.principal?.id, route, method: request.method },
      `refused: ${message}`,
    );
    app.metrics?.authRefused.inc({ status: String(status), reason, route });
    throw status === 401 ? new UnauthenticatedError(message) : new ForbiddenError(message);
  };

  const authenticate = async (request: FastifyRequest): Promise<Principal> => {
    if (opts.mode === 'none') return LOCAL_OPERATOR;
    const header = request.headers.authorization;
    const problem = (p: CredentialProblem, message: string): never => refuse(request, 401, p, message);
    if (!header) return problem('missing', 'a bearer credential is required');
    const m = /^Bearer ([\x21-\x7e]{1,8192})$/.exec(header);
    if (!m) return problem('malformed', 'the Authorization header must be "Bearer <credential>"');
    const credential = m[1];
    if (looksLikeJwt(credential)) {
      if (!opts.jwt) return problem('jwt-off', 'JWTs are not accepted here (no OIDC issuer configured)');
      try {
        return await opts.jwt.verify(credential);
      } catch (err) {
        if (err instanceof CredentialError) return problem(err.problem, `bearer token refused: ${err.message}`);
        throw err;
      }
    }
    return opts.tokens.authenticate(credential) ?? problem('unknown-token', 'a valid bearer credential is required');
  };

  app.addHook('onRequest', async (request, reply) => {
    request.principal = ANONYMOUS;
    // No route matched: the not-found handler answers 404 and no route handler runs.
    if (request.is404) return;
    const permission = request.routeOptions.config?.permission;
    // Cannot happen after the start-up check; refuse rather than trust.
    if (!isPermission(permission)) return refuse(request, 403, 'no-permission-declared', 'route not available');
    if (UNAUTHENTICATED.includes(permission)) return;
    if (opts.mode === 'token') reply.header('www-authenticate', 'Bearer realm="firebreak"');
    request.principal = await authenticate(request);
    if (!permissionsOf(request.principal).has(permission)) {
      return refuse(request, 403, 'missing-permission', `${permission} is required (roles: ${rolesOf(request)})`);
    }
  });
};

function rolesOf(request: FastifyRequest): string {
  return request.principal.roles?.join(', ') || 'none';
}

export default fp(auth, { name: 'firebreak-auth' });
