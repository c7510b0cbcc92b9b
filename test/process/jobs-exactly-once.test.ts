import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  fixtureServerPath,
  spawnService,
  useServiceProcesses,
  waitFor,
  type ServiceProcess,
} from '../helpers/spawn-service.js';
import { onPostgres, useTestDatabase } from '../helpers/test-database.js';
import {
  createJobRunsTable,
  doneInLog,
  enqueueCountJobs,
  exactlyOnce,
  exactlyOnceReport,
  jobStates,
} from './count-jobs.js';

/**
 * Two service processes on one PostgreSQL share one queue: SKIP LOCKED claims mean every job runs
 * exactly once, and both processes take part. PGlite is one process's database, so this needs
 * PostgreSQL.
 */

const JOBS = 1000;
const SKIP_REASON = 'DATABASE_URL is unset: two processes on one database need PostgreSQL';

if (!onPostgres) {
  console.warn(`[jobs-exactly-once] SKIPPED: ${SKIP_REASON}. Set DATABASE_URL to run it.`);
}

describe.skipIf(!onPostgres)(`two processes on one PostgreSQL (skipped when ${SKIP_REASON})`, () => {
  const database = useTestDatabase();
  // Registered second so that its clean-up (killing the processes) runs before the database is dropped.
  useServiceProcesses('file');

  it(`runs each of ${JOBS} jobs exactly once`, { timeout: 180_000 }, async () => {
    const { db, url, name } = database.current;
    console.info(`[jobs-exactly-once] database ${name}`);
    await createJobRunsTable(db);

    const env = {
      DATABASE_URL: url,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      JOB_POLL_INTERVAL_MS: '50',
      DATABASE_POOL_SIZE: '8',
    };
    const workers: ServiceProcess[] = ['a', 'b'].map((id) =>
      spawnService({ name: `fixture server ${id}`, args: [fixtureServerPath], env }),
    );
    await Promise.all(workers.map((w) => w.waitForReady(60_000)));

    await enqueueCountJobs(db, JOBS);
    await waitFor(
      `all ${JOBS} jobs done`,
      async () => {
        const states = await jobStates(db);
        if ((states.failed ?? 0) > 0) {
          throw new Error(
            `jobs failed: ${JSON.stringify(states)}\n${workers.map((w) => w.describe()).join('\n')}`,
          );
        }
        return (states.done ?? 0) >= JOBS;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );

    expect(await exactlyOnceReport(db)).toEqual(exactlyOnce(JOBS));
    // Nothing crashed and no lease ran out, so no job was claimed twice either.
    const attempts = (await db.execute(
      sql`select attempts, count(*)::int as n from jobs where kind = 'test.count' group by attempts`,
    )) as unknown as { rows: { attempts: number; n: number }[] };
    expect(attempts.rows).toEqual([{ attempts: 1, n: JOBS }]);

    const exits = await Promise.all(workers.map((w) => w.stop(30_000)));
    const share = workers.map(doneInLog);
    console.info(`[jobs-exactly-once] jobs done per process: ${share.join(' + ')}`);
    expect(share.reduce((a, b) => a + b, 0)).toBe(JOBS);
    // Both processes took part: the queue is shared, not owned by whoever came first.
    for (const n of share) expect(n).toBeGreaterThan(0);
    expect(exits).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });
});
