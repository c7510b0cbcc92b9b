import { sql } from 'drizzle-orm';
import type { Db } from '../../src/core/db/database.js';
import { enqueueJobs } from '../../src/core/jobs/job-queue.js';
import type { LogLine, ServiceProcess } from '../helpers/spawn-service.js';

/** The job kind of test/process/fixture-server.mjs: each run adds one to job_runs.runs. */
export const COUNT_JOB = 'test.count';

export async function createJobRunsTable(db: Db): Promise<void> {
  await db.execute(sql`create table job_runs (job_id bigint primary key, runs integer not null)`);
}

/** Enqueues n test.count jobs, in chunks so that no insert carries too many parameters. */
export async function enqueueCountJobs(db: Db, n: number): Promise<void> {
  const now = new Date();
  for (let start = 0; start < n; start += 250) {
    const size = Math.min(250, n - start);
    await enqueueJobs(
      db,
      Array.from({ length: size }, (_, i) => ({ kind: COUNT_JOB, payload: { n: start + i } })),
      now,
      'process-test',
    );
  }
}

type Rows<T> = { rows: T[] };

export async function jobStates(db: Db): Promise<Record<string, number>> {
  const result = (await db.execute(
    sql`select state, count(*)::int as n from jobs where kind = ${COUNT_JOB} group by state`,
  )) as unknown as Rows<{ state: string; n: number }>;
  return Object.fromEntries(result.rows.map((r) => [r.state, Number(r.n)]));
}

export type ExactlyOnceReport = {
  jobs: number;
  done: number;
  runRows: number;
  /** job_runs rows with runs <> 1. */
  ranMoreThanOnce: number;
  /** Jobs without a job_runs row. */
  neverRan: number;
  /** job_runs rows whose job is not a test.count job. */
  strayRuns: number;
};

export async function exactlyOnceReport(db: Db): Promise<ExactlyOnceReport> {
  const one = async (query: ReturnType<typeof sql>) =>
    Number(((await db.execute(query)) as unknown as Rows<{ n: number }>).rows[0]?.n ?? NaN);
  return {
    jobs: await one(sql`select count(*)::int as n from jobs where kind = ${COUNT_JOB}`),
    done: await one(sql`select count(*)::int as n from jobs where kind = ${COUNT_JOB} and state = 'done'`),
    runRows: await one(sql`select count(*)::int as n from job_runs`),
    ranMoreThanOnce: await one(sql`select count(*)::int as n from job_runs where runs <> 1`),
    neverRan: await one(
      sql`select count(*)::int as n from jobs j
          where j.kind = ${COUNT_JOB} and not exists (select 1 from job_runs r where r.job_id = j.id)`,
    ),
    strayRuns: await one(
      sql`select count(*)::int as n from job_runs r
          where not exists (select 1 from jobs j where j.id = r.job_id and j.kind = ${COUNT_JOB})`,
    ),
  };
}

export const exactlyOnce = (n: number): ExactlyOnceReport => ({
  jobs: n,
  done: n,
  runRows: n,
  ranMoreThanOnce: 0,
  neverRan: 0,
  strayRuns: 0,
});

const isCountJobDone = (line: LogLine) =>
  line.msg === 'job finished' && line.kind === COUNT_JOB && line.outcome === 'done';

/** How many test.count jobs this process has completed, from its debug log (LOG_LEVEL=debug). */
export const doneInLog = (service: ServiceProcess): number =>
  service.logLines().filter(isCountJobDone).length;

/** Jobs this process has started (fixture log 'test job started') and not yet finished, by its log. */
export function inFlightInLog(service: ServiceProcess): number {
  const running = new Set<unknown>();
  for (const line of service.logLines()) {
    if (line.msg === 'test job started') running.add(line.jobId);
    else if (line.msg === 'job finished' && line.kind === COUNT_JOB) running.delete(line.jobId);
  }
  return running.size;
}
