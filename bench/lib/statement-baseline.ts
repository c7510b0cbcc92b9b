/**
 * The hot store functions as they were before the statement-cost changes (verbatim from
 * src/core/workflow/workflow-store.ts, src/core/jobs/job-queue.ts, src/peers/sms/sms-store.ts and
 * src/peers/ledger/days-late.ts at the commit before them), kept so that bench/statement-cost.ts measures before and after in the
 * same run, on the same database and machine load. Not used by the service.
 *
 * The ingest statements (an accepted inbound text: src/core/inbound/inbound-events.ts,
 * recordInbound and linkMessage of src/peers/sms/sms-store.ts, upsertConversation,
 * updateConversation and latestWorkflow of src/collections/collections-store.ts, createWorkflow)
 * are verbatim from commit 9329bb8, the one before they became fixed statements.
 */
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor, Tx } from '../../src/core/db/database.js';
import { smsContacts, smsMessages } from '../../src/core/db/peer-tables.js';
import {
  auditLog,
  collectionsConversations,
  inboundEvents,
  jobs,
  workflows,
} from '../../src/core/db/schema.js';
import { inTransaction } from '../../src/core/db/transaction.js';
import { jobRows, LeaseLostError, type ClaimedJob, type JobSpec } from '../../src/core/jobs/job-queue.js';
import { currentCorrelationId } from '../../src/core/runtime.js';
import { StaleVersionError, WorkflowNotFoundError } from '../../src/core/workflow/errors.js';
import type {
  Audit,
  CreateWorkflow,
  FollowUp,
  Transition,
  Workflow,
} from '../../src/core/workflow/workflow-store.js';
import { COLLECTIONS_KIND, type Conversation } from '../../src/collections/collections-store.js';
import { countSegments } from '../../src/peers/sms/segments.js';
import type { InboundSms } from '../../src/peers/sms/sms-port.js';
import { findByProviderId, UNKNOWN_NUMBER } from '../../src/peers/sms/sms-store.js';

function followUps(list: readonly FollowUp[] | undefined, workflowId: string, version: number): JobSpec[] {
  return (list ?? []).map(({ bound, ...spec }) =>
    bound ? { ...spec, workflow: { id: workflowId, version } } : spec,
  );
}

function auditRow(workflowId: string, from: string | null, to: string, audit: Audit, now: Date) {
  return {
    workflowId,
    fromState: from,
    toState: to,
    reason: audit.reason,
    actor: audit.actor,
    correlationId: audit.correlationId ?? currentCorrelationId() ?? null,
    details: audit.details ?? {},
    at: now,
  };
}

export function transition(executor: Executor, input: Transition): Promise<Workflow> {
  return inTransaction(executor, async (tx) => {
    const [updated] = await tx
      .update(workflows)
      .set({
        state: input.to,
        previousState: sql`${workflows.state}`,
        ...(input.data === undefined ? {} : { data: input.data }),
        version: input.expectedVersion + 1,
        updatedAt: input.now,
      })
      .where(and(eq(workflows.id, input.workflowId), eq(workflows.version, input.expectedVersion)))
      .returning();
    if (!updated) {
      const exists = await getWorkflow(tx, input.workflowId);
      if (!exists) throw new WorkflowNotFoundError(input.workflowId);
      throw new StaleVersionError(input.workflowId, input.expectedVersion);
    }
    const audit = auditRow(input.workflowId, updated.previousState, input.to, input.audit, input.now);
    const specs = followUps(input.jobs, input.workflowId, updated.version);
    if (specs.length === 0) {
      await tx.insert(auditLog).values(audit);
    } else {
      const audited = tx.$with('audited').as(tx.insert(auditLog).values(audit));
      await tx.with(audited).insert(jobs).values(jobRows(specs, input.now)).onConflictDoNothing();
    }
    return updated;
  });
}

export async function getWorkflow(executor: Executor, id: string): Promise<Workflow | undefined> {
  const [row] = await executor.select().from(workflows).where(eq(workflows.id, id));
  return row;
}

export async function claimJobsOfKinds(
  executor: Executor,
  args: { limits: readonly { kind: string; limit: number }[]; owner: string; now: Date; leaseMs: number },
): Promise<ClaimedJob[]> {
  const limits = args.limits.filter((l) => l.limit > 0);
  if (limits.length === 0) return [];
  const now = sql`${args.now.toISOString()}::timestamptz`;
  const kinds = sql.join(
    limits.map((l) => sql`(${l.kind}::text, ${l.limit}::integer)`),
    sql`, `,
  );
  const due = sql`${jobs.id} in (
    select due.id from (values ${kinds}) as k(kind, lim)
    cross join lateral (
      select ${jobs.id} as id from ${jobs}
       where ${jobs.kind} = k.kind
         and ((${jobs.state} = 'queued' and ${jobs.runAt} <= ${now})
           or (${jobs.state} = 'running' and ${jobs.leaseExpiresAt} <= ${now}))
       order by ${jobs.runAt}, ${jobs.id}
       limit k.lim
       for update skip locked
    ) as due
  )`;
  return claimDue(executor, due, args);
}

async function claimDue(
  executor: Executor,
  due: SQL,
  args: { owner: string; now: Date; leaseMs: number },
): Promise<ClaimedJob[]> {
  const { now } = args;
  const claimed = await executor
    .update(jobs)
    .set({
      state: 'running',
      attempts: sql`${jobs.attempts} + 1`,
      leaseToken: sql`gen_random_uuid()`,
      leaseOwner: args.owner,
      leaseExpiresAt: new Date(now.getTime() + args.leaseMs),
      updatedAt: now,
    })
    .where(due)
    .returning();

  const boundIds = [...new Set(claimed.map((j) => j.workflowId).filter((id): id is string => id !== null))];
  const versions = new Map<string, number>();
  if (boundIds.length > 0) {
    const rows = await executor
      .select({ id: workflows.id, version: workflows.version })
      .from(workflows)
      .where(inArray(workflows.id, boundIds));
    for (const row of rows) versions.set(row.id, row.version);
  }
  return claimed.map((job) => ({
    ...job,
    leaseToken: job.leaseToken as string,
    currentWorkflowVersion: job.workflowId ? (versions.get(job.workflowId) ?? null) : null,
  }));
}

const heldBy = (job: { id: number; leaseToken: string }) =>
  and(eq(jobs.id, job.id), eq(jobs.leaseToken, job.leaseToken), eq(jobs.state, 'running'));

async function finish(
  executor: Executor,
  job: { id: number; leaseToken: string },
  set: PgUpdateSetSource<typeof jobs>,
): Promise<void> {
  const rows = await executor.update(jobs).set(set).where(heldBy(job)).returning({ id: jobs.id });
  if (rows.length === 0) throw new LeaseLostError(job.id);
}

const terminal = (state: 'done' | 'failed' | 'skipped', now: Date, lastError?: string) => ({
  state,
  finishedAt: now,
  updatedAt: now,
  leaseToken: null,
  leaseOwner: null,
  leaseExpiresAt: null,
  ...(lastError === undefined ? {} : { lastError }),
});

export const completeJob = (executor: Executor, job: ClaimedJob, now: Date) =>
  finish(executor, job, terminal('done', now));

export async function isOptedOut(executor: Executor, phone: string): Promise<boolean> {
  const [row] = await executor
    .select({ optedOut: smsContacts.optedOut })
    .from(smsContacts)
    .where(eq(smsContacts.phone, phone));
  return row?.optedOut ?? false;
}

// src/peers/ledger/days-late.ts: a new Intl.DateTimeFormat per call.

export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === '' || /^[+-]/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function localDate(now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

// ---------------------------------------------------------------------------------------------
// The ingest of an inbound text, as at commit 9329bb8.

// src/core/inbound/inbound-events.ts

export type InboundClaim =
  { claimed: true; id: number } | { claimed: false; id: number; workflowId: string | null };

export async function claimInboundEvent(
  executor: Executor,
  input: {
    source: string;
    naturalKey: string;
    payload: Record<string, unknown>;
    now: Date;
    workflowId?: string;
  },
): Promise<InboundClaim> {
  const [inserted] = await executor
    .insert(inboundEvents)
    .values({
      source: input.source,
      naturalKey: input.naturalKey,
      payload: input.payload,
      workflowId: input.workflowId ?? null,
      correlationId: currentCorrelationId() ?? null,
      receivedAt: input.now,
    })
    .onConflictDoNothing()
    .returning({ id: inboundEvents.id });
  if (inserted) return { claimed: true, id: inserted.id };
  const [existing] = await executor
    .select({ id: inboundEvents.id, workflowId: inboundEvents.workflowId })
    .from(inboundEvents)
    .where(and(eq(inboundEvents.source, input.source), eq(inboundEvents.naturalKey, input.naturalKey)));
  if (!existing) throw new Error('inbound event vanished after a conflicting insert');
  return { claimed: false, id: existing.id, workflowId: existing.workflowId };
}

export async function attachInboundToWorkflow(
  executor: Executor,
  id: number,
  workflowId: string,
): Promise<void> {
  await executor.update(inboundEvents).set({ workflowId }).where(eq(inboundEvents.id, id));
}

// src/peers/sms/sms-store.ts

/** Stores an inbound text once per (provider, provider id); a repeat returns the first row. */
export async function recordInbound(
  executor: Executor,
  sms: InboundSms,
  now: Date,
): Promise<{ id: number; created: boolean }> {
  const { segments, encoding } = countSegments(sms.body);
  const [inserted] = await executor
    .insert(smsMessages)
    .values({
      direction: 'in',
      provider: sms.provider,
      providerMessageId: sms.providerMessageId,
      fromNumber: sms.from,
      toNumber: sms.to ?? UNKNOWN_NUMBER,
      body: sms.body,
      segments,
      encoding,
      state: 'received',
      conversationId: sms.conversationId ?? null,
      createdAt: sms.receivedAt,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: smsMessages.id });
  if (inserted) return { id: inserted.id, created: true };
  const existing = await findByProviderId(executor, sms.provider, sms.providerMessageId);
  if (!existing) throw new Error('inbound text vanished after a conflicting insert');
  return { id: existing.id, created: false };
}

/** Ties an inbound text to the conversation and workflow that answer it (GET /conversations/…/messages). */
export async function linkMessage(
  executor: Executor,
  id: number,
  link: { conversationId: string; workflowId: string },
): Promise<void> {
  await executor
    .update(smsMessages)
    .set({ conversationId: link.conversationId, workflowId: link.workflowId })
    .where(eq(smsMessages.id, id));
}

// src/collections/collections-store.ts

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
  const inbound = input.lastInboundAt ? { lastInboundAt: input.lastInboundAt } : {};
  const [row] = await tx
    .insert(collectionsConversations)
    .values({
      conversationId: input.conversationId,
      phone: input.phone,
      tenantId: input.tenantId ?? null,
      state: 'open',
      createdAt: input.now,
      updatedAt: input.now,
      ...inbound,
    })
    .onConflictDoUpdate({
      target: collectionsConversations.conversationId,
      set: {
        updatedAt: input.now,
        ...(input.tenantId ? { tenantId: input.tenantId } : {}),
        ...inbound,
      },
    })
    .returning();
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

export async function latestWorkflow(
  executor: Executor,
  conversationId: string,
): Promise<Workflow | undefined> {
  const [row] = await executor
    .select()
    .from(workflows)
    .where(and(eq(workflows.kind, COLLECTIONS_KIND), eq(workflows.subjectKey, conversationId)))
    .orderBy(desc(workflows.createdAt), desc(workflows.id))
    .limit(1);
  return row;
}

// src/core/workflow/workflow-store.ts

export async function createWorkflow(executor: Executor, input: CreateWorkflow): Promise<Workflow> {
  // One statement, so no BEGIN/COMMIT of its own: the row, its audit row and its jobs.
  const created = executor.$with('created').as(
    executor
      .insert(workflows)
      .values({
        id: input.id,
        kind: input.kind,
        subjectKey: input.subjectKey,
        state: input.state,
        previousState: null,
        data: input.data ?? {},
        version: 1,
        createdAt: input.now,
        updatedAt: input.now,
      })
      .returning(),
  );
  const audited = executor
    .$with('audited')
    .as(executor.insert(auditLog).values(auditRow(input.id, null, input.state, input.audit, input.now)));
  const specs = followUps(input.jobs, input.id, 1);
  const writes =
    specs.length === 0
      ? [created, audited]
      : [
          created,
          audited,
          executor.$with('queued').as(
            // Only the partial unique index on singleton_key can conflict.
            executor.insert(jobs).values(jobRows(specs, input.now)).onConflictDoNothing(),
          ),
        ];
  const [row] = await executor
    .with(...writes)
    .select()
    .from(created);
  return row as Workflow;
}
