/**
 * Rate limits with @fastify/rate-limit, in two layers:
 * - per source address, in onRequest BEFORE authentication, for every request (so guessing credentials, scanning
 *   paths and flooding the alert endpoints are limited too); the alert endpoints have their own, higher limit, since
 *   SNS and EventBridge deliver from few addresses;
 * - per principal, in preParsing, i.e. AFTER the auth hook of onRequest set `request.principal`, for the routes that
 *   need a credential: one caller cannot starve the others whatever address it comes from.
 * Over a limit: 429 in the standard error shape, with `Retry-After`.
 */
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { RateLimitedError } from '../errors';
import { UNAUTHENTICATED } from '../permissions';

export interface RateLimitOptions {
  /** Length of the window every limit counts in. */
  windowMs: number;
  /** Requests per window per principal (routes that need a credential). */
  perPrincipal: number;
  /** Requests per window per source address (every route but the alert endpoints). */
  perAddress: number;
  /** Requests per window per source address to the alert endpoints. */
  alertsPerAddress: number;
}

const isAlertRoute = (request: FastifyRequest) => request.routeOptions.config?.permission === 'alerts:ingest';

const plugin: FastifyPluginAsync<RateLimitOptions> = async (app, opts) => {
  // Only the limiter factory: the hooks below decide when each limit applies.
  await app.register(rateLimit, { global: false });
  const byAddress = app.createRateLimit({
    timeWindow: opts.windowMs,
    keyGenerator: (request) => `${isAlertRoute(request) ? 'alerts' : 'api'}|${request.ip}`,
    max: (request) => (isAlertRoute(request) ? opts.alertsPerAddress : opts.perAddress),
  });
  const byPrincipal = app.createRateLimit({
    timeWindow: opts.windowMs,
    keyGenerator: (request) => request.principal.id,
    max: opts.perPrincipal,
  });

  type Limiter = typeof byAddress;
  const apply = async (limiter: Limiter, scope: string, request: FastifyRequest, reply: FastifyReply) => {
    const r = await limiter(request);
    if (r.isAllowed || !r.isExceeded) return;
    reply.header('retry-after', String(r.ttlInSeconds));
    request.log.warn(
      { event: 'rate-limited', scope, route: request.routeOptions.url },
      `rate limit (${scope}) exceeded`,
    );
    app.metrics?.rateLimited.inc({ scope });
    throw new RateLimitedError(
      `too many requests (${r.max} per ${opts.windowMs / 1000} s ${scope}); retry in ${r.ttlInSeconds} s`,
      { retryAfterSeconds: r.ttlInSeconds },
    );
  };

  app.addHook('onRequest', async (request, reply) => apply(byAddress, 'per source address', request, reply));
  app.addHook('preParsing', async (request, reply) => {
    const permission = request.routeOptions.config?.permission;
    if (request.is404 || !permission || UNAUTHENTICATED.includes(permission)) return;
    await apply(byPrincipal, 'per principal', request, reply);
  });
};

export default fp(plugin, { name: 'firebreak-rate-limit', dependencies: ['firebreak-errors'] });
