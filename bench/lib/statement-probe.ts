import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * Counts and times every statement the service sends, so the bench can say how many commits a
 * workflow costs and where the time goes. It wraps the driver, not our code: node-postgres's
 * Client.query and Pool.connect (process-wide, hence enable/disable), and one PGlite instance's
 * query and transaction.
 *
 * A "durable commit" is a transaction that wrote something: an explicit COMMIT, or a write
 * statement outside a transaction (autocommit) that changed at least one row. Read-only
 * statements and writes that matched no row also end a transaction on the server, but they
 * write no commit record and wait for no WAL flush, so they are counted apart.
 */

export type CategoryStats = {
  count: number;
  totalMs: number;
  maxMs: number;
  rows: number;
  /** Calls outside a transaction that changed rows: each one a durable commit of its own. */
  autocommitWrites: number;
};

export type ProbeSnapshot = {
  statements: number;
  /** Explicit COMMITs (each a transaction that wrote; BEGIN … COMMIT of reads only does not occur here). */
  commits: number;
  rollbacks: number;
  /** INSERT/UPDATE/DELETE outside a transaction that changed at least one row. */
  autocommitWrites: number;
  /** INSERT/UPDATE/DELETE outside a transaction that changed nothing (e.g. a claim that found no job). */
  autocommitEmptyWrites: number;
  /** SELECTs outside a transaction. */
  autocommitReads: number;
  /** Statements inside BEGIN … COMMIT, BEGIN and COMMIT excluded. */
  inTransaction: number;
  /** Waiting for a pooled connection (node-postgres only). */
  poolWaits: { count: number; totalMs: number; maxMs: number };
  categories: Record<string, CategoryStats>;
};

const WRITE = /^\s*(insert|update|delete|with\b[\s\S]*\b(insert|update|delete)\b)/i;

/** The main statement of "with a as (…), b as (…) <main>". */
function afterCtes(s: string): string {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth += 1;
    else if (s[i] === ')') {
      depth -= 1;
      if (depth === 0 && !/^\s*,/.test(s.slice(i + 1))) return s.slice(i + 1).trim();
    }
  }
  return '?';
}

/** A short label for a statement: verb and table, with the job claim singled out. */
export function classify(text: string): string {
  const s = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (s.startsWith('with ') && !s.includes('for update skip locked')) {
    // Data-modifying CTEs: name them, then the main statement.
    const names = [...s.matchAll(/"(\w+)" as \(/g)].map((m) => m[1]);
    return `with ${names.join(', ')}: ${classify(afterCtes(s))}`;
  }
  if (s.startsWith('begin')) return 'begin';
  if (s === 'commit') return 'commit';
  if (s === 'rollback') return 'rollback';
  if (s.includes('for update skip locked')) return 'claim jobs (update … skip locked)';
  const insert = /^insert into "?(\w+)"?/.exec(s);
  if (insert) return `insert ${insert[1]}`;
  const update = /^update "?(\w+)"?/.exec(s);
  if (update) return `update ${update[1]}`;
  const del = /^delete from "?(\w+)"?/.exec(s);
  if (del) return `delete ${del[1]}`;
  const select = /^select .*? from "?(\w+)"?(.*)$/.exec(s);
  if (select) {
    const table = select[1] ?? '?';
    // The claim's follow-up lookup of bound workflows' versions reads many ids at once.
    if (table === 'workflows' && / in \(/.test(select[2] ?? ''))
      return 'select workflows (versions of claimed)';
    return `select ${table}`;
  }
  return s.split(' ').slice(0, 2).join(' ');
}

export class StatementProbe {
  enabled = false;
  private stats = StatementProbe.empty();

  private static empty(): ProbeSnapshot {
    return {
      statements: 0,
      commits: 0,
      rollbacks: 0,
      autocommitWrites: 0,
      autocommitEmptyWrites: 0,
      autocommitReads: 0,
      inTransaction: 0,
      poolWaits: { count: 0, totalMs: 0, maxMs: 0 },
      categories: {},
    };
  }

  reset(): void {
    this.stats = StatementProbe.empty();
  }

  snapshot(): ProbeSnapshot {
    return structuredClone(this.stats);
  }

  record(text: string, label: string, inTx: boolean, ms: number, rows: number | undefined): void {
    if (!this.enabled) return;
    const s = this.stats;
    s.statements += 1;
    const c = (s.categories[label] ??= { count: 0, totalMs: 0, maxMs: 0, rows: 0, autocommitWrites: 0 });
    c.count += 1;
    c.totalMs += ms;
    c.maxMs = Math.max(c.maxMs, ms);
    c.rows += rows ?? 0;
    if (label === 'commit') s.commits += 1;
    else if (label === 'rollback') s.rollbacks += 1;
    else if (label === 'begin') return;
    else if (inTx) s.inTransaction += 1;
    else if (WRITE.test(text)) {
      if ((rows ?? 0) > 0) {
        s.autocommitWrites += 1;
        c.autocommitWrites += 1;
      } else s.autocommitEmptyWrites += 1;
    } else s.autocommitReads += 1;
  }

  recordPoolWait(ms: number): void {
    if (!this.enabled) return;
    const w = this.stats.poolWaits;
    w.count += 1;
    w.totalMs += ms;
    w.maxMs = Math.max(w.maxMs, ms);
  }
}

type Callback = (error: unknown, result: unknown) => void;
type AnyFn = (this: object, ...args: unknown[]) => unknown;

const rowCountOf = (result: unknown): number | undefined => {
  const r = result as { rowCount?: number | null } | undefined;
  return r?.rowCount ?? undefined;
};

let pgInstalled = false;

/** Wraps node-postgres for the whole process (every pool the service opens). Install once. */
export function probeNodePostgres(probe: StatementProbe): void {
  if (pgInstalled) throw new Error('probeNodePostgres is installed already');
  pgInstalled = true;
  const inTx = new WeakMap<object, boolean>();

  const client = pg.Client.prototype as unknown as { query: AnyFn };
  const query = client.query;
  client.query = function (this: object, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
    const label = classify(text);
    const wasInTx = inTx.get(this) ?? false;
    if (label === 'begin') inTx.set(this, true);
    else if (label === 'commit' || label === 'rollback') inTx.set(this, false);
    const started = performance.now();
    const done = (result: unknown) =>
      probe.record(text, label, wasInTx, performance.now() - started, rowCountOf(result));
    const last = args.at(-1);
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, result: unknown) => {
        done(result);
        (last as Callback)(error, result);
      };
      return query.apply(this, args);
    }
    const out = query.apply(this, args);
    if (out instanceof Promise) {
      return out.then(
        (result: unknown) => {
          done(result);
          return result;
        },
        (error: unknown) => {
          done(undefined);
          throw error;
        },
      );
    }
    return out;
  };

  const pool = pg.Pool.prototype as unknown as { connect: AnyFn };
  const connect = pool.connect;
  pool.connect = function (this: object, ...args: unknown[]) {
    const started = performance.now();
    const cb = args[0];
    if (typeof cb === 'function') {
      return connect.call(this, (error: unknown, c: unknown, release: unknown) => {
        probe.recordPoolWait(performance.now() - started);
        (cb as (e: unknown, c: unknown, r: unknown) => void)(error, c, release);
      });
    }
    return (connect.call(this) as Promise<unknown>).then((c) => {
      probe.recordPoolWait(performance.now() - started);
      return c;
    });
  };
}

/**
 * Wraps one PGlite instance. PGlite runs one statement at a time, so a statement's time
 * includes waiting for the ones queued before it; "begin" is the wait for the transaction
 * lock plus BEGIN, "commit" is COMMIT plus the sync to the file system.
 */
export function probePglite(pglite: PGlite, probe: StatementProbe): void {
  const query = pglite.query.bind(pglite);
  const transaction = pglite.transaction.bind(pglite);
  const timed = async <T>(text: string, inTx: boolean, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    const r = result as { affectedRows?: number; rowCount?: number };
    probe.record(text, classify(text), inTx, performance.now() - started, r.rowCount ?? r.affectedRows);
    return result;
  };
  pglite.query = ((text: string, params?: unknown[], options?: object) =>
    timed(text, false, () => query(text, params, options))) as typeof pglite.query;
  pglite.transaction = (<T>(fn: (tx: Transaction) => Promise<T>) => {
    const called = performance.now();
    let bodyEnded = 0;
    return transaction(async (tx) => {
      probe.record('begin', 'begin', false, performance.now() - called, undefined);
      const txQuery = tx.query.bind(tx);
      tx.query = ((text: string, params?: unknown[], options?: object) =>
        timed(text, true, () => txQuery(text, params, options))) as typeof tx.query;
      try {
        return await fn(tx);
      } finally {
        bodyEnded = performance.now();
      }
    }).then(
      (result) => {
        probe.record('commit', 'commit', true, performance.now() - bodyEnded, undefined);
        return result;
      },
      (error: unknown) => {
        probe.record('rollback', 'rollback', true, performance.now() - bodyEnded, undefined);
        throw error;
      },
    );
  }) as typeof pglite.transaction;
}
