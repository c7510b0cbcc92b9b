import { and, inArray, lt } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { jobs } from '../db/schema.js';
import { pruneIdempotencyKeys } from '../idempotency/idempotency-store.js';
import { enqueueJobs } from './job-queue.js';
import type { JobHandler } from './job-worker.js';

export const MAINTENANCE_JOB = 'core.maintenance';
const EVERY_MS = 3_600_000;
const KEEP_FINISHED_JOBS_MS = 7 * 24 * 3_600_000;

/** Makes sure one maintenance timer is queued (a no-op when it already is). */
export function scheduleMaintenance(db: Db, now: Date): Promise<void> {
  return enqueueJobs(db, [{ kind: MAINTENANCE_JOB, singletonKey: MAINTENANCE_JOB, delayMs: EVERY_MS }], now);
}

/** Hourly: drops finished jobs older than a week and expired idempotency keys, then re-arms itself. */
export const maintenanceHandler: JobHandler = {
  kind: MAINTENANCE_JOB,
  concurrency: 1,
  async run(ctx) {
    const now = ctx.now();
    await ctx.complete(async (tx) => {
      await tx
        .delete(jobs)
        .where(
          and(
            inArray(jobs.state, ['done', 'skipped']),
            lt(jobs.finishedAt, new Date(now.getTime() - KEEP_FINISHED_JOBS_MS)),
          ),
        );
      await pruneIdempotencyKeys(tx, now);
    });
    // After the job is done, so the singleton index lets the next one in.
    await scheduleMaintenance(ctx.db, now);
  },
};
