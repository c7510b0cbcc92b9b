import { randomBytes } from 'node:crypto';
import { and, desc, eq, getTableColumns, ne, sql } from 'drizzle-orm';
import type { Executor, Tx } from '../core/db/database.js';
import { columnList, fixedStatement, rowReader } from '../core/db/fixed-statement.js';
import {
  collectionsApprovals,
  collectionsConversations,
  collectionsEscalations,
  workflows,
} from '../core/db/schema.js';
import type { Workflow, WorkflowStore } from '../core/workflow/workflow-store.js';
import type { Notifier } from '../peers/notify/notifier.js';
import { readTurn, withStep } from './turn.js';

/**
 * The collections workflow's writes that several entry points share (a tenant's text, a
 * manager's decision, a timer, the seed's escalation endpoints): conversations, obsolete
 * approvals, escalations. Every function runs in the caller's transaction.
 */

export const COLLECTIONS_KIND = 'collections';

export type ConversationState = 'open' | 'awaiting_approval' | 'escalated';
export type Conversation = typeof collectionsConversations.$inferSelect;
export type Approval = typeof collectionsApprovals.$inferSelect;
export type Escalation = typeof collectionsEscalations.$inferSelect;

/** Seed-style ids: `resp_…`, `esc_…`, `pp_…`, unguessable. */
export function newId(prefix: 'resp' | 'esc' | 'pp' | 'retry'): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** The seed shows workflow ids as `workflow-<uuid>`; the core stores the uuid. */
export const publicWorkflowId = (id: string) => `workflow-${id}`;
export function internalWorkflowId(id: string): string | undefined {
  const uuid = id.startsWith('workflow-') ? id.slice('workflow-'.length) : id;
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)
    ? uuid.toLowerCase()
    : undefined;
}

export async function getConversation(executor: Executor, id: string): Promise<Conversation | undefined> {
  const [row] = await executor
    .select()
    .from(collectionsConversations)
    .where(eq(collectionsConversations.conversationId, id));
  return row;
}

/** The conversation row, locked for the rest of the transaction (one turn at a time per conversation). */
export async function lockConversation(tx: Tx, id: string): Promise<Conversation | undefined> {
  const [row] = await tx
    .select()
    .from(collectionsConversations)
    .where(eq(collectionsConversations.conversationId, id))
    .for('update');
  return row;
}

export async function latestConversationForPhone(
  executor: Executor,
  phone: string,
): Promise<Conversation | undefined> {
  const [row] = await executor
    .select()
    .from(collectionsConversations)
    .where(eq(collectionsConversations.phone, phone))
    .orderBy(desc(collectionsConversations.updatedAt))
    .limit(1);
  return row;
}

const conversationColumns = getTableColumns(collectionsConversations);
const workflowColumns = getTableColumns(workflows);

/*
 * Every tenant text runs upsertConversation, latestWorkflow and setLatestWorkflow: fixed
 * statements, not built queries (docs/performance.md). One text serves every call of the upsert:
 * a missing tenant id ($3 null) or inbound time ($6 null) leaves the stored one as it is.
 */
const upsertConversationStatement = fixedStatement(
  'countersign_collections_conversation_upsert',
  `insert into "collections_conversations" as c
     ("conversation_id", "phone", "tenant_id", "state", "created_at", "updated_at", "last_inbound_at")
   values ($1, $2, $4, 'open', $5::timestamptz, $5::timestamptz, $6::timestamptz)
   on conflict ("conversation_id") do update
      set "updated_at" = $5::timestamptz,
          "tenant_id" = coalesce($3, c."tenant_id"),
          "last_inbound_at" = coalesce($6::timestamptz, c."last_inbound_at")
   returning ${columnList(conversationColumns)}`,
  rowReader<Conversation>(conversationColumns),
);

const latestWorkflowStatement = fixedStatement(
  'countersign_collections_latest_workflow',
  `select ${columnList(workflowColumns)} from "workflows"
    where "kind" = $1 and "subject_key" = $2
    order by "created_at" desc, "id" desc
    limit 1`,
  rowReader<Workflow>(workflowColumns),
);

const setLatestWorkflowStatement = fixedStatement(
  'countersign_collections_conversation_latest',
  `update "collections_conversations"
      set "latest_workflow_id" = $2::uuid, "updated_at" = $3::timestamptz
    where "conversation_id" = $1`,
  () => undefined,
);

/**
 * Creates or touches the conversation and answers its row as it now is. The row stays locked until
 * the transaction ends (ON CONFLICT DO UPDATE locks the row it updates; a row this transaction
 * inserted is not visible to others until it commits), so a caller needs no lockConversation()
 * after it. `lastInboundAt`, when given, is recorded in the same statement.
 */
export async function upsertConversation(
  tx: Tx,
  input: {
    conversationId: string;
    phone: string;
    tenantId: string | undefined;
    now: Date;
    lastInboundAt?: Date;
  },
): Promise<Conversation> {
  // An empty tenant id is stored on insert but never replaces one (as the set-list it replaces did).
  const [row] = await upsertConversationStatement(tx, [
    input.conversationId,
    input.phone,
    input.tenantId || null,
    input.tenantId ?? null,
    input.now.toISOString(),
    input.lastInboundAt ? input.lastInboundAt.toISOString() : null,
  ]);
  return row!;
}

export async function updateConversation(
  executor: Executor,
  id: string,
  set: Partial<Omit<Conversation, 'conversationId' | 'createdAt'>>,
): Promise<void> {
  await executor
    .update(collectionsConversations)
    .set(set)
    .where(eq(collectionsConversations.conversationId, id));
}

/** The conversation's newest turn, as a tenant text records it: updateConversation's one fixed shape. */
export async function setLatestWorkflow(
  executor: Executor,
  id: string,
  workflowId: string,
  now: Date,
): Promise<void> {
  await setLatestWorkflowStatement(executor, [id, workflowId, now.toISOString()]);
}

export async function latestWorkflow(
  executor: Executor,
  conversationId: string,
): Promise<Workflow | undefined> {
  const [row] = await latestWorkflowStatement(executor, [COLLECTIONS_KIND, conversationId]);
  return row;
}

export type ObsoleteReason = 'newer_text' | 'opted_out' | 'escalated' | 'retried';

/** Pending approvals of a conversation become obsolete; a manager's later decision gets 409 with the reason. */
export async function obsoletePendingApprovals(
  tx: Tx,
  conversationId: string,
  reason: ObsoleteReason,
  now: Date,
): Promise<Approval[]> {
  return tx
    .update(collectionsApprovals)
    .set({ status: 'obsolete', obsoleteReason: reason, decidedAt: now })
    .where(
      and(
        eq(collectionsApprovals.conversationId, conversationId),
        eq(collectionsApprovals.status, 'pending'),
      ),
    )
    .returning();
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** How soon a person should have it in hand: the seed's example gives a high one an hour. */
const RESOLUTION_MS: Record<Severity, number> = {
  critical: 30 * 60_000,
  high: 60 * 60_000,
  medium: 4 * 3_600_000,
  low: 24 * 3_600_000,
};

/** Default severity per escalation type; a caller may say otherwise. */
export function defaultSeverity(type: string): Severity {
  if (type === 'abuse_or_threat' || type === 'self_harm') return 'critical';
  if (type === 'legal' || type === 'bankruptcy' || type === 'complaint') return 'high';
  if (type === 'low_confidence' || type === 'timeout' || type === 'unknown_number') return 'low';
  return 'medium';
}

export function defaultAssignee(type: string, severity: Severity): string {
  if (type === 'legal' || type === 'bankruptcy') return 'legal_team';
  return severity === 'high' || severity === 'critical' ? 'supervisor_team' : 'collections_team';
}

export type EscalationInput = {
  conversationId: string;
  /** The workflow whose state moves to escalated (the conversation's latest when omitted). */
  workflowId?: string | undefined;
  type: string;
  reason: string;
  severity?: Severity | undefined;
  autoDetected: boolean;
  escalatedBy: string;
  assignedTo?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** Makes a repeated trigger (a timer firing twice) one escalation. */
  dedupeKey?: string | undefined;
  now: Date;
};

export type EscalationDeps = { workflows: WorkflowStore; notifier: Notifier };

/**
 * Opens an escalation: the row, the conversation moved to escalated (no automatic reply until it
 * is resolved), its pending approvals made obsolete, the workflow moved to escalated with an
 * audit row, and a notice to managers. A repeat of a dedupe key returns the first one.
 */
export async function openEscalation(
  tx: Tx,
  deps: EscalationDeps,
  input: EscalationInput,
): Promise<{ escalation: Escalation; created: boolean }> {
  const conversation = await lockConversation(tx, input.conversationId);
  const severity = input.severity ?? defaultSeverity(input.type);
  const metadata = { ...(input.metadata ?? {}), ...(input.dedupeKey ? { dedupe_key: input.dedupeKey } : {}) };
  const [row] = await tx
    .insert(collectionsEscalations)
    .values({
      id: newId('esc'),
      conversationId: input.conversationId,
      workflowId: input.workflowId ?? null,
      tenantId: conversation?.tenantId ?? null,
      type: input.type,
      reason: input.reason,
      severity,
      autoDetected: input.autoDetected,
      escalatedBy: input.escalatedBy,
      assignedTo: input.assignedTo ?? defaultAssignee(input.type, severity),
      status: 'open',
      metadata,
      expectedResolutionAt: new Date(input.now.getTime() + RESOLUTION_MS[severity]),
      createdAt: input.now,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    const [existing] = await tx
      .select()
      .from(collectionsEscalations)
      .where(
        and(
          eq(collectionsEscalations.conversationId, input.conversationId),
          eq(collectionsEscalations.type, input.type),
          sql`${collectionsEscalations.metadata}->>'dedupe_key' = ${input.dedupeKey ?? ''}`,
        ),
      );
    if (!existing) throw new Error('escalation vanished after a conflicting insert');
    return { escalation: existing, created: false };
  }
  if (conversation) {
    await updateConversation(tx, input.conversationId, { state: 'escalated', updatedAt: input.now });
  }
  await obsoletePendingApprovals(tx, input.conversationId, 'escalated', input.now);
  const workflow = input.workflowId
    ? await deps.workflows.get(tx, input.workflowId)
    : await latestWorkflow(tx, input.conversationId);
  if (workflow && workflow.kind === COLLECTIONS_KIND) {
    await deps.workflows.transition(tx, {
      workflowId: workflow.id,
      expectedVersion: workflow.version,
      to: 'escalated',
      data: withStep(readTurn(workflow.data), 'escalated', { escalation_id: row.id }),
      audit: {
        reason: `escalated:${input.type}`,
        actor: input.escalatedBy,
        details: { escalation_id: row.id, type: input.type, severity, auto_detected: input.autoDetected },
      },
      now: input.now,
    });
  }
  await deps.notifier.notify(
    tx,
    {
      kind: 'escalation',
      subject: `Escalation (${input.type}, ${severity}): conversation ${input.conversationId}`,
      body: input.reason,
      priority: severity === 'critical' ? 'urgent' : severity === 'high' ? 'high' : 'normal',
      metadata: {
        escalation_id: row.id,
        conversation_id: input.conversationId,
        workflow_id: workflow ? publicWorkflowId(workflow.id) : null,
        type: input.type,
        severity,
      },
      recipient: row.assignedTo,
    },
    `collections:escalation:${row.id}`,
    input.now,
    workflow?.id,
  );
  return { escalation: row, created: true };
}

/** Resolving the last open escalation of a conversation opens it for automatic replies again. */
export async function resolveEscalation(
  tx: Tx,
  deps: Pick<EscalationDeps, 'workflows'>,
  input: { escalationId: string; resolvedBy: string; resolution: string | undefined; now: Date },
): Promise<{ escalation: Escalation | undefined; alreadyResolved: boolean }> {
  const [row] = await tx
    .update(collectionsEscalations)
    .set({
      status: 'resolved',
      resolvedBy: input.resolvedBy,
      resolution: input.resolution ?? null,
      resolvedAt: input.now,
    })
    .where(and(eq(collectionsEscalations.id, input.escalationId), eq(collectionsEscalations.status, 'open')))
    .returning();
  if (!row) {
    const [existing] = await tx
      .select()
      .from(collectionsEscalations)
      .where(eq(collectionsEscalations.id, input.escalationId));
    return { escalation: existing, alreadyResolved: existing !== undefined };
  }
  const [stillOpen] = await tx
    .select({ id: collectionsEscalations.id })
    .from(collectionsEscalations)
    .where(
      and(
        eq(collectionsEscalations.conversationId, row.conversationId),
        eq(collectionsEscalations.status, 'open'),
        ne(collectionsEscalations.id, row.id),
      ),
    )
    .limit(1);
  if (!stillOpen) {
    await updateConversation(tx, row.conversationId, { state: 'open', updatedAt: input.now });
  }
  // The escalated workflow is settled by the person who handled it; the audit row says who.
  const workflow = row.workflowId
    ? await deps.workflows.get(tx, row.workflowId)
    : await latestWorkflow(tx, row.conversationId);
  if (workflow && workflow.kind === COLLECTIONS_KIND && workflow.state === 'escalated') {
    await deps.workflows.transition(tx, {
      workflowId: workflow.id,
      expectedVersion: workflow.version,
      to: 'completed',
      data: withStep(readTurn(workflow.data), 'escalation_resolved'),
      audit: {
        reason: 'escalation_resolved',
        actor: input.resolvedBy,
        details: { escalation_id: row.id, resolution: input.resolution ?? null },
      },
      now: input.now,
    });
  }
  return { escalation: row, alreadyResolved: false };
}
