import { randomUUID } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import type { Db, Executor, Tx } from '../core/db/database.js';
import { workflows } from '../core/db/schema.js';
import { inTransaction } from '../core/db/transaction.js';
import type { Clock } from '../core/runtime.js';
import type { WorkflowStore } from '../core/workflow/workflow-store.js';
import type { AppEnv } from '../http/app-env.js';
import { requireRole } from '../http/auth.js';
import { bearerSecurity, problemResponses } from '../http/router.js';
import type { CoreServices } from '../main.js';
import type { LedgerPort, Tenant } from '../peers/ledger/ledger-port.js';
import { fromLedger } from '../peers/ledger/ledger-routes.js';
import { isOptedOut } from '../peers/sms/sms-store.js';
import { CollectionsInputError, type CollectionsRunner } from './collections-runner.js';
import {
  COLLECTIONS_KIND,
  getConversation,
  latestConversationForPhone,
  latestWorkflow,
  lockConversation,
  publicWorkflowId,
  updateConversation,
  upsertConversation,
  type Conversation,
  type ConversationState,
} from './collections-store.js';
import {
  DEFAULT_RECENT_CONTACT_HOURS,
  OUTREACH_SKIP_REASONS,
  outreachFacts,
  planOutreach,
  type OutreachCandidate,
  type OutreachPolicy,
  type OutreachSend,
  type OutreachSkipReason,
} from './outreach.js';
import { newTurn, readTurn, type TurnData } from './turn.js';

/**
 * POST /orchestrate/outreach: a first text to chosen or all delinquent tenants (issue 7; the
 * seed's /monitor/delinquent, which it listed and never used, is what all_delinquent reads).
 *
 * The ledger is read first, with no transaction open. Then each tenant has its own transaction:
 * the conversation is upserted and locked (so a second outreach, a concurrent one, or a tenant's
 * text waits for this one), the decision (outreach.ts) is made on what the lock protects, and a
 * text that passes is a `collections` workflow whose reply sendReply queues in the outbox, now or
 * when the tenant's window opens. A skipped tenant's transaction is rolled back: nothing is written.
 * Posting the same outreach again texts nobody twice: the tenant was contacted within
 * recentContactHours (the outreach workflow's creation, then conversation.lastOutboundAt).
 */

export type OutreachRoutesDeps = {
  db: Db;
  clock: Clock;
  workflows: WorkflowStore;
  ledger: LedgerPort;
  sendReply: CollectionsRunner['sendReply'];
  policy: OutreachPolicy;
  /** Runs the outbox now rather than at the next poll. */
  wakeWorker: () => void;
};

/** The deps as collections-module.ts has them: the core's services and its runner's sendReply. */
export function outreachDepsFrom(
  core: CoreServices,
  runner: Pick<CollectionsRunner, 'sendReply'>,
  recentContactHours: number = DEFAULT_RECENT_CONTACT_HOURS,
): OutreachRoutesDeps {
  return {
    db: core.db,
    clock: core.clock,
    workflows: core.workflows,
    ledger: core.peers.ledger,
    sendReply: runner.sendReply,
    policy: {
      optOutLine: core.config.collections.optOutLine,
      maxSegments: core.peers.sms.maxSegments,
      sendWindow: core.config.collections.sendWindow,
      recentContactHours,
    },
    wakeWorker: () => core.wakeWorker(),
  };
}

/** The step an outreach turn starts at (its steps_completed begins with it). */
export const OUTREACH_STEP = 'outreach';

const OutreachBody = z
  .object({
    tenant_ids: z
      .array(z.string().trim().min(1).max(200))
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: 'The tenants to text (1–500); give this or all_delinquent: true, not both' }),
    all_delinquent: z
      .boolean()
      .optional()
      .openapi({ description: 'Text every tenant the ledger lists as delinquent' }),
    dry_run: z
      .boolean()
      .default(false)
      .openapi({ description: 'Decide and answer as usual, but write and send nothing' }),
  })
  .refine((b) => (b.tenant_ids !== undefined) !== (b.all_delinquent === true), {
    message: 'give exactly one of tenant_ids or all_delinquent: true',
  })
  .openapi('OutreachRequest');

const ScheduledItem = z.object({
  tenant_id: z.string(),
  conversation_id: z.string(),
  /** Null in a dry run. */
  workflow_id: z.string().nullable(),
  status: z.enum(['processing', 'scheduled']),
  send_at: z.string(),
  text: z.string(),
});
type ScheduledItem = z.infer<typeof ScheduledItem>;

const SkippedItem = z.object({
  tenant_id: z.string(),
  reason: z.enum(OUTREACH_SKIP_REASONS),
  flags: z.array(z.string()).optional(),
});
type SkippedItem = z.infer<typeof SkippedItem>;

const OutreachResponse = z
  .object({
    requested: z.number().int(),
    dry_run: z.boolean(),
    scheduled: z.array(ScheduledItem),
    skipped: z.array(SkippedItem),
  })
  .openapi('OutreachResult');

/** Thrown inside a tenant's transaction to roll it back and report the tenant as skipped. */
class SkipTenant extends Error {
  constructor(readonly item: SkippedItem) {
    super(`skipped: ${item.reason}`);
    this.name = 'SkipTenant';
  }
}

export function registerOutreachRoutes(app: OpenAPIHono<AppEnv>, deps: OutreachRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrate/outreach',
      tags: ['collections'],
      summary: 'A first text to chosen or all delinquent tenants',
      description:
        'Each tenant gets one short text stating only ledger facts (name, amount owed or their portion, days late) ' +
        'and the opt-out line, through the draft guard, the allowed hours (held texts are `scheduled` and go out when ' +
        "the tenant's window opens) and the segment budget. A tenant is skipped, with the reason, when they opted " +
        'out, are not delinquent, are escalated, were contacted (either way) within the last hours ' +
        `(${DEFAULT_RECENT_CONTACT_HOURS} by default), have a turn in progress, or the text fails the guard. ` +
        'Posting the same outreach again texts nobody twice. dry_run answers the same way and writes nothing.',
      security: bearerSecurity,
      middleware: [requireRole('manager')] as const,
      request: { body: { content: { 'application/json': { schema: OutreachBody } }, required: true } },
      responses: {
        200: {
          description: 'Who gets a text (now or when their window opens) and who does not, with why',
          content: { 'application/json': { schema: OutreachResponse } },
        },
        ...problemResponses(400, 401, 403, 502, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const actor = c.get('principal').name;
      const signal = c.req.raw.signal;

      // The ledger first, with no transaction open.
      const delinquent = await fromLedger(() => deps.ledger.listDelinquent(signal));
      const listed = new Map(delinquent.map((t) => [t.tenantId, t] as const));
      const ids = [
        ...new Set(body.all_delinquent ? delinquent.map((t) => t.tenantId) : (body.tenant_ids ?? [])),
      ];
      const tenants = new Map<string, Tenant | undefined>();
      for (const id of ids) {
        tenants.set(id, listed.get(id) ?? (await fromLedger(() => deps.ledger.getTenant(id, signal))));
      }

      const scheduled: ScheduledItem[] = [];
      const skipped: SkippedItem[] = [];
      for (const id of ids) {
        const tenant = tenants.get(id);
        const isListed = listed.has(id);
        if (!tenant) {
          skipped.push({ tenant_id: id, reason: 'unknown_tenant' });
          continue;
        }
        if (body.dry_run) {
          const outcome = await preview(deps, tenant, isListed);
          if ('reason' in outcome) skipped.push(outcome);
          else scheduled.push(outcome);
          continue;
        }
        try {
          scheduled.push(
            await inTransaction(deps.db, (tx) =>
              outreachOne(tx, deps, {
                tenant,
                delinquent: isListed,
                actor,
                all: body.all_delinquent === true,
              }),
            ),
          );
        } catch (error) {
          if (error instanceof SkipTenant) skipped.push(error.item);
          else if (error instanceof CollectionsInputError)
            skipped.push({ tenant_id: id, reason: 'send_refused' });
          else throw error;
        }
      }
      if (scheduled.length > 0 && !body.dry_run) deps.wakeWorker();
      return c.json({ requested: ids.length, dry_run: body.dry_run, scheduled, skipped }, 200);
    },
  );
}

/** The conversation outreach texts in: the one already held with the number, else conv_<tenant_id>. */
async function conversationIdFor(executor: Executor, tenant: Tenant): Promise<string> {
  return (
    (await latestConversationForPhone(executor, tenant.phone))?.conversationId ?? `conv_${tenant.tenantId}`
  );
}

/** When the conversation's last outreach turn began, if within the window. */
async function lastOutreachSince(
  executor: Executor,
  conversationId: string,
  since: Date,
): Promise<Date | undefined> {
  const [row] = await executor
    .select({ at: workflows.createdAt })
    .from(workflows)
    .where(
      and(
        eq(workflows.kind, COLLECTIONS_KIND),
        eq(workflows.subjectKey, conversationId),
        gt(workflows.createdAt, since),
        sql`${workflows.data} -> 'steps_completed' @> ${JSON.stringify([OUTREACH_STEP])}::jsonb`,
      ),
    )
    .orderBy(desc(workflows.createdAt))
    .limit(1);
  return row?.at;
}

/** Everything the decision reads about one tenant, from the transaction that holds the lock (or none, in a dry run). */
async function candidateFor(
  executor: Executor,
  deps: OutreachRoutesDeps,
  input: { tenant: Tenant; delinquent: boolean; conversation: Conversation | undefined; now: Date },
): Promise<OutreachCandidate> {
  const { tenant, conversation, now } = input;
  const since = new Date(now.getTime() - deps.policy.recentContactHours * 3_600_000);
  const latest = conversation ? await latestWorkflow(executor, conversation.conversationId) : undefined;
  const lastOutreachAt = conversation
    ? await lastOutreachSince(executor, conversation.conversationId, since)
    : undefined;
  return {
    tenantId: tenant.tenantId,
    tenant,
    delinquent: input.delinquent,
    optedOut: await isOptedOut(executor, tenant.phone),
    conversation: conversation
      ? {
          state: conversation.state as ConversationState,
          lastOutboundAt: conversation.lastOutboundAt,
          lastInboundAt: conversation.lastInboundAt,
        }
      : undefined,
    latestWorkflowState: latest?.state,
    lastOutreachAt,
  };
}

/** A dry run: the same decision on what is stored now; nothing is written. */
async function preview(
  deps: OutreachRoutesDeps,
  tenant: Tenant,
  delinquent: boolean,
): Promise<ScheduledItem | SkippedItem> {
  const now = deps.clock.now();
  const conversationId = await conversationIdFor(deps.db, tenant);
  const conversation = await getConversation(deps.db, conversationId);
  const candidate = await candidateFor(deps.db, deps, { tenant, delinquent, conversation, now });
  const plan = planOutreach(candidate, deps.policy, now);
  if (plan.action === 'skip') return skippedItem(plan.tenantId, plan.reason, plan.flags);
  return {
    tenant_id: tenant.tenantId,
    conversation_id: conversationId,
    workflow_id: null,
    status: plan.held ? 'scheduled' : 'processing',
    send_at: plan.sendAt.toISOString(),
    text: plan.text,
  };
}

function skippedItem(tenantId: string, reason: OutreachSkipReason, flags?: string[]): SkippedItem {
  return { tenant_id: tenantId, reason, ...(flags ? { flags } : {}) };
}

/** One tenant in its own transaction: decided under the conversation's lock, then queued (or rolled back). */
async function outreachOne(
  tx: Tx,
  deps: OutreachRoutesDeps,
  input: { tenant: Tenant; delinquent: boolean; actor: string; all: boolean },
): Promise<ScheduledItem> {
  const { tenant, actor } = input;
  const now = deps.clock.now();
  const conversationId = await conversationIdFor(tx, tenant);
  // Upserted first: a concurrent outreach to a tenant never texted before waits here for this one.
  await upsertConversation(tx, { conversationId, phone: tenant.phone, tenantId: tenant.tenantId, now });
  const conversation = await lockConversation(tx, conversationId);
  const candidate = await candidateFor(tx, deps, { tenant, delinquent: input.delinquent, conversation, now });
  const plan = planOutreach(candidate, deps.policy, now);
  if (plan.action === 'skip') throw new SkipTenant(skippedItem(plan.tenantId, plan.reason, plan.flags));

  await updateConversation(tx, conversationId, { tenantId: tenant.tenantId, timezone: tenant.timezone });
  const turn: TurnData = {
    ...newTurn({
      conversationId,
      tenantId: tenant.tenantId,
      phone: tenant.phone,
      texts: [],
      conversationState: 'open',
    }),
    step: OUTREACH_STEP,
    steps_completed: [OUTREACH_STEP],
    rule: OUTREACH_STEP,
  };
  const workflow = await deps.workflows.create(tx, {
    id: randomUUID(),
    kind: COLLECTIONS_KIND,
    subjectKey: conversationId,
    state: 'processing',
    data: turn as unknown as Record<string, unknown>,
    audit: { reason: 'outreach', actor, details: auditDetails(plan, input.all, deps.policy) },
    now,
  });
  await updateConversation(tx, conversationId, { latestWorkflowId: workflow.id, updatedAt: now });
  const sent = await deps.sendReply(tx, workflow, turn, plan.text, {
    actor,
    timezone: tenant.timezone,
    auto: false,
  });
  if (sent.state !== 'processing' && sent.state !== 'scheduled') {
    // Refused at send time (a STOP that raced this) or no hour to send at: nothing is kept.
    throw new SkipTenant(
      skippedItem(tenant.tenantId, sent.state === 'opted_out' ? 'opted_out' : 'no_send_window'),
    );
  }
  const reply = readTurn(sent.data).reply;
  return {
    tenant_id: tenant.tenantId,
    conversation_id: conversationId,
    workflow_id: publicWorkflowId(sent.id),
    status: sent.state,
    send_at: reply?.notBefore ?? now.toISOString(),
    text: plan.text,
  };
}

/** Every input of the decision, for the audit log. */
function auditDetails(plan: OutreachSend, all: boolean, policy: OutreachPolicy): Record<string, unknown> {
  const facts = outreachFacts(plan.tenant);
  return {
    tenant_id: plan.tenantId,
    mode: all ? 'all_delinquent' : 'tenant_ids',
    ledger: {
      amount_owed: facts.amountOwed,
      tenant_portion: facts.tenantPortion ?? null,
      days_late: facts.daysLate,
      timezone: plan.tenant.timezone,
    },
    guard: { verdict: plan.guard.verdict, flags: plan.guard.flags },
    recent_contact_hours: policy.recentContactHours,
    max_segments: policy.maxSegments,
    held_until: plan.held ? plan.sendAt.toISOString() : null,
  };
}
