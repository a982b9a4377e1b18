/**
 * The approval console: static files from console/ at /console, and the execution page's path served by the same
 * index.html (the page reads the execution ID from its own URL). The files are public, like the docs; the data they
 * show come from the protected /v1 routes, with the bearer token the user pasted.
 */
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export const CONSOLE_ROOT = path.join(__dirname, '..', '..', 'console');

const consoleRoutes: FastifyPluginAsync = async (app) => {
  // Exactly the routes registered in this context are public: the static files and the page paths below.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, permission: 'public' };
  });
  // wildcard: false registers one route per file found at start, so nothing outside console/ can be reached.
  await app.register(fastifyStatic, { root: CONSOLE_ROOT, prefix: '/console/', wildcard: false });
  const page = { schema: { hide: true } };
  // Relative, so that the redirect also works behind a proxy that serves the API under a path.
  app.get('/console', page, async (_request, reply) => reply.redirect('console/'));
  app.get('/console/executions/:id', page, async (_request, reply) => reply.sendFile('index.html'));
};

export default consoleRoutes;
