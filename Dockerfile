# Countersign container image (multi-stage).
#
# NOTE: no Docker engine runs on the development machines, so this file is not built or
# exercised by CI. Check it by hand where Docker is available:
#   docker build -t countersign . && docker run -p 8000:8000 -v countersign-data:/data countersign
#
# Without DATABASE_URL the service uses embedded PGlite in /data (one container only); set
# DATABASE_URL to PostgreSQL for several containers (see docker-compose.yml).

# ---- build: all dependencies, TypeScript compiled to dist/ ------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` runs `npm run build`, which needs the sources copied below: skip scripts here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only, non-root ------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev leaves TypeScript out, so the `prepare` script (npm run build) must not run:
# --ignore-scripts skips it (and the telemetry script of a documentation dependency).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Migrations are applied at start; dist/core/db/database.js finds them at /app/migrations.
COPY migrations ./migrations
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8000
# /readyz answers 200 once the database is reachable and migrated. A `--role worker` container
# opens no port: disable this check for it (docker run --no-healthcheck, or in compose).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8000}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts a graceful shutdown (SHUTDOWN_GRACE_MS); node runs as PID 1 and handles it.
CMD ["node", "dist/cli.js", "serve"]
