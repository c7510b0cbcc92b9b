import { and, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../core/db/database.js';
import {
  collectionsApprovals,
  collectionsConversations,
  collectionsEscalations,
  collectionsPaymentPlans,
  smsMessages,
  workflows,
} from '../core/db/schema.js';
import { COLLECTIONS_KIND } from './collections-store.js';

/**
 * The seed's service metrics (`GET /orchestrate/metrics`), computed from stored rows only: nothing is
 * counted in memory, so the figures are the same on every process and after a restart. Each source
 * table is read by one aggregate query whose FILTER clauses give the timeframe, the last hour and
 * today from the same rows. How each field is defined: docs/collections-metrics.md.
 */

export const MAX_METRICS_HOURS = 720;

export type MetricsWindow = {
  /** "Now" from the injected clock: every window ends here (inclusive). */
  now: Date;
  /** The timeframe: the last `hours` hours, 1..720. */
  hours: number;
  /** Only this tenant's rows when set. */
  tenantId?: string | undefined;
};

export type TimeframeMetrics = {
  timeframe_hours: number;
  sms_metrics: { received: number; processed: number; failed: number; rate_per_hour: number };
  ai_metrics: {
    responses: number;
    avg_response_time_ms: number;
    avg_confidence: number;
    response_rate: number;
  };
  approval_metrics: {
    total: number;
    approved: number;
    rejected: number;
    auto_approval_rate: number;
    avg_approval_time_ms: number;
  };
  escalation_metrics: {
    total: number;
    by_type: Record<string, number>;
    by_severity: Record<string, number>;
    rate_per_hour: number;
    avg_resolution_time_ms: number;
  };
  payment_plan_metrics: {
    detected: number;
    validated: number;
    auto_approved: number;
    detection_rate: number;
    validation_rate: number;
  };
};

export type DashboardCounts = {
  last_hour: { sms_received: number; ai_responses: number; approvals_pending: number; escalations: number };
  today: {
    total_conversations: number;
    completed_workflows: number;
    payment_plans: number;
    escalations: number;
  };
};

export type StoredMetrics = { timeframe: TimeframeMetrics; dashboard: DashboardCounts };

/** The three windows every figure is read over; all end at `now`. */
export type MetricsBounds = {
  now: Date;
  /** Start of the timeframe: now − hours. */
  since: Date;
  /** now − 1 hour. */
  lastHour: Date;
  /** 00:00 UTC of now's UTC date. */
  today: Date;
  /** The earliest of the three: the one range each query scans. */
  scanFrom: Date;
};

export function metricsBounds(now: Date, hours: number): MetricsBounds {
  const since = new Date(now.getTime() - hours * 3_600_000);
  const lastHour = new Date(now.getTime() - 3_600_000);
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const scanFrom = new Date(Math.min(since.getTime(), lastHour.getTime(), today.getTime()));
  return { now, since, lastHour, today, scanFrom };
}

/** A ratio that is 0, never NaN or Infinity, when nothing was counted; 4 decimals. */
export function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? round(numerator / denominator, 4) : 0;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const int = (expr: SQL) => sql<number>`(${expr})::int`.mapWith(Number);
/** An average as a float; 0 when it averaged no rows. */
const avg = (expr: SQL, filter: SQL) =>
  sql<number>`coalesce(avg(${expr}) filter (where ${filter}), 0)::float8`.mapWith(Number);
const countWhere = (filter: SQL) => int(sql`count(*) filter (where ${filter})`);

export async function collectionsMetrics(db: Executor, window: MetricsWindow): Promise<StoredMetrics> {
  const bounds = metricsBounds(window.now, window.hours);
  const [turns, texts, approvals, escalations, plans] = await Promise.all([
    turnFigures(db, bounds, window.tenantId),
    inboundTexts(db, bounds, window.tenantId),
    approvalFigures(db, bounds, window.tenantId),
    escalationFigures(db, bounds, window.tenantId),
    planFigures(db, bounds, window.tenantId),
  ]);
  const hours = window.hours;
  return {
    timeframe: {
      timeframe_hours: hours,
      sms_metrics: {
        received: texts.received,
        processed: turns.processed,
        failed: turns.failed,
        rate_per_hour: ratio(texts.received, hours),
      },
      ai_metrics: {
        responses: turns.drafted,
        avg_response_time_ms: Math.round(turns.avgDraftMs),
        avg_confidence: round(turns.avgConfidence, 4),
        response_rate: ratio(turns.drafted, turns.turns),
      },
      approval_metrics: {
        total: approvals.total,
        approved: approvals.approved,
        rejected: approvals.rejected,
        auto_approval_rate: ratio(turns.autoSent, turns.decided),
        avg_approval_time_ms: Math.round(approvals.avgDecisionMs),
      },
      escalation_metrics: {
        total: escalations.total,
        by_type: escalations.byType,
        by_severity: escalations.bySeverity,
        rate_per_hour: ratio(escalations.total, hours),
        avg_resolution_time_ms: Math.round(escalations.avgResolutionMs),
      },
      payment_plan_metrics: {
        detected: plans.detected,
        validated: plans.validated,
        auto_approved: plans.autoApprovable,
        detection_rate: ratio(plans.detected, turns.turns),
        validation_rate: ratio(plans.validated, plans.detected),
      },
    },
    dashboard: {
      last_hour: {
        sms_received: texts.lastHour,
        ai_responses: turns.draftedLastHour,
        approvals_pending: approvals.pendingLastHour,
        escalations: escalations.lastHour,
      },
      today: {
        total_conversations: turns.conversationsToday,
        completed_workflows: turns.completedToday,
        payment_plans: plans.today,
        escalations: escalations.today,
      },
    },
  };
}

/** Tenant turns: `collections` workflows by created_at, tenant from data.tenantId. */
async function turnFigures(db: Executor, b: MetricsBounds, tenantId: string | undefined) {
  const w = workflows;
  const inTimeframe = sql`${w.createdAt} >= ${ts(b.since)}`;
  // data.draft is JSON null until the AI answered: test its type, not SQL NULL.
  const drafted = sql`jsonb_typeof(${w.data}->'draft') = 'object'`;
  const [row] = await db
    .select({
      turns: countWhere(inTimeframe),
      processed: countWhere(sql`${inTimeframe} and ${w.state} not in ('processing', 'failed')`),
      failed: countWhere(sql`${inTimeframe} and ${w.state} = 'failed'`),
      drafted: countWhere(sql`${inTimeframe} and ${drafted}`),
      avgDraftMs: avg(sql`(${w.data}->'draft'->>'ms')::float8`, sql`${inTimeframe} and ${drafted}`),
      avgConfidence: avg(
        sql`(${w.data}->'draft'->>'confidence')::float8`,
        sql`${inTimeframe} and ${drafted}`,
      ),
      decided: countWhere(sql`${inTimeframe} and jsonb_typeof(${w.data}->'decision') = 'string'`),
      autoSent: countWhere(sql`${inTimeframe} and ${w.data}->'auto_approved' = 'true'::jsonb`),
      draftedLastHour: countWhere(sql`${w.createdAt} >= ${ts(b.lastHour)} and ${drafted}`),
      conversationsToday: int(
        sql`count(distinct ${w.subjectKey}) filter (where ${w.createdAt} >= ${ts(b.today)})`,
      ),
      completedToday: countWhere(sql`${w.createdAt} >= ${ts(b.today)} and ${w.state} = 'completed'`),
    })
    .from(w)
    .where(
      and(
        eq(w.kind, COLLECTIONS_KIND),
        gte(w.createdAt, b.scanFrom),
        lte(w.createdAt, b.now),
        tenantId === undefined ? undefined : sql`${w.data}->>'tenantId' = ${tenantId}`,
      ),
    );
  return row!;
}

/**
 * Inbound texts of collections conversations: stamped with a collections conversation_id, or, when
 * stored without one (a provider webhook names no conversation), sent from a collections
 * conversation's phone. IN (subquery) rather than EXISTS: PostgreSQL plans both as hashed subplans,
 * but costs the EXISTS form so high that it JIT-compiles the query, which alone took 0.5 s.
 */
async function inboundTexts(db: Executor, b: MetricsBounds, tenantId: string | undefined) {
  const m = smsMessages;
  const c = collectionsConversations;
  const ofTenant = tenantId === undefined ? sql`` : sql` where ${c.tenantId} = ${tenantId}`;
  const ofCollections = sql`(${m.conversationId} in (select ${c.conversationId} from ${c}${ofTenant})
    or (${m.conversationId} is null and ${m.fromNumber} in (select ${c.phone} from ${c}${ofTenant})))`;
  const [row] = await db
    .select({
      received: countWhere(sql`${m.createdAt} >= ${ts(b.since)}`),
      lastHour: countWhere(sql`${m.createdAt} >= ${ts(b.lastHour)}`),
    })
    .from(m)
    .where(
      and(
        eq(m.direction, 'in'),
        // Texts are only counted over the timeframe and the last hour, never "today".
        gte(m.createdAt, b.since),
        lte(m.createdAt, b.now),
        ofCollections,
      ),
    );
  return row!;
}

/** The manager queue, by the time an item was queued. */
async function approvalFigures(db: Executor, b: MetricsBounds, tenantId: string | undefined) {
  const a = collectionsApprovals;
  const inTimeframe = sql`${a.createdAt} >= ${ts(b.since)}`;
  // Decided by a manager; an obsolete item's decided_at is when it was superseded, not a decision.
  const decided = sql`${a.status} in ('approved', 'modified', 'rejected') and ${a.decidedAt} is not null`;
  const [row] = await db
    .select({
      total: countWhere(inTimeframe),
      approved: countWhere(sql`${inTimeframe} and ${a.status} in ('approved', 'modified')`),
      rejected: countWhere(sql`${inTimeframe} and ${a.status} = 'rejected'`),
      avgDecisionMs: avg(
        sql`extract(epoch from (${a.decidedAt} - ${a.createdAt})) * 1000`,
        sql`${inTimeframe} and ${decided}`,
      ),
      pendingLastHour: countWhere(sql`${a.createdAt} >= ${ts(b.lastHour)} and ${a.status} = 'pending'`),
    })
    .from(a)
    .where(
      and(
        gte(a.createdAt, b.since),
        lte(a.createdAt, b.now),
        tenantId === undefined ? undefined : eq(a.tenantId, tenantId),
      ),
    );
  return row!;
}

/**
 * Escalations in one pass: GROUPING SETS give a row per type, a row per severity and the grand total
 * (grouping() tells them apart: 1 = by type, 2 = by severity, 3 = total).
 */
async function escalationFigures(db: Executor, b: MetricsBounds, tenantId: string | undefined) {
  const e = collectionsEscalations;
  const inTimeframe = sql`${e.createdAt} >= ${ts(b.since)}`;
  const rows = await db
    .select({
      type: e.type,
      severity: e.severity,
      grouping: int(sql`grouping(${e.type}, ${e.severity})`),
      total: countWhere(inTimeframe),
      avgResolutionMs: avg(
        sql`extract(epoch from (${e.resolvedAt} - ${e.createdAt})) * 1000`,
        sql`${inTimeframe} and ${e.status} = 'resolved' and ${e.resolvedAt} is not null`,
      ),
      lastHour: countWhere(sql`${e.createdAt} >= ${ts(b.lastHour)}`),
      today: countWhere(sql`${e.createdAt} >= ${ts(b.today)}`),
    })
    .from(e)
    .where(
      and(
        gte(e.createdAt, b.scanFrom),
        lte(e.createdAt, b.now),
        tenantId === undefined ? undefined : eq(e.tenantId, tenantId),
      ),
    )
    .groupBy(sql`grouping sets ((${e.type}), (${e.severity}), ())`);
  const byType: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  let totals = { total: 0, avgResolutionMs: 0, lastHour: 0, today: 0 };
  for (const row of rows) {
    if (row.grouping === 3) totals = row;
    // The scan reaches back to midnight: a type seen only before the timeframe is not listed.
    else if (row.total === 0) continue;
    else if (row.grouping === 1 && row.type !== null) byType[row.type] = row.total;
    else if (row.grouping === 2 && row.severity !== null) bySeverity[row.severity] = row.total;
  }
  return {
    total: totals.total,
    avgResolutionMs: totals.avgResolutionMs,
    lastHour: totals.lastHour,
    today: totals.today,
    byType,
    bySeverity,
  };
}

/** Payment plans by created_at; validated and auto-approvable as validation recorded them. */
async function planFigures(db: Executor, b: MetricsBounds, tenantId: string | undefined) {
  const p = collectionsPaymentPlans;
  const inTimeframe = sql`${p.createdAt} >= ${ts(b.since)}`;
  const [row] = await db
    .select({
      detected: countWhere(inTimeframe),
      validated: countWhere(sql`${inTimeframe} and ${p.validation}->'is_valid' = 'true'::jsonb`),
      autoApprovable: countWhere(sql`${inTimeframe} and ${p.validation}->'auto_approvable' = 'true'::jsonb`),
      today: countWhere(sql`${p.createdAt} >= ${ts(b.today)}`),
    })
    .from(p)
    .where(
      and(
        gte(p.createdAt, b.scanFrom),
        lte(p.createdAt, b.now),
        tenantId === undefined ? undefined : eq(p.tenantId, tenantId),
      ),
    );
  return row!;
}
