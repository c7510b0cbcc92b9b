import { and, eq, inArray, lte, or, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../db/database.js';
import { jobs, workflows } from '../db/schema.js';
import { currentCorrelationId } from '../runtime.js';

/**
 * The durable job table: timers (run_at in the future), retries, leases.
 * Claims use FOR UPDATE SKIP LOCKED so that any number of workers on one PostgreSQL never
 * claim the same row; a lease that expires (the worker died) makes the job claimable again.
 * See docs/jobs.md for why this is our own table rather than pg-boss.
 */

export type JobSpec = {
  kind: string;
  payload?: Record<string, unknown>;
  /** When to run; default now. */
  runAt?: Date;
  /** Alternative to runAt: this long after now. */
  delayMs?: number;
  /** Total attempts including the first; default the worker's (MAX_RETRY_ATTEMPTS + 1). */
  maxAttempts?: number;
  /** At most one unfinished job with this key exists; a second enqueue is a no-op. */
  singletonKey?: string;
  /** Bind to a workflow version: skipped when the workflow has moved on by the time it runs. */
  workflow?: { id: string; version: number };
};

export type Job = typeof jobs.$inferSelect;

/** A claimed job, with the current version of its workflow (when bound) to detect a move-on. */
export type ClaimedJob = Job & { leaseToken: string; currentWorkflowVersion: number | null };

/** The rows enqueueJobs inserts; the workflow store inserts the same rows inside its own statements. */
export function jobRows(
  specs: readonly JobSpec[],
  now: Date,
  correlationId: string | undefined = currentCorrelationId(),
) {
  return specs.map((spec) => ({
    kind: spec.kind,
    payload: spec.payload ?? {},
    state: 'queued',
    runAt: spec.runAt ?? new Date(now.getTime() + (spec.delayMs ?? 0)),
    maxAttempts: spec.maxAttempts ?? null,
    singletonKey: spec.singletonKey ?? null,
    workflowId: spec.workflow?.id ?? null,
    workflowVersion: spec.workflow?.version ?? null,
    correlationId: correlationId ?? null,
    createdAt: now,
    updatedAt: now,
  }));
}

export async function enqueueJobs(
  executor: Executor,
  specs: readonly JobSpec[],
  now: Date,
  correlationId: string | undefined = currentCorrelationId(),
): Promise<void> {
  if (specs.length === 0) return;
  await executor
    .insert(jobs)
    .values(jobRows(specs, now, correlationId))
    // Only the partial unique index on singleton_key can conflict.
    .onConflictDoNothing();
}

/** Claims up to limit due jobs of one kind for this worker. */
export async function claimJobs(
  executor: Executor,
  args: { kind: string; limit: number; owner: string; now: Date; leaseMs: number },
): Promise<ClaimedJob[]> {
  if (args.limit <= 0) return [];
  const { kind, now } = args;
  const due = executor
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        eq(jobs.kind, kind),
        or(
          and(eq(jobs.state, 'queued'), lte(jobs.runAt, now)),
          and(eq(jobs.state, 'running'), lte(jobs.leaseExpiresAt, now)),
        ),
      ),
    )
    .orderBy(jobs.runAt, jobs.id)
    .limit(args.limit)
    .for('update', { skipLocked: true });
  return claimDue(executor, inArray(jobs.id, due), args);
}

/**
 * Claims due jobs of several kinds, up to each kind's limit, in one statement (the worker's claim
 * round: one round trip instead of one per kind). The same rows, order and locks as claimJobs()
 * per kind: each kind's due jobs oldest first, FOR UPDATE SKIP LOCKED.
 */
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

/** Thrown when a job's lease was lost (it expired and another worker took the job). */
export class LeaseLostError extends Error {
  constructor(readonly jobId: number) {
    super(`Lease on job ${jobId} was lost`);
    this.name = 'LeaseLostError';
  }
}

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

/**
 * A running job hands its singleton key on, so that it can enqueue its own successor under the
 * same key in its completion transaction (the unique index covers running jobs too, and the job
 * is marked done only after that transaction's work). Done or not, the two happen together.
 */
export async function releaseSingletonKey(
  executor: Executor,
  jobId: number,
  singletonKey: string,
): Promise<void> {
  await executor
    .update(jobs)
    .set({ singletonKey: null })
    .where(and(eq(jobs.id, jobId), eq(jobs.singletonKey, singletonKey)));
}

export const completeJob = (executor: Executor, job: ClaimedJob, now: Date) =>
  finish(executor, job, terminal('done', now));

export const skipJob = (executor: Executor, job: ClaimedJob, now: Date, why: string) =>
  finish(executor, job, terminal('skipped', now, why));

export const failJob = (executor: Executor, job: ClaimedJob, now: Date, error: string) =>
  finish(executor, job, terminal('failed', now, error));

export const retryJob = (executor: Executor, job: ClaimedJob, now: Date, runAt: Date, error: string) =>
  finish(executor, job, {
    state: 'queued',
    runAt,
    lastError: error,
    updatedAt: now,
    leaseToken: null,
    leaseOwner: null,
    leaseExpiresAt: null,
  });

/** Gives a job back untouched (graceful shutdown): the attempt does not count. */
export const releaseJob = (executor: Executor, job: ClaimedJob, now: Date) =>
  finish(executor, job, {
    state: 'queued',
    runAt: now,
    attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
    updatedAt: now,
    leaseToken: null,
    leaseOwner: null,
    leaseExpiresAt: null,
  });

export const extendLease = (executor: Executor, job: ClaimedJob, now: Date, leaseMs: number) =>
  finish(executor, job, { leaseExpiresAt: new Date(now.getTime() + leaseMs), updatedAt: now });
