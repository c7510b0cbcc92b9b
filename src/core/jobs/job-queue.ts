import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../db/database.js';
import { columnList, fixedStatement, rowReader } from '../db/fixed-statement.js';
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

/**
 * The same rows as one JSON array, for statements that insert them with jsonb_to_recordset (one
 * statement text whatever the number of jobs): snake_case keys, dates as ISO strings. state,
 * created_at and updated_at are left to the statement (always 'queued' and now).
 */
export function jobRowsJson(rows: ReturnType<typeof jobRows>): string {
  return JSON.stringify(
    rows.map((row) => ({
      kind: row.kind,
      payload: row.payload,
      run_at: row.runAt.toISOString(),
      max_attempts: row.maxAttempts,
      singleton_key: row.singletonKey,
      workflow_id: row.workflowId,
      workflow_version: row.workflowVersion,
      correlation_id: row.correlationId,
    })),
  );
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
export function claimJobs(
  executor: Executor,
  args: { kind: string; limit: number; owner: string; now: Date; leaseMs: number },
): Promise<ClaimedJob[]> {
  return claimJobsOfKinds(executor, { ...args, limits: [{ kind: args.kind, limit: args.limit }] });
}

const jobColumns = getTableColumns(jobs);
const readJob = rowReader<Job>(jobColumns);
const JOB_COLUMN_COUNT = Object.keys(jobColumns).length;

/*
 * The claim, one statement: for each (kind, limit) of $1 (a JSON array, so that the text is the
 * same whatever the kinds), that kind's due jobs oldest first, FOR UPDATE SKIP LOCKED, LIMIT the
 * kind's free slots; they are leased, and each comes back with the current version of the
 * workflow it is bound to, read in the same statement rather than in a second one (so as of the
 * claim's snapshot, one round trip earlier than before; a workflow that moves on after it is caught,
 * as before, when the job's own transition is refused with StaleVersionError).
 */
const claimStatement = fixedStatement(
  'countersign_jobs_claim',
  `with claimed as (
     update "jobs"
        set "state" = 'running', "attempts" = "attempts" + 1, "lease_token" = gen_random_uuid(),
            "lease_owner" = $2, "lease_expires_at" = $3::timestamptz, "updated_at" = $4::timestamptz
      where "id" in (
        select due.id from jsonb_to_recordset($1::jsonb) as k(kind text, lim integer)
        cross join lateral (
          select "id" from "jobs"
           where "kind" = k.kind
             and (("state" = 'queued' and "run_at" <= $4::timestamptz)
               or ("state" = 'running' and "lease_expires_at" <= $4::timestamptz))
           order by "run_at", "id"
           limit k.lim
           for update skip locked
        ) as due
      )
     returning ${columnList(jobColumns)}
   )
   select ${columnList(jobColumns, 'claimed')},
          (select w."version" from "workflows" w where w."id" = claimed."workflow_id")
     from claimed`,
  (row): ClaimedJob => {
    const job = readJob(row);
    const version = row[JOB_COLUMN_COUNT];
    return {
      ...job,
      leaseToken: job.leaseToken as string,
      currentWorkflowVersion:
        job.workflowId === null || version === null
          ? null
          : (workflows.version.mapFromDriverValue(version) as number),
    };
  },
);

/**
 * Claims due jobs of several kinds, up to each kind's limit, in one statement (the worker's claim
 * round: one round trip instead of one per kind). Each kind's due jobs oldest first, FOR UPDATE
 * SKIP LOCKED.
 */
export async function claimJobsOfKinds(
  executor: Executor,
  args: { limits: readonly { kind: string; limit: number }[]; owner: string; now: Date; leaseMs: number },
): Promise<ClaimedJob[]> {
  const limits = args.limits.filter((l) => l.limit > 0);
  if (limits.length === 0) return [];
  const { now } = args;
  return claimStatement(executor, [
    JSON.stringify(limits.map((l) => ({ kind: l.kind, lim: l.limit }))),
    args.owner,
    new Date(now.getTime() + args.leaseMs).toISOString(),
    now.toISOString(),
  ]);
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

/** done, failed or skipped, while still held; a null $5 keeps last_error. */
const finishStatement = fixedStatement(
  'countersign_jobs_finish',
  `update "jobs"
      set "state" = $3, "finished_at" = $4::timestamptz, "updated_at" = $4::timestamptz,
          "lease_token" = null, "lease_owner" = null, "lease_expires_at" = null,
          "last_error" = coalesce($5::text, "last_error")
    where "id" = $1 and "lease_token" = $2::uuid and "state" = 'running'
   returning "id"`,
  (row) => row[0],
);

async function terminal(
  executor: Executor,
  job: { id: number; leaseToken: string },
  state: 'done' | 'failed' | 'skipped',
  now: Date,
  lastError?: string,
): Promise<void> {
  const rows = await finishStatement(executor, [
    job.id,
    job.leaseToken,
    state,
    now.toISOString(),
    lastError ?? null,
  ]);
  if (rows.length === 0) throw new LeaseLostError(job.id);
}

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
  terminal(executor, job, 'done', now);

export const skipJob = (executor: Executor, job: ClaimedJob, now: Date, why: string) =>
  terminal(executor, job, 'skipped', now, why);

export const failJob = (executor: Executor, job: ClaimedJob, now: Date, error: string) =>
  terminal(executor, job, 'failed', now, error);

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
