import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from '../../bench/soak/pg-cluster.js';
import { openDatabase, type Database } from '../../src/core/db/database.js';
import { inTransaction } from '../../src/core/db/transaction.js';
import { sql } from 'drizzle-orm';

/**
 * PostgreSQL restarting under the service (a restart, a failover) must fail the statements in
 * flight, not end the process: a client checked out of the pool when its server goes away emits
 * 'error', which ended the process before the pool gave every client a listener (found by the
 * soak's pg-restart scenario, docs/soak.md). Runs on a throwaway cluster of its own, never the
 * shared server.
 */
const canRun = existsSync('/usr/lib/postgresql/15/bin/initdb') && process.getuid?.() === 0;
if (!canRun) {
  console.warn('SKIPPED postgres-restart: needs root and PostgreSQL 15 binaries for a throwaway cluster');
}

describe.skipIf(!canRun)('a PostgreSQL restart under an open transaction', () => {
  let cluster: PgCluster;
  let database: Database;

  beforeAll(async () => {
    cluster = startPgCluster(5441);
    database = await openDatabase({ url: await cluster.createDatabase('restart_test'), poolSize: 2 });
  });
  afterAll(async () => {
    await database?.close();
    cluster?.dispose();
  });

  it('fails the transaction in flight, keeps the process, and the next query works', async () => {
    let restarted!: () => void;
    const whileRestarting = new Promise<void>((resolve) => (restarted = resolve));
    const inFlight = inTransaction(database.db, async (tx) => {
      await tx.execute(sql`select 1`);
      // The client is checked out, between two statements of a transaction, when the server goes.
      cluster.restart('fast');
      restarted();
      await tx.execute(sql`select 2`);
    });
    await whileRestarting;
    await expect(inFlight).rejects.toThrow();
    const rows = await database.db.execute(sql`select 3 as n`);
    expect((rows as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(3);
  });
});
