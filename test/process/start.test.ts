import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/core/db/database.js';
import {
  fixtureServerPath,
  killAllServices,
  spawnService,
  useServiceProcesses,
  type ServiceProcess,
} from '../helpers/spawn-service.js';
import { COUNT_JOB, createJobRunsTable, enqueueCountJobs } from './count-jobs.js';

/**
 * The embedded default, as an operator meets it: `npm start` in a fresh folder with nothing
 * configured, the data-folder lock, crash restart, bad configuration and graceful shutdown.
 * The first describe is one scenario on one data folder; its tests run in order.
 */

useServiceProcesses('file');

const dataDir = mkdtempSync(join(tmpdir(), 'countersign-start-'));
const lockFile = join(dataDir, 'countersign.lock');
let failed = false;

beforeEach((ctx) => {
  ctx.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await killAllServices(); // before the folder goes
  if (failed) console.error(`[start.test] kept ${dataDir} for inspection (a test failed)`);
  else rmSync(dataDir, { recursive: true, force: true });
});

const printedTokens = (service: ServiceProcess) =>
  [...service.stdout().matchAll(/^\s*Token: (cs_[A-Za-z0-9_-]+)\s*$/gm)].map((m) => m[1]!);

async function status(url: string, token?: string): Promise<number> {
  const response = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}

const SHUTDOWN_GRACE_MS = 2000;
/** Process exit, closing PGlite and a loaded two-core machine; the grace itself is not used up (no jobs). */
const SHUTDOWN_MARGIN_MS = 8000;

describe('npm start on the embedded default (PGlite in DATA_DIR)', () => {
  let adminToken: string;
  let first: ServiceProcess;
  let restarted: ServiceProcess;

  // How long a cold start takes is a figure for `npm run bench:startup`, not an assertion here: a
  // fresh PGlite folder runs initdb (about 5 s on an idle two-core machine), and CI machines are noisy.
  it(
    'answers /readyz in a fresh folder and prints the first admin token once',
    { timeout: 150_000 },
    async () => {
      const fresh = spawnService({
        name: 'npm start (fresh)',
        command: 'npm',
        args: ['start'],
        env: { DATA_DIR: dataDir, PORT: '0' },
      });
      await fresh.waitForReady(60_000);
      const readyAfterMs = performance.now() - fresh.startedAt;
      console.info(`[start.test] npm start answered /readyz 200 after ${Math.round(readyAfterMs)} ms`);

      const tokens = printedTokens(fresh);
      expect(tokens, fresh.describe()).toHaveLength(1);
      adminToken = tokens[0]!;
      expect(await status(`${fresh.url}/admin/tokens`, adminToken)).toBe(200);
      expect(await status(`${fresh.url}/admin/tokens`)).toBe(401);

      await fresh.stop(30_000);
      expect(fresh.logLines().some((line) => line.msg === 'stopped')).toBe(true);
      expect(existsSync(lockFile)).toBe(false);

      // A second start after a clean stop keeps the token and prints no new one.
      first = spawnService({
        name: 'npm start (second)',
        command: 'npm',
        args: ['start'],
        env: { DATA_DIR: dataDir, PORT: '0' },
      });
      await first.waitForReady(30_000);
      expect(printedTokens(first)).toEqual([]);
      expect(await status(`${first.url}/admin/tokens`, adminToken)).toBe(200);
    },
  );

  it('refuses a second process on the same data folder with "already in use"', async () => {
    const second = spawnService({ name: 'second serve', env: { DATA_DIR: dataDir, PORT: '0' } });
    const exit = await second.waitForExit(30_000);
    expect(exit.code, second.describe()).not.toBe(0);
    expect(exit.code, second.describe()).not.toBeNull();
    expect(second.stderr()).toContain('already in use');
    // The owner is not disturbed.
    expect(await status(`${first.url}/readyz`)).toBe(200);
  });

  it('takes over the stale lock after kill -9 and starts again', async () => {
    const owner = readFileSync(lockFile, 'utf8');
    await first.kill();
    // kill -9 leaves the lock file behind, naming a process that is gone.
    expect(readFileSync(lockFile, 'utf8')).toBe(owner);

    restarted = spawnService({
      name: 'serve after kill -9',
      env: { DATA_DIR: dataDir, PORT: '0', SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS) },
    });
    await restarted.waitForReady(30_000);
    expect(readFileSync(lockFile, 'utf8')).not.toBe(owner);
    expect(printedTokens(restarted)).toEqual([]);
    expect(await status(`${restarted.url}/admin/tokens`, adminToken)).toBe(200);
  });

  it('stops on SIGTERM with exit code 0 within SHUTDOWN_GRACE_MS plus a margin', async () => {
    // The readiness polls left idle keep-alive connections open: they must not hold the stop up.
    const signalledAt = performance.now();
    restarted.signal('SIGTERM');
    const exit = await restarted.waitForExit(SHUTDOWN_GRACE_MS + SHUTDOWN_MARGIN_MS + 10_000);
    const stoppedAfterMs = performance.now() - signalledAt;
    console.info(`[start.test] SIGTERM to exit: ${Math.round(stoppedAfterMs)} ms`);
    expect(exit, restarted.describe()).toEqual({ code: 0, signal: null });
    expect(stoppedAfterMs).toBeLessThan(SHUTDOWN_GRACE_MS + SHUTDOWN_MARGIN_MS);
    expect(existsSync(lockFile)).toBe(false);
  });
});

describe('configuration errors', () => {
  it('exits non-zero on bad values and names every bad variable', async () => {
    const neverCreated = join(dataDir, 'not-created');
    const service = spawnService({
      name: 'serve with bad env',
      env: { DATA_DIR: neverCreated, PORT: 'abc', MAX_RETRY_ATTEMPTS: '-1' },
    });
    const exit = await service.waitForExit(30_000);
    expect(exit.code, service.describe()).not.toBe(0);
    expect(exit.code, service.describe()).not.toBeNull();
    expect(service.stderr()).toContain('PORT');
    expect(service.stderr()).toContain('MAX_RETRY_ATTEMPTS');
    // Validation happens before anything is touched.
    expect(existsSync(neverCreated)).toBe(false);
  });
});

describe('SIGTERM with jobs still running', () => {
  it('gives the jobs the grace, then hands them back and exits 0', { timeout: 120_000 }, async () => {
    const jobsDir = join(dataDir, 'jobs');
    const database = await openDatabase({ dataDir: jobsDir });
    await database.migrate();
    await createJobRunsTable(database.db);
    await enqueueCountJobs(database.db, 3);
    await database.close();

    const service = spawnService({
      name: 'fixture server with endless jobs',
      args: [fixtureServerPath],
      env: {
        DATA_DIR: jobsDir,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'debug',
        FIXTURE_JOB_SLEEP_MS: '600000',
        SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      },
    });
    // The worker claims before the server listens, and PGlite answers queries in order, so the
    // jobs are running once /readyz answers (the released count below proves it).
    await service.waitForReady(60_000);
    const signalledAt = performance.now();
    service.signal('SIGTERM');
    const exit = await service.waitForExit(SHUTDOWN_GRACE_MS + SHUTDOWN_MARGIN_MS + 10_000);
    const stoppedAfterMs = performance.now() - signalledAt;
    console.info(`[start.test] SIGTERM to exit with 3 jobs in flight: ${Math.round(stoppedAfterMs)} ms`);
    expect(exit, service.describe()).toEqual({ code: 0, signal: null });
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(SHUTDOWN_GRACE_MS - 100);
    expect(stoppedAfterMs).toBeLessThan(SHUTDOWN_GRACE_MS + SHUTDOWN_MARGIN_MS);
    const released = service
      .logLines()
      .filter((l) => l.msg === 'job finished' && l.kind === COUNT_JOB && l.outcome === 'released');
    expect(released, service.describe()).toHaveLength(3);

    const after = await openDatabase({ dataDir: jobsDir });
    try {
      const rows = (await after.db.execute(
        sql`select state, attempts, (select count(*)::int from job_runs) as runs from jobs where kind = ${COUNT_JOB}`,
      )) as unknown as { rows: { state: string; attempts: number; runs: number }[] };
      // Back in the queue as if never tried; nothing of theirs committed.
      expect(rows.rows).toEqual(Array.from({ length: 3 }, () => ({ state: 'queued', attempts: 0, runs: 0 })));
    } finally {
      await after.close();
    }
  });
});
