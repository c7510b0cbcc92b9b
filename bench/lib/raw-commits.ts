import { integer, pgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../../src/core/db/database.js';

/**
 * The raw commit loop: `loops` loops, each row its own transaction (or one autocommit INSERT),
 * through the same driver (drizzle over node-postgres or PGlite), for `ms` milliseconds. The table
 * is `bench_commits (v integer not null)`; the caller creates it. Shared by bench/core-bench.ts and
 * bench/load/load-bench.ts so both divide by the same denominator.
 */

const benchCommits = pgTable('bench_commits', { v: integer('v').notNull() });

export async function rawCommits(
  db: Db,
  loops: number,
  ms: number,
  mode: 'transaction' | 'autocommit',
): Promise<{ commits: number; seconds: number }> {
  const started = performance.now();
  const deadline = started + ms;
  let commits = 0;
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      while (performance.now() < deadline) {
        if (mode === 'transaction') {
          await db.transaction(async (tx) => {
            await tx.insert(benchCommits).values({ v: loop });
          });
        } else {
          await db.insert(benchCommits).values({ v: loop });
        }
        commits += 1;
      }
    }),
  );
  return { commits, seconds: (performance.now() - started) / 1000 };
}
