/**
 * The hot store functions as they were before the statement-cost changes (verbatim from
 * src/core/workflow/workflow-store.ts, src/core/jobs/job-queue.ts, src/peers/sms/sms-store.ts and
 * src/peers/ledger/days-late.ts at the commit before them), kept so that bench/statement-cost.ts measures before and after in the
 * same run, on the same database and machine load. Not used by the service.
 */
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../src/core/db/database.js';
import { smsContacts } from '../../src/core/db/peer-tables.js';
import { auditLog, jobs, workflows } from '../../src/core/db/schema.js';
import { inTransaction } from '../../src/core/db/transaction.js';
import { jobRows, LeaseLostError, type ClaimedJob, type JobSpec } from '../../src/core/jobs/job-queue.js';
import { currentCorrelationId } from '../../src/core/runtime.js';
import { StaleVersionError, WorkflowNotFoundError } from '../../src/core/workflow/errors.js';
import type { Audit, FollowUp, Transition, Workflow } from '../../src/core/workflow/workflow-store.js';

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
