import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The collections workflow's own tables (docs/collections.md). A tenant turn is a row of the
 * core's `workflows` table (kind `collections`, subject = conversation id); these hold what the
 * seed's API lists and decides on: conversations, the approval queue, escalations, payment plans
 * and their payments. Money in cents.
 */

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** One per tenant phone thread; `state` is what routing reads (open | awaiting_approval | escalated). */
export const collectionsConversations = pgTable(
  'collections_conversations',
  {
    conversationId: text('conversation_id').primaryKey(),
    tenantId: text('tenant_id'),
    /** E.164. */
    phone: text('phone').notNull(),
    /** The ledger's IANA timezone, as last read: a manager's approved reply is held by it. */
    timezone: text('timezone'),
    state: text('state').notNull(),
    latestWorkflowId: uuid('latest_workflow_id'),
    /** The last text we sent, and when: the 36-hour no-reply timer runs from it. */
    lastOutboundAt: at('last_outbound_at'),
    lastInboundAt: at('last_inbound_at'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [index('collections_conversations_phone_idx').on(t.phone)],
);

/** The manager queue: one row per draft held for a person. `resp_…` ids are the seed's response_queue_id. */
export const collectionsApprovals = pgTable(
  'collections_approvals',
  {
    id: text('id').primaryKey(),
    workflowId: uuid('workflow_id').notNull(),
    conversationId: text('conversation_id').notNull(),
    tenantId: text('tenant_id'),
    phone: text('phone').notNull(),
    tenantText: text('tenant_text').notNull(),
    draft: text('draft').notNull(),
    confidence: doublePrecision('confidence').notNull(),
    intent: text('intent').notNull(),
    flags: jsonb('flags').$type<string[]>().notNull(),
    rule: text('rule').notNull(),
    /** pending | approved | modified | rejected | obsolete */
    status: text('status').notNull(),
    obsoleteReason: text('obsolete_reason'),
    sentText: text('sent_text'),
    decidedBy: text('decided_by'),
    notes: text('notes'),
    createdAt: at('created_at').notNull(),
    decidedAt: at('decided_at'),
  },
  (t) => [
    index('collections_approvals_status_idx').on(t.status, t.createdAt),
    index('collections_approvals_conversation_idx').on(t.conversationId),
    index('collections_approvals_created_idx').on(t.createdAt),
    // The dashboard's "recently decided" list: newest decisions first (docs/performance.md).
    index('collections_approvals_decided_idx').on(t.decidedAt),
  ],
);

export const collectionsEscalations = pgTable(
  'collections_escalations',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    workflowId: uuid('workflow_id'),
    tenantId: text('tenant_id'),
    /** legal | bankruptcy | dispute | … | low_confidence | guard | manual | timeout | missed_instalment */
    type: text('type').notNull(),
    reason: text('reason').notNull(),
    /** low | medium | high | critical */
    severity: text('severity').notNull(),
    autoDetected: boolean('auto_detected').notNull(),
    escalatedBy: text('escalated_by').notNull(),
    assignedTo: text('assigned_to').notNull(),
    /** open | resolved */
    status: text('status').notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
    expectedResolutionAt: at('expected_resolution_at').notNull(),
    resolvedBy: text('resolved_by'),
    resolution: text('resolution'),
    createdAt: at('created_at').notNull(),
    resolvedAt: at('resolved_at'),
  },
  (t) => [
    index('collections_escalations_status_idx').on(t.status, t.createdAt),
    index('collections_escalations_conversation_idx').on(t.conversationId),
    index('collections_escalations_created_idx').on(t.createdAt),
    // One open timeout escalation per conversation and outbound text: the timer may fire twice.
    uniqueIndex('collections_escalations_dedupe_idx')
      .on(t.conversationId, t.type, sql`(metadata->>'dedupe_key')`)
      .where(sql`metadata ? 'dedupe_key'`),
  ],
);

export const collectionsPaymentPlans = pgTable(
  'collections_payment_plans',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    tenantId: text('tenant_id'),
    workflowId: uuid('workflow_id'),
    weeklyAmountCents: integer('weekly_amount_cents').notNull(),
    weeks: integer('weeks').notNull(),
    startDate: text('start_date').notNull(),
    /** validated | pending_approval | active | rejected | completed | defaulted */
    status: text('status').notNull(),
    amountOwedCents: integer('amount_owed_cents').notNull(),
    validation: jsonb('validation').$type<Record<string, unknown>>().notNull(),
    counterOffer: jsonb('counter_offer').$type<Record<string, unknown> | null>(),
    messageContent: text('message_content'),
    aiResponse: text('ai_response'),
    confidence: doublePrecision('confidence'),
    /** The caller's key (or the workflow's), so a repeated detection makes one plan. */
    sourceKey: text('source_key').notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    index('collections_payment_plans_conversation_idx').on(t.conversationId, t.createdAt),
    uniqueIndex('collections_payment_plans_source_idx').on(t.sourceKey),
    index('collections_payment_plans_created_idx').on(t.createdAt),
  ],
);

export const collectionsPlanPayments = pgTable(
  'collections_plan_payments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    planId: text('plan_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    paidOn: text('paid_on').notNull(),
    method: text('method'),
    reference: text('reference'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    index('collections_plan_payments_plan_idx').on(t.planId, t.paidOn),
    uniqueIndex('collections_plan_payments_reference_idx')
      .on(t.planId, t.reference)
      .where(sql`${t.reference} is not null`),
  ],
);
