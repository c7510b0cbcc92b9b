import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gte, ilike, inArray, ne, or, type SQL } from 'drizzle-orm';
import type { Executor, Tx } from '../../core/db/database.js';
import {
  auditLog,
  collectionsApprovals,
  collectionsConversations,
  collectionsEscalations,
  collectionsPaymentPlans,
  collectionsPlanPayments,
  smsMessages,
  workflows,
} from '../../core/db/schema.js';
import {
  COLLECTIONS_KIND,
  getConversation,
  type Approval,
  type Conversation,
  type Escalation,
} from '../../collections/collections-store.js';
import {
  getPlan,
  listConversationPlans,
  listPlanPayments,
  type PlanPaymentRow,
  type PlanRow,
} from '../../collections/plans-store.js';
import { readTurn } from '../../collections/turn.js';
import type { Workflow } from '../../core/workflow/workflow-store.js';

/**
 * What the dashboard's collections pages read. Lists the collections API has no store function
 * for are read here the way collections-module.ts reads them; single rows and plans come from the
 * collections store. The one write, assigning an escalation, is the API route's update.
 */

// ---------------------------------------------------------------------------------------------
// Approval queue.

export const pendingApprovals = (db: Executor, limit = 100): Promise<Approval[]> =>
  db
    .select()
    .from(collectionsApprovals)
    .where(eq(collectionsApprovals.status, 'pending'))
    .orderBy(asc(collectionsApprovals.createdAt), asc(collectionsApprovals.id))
    .limit(limit);

/** Items decided or made obsolete since `since`, newest first: why an item left the queue. */
export const recentlyClosedApprovals = (db: Executor, since: Date, limit = 10): Promise<Approval[]> =>
  db
    .select()
    .from(collectionsApprovals)
    .where(and(ne(collectionsApprovals.status, 'pending'), gte(collectionsApprovals.decidedAt, since)))
    .orderBy(desc(collectionsApprovals.decidedAt), desc(collectionsApprovals.id))
    .limit(limit);

export async function approvalById(db: Executor, id: string): Promise<Approval | undefined> {
  const [row] = await db.select().from(collectionsApprovals).where(eq(collectionsApprovals.id, id));
  return row;
}

/** Changes whenever an item joins or leaves the queue: the poll answers 204 while it holds. */
export function queueSignature(pending: readonly Approval[], closed: readonly Approval[]): string {
  const parts = [...pending.map((a) => `p:${a.id}`), ...closed.map((a) => `c:${a.id}:${a.status}`)];
  return createHash('sha256').update(parts.join('|')).digest('base64url').slice(0, 16);
}

/** The plan each item's turn read from the tenant's text, else the conversation's newest plan. */
export async function plansForApprovals(
  db: Executor,
  approvals: readonly Approval[],
): Promise<Map<string, PlanRow>> {
  const result = new Map<string, PlanRow>();
  if (approvals.length === 0) return result;
  // Three statements for the whole page, not one or two per item (docs/performance.md).
  const turns = await db
    .select({ id: workflows.id, data: workflows.data })
    .from(workflows)
    .where(
      inArray(
        workflows.id,
        approvals.map((a) => a.workflowId),
      ),
    );
  const turnPlan = new Map<string, string>();
  for (const turn of turns) {
    const planId = readTurn(turn.data).payment_plan_id;
    if (planId) turnPlan.set(turn.id, planId);
  }
  const planIds = [...new Set(turnPlan.values())];
  const withoutPlan = [
    ...new Set(approvals.filter((a) => !turnPlan.has(a.workflowId)).map((a) => a.conversationId)),
  ];
  const [byId, byConversation] = await Promise.all([
    planIds.length === 0
      ? []
      : db.select().from(collectionsPaymentPlans).where(inArray(collectionsPaymentPlans.id, planIds)),
    withoutPlan.length === 0
      ? []
      : db
          .selectDistinctOn([collectionsPaymentPlans.conversationId])
          .from(collectionsPaymentPlans)
          .where(inArray(collectionsPaymentPlans.conversationId, withoutPlan))
          // The conversation's newest plan, as listConversationPlans orders them.
          .orderBy(
            collectionsPaymentPlans.conversationId,
            desc(collectionsPaymentPlans.createdAt),
            desc(collectionsPaymentPlans.id),
          ),
  ]);
  const plans = new Map(byId.map((plan) => [plan.id, plan]));
  const newest = new Map(byConversation.map((plan) => [plan.conversationId, plan]));
  for (const approval of approvals) {
    const planId = turnPlan.get(approval.workflowId);
    const plan = planId ? plans.get(planId) : newest.get(approval.conversationId);
    if (plan) result.set(approval.id, plan);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Conversations.

export const CONVERSATION_STATES = ['open', 'awaiting_approval', 'escalated'] as const;

export type ConversationListItem = Conversation & { latestStatus: string | null };

export async function listConversations(
  db: Executor,
  filter: { state?: string | undefined; q?: string | undefined; limit: number },
): Promise<ConversationListItem[]> {
  const where: SQL[] = [];
  if (filter.state) where.push(eq(collectionsConversations.state, filter.state));
  if (filter.q) {
    const like = `%${filter.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    where.push(
      or(
        ilike(collectionsConversations.conversationId, like),
        ilike(collectionsConversations.tenantId, like),
        ilike(collectionsConversations.phone, like),
      )!,
    );
  }
  const rows = await db
    .select()
    .from(collectionsConversations)
    .where(and(...where))
    .orderBy(desc(collectionsConversations.updatedAt), asc(collectionsConversations.conversationId))
    .limit(filter.limit);
  if (rows.length === 0) return [];
  const latest = await db
    .selectDistinctOn([workflows.subjectKey], { subjectKey: workflows.subjectKey, state: workflows.state })
    .from(workflows)
    .where(
      and(
        eq(workflows.kind, COLLECTIONS_KIND),
        inArray(
          workflows.subjectKey,
          rows.map((r) => r.conversationId),
        ),
      ),
    )
    .orderBy(workflows.subjectKey, desc(workflows.createdAt), desc(workflows.id));
  const states = new Map(latest.map((l) => [l.subjectKey, l.state]));
  return rows.map((r) => ({ ...r, latestStatus: states.get(r.conversationId) ?? null }));
}

export type SmsRow = typeof smsMessages.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;

export type ConversationDetail = {
  conversation: Conversation;
  messages: SmsRow[];
  turns: Workflow[];
  /** Every turn's audit rows, oldest first. */
  audit: AuditRow[];
  approvals: Approval[];
  escalations: Escalation[];
  plans: PlanRow[];
};

export async function conversationDetail(db: Executor, id: string): Promise<ConversationDetail | undefined> {
  const conversation = await getConversation(db, id);
  if (!conversation) return undefined;
  const [messages, turns, approvals, escalations, plans] = await Promise.all([
    db
      .select()
      .from(smsMessages)
      .where(eq(smsMessages.conversationId, id))
      .orderBy(asc(smsMessages.createdAt), asc(smsMessages.id))
      .limit(1000),
    db
      .select()
      .from(workflows)
      .where(and(eq(workflows.kind, COLLECTIONS_KIND), eq(workflows.subjectKey, id)))
      .orderBy(asc(workflows.createdAt), asc(workflows.id))
      .limit(500),
    db
      .select()
      .from(collectionsApprovals)
      .where(eq(collectionsApprovals.conversationId, id))
      .orderBy(asc(collectionsApprovals.createdAt)),
    db
      .select()
      .from(collectionsEscalations)
      .where(eq(collectionsEscalations.conversationId, id))
      .orderBy(asc(collectionsEscalations.createdAt)),
    listConversationPlans(db, id),
  ]);
  const audit =
    turns.length === 0
      ? []
      : await db
          .select()
          .from(auditLog)
          .where(
            inArray(
              auditLog.workflowId,
              turns.map((t) => t.id),
            ),
          )
          .orderBy(asc(auditLog.id));
  return { conversation, messages, turns, audit, approvals, escalations, plans };
}

// ---------------------------------------------------------------------------------------------
// Escalations.

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type EscalationFilter = {
  status?: 'open' | 'resolved' | undefined;
  type?: string | undefined;
  severity?: (typeof SEVERITIES)[number] | undefined;
  assignee?: string | undefined;
  conversation?: string | undefined;
  limit: number;
};

export function listEscalations(db: Executor, filter: EscalationFilter): Promise<Escalation[]> {
  const where: SQL[] = [];
  if (filter.status) where.push(eq(collectionsEscalations.status, filter.status));
  if (filter.type) where.push(eq(collectionsEscalations.type, filter.type));
  if (filter.severity) where.push(eq(collectionsEscalations.severity, filter.severity));
  if (filter.assignee) where.push(eq(collectionsEscalations.assignedTo, filter.assignee));
  if (filter.conversation) where.push(eq(collectionsEscalations.conversationId, filter.conversation));
  return db
    .select()
    .from(collectionsEscalations)
    .where(and(...where))
    .orderBy(desc(collectionsEscalations.createdAt), desc(collectionsEscalations.id))
    .limit(filter.limit);
}

/** The types and assignees seen so far, for the filter's choices. */
export async function escalationFacets(db: Executor): Promise<{ types: string[]; assignees: string[] }> {
  const [types, assignees] = await Promise.all([
    db
      .selectDistinct({ v: collectionsEscalations.type })
      .from(collectionsEscalations)
      .orderBy(collectionsEscalations.type),
    db
      .selectDistinct({ v: collectionsEscalations.assignedTo })
      .from(collectionsEscalations)
      .orderBy(collectionsEscalations.assignedTo),
  ]);
  return { types: types.map((t) => t.v), assignees: assignees.map((a) => a.v) };
}

export async function escalationById(db: Executor, id: string): Promise<Escalation | undefined> {
  const [row] = await db.select().from(collectionsEscalations).where(eq(collectionsEscalations.id, id));
  return row;
}

/**
 * POST /escalations/{id}/assign's write: an open escalation gets the new assignee. Undefined when
 * there is no such escalation; `resolved` when it is closed (nothing changes then).
 */
export async function assignOpenEscalation(
  tx: Tx,
  id: string,
  assignee: string,
): Promise<{ escalation: Escalation | undefined; resolved: boolean }> {
  const [row] = await tx
    .update(collectionsEscalations)
    .set({ assignedTo: assignee })
    .where(and(eq(collectionsEscalations.id, id), eq(collectionsEscalations.status, 'open')))
    .returning();
  if (row) return { escalation: row, resolved: false };
  const existing = await escalationById(tx, id);
  return { escalation: existing, resolved: existing !== undefined };
}

// ---------------------------------------------------------------------------------------------
// Payment plans.

export const listPlans = (
  db: Executor,
  filter: { status?: string | undefined; limit: number },
): Promise<PlanRow[]> =>
  db
    .select()
    .from(collectionsPaymentPlans)
    .where(filter.status ? eq(collectionsPaymentPlans.status, filter.status) : undefined)
    .orderBy(desc(collectionsPaymentPlans.createdAt), desc(collectionsPaymentPlans.id))
    .limit(filter.limit);

/** Payments of several plans, by plan id (each plan's in date order). */
export async function paymentsForPlans(db: Executor, planIds: readonly string[]) {
  const byPlan = new Map<string, PlanPaymentRow[]>();
  if (planIds.length === 0) return byPlan;
  const rows = await db
    .select()
    .from(collectionsPlanPayments)
    .where(inArray(collectionsPlanPayments.planId, [...planIds]))
    .orderBy(asc(collectionsPlanPayments.paidOn), asc(collectionsPlanPayments.id));
  for (const row of rows) byPlan.set(row.planId, [...(byPlan.get(row.planId) ?? []), row]);
  return byPlan;
}

export async function planWithPayments(db: Executor, id: string) {
  const plan = await getPlan(db, id);
  if (!plan) return undefined;
  return { plan, payments: await listPlanPayments(db, id) };
}
