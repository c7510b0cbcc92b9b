import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/core/db/database.js';
import {
  fixtureServerPath,
  killAllServices,
  spawnService,
  useServiceProcesses,
  waitFor,
  type ServiceProcess,
} from '../helpers/spawn-service.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';
import {
  createJobRunsTable,
  doneInLog,
  enqueueCountJobs,
  exactlyOnce,
  exactlyOnceReport,
  inFlightInLog,
  jobStates,
} from './count-jobs.js';

/**
 * kill -9 while jobs run, restart, and every job still runs exactly once: a job's effect and its
 * 'done' mark commit together (ctx.complete), and the jobs the dead process held are claimed again
 * once their leases expire.
 *
 * On PGlite the service owns the data folder while it runs, so the test opens the folder only
 * while no service runs: to enqueue before the first start, to look between the kill and the
 * restart (taking over the stale lock, as the restart would), and to check after the final stop.
 * On PostgreSQL (DATABASE_URL set) it uses a fresh database and may look at any time.
 */

useServiceProcesses('file');

const JOBS = 400;
/**
 * Kill once this many are done by the log: well into the run, far from its end. The service logs
 * asynchronously, so its log trails the database (by dozens of jobs on a busy PGlite).
 */
const KILL_AFTER_DONE = 40;
const MIN_IN_FLIGHT = 2;

const dataDir = onPostgres ? undefined : mkdtempSync(join(tmpdir(), 'countersign-kill-'));
let postgres: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
let failed = false;

beforeEach((ctx) => {
  ctx.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await killAllServices(); // before the database goes
  await postgres?.dispose(failed);
  if (!dataDir) return;
  if (failed) console.error(`[kill-recovery] kept ${dataDir} for inspection (a test failed)`);
  else rmSync(dataDir, { recursive: true, force: true });
});

/** Runs fn on the database; on PGlite it opens the data folder for the call and closes it again. */
async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  if (postgres) return fn(postgres);
  const database = await openDatabase({ dataDir });
  try {
    await database.migrate();
    return await fn(database);
  } finally {
    await database.close();
  }
}

const serviceEnv = () => ({
  ...(postgres ? { DATABASE_URL: postgres.url } : { DATA_DIR: dataDir }),
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'debug',
  // 20-50 ms per job, at random: jobs claimed together do not finish together.
  FIXTURE_JOB_SLEEP_MS: '20',
  FIXTURE_JOB_SLEEP_JITTER_MS: '30',
  JOB_LEASE_MS: '2000',
  JOB_CONCURRENCY: '6',
  JOB_POLL_INTERVAL_MS: '50',
  SHUTDOWN_GRACE_MS: '5000',
});

describe(`kill -9 while jobs run (${onPostgres ? 'PostgreSQL' : 'PGlite data folder'})`, () => {
  it('runs every job exactly once across the kill and the restart', { timeout: 240_000 }, async () => {
    if (onPostgres) {
      postgres = await createTestDatabase();
      console.info(`[kill-recovery] database ${postgres.name}`);
    }
    await withDatabase(async ({ db }) => {
      await createJobRunsTable(db);
      await enqueueCountJobs(db, JOBS);
    });

    const first: ServiceProcess = spawnService({
      name: 'fixture server (to be killed)',
      args: [fixtureServerPath],
      env: serviceEnv(),
    });
    // Not waiting for /readyz: the worker starts before the server listens, and on PGlite the
    // readiness queries queue behind the jobs' transactions, so by then many jobs may be done.
    // Not at the instant the count is reached: that job's slot is free then, and may be the only
    // one. Kill once jobs are seen in flight (started, not finished), so that it lands mid-run.
    await waitFor(
      `${KILL_AFTER_DONE} jobs done and ${MIN_IN_FLIGHT} running`,
      () => {
        if (first.exitStatus) throw new Error('the fixture server exited before the kill');
        return doneInLog(first) >= KILL_AFTER_DONE && inFlightInLog(first) >= MIN_IN_FLIGHT;
      },
      { timeoutMs: 90_000, intervalMs: 5 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${first.describe()}`);
    });
    await first.kill();
    const doneBeforeKill = doneInLog(first);

    // What the kill left: some done, some held by the dead process (mid-run), the rest queued.
    const afterKill = await withDatabase(async ({ db }) => ({
      states: await jobStates(db),
      held: (
        (await db.execute(
          sql`select id from jobs where kind = 'test.count' and state = 'running' order by id`,
        )) as unknown as { rows: { id: number }[] }
      ).rows.map((r) => Number(r.id)),
    }));
    console.info(
      `[kill-recovery] killed after ${doneBeforeKill} logged done; states after the kill: ` +
        JSON.stringify(afterKill.states),
    );
    const doneAtKill = afterKill.states.done ?? 0;
    // Done in the database is at least what was logged (a commit may land just before its log line).
    expect(doneAtKill).toBeGreaterThanOrEqual(doneBeforeKill);
    expect(doneAtKill).toBeLessThan(JOBS);
    expect(afterKill.held.length, 'jobs were running when the kill hit').toBeGreaterThan(0);

    const restarted = spawnService({
      name: 'fixture server (restarted)',
      args: [fixtureServerPath],
      env: serviceEnv(),
    });
    await restarted.waitForReady(60_000);
    await waitFor(
      'every job done after the restart',
      async () =>
        postgres
          ? ((await jobStates(postgres.db)).done ?? 0) >= JOBS
          : doneInLog(restarted) >= JOBS - doneAtKill,
      { timeoutMs: 120_000, intervalMs: 100 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${restarted.describe()}`);
    });
    const exit = await restarted.stop(30_000);
    expect(exit, restarted.describe()).toEqual({ code: 0, signal: null });

    await withDatabase(async ({ db }) => {
      expect(await exactlyOnceReport(db)).toEqual(exactlyOnce(JOBS));
      // The jobs the kill interrupted were claimed again (a second attempt) and still ran once.
      const held = (await db.execute(
        sql`select j.id, j.state, j.attempts, r.runs from jobs j left join job_runs r on r.job_id = j.id
            where j.id in ${afterKill.held}`,
      )) as unknown as { rows: { id: number; state: string; attempts: number; runs: number | null }[] };
      expect(held.rows).toHaveLength(afterKill.held.length);
      for (const row of held.rows) {
        expect(row, `job ${row.id}`).toMatchObject({ state: 'done', runs: 1 });
        expect(Number(row.attempts), `job ${row.id}`).toBeGreaterThanOrEqual(2);
      }
    });
  });
});
