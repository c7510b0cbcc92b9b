import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Db } from '../core/db/database.js';
import type { DependencyRegistry, DependencyStatus } from '../core/health/dependency-registry.js';
import type { Clock } from '../core/runtime.js';
import type { AppEnv } from '../http/app-env.js';
import { requireRole } from '../http/auth.js';
import { bearerSecurity, problemResponses } from '../http/router.js';
import { collectionsMetrics, MAX_METRICS_HOURS } from './metrics-query.js';

/**
 * `GET /orchestrate/metrics` in the collections seed's shape. The figures come from stored rows
 * (metrics-query.ts); system_health is the dependency registry's check made for this request. Field
 * definitions: docs/collections-metrics.md.
 */

export type MetricsRoutesDeps = {
  db: Db;
  clock: Clock;
  /** Absent: system_health is an empty object. */
  dependencies?: DependencyRegistry;
};

/** How long a dependency check may take before it counts as unhealthy. */
const HEALTH_TIMEOUT_MS = 2000;

const count = z.number().int().nonnegative();
const rate = z.number().nonnegative();

const MetricsQuery = z.object({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_METRICS_HOURS)
    .default(24)
    .openapi({ description: `The timeframe: the last N hours up to now, 1..${MAX_METRICS_HOURS}` }),
  tenant_id: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: "Only this tenant's conversations, turns, approvals, escalations and plans" }),
  format: z.enum(['json']).default('json').openapi({ description: 'Only json' }),
});

const DependencyHealth = z
  .object({
    healthy: count.openapi({ description: 'Checks that passed (the registry keeps one: this request’s)' }),
    unhealthy: count,
    availability: z.number().nullable().openapi({ description: 'Not tracked: always null' }),
    response_time_ms: z.number().nullable().openapi({ description: 'Not tracked: always null' }),
    last_check: z.string().openapi({ description: 'When this request checked it' }),
  })
  .openapi('CollectionsDependencyHealth');

const ServiceMetrics = z
  .object({
    timeframe: z.object({
      timeframe_hours: count,
      sms_metrics: z.object({ received: count, processed: count, failed: count, rate_per_hour: rate }),
      ai_metrics: z.object({
        responses: count,
        avg_response_time_ms: rate,
        avg_confidence: rate,
        response_rate: rate,
      }),
      approval_metrics: z.object({
        total: count,
        approved: count,
        rejected: count,
        auto_approval_rate: rate,
        avg_approval_time_ms: rate,
      }),
      escalation_metrics: z.object({
        total: count,
        by_type: z.record(z.string(), count),
        by_severity: z.record(z.string(), count),
        rate_per_hour: rate,
        avg_resolution_time_ms: rate,
      }),
      payment_plan_metrics: z.object({
        detected: count,
        validated: count,
        auto_approved: count,
        detection_rate: rate,
        validation_rate: rate,
      }),
    }),
    dashboard: z.object({
      last_hour: z.object({
        sms_received: count,
        ai_responses: count,
        approvals_pending: count,
        escalations: count,
      }),
      today: z.object({
        total_conversations: count,
        completed_workflows: count,
        payment_plans: count,
        escalations: count,
      }),
      system_health: z.record(z.string(), DependencyHealth),
    }),
    generated_at: z.string(),
    filters_applied: z.object({ hours: count, tenant_id: z.string().nullable() }),
  })
  .openapi('CollectionsServiceMetrics');

export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>, deps: MetricsRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/orchestrate/metrics',
      tags: ['collections'],
      summary: 'Collections metrics over the last N hours, computed from stored data',
      description:
        'Every figure is an aggregate over stored rows (turns, texts, approvals, escalations, payment ' +
        'plans), so it is the same on every process and after a restart. Rates are per hour, ratios ' +
        'are 0..1 with 4 decimals and 0 when nothing was counted; times are whole milliseconds. ' +
        '`today` starts at 00:00 UTC. See docs/collections-metrics.md.',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager', 'service')] as const,
      request: { query: MetricsQuery },
      responses: {
        200: { description: 'The metrics', content: { 'application/json': { schema: ServiceMetrics } } },
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const now = deps.clock.now();
      const [stored, systemHealth] = await Promise.all([
        collectionsMetrics(deps.db, { now, hours: query.hours, tenantId: query.tenant_id }),
        dependencyHealth(deps.dependencies, now),
      ]);
      return c.json(
        {
          timeframe: stored.timeframe,
          dashboard: { ...stored.dashboard, system_health: systemHealth },
          generated_at: now.toISOString(),
          filters_applied: { hours: query.hours, tenant_id: query.tenant_id ?? null },
        },
        200,
      );
    },
  );
}

/**
 * The registry keeps no history of checks or their timings, only how to check each dependency now:
 * one check per dependency is made for this request and reported as a count of one. Availability
 * and response time would need a history it does not keep, so they are null rather than invented.
 */
async function dependencyHealth(
  registry: DependencyRegistry | undefined,
  now: Date,
): Promise<Record<string, z.infer<typeof DependencyHealth>>> {
  if (!registry) return {};
  const statuses: Record<string, DependencyStatus> = await registry.checkAll(HEALTH_TIMEOUT_MS);
  return Object.fromEntries(
    Object.entries(statuses).map(([name, status]) => [
      name,
      {
        healthy: status.healthy ? 1 : 0,
        unhealthy: status.healthy ? 0 : 1,
        availability: null,
        response_time_ms: null,
        last_check: now.toISOString(),
      },
    ]),
  );
}
