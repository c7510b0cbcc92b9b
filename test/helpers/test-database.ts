import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { openDatabase, type Database } from '../../src/core/db/database.js';

/**
 * Integration tests run on PGlite always, and on PostgreSQL when DATABASE_URL is set (CI sets it).
 * On PostgreSQL each test file gets a fresh database; a file with a failing test leaves it behind
 * (its name is printed) for inspection.
 */

export const onPostgres = Boolean(process.env.DATABASE_URL);
export const databaseKind = onPostgres ? 'postgres' : 'pglite';

export type TestDatabase = Database & { url: string | undefined; name: string };

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh, migrated database; returns it with a dispose that drops it unless keep is set. */
export async function createTestDatabase(): Promise<
  TestDatabase & { dispose(keep: boolean): Promise<void> }
> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const pglite = new PGlite();
    const database = await openDatabase({ pglite });
    await database.migrate();
    return {
      ...database,
      url: undefined,
      name: 'pglite-memory',
      async dispose() {
        await database.close();
        await pglite.close();
      },
    };
  }
  const name = `cs_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const database = await openDatabase({ url, poolSize: 12 });
  await database.migrate();
  return {
    ...database,
    url,
    name,
    async dispose(keep: boolean) {
      await database.close();
      if (keep) {
        console.error(`[test-database] kept ${name} for inspection (a test failed)`);
        return;
      }
      const admin2 = new pg.Client({ connectionString: adminUrl });
      await admin2.connect();
      await admin2.query(`drop database if exists ${name} with (force)`);
      await admin2.end();
    },
  };
}

/** One database for the whole test file. */
export function useTestDatabase(): { readonly current: TestDatabase } {
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let failed = false;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      failed = true;
    });
  });
  afterAll(async () => {
    await database?.dispose(failed);
  });
  return {
    get current() {
      if (!database) throw new Error('test database not ready');
      return database;
    },
  };
}
