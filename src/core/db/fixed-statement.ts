import type { Column, Query } from 'drizzle-orm';
import type { Executor } from './database.js';

/**
 * Statements whose SQL text never changes (the hot ones of the workflow store, the job queue and
 * the opt-out look-up; docs/performance.md): written once, run many times.
 *
 * Building a statement with drizzle's query builder costs more Node CPU than sending it (SQL
 * assembly, `is()` checks, per-column mapping). A fixed statement skips all of that: its text is a
 * constant, its parameters go as they are (the caller converts them to driver values, as drizzle's
 * columns would: dates as ISO strings, JSON as text), and its rows are mapped by the columns' own
 * `mapFromDriverValue`, so a row comes back exactly as drizzle's `select()` would give it.
 *
 * It runs on the executor it is given, through that executor's drizzle session: inside the
 * caller's transaction when given one (unlike a `.prepare()`d query built from `db`, which is bound
 * to the pool's session), and through drizzle's logger like any other query. On node-postgres it is
 * a named prepared statement, so PostgreSQL parses and plans it once per connection; PGlite ignores
 * the name.
 */

/** `"a", "b", …` for the columns, in their order (for a select list or RETURNING). */
export function columnList(columns: Record<string, Column>, qualifier?: string): string {
  const prefix = qualifier ? `${qualifier}.` : '';
  return Object.values(columns)
    .map((column) => `${prefix}"${column.name}"`)
    .join(', ');
}

/**
 * Reads a row whose values are in the order of `columns` (starting at `offset`) into an object
 * keyed as the columns are, as drizzle maps a select: null stays null, else mapFromDriverValue.
 */
export function rowReader<T>(columns: Record<string, Column>, offset = 0): (row: unknown[]) => T {
  const entries = Object.entries(columns);
  return (row) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < entries.length; i += 1) {
      const [key, column] = entries[i]!;
      const value = row[offset + i];
      out[key] = value === null ? null : column.mapFromDriverValue(value);
    }
    return out as T;
  };
}

export type FixedStatement<Row> = (executor: Executor, params: unknown[]) => Promise<Row[]>;

/** A statement with a constant text; `name` must be unique to this text (it names the prepared statement). */
export function fixedStatement<Row>(
  name: string,
  text: string,
  read: (row: unknown[]) => Row,
): FixedStatement<Row> {
  const mapRows = (rows: unknown[][]) => rows.map(read);
  return (executor, params) => {
    const query: Query = { sql: text, params };
    return executor._.session
      .prepareQuery<{ execute: Row[]; all: unknown; values: unknown }>(query, undefined, name, true, mapRows)
      .execute();
  };
}
