import { and, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { COLLECTIONS_KIND } from '../collections/collections-store.js';
import type { Executor } from '../core/db/database.js';
import {
  collectionsApprovals,
  collectionsEscalations,
  collectionsPaymentPlans,
  smsMessages,
  workflows,
} from '../core/db/schema.js';

/**
 * Time series for the dashboard's metrics page, from stored rows only (as the collections metrics,
 * docs/collections-metrics.md): each figure is counted in buckets of whole UTC hours by the row's
 * created_at. One aggregate query per table, each bounded by the (…, created_at) indexes of
 * migrations/0003_metrics_indexes.sql; empty buckets are filled with zeros here, not in SQL.
 */

export const SERIES_WINDOWS = {
  '24h': { hours: 24, bucketHours: 1, label: 'Last 24 hours' },
  '7d': { hours: 168, bucketHours: 6, label: 'Last 7 days' },
} as const;
export type SeriesWindowKey = keyof typeof SERIES_WINDOWS;

export function isSeriesWindow(value: string): value is SeriesWindowKey {
  return Object.hasOwn(SERIES_WINDOWS, value);
}

export type SeriesBucket = {
  /** Start of the bucket (a whole UTC hour); the bucket holds rows created in [start, start + bucketHours). */
  start: Date;
  textsIn: number;
  textsOut: number;
  /** Turns with a routing decision, and of those the ones sent without a person. */
  turnsDecided: number;
  turnsAutoSent: number;
  /** Approvals queued in the bucket that a manager has decided, and their mean wait (ms; 0 when none). */
  approvalsDecided: number;
  avgApprovalMs: number;
  escalations: number;
  plansDetected: number;
};

export type MetricsSeries = {
  /** Start of the first bucket. */
  from: Date;
  /** The last bucket ends at the service clock's now (inclusive). */
  now: Date;
  bucketHours: number;
  buckets: SeriesBucket[];
};

const HOUR_MS = 3_600_000;

/** The buckets of a window: `hours / bucketHours` of them, the last one holding `now`. */
export function seriesBounds(now: Date, hours: number, bucketHours: number): { from: Date; count: number } {
  if (!Number.isInteger(hours) || !Number.isInteger(bucketHours) || bucketHours < 1 || hours % bucketHours) {
    throw new RangeError('hours must be a whole multiple of bucketHours');
  }
  const bucketMs = bucketHours * HOUR_MS;
  const count = hours / bucketHours;
  const lastStart = Math.floor(now.getTime() / bucketMs) * bucketMs;
  return { from: new Date(lastStart - (count - 1) * bucketMs), count };
}

const int = (expr: SQL) => sql<number>`(${expr})::int`.mapWith(Number);
const countWhere = (filter: SQL) => int(sql`count(*) filter (where ${filter})`);

export async function metricsSeries(
  db: Executor,
  input: { now: Date; hours: number; bucketHours: number },
): Promise<MetricsSeries> {
  const { from, count } = seriesBounds(input.now, input.hours, input.bucketHours);
  const bucketSeconds = input.bucketHours * 3600;
  // The bucket a row falls in, counted from the window's first bucket: the same integer on
  // PostgreSQL and PGlite, whatever the session's time zone.
  const bucketOf = (column: PgColumn) =>
    int(sql`floor((extract(epoch from ${column}) - ${from.getTime() / 1000}) / ${bucketSeconds})`);
  const window = { from, now: input.now };

  const [texts, turns, approvals, escalations, plans] = await Promise.all([
    db
      .select({
        bucket: bucketOf(smsMessages.createdAt),
        textsIn: countWhere(sql`${smsMessages.direction} = 'in'`),
        textsOut: countWhere(sql`${smsMessages.direction} = 'out'`),
      })
      .from(smsMessages)
      .where(
        and(
          sql`${smsMessages.direction} in ('in', 'out')`,
          gte(smsMessages.createdAt, window.from),
          lte(smsMessages.createdAt, window.now),
        ),
      )
      .groupBy(sql`1`),
    db
      .select({
        bucket: bucketOf(workflows.createdAt),
        decided: countWhere(sql`jsonb_typeof(${workflows.data}->'decision') = 'string'`),
        autoSent: countWhere(sql`${workflows.data}->'auto_approved' = 'true'::jsonb`),
      })
      .from(workflows)
      .where(
        and(
          eq(workflows.kind, COLLECTIONS_KIND),
          gte(workflows.createdAt, window.from),
          lte(workflows.createdAt, window.now),
        ),
      )
      .groupBy(sql`1`),
    db
      .select({
        bucket: bucketOf(collectionsApprovals.createdAt),
        decided: int(sql`count(*)`),
        avgMs:
          sql<number>`coalesce(avg(extract(epoch from (${collectionsApprovals.decidedAt} - ${collectionsApprovals.createdAt})) * 1000), 0)::float8`.mapWith(
            Number,
          ),
      })
      .from(collectionsApprovals)
      .where(
        and(
          gte(collectionsApprovals.createdAt, window.from),
          lte(collectionsApprovals.createdAt, window.now),
          // Decided by a manager; an obsolete item's decided_at is when it was superseded.
          sql`${collectionsApprovals.status} in ('approved', 'modified', 'rejected')`,
          sql`${collectionsApprovals.decidedAt} is not null`,
        ),
      )
      .groupBy(sql`1`),
    db
      .select({ bucket: bucketOf(collectionsEscalations.createdAt), n: int(sql`count(*)`) })
      .from(collectionsEscalations)
      .where(
        and(
          gte(collectionsEscalations.createdAt, window.from),
          lte(collectionsEscalations.createdAt, window.now),
        ),
      )
      .groupBy(sql`1`),
    db
      .select({ bucket: bucketOf(collectionsPaymentPlans.createdAt), n: int(sql`count(*)`) })
      .from(collectionsPaymentPlans)
      .where(
        and(
          gte(collectionsPaymentPlans.createdAt, window.from),
          lte(collectionsPaymentPlans.createdAt, window.now),
        ),
      )
      .groupBy(sql`1`),
  ]);

  const buckets: SeriesBucket[] = Array.from({ length: count }, (_, i) => ({
    start: new Date(from.getTime() + i * input.bucketHours * HOUR_MS),
    textsIn: 0,
    textsOut: 0,
    turnsDecided: 0,
    turnsAutoSent: 0,
    approvalsDecided: 0,
    avgApprovalMs: 0,
    escalations: 0,
    plansDetected: 0,
  }));
  const at = (i: number) => buckets[i];
  for (const r of texts) Object.assign(at(r.bucket) ?? {}, { textsIn: r.textsIn, textsOut: r.textsOut });
  for (const r of turns)
    Object.assign(at(r.bucket) ?? {}, { turnsDecided: r.decided, turnsAutoSent: r.autoSent });
  for (const r of approvals) {
    Object.assign(at(r.bucket) ?? {}, { approvalsDecided: r.decided, avgApprovalMs: Math.round(r.avgMs) });
  }
  for (const r of escalations) Object.assign(at(r.bucket) ?? {}, { escalations: r.n });
  for (const r of plans) Object.assign(at(r.bucket) ?? {}, { plansDetected: r.n });
  return { from, now: input.now, bucketHours: input.bucketHours, buckets };
}
