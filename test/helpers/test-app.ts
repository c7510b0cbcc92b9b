import { randomBytes } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { beforeAll } from 'vitest';
import { buildApp, type HttpModule } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createToken, ROLES, type Role } from '../../src/core/auth/token-store.js';
import { DependencyRegistry, type DependencyCheck } from '../../src/core/health/dependency-registry.js';
import { ManualClock, type Clock } from '../../src/core/runtime.js';
import type { AppEnv } from '../../src/http/app-env.js';
import { databaseDependency } from '../../src/http/health-routes.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { testLogger } from './silent-logger.js';
import { useTestDatabase, type TestDatabase } from './test-database.js';

/**
 * The real HTTP edge (buildApp from src/app.ts) on a test database, driven in-process with
 * Hono's app.request(). Nothing of ours is mocked: real config parsing, auth against the
 * api_tokens table, real metrics and the database dependency check.
 */

export const TEST_VERSION = '9.8.7-test';
export const TEST_SERVICE_NAME = 'countersign-test';

export type ModuleContext = { database: TestDatabase; clock: Clock };

export type TestAppOptions = {
  /** Extra environment for loadConfig() (strings, as the environment would give them). */
  env?: Record<string, string>;
  /** A ManualClock starting at 2025-01-15T10:30:00Z unless given. */
  clock?: Clock;
  /** Extra modules (test fixtures) built once the database is ready. */
  modules?: (context: ModuleContext) => readonly HttpModule[];
  /** Peer checks registered next to the database's own. */
  dependencies?: readonly DependencyCheck[];
};

/** Who sends a request: a role (a token of that role made for this app), the env admin, or a raw token. */
export type Caller = Role | 'env-admin' | { token: string } | undefined;

export type TestRequestInit = Omit<RequestInit, 'body' | 'headers'> & {
  as?: Caller;
  /** Sent as application/json. */
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
};

export type TestApp = {
  app: OpenAPIHono<AppEnv>;
  database: TestDatabase;
  config: Config;
  clock: Clock;
  metrics: Metrics;
  dependencies: DependencyRegistry;
  /** One plaintext token per role, stored (hashed) in api_tokens. */
  tokens: Record<Role, string>;
  /** The API_ADMIN_TOKEN this app's config holds (unset when the env passed API_ADMIN_TOKEN: ''). */
  envAdminToken: string | undefined;
  request(path: string, init?: TestRequestInit): Promise<Response>;
};

export async function buildTestApp(database: TestDatabase, options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? new ManualClock();
  const config = loadConfig(
    {
      SERVICE_NAME: TEST_SERVICE_NAME,
      API_ADMIN_TOKEN: `env-admin-${randomBytes(24).toString('base64url')}`,
      LOG_LEVEL: 'silent',
      ...options.env,
    },
    TEST_VERSION,
  );
  const envAdminToken = config.auth.adminToken;
  const metrics = createMetrics();
  const dependencies = new DependencyRegistry();
  dependencies.register(databaseDependency(database));
  for (const check of options.dependencies ?? []) dependencies.register(check);

  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) {
    tokens[role] = (await createToken(database.db, { name: `test-${role}`, role, now: clock.now() })).token;
  }

  const app = buildApp({
    config,
    database,
    clock,
    logger: testLogger,
    metrics,
    dependencies,
    startedAt: clock.now(),
    modules: options.modules?.({ database, clock }) ?? [],
  });

  function tokenFor(caller: Caller): string | undefined {
    if (caller === undefined) return undefined;
    if (typeof caller === 'object') return caller.token;
    if (caller === 'env-admin') {
      if (!envAdminToken) throw new Error('this test app has no API_ADMIN_TOKEN');
      return envAdminToken;
    }
    return tokens[caller];
  }

  return {
    app,
    database,
    config,
    clock,
    metrics,
    dependencies,
    tokens,
    envAdminToken,
    async request(path, init = {}) {
      const { as, json, body, headers = {}, ...rest } = init;
      const token = tokenFor(as);
      const allHeaders: Record<string, string> = {
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...headers,
      };
      const method = rest.method ?? (json === undefined && body === undefined ? 'GET' : 'POST');
      return app.request(path, {
        ...rest,
        method,
        headers: allHeaders,
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
        ...(body === undefined ? {} : { body }),
      });
    },
  };
}

/** One migrated database and one app for the whole test file. */
export function useTestApp(options: TestAppOptions = {}): { readonly current: TestApp } {
  const database = useTestDatabase();
  let testApp: TestApp | undefined;
  beforeAll(async () => {
    testApp = await buildTestApp(database.current, options);
  });
  return {
    get current() {
      if (!testApp) throw new Error('test app not ready');
      return testApp;
    },
  };
}

export const PROBLEM_JSON = 'application/problem+json';

/** Reads a problem response and checks what every problem must hold. */
export async function readProblem(res: Response): Promise<Record<string, unknown>> {
  const contentType = res.headers.get('content-type') ?? '';
  if (!contentType.startsWith(PROBLEM_JSON)) {
    throw new Error(
      `expected ${PROBLEM_JSON}, got "${contentType}" (status ${res.status}): ${await res.text()}`,
    );
  }
  const body = (await res.json()) as Record<string, unknown>;
  if (body.status !== res.status) {
    throw new Error(`problem status ${String(body.status)} differs from HTTP status ${res.status}`);
  }
  return body;
}
