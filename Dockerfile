# syntax=docker/dockerfile:1
# The firebreak image (worker, API and drill runner: the command picks which one runs), in two stages: the
# dependencies are installed in `deps`, and only node_modules and the sources reach `app`, which runs as the
# unprivileged `node` user. docker-compose.yml builds it; Temporal, its UI, PostgreSQL and moto are upstream images.

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# All dependencies: the services run TypeScript through tsx, a devDependency. --ignore-scripts skips the root
# postinstall (scripts/tools.sh installs the Temporal CLI and moto for the local stack; here they are containers).
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20-slim AS app
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY config ./config
COPY alerts ./alerts
COPY workflows ./workflows
COPY activities ./activities
COPY runbooks ./runbooks
COPY forensics ./forensics
COPY telemetry ./telemetry
COPY worker ./worker
COPY api ./api
COPY forensics ./forensics
# Static files the API serves at /console (read from disk, so no import reaches them).
COPY console ./console
COPY scripts ./scripts
COPY drills ./drills
# The evidence store's default folder (FIREBREAK_EVIDENCE_DIR), writable by the runtime user; mount a volume there.
RUN mkdir -p /app/.data/evidence && chown -R 1000:1000 /app/.data
# The base image's `node` user (uid and gid 1000), numeric so that runtimes can check it is not root.
USER 1000:1000
ENV FIREBREAK_API_HOST=0.0.0.0 FIREBREAK_API_PORT=3000
# API; the worker's /metrics and /healthz; the Temporal SDK runtime's metrics.
EXPOSE 3000 9100 9464
# `node --import tsx` is what the tsx command runs, minus its signal-relaying parent: SIGTERM from `docker stop`
# reaches the service itself, which shuts down gracefully.
CMD ["node", "--import", "tsx", "api/server.ts"]
