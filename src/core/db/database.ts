import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import pg from 'pg';
import * as schema from './schema.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that runs queries: the database itself or an open transaction. */
export type Executor = Db | Tx;

export type Database = {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Applies pending migrations; safe to call from several processes at once on PostgreSQL. */
  migrate(): Promise<void>;
  /** True when every migration in the folder has been applied. */
  isMigrated(): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
};

export const migrationsFolder = fileURLToPath(new URL('../../../migrations', import.meta.url));

/** Any constant works; it only has to be the same in every process of this service. */
const MIGRATION_LOCK_KEY = 0x436f756e; // "Coun"

async function appliedMigrationCount(db: Db): Promise<number> {
  try {
    const result = (await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)) as {
      rows: { n: number }[];
    };
    return Number(result.rows[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

let folderCount: number | undefined;
async function migrationCountInFolder(): Promise<number> {
  if (folderCount !== undefined) return folderCount;
  const { readFile } = await import('node:fs/promises');
  const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  folderCount = journal.entries.length;
  return folderCount;
}

export type OpenDatabaseOptions = {
  url?: string | undefined;
  dataDir?: string;
  poolSize?: number;
  /** An already-open PGlite (tests use in-memory ones). */
  pglite?: PGlite;
};

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.poolSize ?? 10);
  return openPglite(options);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {
    // An idle client lost its connection (server restart): the pool replaces it on next use.
  });
  pool.on('connect', (client) => {
    // A client checked out when the server goes away (restart, failover) emits 'error' too; with
    // no listener that would end the process. Its query in flight fails on its own, the caller's
    // transaction rolls back and retries, and the pool drops the broken client (bench/soak).
    client.on('error', () => {});
  });
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    async migrate() {
      // Several processes may start at once: serialize migrations with a session advisory lock.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
    },
    async isMigrated() {
      return (await appliedMigrationCount(db)) >= (await migrationCountInFolder());
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}

async function openPglite(options: OpenDatabaseOptions): Promise<Database> {
  let lock: DataDirLock | undefined;
  let client = options.pglite;
  if (!client) {
    const dir = resolve(options.dataDir ?? './data');
    lock = lockDataDir(dir);
    try {
      client = new PGlite(join(dir, 'pgdata'));
      await client.waitReady;
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  const pglite = client;
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    async migrate() {
      await migratePglite(drizzlePglite(pglite, { schema }), { migrationsFolder });
    },
    async isMigrated() {
      return (await appliedMigrationCount(db)) >= (await migrationCountInFolder());
    },
    async ping() {
      await pglite.query('select 1');
    },
    async close() {
      try {
        if (!options.pglite) await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}
