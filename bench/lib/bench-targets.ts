import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/core/db/database.js';
import { postgresBackendCpuMs } from './cpu-meter.js';
import { probePglite, type StatementProbe } from './statement-probe.js';

/**
 * The databases the bench runs on. PostgreSQL gets a database of its own, created for the run
 * and dropped after it; every phase opens a fresh pool and closes it, so the server's
 * per-database counters (flushed when a backend exits) can be read between phases.
 */

export type TargetName = 'pglite-memory' | 'pglite-dir' | 'postgres';
export const TARGET_NAMES: readonly TargetName[] = ['pglite-memory', 'pglite-dir', 'postgres'];

/** Server-side counters; xact_commit is per database, the WAL ones are for the whole server. */
export type ServerCounters = {
  xactCommit: number;
  xactRollback: number;
  walRecords: number;
  walBytes: number;
  walWrite: number;
  walSync: number;
};

export type BenchTarget = {
  name: TargetName;
  label: string;
  details: Record<string, string>;
  /** A migrated database for one phase; close it when the phase ends. */
  open(poolSize: number): Promise<Database>;
  counters?(): Promise<ServerCounters>;
  /** CPU ms of the server processes serving this database (PostgreSQL on this machine only). */
  serverCpuMs?(): number | undefined;
  dispose(): Promise<void>;
};

/** The one-column table of the raw commit loop. */
async function createRawTable(database: Database): Promise<void> {
  await database.db.execute(sql`create table if not exists bench_commits (v integer not null)`);
}

async function pgliteTarget(
  name: 'pglite-memory' | 'pglite-dir',
  probe: StatementProbe,
): Promise<BenchTarget> {
  const dir = name === 'pglite-dir' ? await mkdtemp(join(tmpdir(), 'countersign-bench-')) : undefined;
  const pglite = new PGlite(dir ? join(dir, 'pgdata') : undefined);
  await pglite.waitReady;
  const database = await openDatabase({ pglite });
  await database.migrate();
  await createRawTable(database);
  probePglite(pglite, probe);
  const version = await pglite.query<{ v: string }>('select version() as v');
  return {
    name,
    label: dir ? 'PGlite (temp folder)' : 'PGlite (in memory)',
    details: { folder: dir ?? '(memory)', version: version.rows[0]?.v ?? '?' },
    // One PGlite serves every phase; its close() leaves a PGlite it was given open.
    open: async () => database,
    async dispose() {
      await pglite.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

const redactUrl = (url: string) => {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
};

async function postgresTarget(adminUrl: string): Promise<BenchTarget> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  const name = `cs_bench_${randomBytes(5).toString('hex')}`;
  let settings: Record<string, string>;
  try {
    const info = await admin.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings
        where name in ('synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay', 'max_connections', 'shared_buffers')`,
    );
    const version = await admin.query<{ v: string }>("select current_setting('server_version') as v");
    settings = Object.fromEntries(info.rows.map((r) => [r.name, r.setting]));
    settings.server_version = version.rows[0]?.v ?? '?';
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabaseName(adminUrl, name);
  let migrated = false;
  return {
    name: 'postgres',
    label: 'PostgreSQL',
    details: { url: redactUrl(url), ...settings },
    async open(poolSize) {
      const database = await openDatabase({ url, poolSize });
      if (!migrated) {
        await database.migrate();
        await createRawTable(database);
        migrated = true;
      }
      return database;
    },
    serverCpuMs: () => postgresBackendCpuMs(name),
    async counters() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const db = await client.query<{ c: string; r: string }>(
          'select xact_commit::text as c, xact_rollback::text as r from pg_stat_database where datname = current_database()',
        );
        const wal = await client.query<{ rec: string; bytes: string; w: string; s: string }>(
          'select wal_records::text as rec, wal_bytes::text as bytes, wal_write::text as w, wal_sync::text as s from pg_stat_wal',
        );
        return {
          xactCommit: Number(db.rows[0]?.c ?? 0),
          xactRollback: Number(db.rows[0]?.r ?? 0),
          walRecords: Number(wal.rows[0]?.rec ?? 0),
          walBytes: Number(wal.rows[0]?.bytes ?? 0),
          walWrite: Number(wal.rows[0]?.w ?? 0),
          walSync: Number(wal.rows[0]?.s ?? 0),
        };
      } finally {
        await client.end();
      }
    },
    async dispose() {
      const admin2 = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
      await admin2.connect();
      try {
        await admin2.query(`drop database if exists ${name} with (force)`);
      } finally {
        await admin2.end();
      }
    },
  };
}

export async function openTarget(
  name: TargetName,
  options: { probe: StatementProbe; adminUrl: string },
): Promise<BenchTarget | { skipped: string }> {
  if (name !== 'postgres') return pgliteTarget(name, options.probe);
  try {
    return await postgresTarget(options.adminUrl);
  } catch (error) {
    return { skipped: error instanceof Error ? error.message : String(error) };
  }
}
