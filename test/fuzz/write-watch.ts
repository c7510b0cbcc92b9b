import { sql } from 'drizzle-orm';
import type { Db } from '../../src/core/db/database.js';

/**
 * Sees every row the service writes. A row trigger on every table appends (table, operation) to
 * fuzz_write_log, so "was anything written?" is one cheap read of max(id), however large the
 * tables grow. idempotency_keys is watched by content instead (count and md5 of its rows): its
 * key is claimed and, for a rejected request, released again, which nets to nothing.
 * Installed in the fuzz run's own fresh database only.
 */
export type WriteMark = { logId: number; idempotency: string };

type Rows<T> = { rows: T[] };

export async function installWriteWatch(db: Db): Promise<string[]> {
  await db.execute(
    sql`create table fuzz_write_log (id bigserial primary key, tbl text not null, op text not null)`,
  );
  await db.execute(
    sql.raw(`create function fuzz_log_write() returns trigger language plpgsql as $$
      begin insert into fuzz_write_log (tbl, op) values (TG_TABLE_NAME, TG_OP); return null; end $$`),
  );
  const tables = (
    (await db.execute(
      sql`select tablename from pg_tables where schemaname = 'public' and tablename not in ('fuzz_write_log', 'idempotency_keys') order by 1`,
    )) as Rows<{ tablename: string }>
  ).rows.map((r) => r.tablename);
  for (const table of tables) {
    await db.execute(
      sql.raw(
        `create trigger fuzz_log_write after insert or update or delete on public."${table}" for each row execute function fuzz_log_write()`,
      ),
    );
  }
  return [...tables, 'idempotency_keys'];
}

/**
 * The mark; `withIdempotency: false` reads only the log (one index lookup) and carries the last
 * idempotency digest over: only a request with an Idempotency-Key can touch that table.
 */
export async function writeMark(db: Db, previous?: WriteMark): Promise<WriteMark> {
  if (previous) {
    const result = (await db.execute(
      sql`select coalesce(max(id), 0)::text as log_id from fuzz_write_log`,
    )) as Rows<{ log_id: string }>;
    return { logId: Number(result.rows[0]?.log_id ?? 0), idempotency: previous.idempotency };
  }
  const result = (await db.execute(
    sql`select (select coalesce(max(id), 0) from fuzz_write_log)::text as log_id,
               (select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by t.scope, t.key)), '')
                  from idempotency_keys t) as idempotency`,
  )) as Rows<{ log_id: string; idempotency: string }>;
  const row = result.rows[0];
  return { logId: Number(row?.log_id ?? 0), idempotency: row?.idempotency ?? '' };
}

export const sameMark = (a: WriteMark, b: WriteMark) =>
  a.logId === b.logId && a.idempotency === b.idempotency;

/** What was written between two marks, e.g. "jobs:INSERT×2, idempotency_keys changed". */
export async function writesBetween(db: Db, before: WriteMark, after: WriteMark): Promise<string> {
  const result = (await db.execute(
    sql`select tbl, op, count(*)::int as n from fuzz_write_log where id > ${before.logId} and id <= ${after.logId} group by 1, 2 order by 1, 2`,
  )) as Rows<{ tbl: string; op: string; n: number }>;
  const parts = result.rows.map((r) => `${r.tbl}:${r.op}×${r.n}`);
  if (before.idempotency !== after.idempotency) {
    parts.push(
      `idempotency_keys ${before.idempotency.split(':')[0]}→${after.idempotency.split(':')[0]} rows`,
    );
  }
  return parts.join(', ');
}

/** Waits until nothing has been written for a while (the job worker has finished what requests started). */
export async function waitForQuiet(db: Db, quietMs = 200, capMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + capMs;
  let last = await writeMark(db);
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const now = await writeMark(db);
    if (!sameMark(now, last)) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) return true;
  }
  return false;
}

/**
 * The dashboard fuzz only: an update of dashboard_sessions that changes nothing but last_seen_at
 * (the session middleware's "touch", at most once a minute per session, whatever the request)
 * is logged as op TOUCH instead of UPDATE, so the check can leave out exactly that write.
 * Every other write to dashboard_sessions (a new session, a deleted one, a changed CSRF token) is
 * still an UPDATE, INSERT or DELETE.
 */
export async function installSessionTouchWatch(db: Db): Promise<void> {
  await db.execute(
    sql.raw(`create function fuzz_log_session_write() returns trigger language plpgsql as $$
      begin
        insert into fuzz_write_log (tbl, op) values (TG_TABLE_NAME,
          case when TG_OP = 'UPDATE' and (to_jsonb(new) - 'last_seen_at') = (to_jsonb(old) - 'last_seen_at')
               then 'TOUCH' else TG_OP end);
        return null;
      end $$`),
  );
  await db.execute(sql.raw(`drop trigger fuzz_log_write on public.dashboard_sessions`));
  await db.execute(
    sql.raw(
      `create trigger fuzz_log_write after insert or update or delete on public.dashboard_sessions for each row execute function fuzz_log_session_write()`,
    ),
  );
}

/** Writes between two marks other than the ones `excluded` names ("table:OP"), as writesBetween does. */
export async function writesBetweenExcept(
  db: Db,
  before: WriteMark,
  after: WriteMark,
  excluded: readonly string[],
): Promise<string> {
  const result = (await db.execute(
    sql`select tbl, op, count(*)::int as n from fuzz_write_log where id > ${before.logId} and id <= ${after.logId} group by 1, 2 order by 1, 2`,
  )) as Rows<{ tbl: string; op: string; n: number }>;
  const parts = result.rows
    .filter((r) => !excluded.includes(`${r.tbl}:${r.op}`))
    .map((r) => `${r.tbl}:${r.op}×${r.n}`);
  if (before.idempotency !== after.idempotency) {
    parts.push(
      `idempotency_keys ${before.idempotency.split(':')[0]}→${after.idempotency.split(':')[0]} rows`,
    );
  }
  return parts.join(', ');
}
