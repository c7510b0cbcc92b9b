import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { enqueueJobs } from '../../../src/core/jobs/job-queue.js';
import { startService, type ModuleFactory, type Service } from '../../../src/main.js';
import { testLogger } from '../../helpers/silent-logger.js';
import { createTestDatabase, databaseKind, onPostgres } from '../../helpers/test-database.js';

/**
 * --role all|api|worker: an api process serves HTTP and runs no jobs, a worker runs jobs and
 * listens on no port. On PostgreSQL both roles share one database; PGlite is one process's
 * database, so there each role is checked on its own folder.
 */
describe(`service roles (${databaseKind})`, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function databaseEnv(): Promise<Record<string, string>> {
    if (onPostgres) {
      const db = await createTestDatabase();
      cleanups.push(() => db.dispose(false));
      return { DATABASE_URL: db.url! };
    }
    const dir = mkdtempSync(join(tmpdir(), 'countersign-roles-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    return { DATA_DIR: dir };
  }

  const ran: string[] = [];
  const probe: ModuleFactory = () => ({
    name: 'probe',
    register: () => undefined,
    jobs: [{ kind: 'test.role-probe', run: async (ctx) => void ran.push(String(ctx.job.payload.n)) }],
  });

  async function start(role: string, env: Record<string, string>): Promise<Service> {
    const config = loadConfig({
      ...env,
      COUNTERSIGN_ROLE: role,
      PORT: '0',
      HOST: '127.0.0.1',
      JOB_POLL_INTERVAL_MS: '20',
    });
    const service = await startService(config, {
      logger: testLogger,
      modules: [probe],
      announce: () => undefined,
    });
    cleanups.push(() => service.stop());
    return service;
  }

  it('api serves HTTP and claims no jobs; worker runs them without a port', async () => {
    const env = await databaseEnv();
    const api = await start('api', env);
    expect(api.worker).toBeUndefined();
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    await enqueueJobs(api.database.db, [{ kind: 'test.role-probe', payload: { n: 1 } }], new Date());
    await new Promise((r) => setTimeout(r, 200));
    expect(ran).toEqual([]);
    if (!onPostgres) await api.stop(); // PGlite: one process per folder

    const worker = await start('worker', env);
    expect(worker.port).toBeUndefined();
    expect(worker.url).toBeUndefined();
    for (let i = 0; i < 100 && ran.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual(['1']);
  });
});
