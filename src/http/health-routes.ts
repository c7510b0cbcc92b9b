import { getHeapStatistics } from 'node:v8';
import { createRoute, z } from '@hono/zod-openapi';
import { count, sql } from 'drizzle-orm';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Database } from '../core/db/database.js';
import { workflows } from '../core/db/schema.js';
import {
  DEGRADATION_MODES,
  degradationMode,
  type DependencyRegistry,
} from '../core/health/dependency-registry.js';
import type { Clock } from '../core/runtime.js';
import type { AppEnv } from './app-env.js';
import { problemResponse } from './problem.js';
import { problemResponses } from './router.js';

export type HealthDeps = {
  database: Database;
  dependencies: DependencyRegistry;
  clock: Clock;
  startedAt: Date;
  serviceName: string;
  version: string;
  memoryWarnRatio: number;
};

const Basic = z
  .object({
    status: z.enum(['healthy', 'degraded', 'unhealthy']),
    version: z.string(),
    uptime_seconds: z.number().int(),
    timestamp: z.string().datetime(),
    service_name: z.string(),
  })
  .openapi('HealthBasic');

const Health = Basic.extend({
  workflows: z
    .record(z.string(), z.record(z.string(), z.number().int()))
    .openapi({ description: 'Workflow counts by kind, then by state' }),
}).openapi('Health');

const Detailed = Basic.extend({
  checks: z.object({
    database: z.enum(['healthy', 'unhealthy']),
    external_services: z.enum(['healthy', 'degraded', 'unhealthy']),
    memory: z.enum(['healthy', 'warning']),
  }),
}).openapi('HealthDetailed');

const Dependencies = z
  .object({
    supabase: z
      .boolean()
      .openapi({ description: 'The database (PostgreSQL or embedded PGlite); the seed named it supabase' }),
    overall_status: z.enum(['healthy', 'degraded', 'unhealthy']),
    degradation_mode: z.enum(DEGRADATION_MODES).openapi({
      description:
        'full: all answer; partial: a peer is down and its work degrades or waits; emergency: nothing can be sent; read_only: the database refuses writes; offline: the database is down',
    }),
    checked_at: z.string().datetime(),
    details: z.record(
      z.string(),
      z.object({
        healthy: z.boolean(),
        critical: z.boolean().optional(),
        adapter: z.string().optional(),
        circuit: z.enum(['closed', 'open', 'half_open']).optional(),
        detail: z.string().optional(),
        role: z.enum(['database', 'ai', 'outbound', 'inbound', 'ledger', 'notify']).optional(),
        readOnly: z.boolean().optional(),
      }),
    ),
  })
  .catchall(z.unknown())
  .openapi('HealthDependencies');

const tags = ['health'];
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: HealthDeps): void {
  const uptime = () => Math.floor((deps.clock.now().getTime() - deps.startedAt.getTime()) / 1000);
  const basic = (status: 'healthy' | 'degraded' | 'unhealthy') => ({
    status,
    version: deps.version,
    uptime_seconds: uptime(),
    timestamp: deps.clock.now().toISOString(),
    service_name: deps.serviceName,
  });

  // Counting by state is a GROUP BY over an index: cheap, but not for every probe of a load balancer.
  let counts: { at: number; value: Record<string, Record<string, number>> } | undefined;
  async function workflowCounts() {
    if (counts && Date.now() - counts.at < 5000) return counts.value;
    const rows = await deps.database.db
      .select({ kind: workflows.kind, state: workflows.state, n: count() })
      .from(workflows)
      .groupBy(workflows.kind, workflows.state);
    const value: Record<string, Record<string, number>> = {};
    for (const row of rows) (value[row.kind] ??= {})[row.state] = Number(row.n);
    counts = { at: Date.now(), value };
    return value;
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      tags,
      summary: 'Service health with workflow counts',
      responses: { 200: json(Health, 'Health, with workflow statistics') },
    }),
    async (c) => {
      try {
        return c.json({ ...basic('healthy'), workflows: await workflowCounts() }, 200);
      } catch {
        return c.json({ ...basic('unhealthy'), workflows: {} }, 200);
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/health/detailed',
      tags,
      summary: 'Health of the database, peers and memory',
      responses: { 200: json(Detailed, 'Detailed health') },
    }),
    async (c) => {
      const statuses = await deps.dependencies.checkAll();
      const database = statuses.supabase?.healthy ? 'healthy' : 'unhealthy';
      const peers = Object.entries(statuses).filter(([name]) => name !== 'supabase');
      const external = peers.every(([, s]) => s.healthy)
        ? 'healthy'
        : peers.some(([, s]) => s.healthy)
          ? 'degraded'
          : 'unhealthy';
      const heap = getHeapStatistics();
      const memory =
        heap.used_heap_size / heap.heap_size_limit > deps.memoryWarnRatio ? 'warning' : 'healthy';
      const status =
        database === 'unhealthy'
          ? 'unhealthy'
          : external === 'healthy' && memory === 'healthy'
            ? 'healthy'
            : 'degraded';
      return c.json(
        { ...basic(status), checks: { database, external_services: external, memory } } as const,
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/health/dependencies',
      tags,
      summary: 'One boolean per dependency, overall status and degradation mode',
      responses: { 200: json(Dependencies, 'Dependency health') },
    }),
    async (c) => {
      const statuses = await deps.dependencies.checkAll();
      const mode = degradationMode(statuses);
      const flags = Object.fromEntries(Object.entries(statuses).map(([name, s]) => [name, s.healthy]));
      return c.json(
        {
          ...flags,
          supabase: statuses.supabase?.healthy ?? false,
          overall_status: mode === 'full' ? 'healthy' : mode === 'offline' ? 'unhealthy' : 'degraded',
          degradation_mode: mode,
          checked_at: deps.clock.now().toISOString(),
          details: statuses,
        } as const,
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/livez',
      tags,
      summary: 'The process is up (no dependency is checked)',
      responses: { 200: json(z.object({ status: z.literal('alive') }), 'Alive') },
    }),
    (c) => c.json({ status: 'alive' as const }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags,
      summary: 'The database is reachable and migrated',
      responses: {
        200: json(z.object({ status: z.literal('ready') }), 'Ready to serve'),
        ...problemResponses(503),
      },
    }),
    async (c) => {
      try {
        await deps.database.ping();
        if (!(await deps.database.isMigrated())) {
          return problemResponse(c, 503, 'The database schema is not migrated yet.') as never;
        }
        return c.json({ status: 'ready' as const }, 200);
      } catch {
        return problemResponse(c, 503, 'The database is not reachable.') as never;
      }
    },
  );
}

/** The core's own dependency: the database. */
export function databaseDependency(database: Database) {
  return {
    name: 'supabase',
    critical: true,
    role: 'database' as const,
    async check() {
      const result = (await database.db.execute(
        sql`select current_setting('transaction_read_only') as ro`,
      )) as { rows: { ro: string }[] };
      const readOnly = result.rows[0]?.ro === 'on';
      return {
        healthy: true,
        adapter: database.kind,
        ...(readOnly ? { readOnly, detail: 'read only' } : {}),
      };
    },
  };
}
