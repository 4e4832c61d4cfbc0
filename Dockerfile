# syntax=docker/dockerfile:1
# Anteroom image: `docker build -t anteroom:0.1.0 .` The same image runs every role: `serve` (default),
# `worker`, `migrate`, `reseal`, `admin create-user`. Configuration comes from the environment (never baked in:
# .dockerignore keeps .env out). See README.md "Deployment" and docs/operations.md.

ARG NODE_IMAGE=node:20-bookworm-slim

# ── Stage 1: production dependencies ──
# better-sqlite3 and @node-rs/argon2 are native addons: npm fetches a prebuilt binary when one matches, and
# otherwise better-sqlite3 compiles from source, hence python3, make and g++ here (and only here).
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime needs only `dependencies`: tsx runs the TypeScript sources, esbuild bundles the browser scripts at
# start-up, in memory. Install scripts run (better-sqlite3, esbuild), as package.json's allowScripts lists.
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# ── Stage 2: the runtime image ──
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/anteroom/anteroom
LABEL org.opencontainers.image.title="anteroom" \
  org.opencontainers.image.description="Open-source virtual waiting room" \
  org.opencontainers.image.source="${SOURCE}" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8000 \
  WORKER_PORT=9100 \
  DATA_DIR=/app/data \
  LOG_FORMAT=json
WORKDIR /app
# The final stage holds only what `npm ci --omit=dev` installed (compiled in stage 1), never the compilers.
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json package-lock.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root src ./src
COPY --chown=root:root client ./client
# Code is root-owned and read-only to the process; DATA_DIR (embedded mode's SQLite file, a generated first
# admin password) is the one place it writes. Kubernetes runs with a read-only root and an emptyDir at /tmp.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8000 9100
# Slim images have no curl: Node's fetch. The worker listens on WORKER_PORT, not PORT (docker-compose.yml
# overrides this check for it).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/anteroom.js"]
CMD ["serve"]
