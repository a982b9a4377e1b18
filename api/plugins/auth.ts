/**
 * Authentication in one place: every route reads `request.principal`, set here. Modes:
 * - `token`: `Authorization: Bearer <token>`, tokens from FIREBREAK_API_TOKENS (`token=user:role+role,…`).
 * - `none`: local development only; the caller is `user:local-operator` with every role. Logged loudly at start.
 */
import { timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import type { Principal } from '../../workflows/messages';
import { UnauthenticatedError } from '../errors';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** false: the route authenticates its caller itself (alert endpoints: SNS signatures, shared secrets). */
    auth?: boolean;
  }
}

export type AuthOptions = { mode: 'none' } | { mode: 'token'; tokens: Map<string, Principal> };

/** Parses `token=user:role+role,token2=user2:role`. */
export function parseTokens(spec: string): Map<string, Principal> {
  const out = new Map<string, Principal>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^=]{16,})=([^:]+):?(.*)$/.exec(entry);
    if (!m) throw new Error('FIREBREAK_API_TOKENS entries must be token=user:role+role with tokens of 16+ characters');
    out.set(m[1], { id: `user:${m[2]}`, roles: m[3] ? m[3].split('+') : [] });
  }
  return out;
}

const auth: FastifyPluginAsync<AuthOptions> = async (app, opts) => {
  app.decorateRequest('principal', null as unknown as Principal);
  if (opts.mode === 'none') {
    app.log.warn('AUTH DISABLED (FIREBREAK_AUTH_MODE=none): every caller acts as user:local-operator with all roles');
  }
  const tokens = opts.mode === 'token' ? [...opts.tokens.entries()].map(([t, p]) => [Buffer.from(t), p] as const) : [];
  app.addHook('onRequest', async (request) => {
    if (opts.mode === 'none') {
      request.principal = { id: 'user:local-operator', roles: ['*'] };
      return;
    }
    if (!request.url.startsWith('/v1/')) return; // health and docs are public
    if (request.routeOptions.config?.auth === false) return;
    const header = request.headers.authorization ?? '';
    const presented = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    // Constant-time comparison against every token, so timing does not reveal a prefix.
    let found: Principal | undefined;
    for (const [token, principal] of tokens) {
      if (token.length === presented.length && timingSafeEqual(token, presented)) found = principal;
    }
    if (!found) throw new UnauthenticatedError('a valid bearer token is required');
    request.principal = found;
  });
};

export default fp(auth, { name: 'firebreak-auth' });
