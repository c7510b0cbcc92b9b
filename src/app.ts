import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import type { Database } from './core/db/database.js';
import type { DependencyRegistry } from './core/health/dependency-registry.js';
import type { Clock } from './core/runtime.js';
import type { AppEnv } from './http/app-env.js';
import { authenticate, type PublicPath } from './http/auth.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { idempotency } from './http/idempotency.js';
import { errorMapper, problemResponse } from './http/problem.js';
import { requestContext } from './http/request-context.js';
import { createRouter } from './http/router.js';
import { registerSystemRoutes } from './http/system-routes.js';
import { registerTokenRoutes } from './http/token-routes.js';
import type { Metrics } from './observability/metrics.js';

/** What a domain (collections, email reply) or a test fixture plugs into the HTTP edge. */
export type HttpModule = {
  name: string;
  /** Paths that need no token (signed provider webhooks verify their own signature). */
  publicPaths?: readonly PublicPath[];
  register(app: OpenAPIHono<AppEnv>): void;
};

export type AppDeps = {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  dependencies: DependencyRegistry;
  startedAt: Date;
  modules?: readonly HttpModule[];
};

const CORE_PUBLIC_PATHS: readonly PublicPath[] = [
  '/health',
  '/health/*',
  '/livez',
  '/readyz',
  '/docs',
  '/docs/*',
  '/openapi.json',
];

/** The dashboard's pages (dashboardModule), which answer people with HTML and guard themselves. */
const isDashboardPath = (path: string): boolean => path === '/dashboard' || path.startsWith('/dashboard/');

export function buildApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const { config, database, clock, logger, metrics } = deps;
  const modules = deps.modules ?? [];
  const app = createRouter();

  app.use('*', requestContext(logger, metrics));
  // The dashboard sets its own limit, answered with its HTML page and its headers (people in a
  // browser, not API clients: found by the dashboard fuzz, docs/fuzz.md).
  const apiLimit = bodyLimit({
    maxSize: config.http.bodyLimitBytes,
    onError: (c) =>
      problemResponse(
        c,
        413,
        `The request body is larger than the limit of ${config.http.bodyLimitBytes} bytes.`,
      ),
  });
  app.use('*', async (c, next) => (isDashboardPath(c.req.path) ? next() : apiLimit(c, next)));
  app.use(
    '*',
    authenticate({
      db: database.db,
      adminToken: config.auth.adminToken,
      publicPaths: [...CORE_PUBLIC_PATHS, ...modules.flatMap((m) => m.publicPaths ?? [])],
    }),
  );
  const idempotencyMiddleware = idempotency({
    db: database.db,
    clock,
    ttlMs: config.http.idempotencyTtlHours * 3_600_000,
  });
  // Token creation returns a secret: its response is never stored for replay. The dashboard's
  // forms are not API calls: a stored answer would be replayed before their session and CSRF
  // checks (found by the dashboard fuzz, docs/fuzz.md).
  const notReplayed = (path: string) => path === '/admin/tokens' || isDashboardPath(path);
  app.use('*', async (c, next) => (notReplayed(c.req.path) ? next() : idempotencyMiddleware(c, next)));

  registerHealthRoutes(app, {
    database,
    dependencies: deps.dependencies,
    clock,
    startedAt: deps.startedAt,
    serviceName: config.serviceName,
    version: config.version,
    memoryWarnRatio: config.health.memoryWarnRatio,
  });
  registerSystemRoutes(app, { metrics, version: config.version, serviceName: config.serviceName });
  registerTokenRoutes(app, { db: database.db, clock });
  for (const module of modules) module.register(app);

  app.notFound((c) => problemResponse(c, 404, `There is no ${c.req.method} ${c.req.path}.`));
  app.onError(errorMapper(logger));
  return app;
}
