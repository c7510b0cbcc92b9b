/**
 * CPU per call of the hot fixed-shape store functions (workflow load and transition, job claim and
 * completion, the opt-out look-up), before and after the statement-cost changes, in the same run.
 * "Before" is bench/lib/statement-baseline.ts (the functions as they were); "after" is src/. Each
 * call runs inside a transaction, as in the service; the cost of an empty transaction (BEGIN +
 * COMMIT) is measured too and subtracted, so the figures are the function's own.
 *
 *   node --import tsx bench/statement-cost.ts                     # PostgreSQL, 2000 calls × 5 rounds
 *   node --import tsx bench/statement-cost.ts --calls 500 --rounds 3 --per-tx 5
 *   node --import tsx bench/statement-cost.ts --target pglite     # in-memory PGlite
 *
 * PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test,
 * used as the admin URL to create (and afterwards drop) a database for the run. Node CPU is
 * process.cpuUsage() of this process (on PGlite it includes the database); PostgreSQL CPU is that
 * of the run's backends (/proc, 10 ms ticks, so only meaningful over thousands of calls). It
 * prints figures; it never asserts one. It also times localDate + isValidTimeZone (no database),
 * and checks that before and after give the same rows and dates.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase, type Database, type Executor } from '../src/core/db/database.js';
import { smsContacts } from '../src/core/db/peer-tables.js';
import { jobs, workflows } from '../src/core/db/schema.js';
import * as queue from '../src/core/jobs/job-queue.js';
import * as store from '../src/core/workflow/workflow-store.js';
import * as daysLate from '../src/peers/ledger/days-late.js';
import * as sms from '../src/peers/sms/sms-store.js';
import * as before from './lib/statement-baseline.js';
import { postgresBackendCpuMs } from './lib/cpu-meter.js';

type Variant = 'before' | 'after';

const impl = {
  before: {
    getWorkflow: before.getWorkflow,
    transition: before.transition,
    claimJobsOfKinds: before.claimJobsOfKinds,
    completeJob: before.completeJob,
    isOptedOut: before.isOptedOut,
  },
  after: {
    getWorkflow: store.getWorkflow,
    transition: store.transition,
    claimJobsOfKinds: queue.claimJobsOfKinds,
    completeJob: queue.completeJob,
    isOptedOut: sms.isOptedOut,
  },
} satisfies Record<Variant, unknown>;

const { values: flags } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'per-tx': { type: 'string', default: '10' },
    target: { type: 'string', default: 'postgres' },
  },
});
if (flags.target !== 'postgres' && flags.target !== 'pglite') throw new Error('--target postgres|pglite');
const CALLS = Number(flags.calls);
const ROUNDS = Number(flags.rounds);
const PER_TX = Number(flags['per-tx']);
const WORKFLOWS = 500;
const OTHER_KINDS = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'].map((k) => `bench.idle.${k}`);
const audit = { reason: 'bench', actor: 'bench', details: { n: 1 }, correlationId: 'bench' };

type State = {
  workflowIds: string[];
  versions: Map<string, number>;
  claimed: queue.ClaimedJob[];
  claimKind: string;
};

type Case = {
  name: string;
  /** Work done before the measured loop (not measured). */
  prepare?: (database: Database, state: State, variant: Variant) => Promise<void>;
  call: (tx: Executor, i: number, state: State, variant: Variant) => Promise<unknown>;
};

const now = () => new Date();

async function nextTransition(tx: Executor, i: number, s: State, v: Variant, withJob: boolean) {
  const id = s.workflowIds[i % s.workflowIds.length]!;
  const version = s.versions.get(id)!;
  const moved = await impl[v].transition(tx, {
    workflowId: id,
    expectedVersion: version,
    to: version % 2 === 0 ? 'a' : 'b',
    audit,
    ...(withJob ? { jobs: [{ kind: 'bench.follow', payload: { i }, delayMs: 3_600_000, bound: true }] } : {}),
    now: now(),
  });
  s.versions.set(id, moved.version);
}

const CASES: Case[] = [
  {
    name: 'getWorkflow',
    call: (tx, i, s, v) => impl[v].getWorkflow(tx, s.workflowIds[i % s.workflowIds.length]!),
  },
  { name: 'transition (audit only)', call: (tx, i, s, v) => nextTransition(tx, i, s, v, false) },
  { name: 'transition (audit + 1 job)', call: (tx, i, s, v) => nextTransition(tx, i, s, v, true) },
  {
    name: 'claimJobsOfKinds (1 of 8 kinds)',
    async prepare(database, s) {
      s.claimed = [];
      const at = new Date(Date.now() - 1000);
      const specs = Array.from({ length: CALLS }, (_, i) => ({
        kind: s.claimKind,
        payload: { i },
        runAt: at,
        workflow: { id: s.workflowIds[i % s.workflowIds.length]!, version: 1 },
      }));
      for (let i = 0; i < specs.length; i += 500) {
        await queue.enqueueJobs(database.db, specs.slice(i, i + 500), at);
      }
    },
    async call(tx, _i, s, v) {
      const limits = [{ kind: s.claimKind, limit: 1 }, ...OTHER_KINDS.map((kind) => ({ kind, limit: 16 }))];
      const jobs = await impl[v].claimJobsOfKinds(tx, {
        limits,
        owner: 'bench',
        now: now(),
        leaseMs: 60_000,
      });
      if (jobs.length !== 1) throw new Error(`claimed ${jobs.length} jobs, expected 1`);
      s.claimed.push(...jobs);
    },
  },
  {
    name: 'completeJob',
    call: (tx, i, s, v) => impl[v].completeJob(tx, s.claimed[i]!, now()),
  },
  {
    name: 'isOptedOut',
    // Half the numbers have a row (opted out or not), half have none.
    call: (tx, i, _s, v) => impl[v].isOptedOut(tx, `+1555${String(i % 1000).padStart(7, '0')}`),
  },
];

async function seed(database: Database, variant: Variant): Promise<State> {
  const at = new Date();
  const workflowIds = Array.from({ length: WORKFLOWS }, () => randomUUID());
  await database.db.insert(workflows).values(
    workflowIds.map((id) => ({
      id,
      kind: 'bench',
      subjectKey: `bench:${variant}:${id}`,
      state: 'a',
      data: { balanceCents: 12_345, note: 'a typical small workflow document', tags: ['x', 'y'] },
      version: 1,
      createdAt: at,
      updatedAt: at,
    })),
  );
  return {
    workflowIds,
    versions: new Map(workflowIds.map((id) => [id, 1])),
    claimed: [],
    claimKind: `bench.claim.${variant}`,
  };
}

type Reading = { nodeUs: number; pgUs: number | undefined };

async function measure(
  database: Database,
  dbName: string,
  calls: number,
  body: (tx: Executor, i: number) => Promise<unknown>,
): Promise<Reading> {
  const pgBefore = postgresBackendCpuMs(dbName);
  const cpu = process.cpuUsage();
  for (let i = 0; i < calls; i += PER_TX) {
    await database.db.transaction(async (tx) => {
      for (let k = i; k < Math.min(i + PER_TX, calls); k += 1) await body(tx, k);
    });
  }
  const used = process.cpuUsage(cpu);
  const pgAfter = postgresBackendCpuMs(dbName);
  return {
    nodeUs: (used.user + used.system) / calls,
    pgUs: pgBefore === undefined || pgAfter === undefined ? undefined : ((pgAfter - pgBefore) * 1000) / calls,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** localDate + isValidTimeZone, as a turn calls them: a few zones, many calls. */
function timeDaysLate() {
  const zones = ['America/New_York', 'America/Los_Angeles', 'America/Chicago', 'Pacific/Honolulu', 'UTC'];
  const calls = 20_000;
  const run = (fns: {
    localDate: typeof daysLate.localDate;
    isValidTimeZone: typeof daysLate.isValidTimeZone;
  }) => {
    const cpu = process.cpuUsage();
    for (let i = 0; i < calls; i += 1) {
      const zone = zones[i % zones.length]!;
      if (!fns.isValidTimeZone(zone)) throw new Error(zone);
      fns.localDate(new Date(1_700_000_000_000 + i * 3_600_000), zone);
    }
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / calls;
  };
  const readings = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < ROUNDS + 1; round += 1) {
    const b = run(before);
    const a = run(daysLate);
    if (round > 0) {
      readings.before.push(b);
      readings.after.push(a);
    }
  }
  return { before: median(readings.before), after: median(readings.after) };
}

/** The same answers before and after: rows, and dates in every zone at many instants. */
async function checkSameResults(database: Database, s: State) {
  for (const id of s.workflowIds.slice(0, 20)) {
    const [b, a] = [await before.getWorkflow(database.db, id), await store.getWorkflow(database.db, id)];
    if (!isDeepStrictEqual(b, a)) throw new Error(`getWorkflow differs for ${id}`);
  }
  // A transition returns the row as drizzle reads it; a claimed job is the job row as drizzle reads
  // it, plus its workflow's version. (The workflow is the last of the seeded ones, used by no case
  // before the check; its version is put back in the state.)
  const id = s.workflowIds.at(-1)!;
  const moved = await store.transition(database.db, {
    workflowId: id,
    expectedVersion: 1,
    to: 'b',
    audit,
    now: now(),
  });
  if (!isDeepStrictEqual(moved, await before.getWorkflow(database.db, id)))
    throw new Error('transition differs');
  s.versions.set(id, moved.version);
  await queue.enqueueJobs(database.db, [{ kind: 'bench.check', workflow: { id, version: 2 } }], now());
  const limits = [{ kind: 'bench.check', limit: 5 }];
  const [claimed] = await queue.claimJobsOfKinds(database.db, {
    limits,
    owner: 'check',
    now: now(),
    leaseMs: 1000,
  });
  const [jobRow] = await database.db.select().from(jobs).where(eq(jobs.id, claimed!.id));
  if (!isDeepStrictEqual(claimed, { ...jobRow, currentWorkflowVersion: 2 })) throw new Error('claim differs');
  await queue.completeJob(database.db, claimed!, now());
  for (const phone of ['+15550000000', '+15550000001', '+15550000002', '+19999999999']) {
    if ((await before.isOptedOut(database.db, phone)) !== (await sms.isOptedOut(database.db, phone))) {
      throw new Error(`isOptedOut differs for ${phone}`);
    }
  }
  const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC', 'utc', 'EST5EDT', 'Mars/Base', '+02:00', ''];
  for (const zone of zones) {
    if (before.isValidTimeZone(zone) !== daysLate.isValidTimeZone(zone))
      throw new Error(`isValidTimeZone ${zone}`);
    if (!before.isValidTimeZone(zone)) continue;
    for (let t = -2_000_000_000_000; t < 5_000_000_000_000; t += 97_000_000_000) {
      const at = new Date(t);
      if (before.localDate(at, zone) !== daysLate.localDate(at, zone))
        throw new Error(`localDate ${zone} ${t}`);
    }
  }
}

async function openBenchDatabase(): Promise<{ database: Database; dbName: string; drop(): Promise<void> }> {
  if (flags.target === 'pglite') {
    const pglite = new PGlite();
    const database = await openDatabase({ pglite });
    return { database, dbName: 'pglite-memory', drop: () => pglite.close() };
  }
  const adminUrl =
    process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `cs_stmt_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  // One connection: the calls are sequential, and each named statement is parsed once per connection.
  const database = await openDatabase({ url: url.toString(), poolSize: 1 });
  return {
    database,
    dbName,
    async drop() {
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    },
  };
}

async function main() {
  const { database, dbName, drop } = await openBenchDatabase();
  try {
    await database.migrate();
    const states = { before: await seed(database, 'before'), after: await seed(database, 'after') };
    await database.db.insert(smsContacts).values(
      Array.from({ length: 500 }, (_, i) => ({
        phone: `+1555${String(i * 2).padStart(7, '0')}`,
        optedOut: i % 2 === 0,
        reason: 'stop_word',
        changedAt: new Date(),
      })),
    );
    await checkSameResults(database, states.before);
    const dates = timeDaysLate();

    // node/pg figures per case and variant, one per measured round (round 0 warms up).
    const results = new Map<string, Record<Variant, Reading[]>>();
    const empty: Reading[] = [];
    for (let round = 0; round < ROUNDS + 1; round += 1) {
      const emptyTx = await measure(database, dbName, CALLS, async () => undefined);
      if (round > 0) empty.push(emptyTx);
      for (const c of CASES) {
        // Alternate which variant goes first, so that drift in machine load falls on both.
        const order: Variant[] = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
        for (const v of order) {
          await c.prepare?.(database, states[v], v);
          const reading = await measure(database, dbName, CALLS, (tx, i) => c.call(tx, i, states[v], v));
          if (round === 0) continue;
          const entry = results.get(c.name) ?? { before: [], after: [] };
          entry[v].push(reading);
          results.set(c.name, entry);
        }
      }
      process.stderr.write(`round ${round}/${ROUNDS} done\n`);
    }

    // An empty transaction's share per call (BEGIN + COMMIT / PER_TX), subtracted from every case.
    const txNode = median(empty.map((r) => r.nodeUs));
    const txPg = median(empty.map((r) => r.pgUs ?? 0));
    const fmt = (x: number) => x.toFixed(1).padStart(7);
    console.log(
      `\n${CALLS} calls × ${ROUNDS} rounds, ${PER_TX} calls per transaction, ${flags.target} ${dbName}; ` +
        `medians over rounds, µs per call, less an empty transaction's share (node ${txNode.toFixed(1)}, pg ${txPg.toFixed(1)})\n`,
    );
    console.log('| case | node before | node after | after/before | pg before | pg after |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const [name, r] of results) {
      const nb = median(r.before.map((x) => x.nodeUs)) - txNode;
      const na = median(r.after.map((x) => x.nodeUs)) - txNode;
      const pb = median(r.before.map((x) => x.pgUs ?? 0)) - txPg;
      const pa = median(r.after.map((x) => x.pgUs ?? 0)) - txPg;
      const pgCells = flags.target === 'pglite' ? '– | –' : `${fmt(pb)} | ${fmt(pa)}`;
      console.log(`| ${name} | ${fmt(nb)} | ${fmt(na)} | ${(na / nb).toFixed(2)} | ${pgCells} |`);
    }
    console.log(
      `| localDate + isValidTimeZone (no database) | ${fmt(dates.before)} | ${fmt(dates.after)} | ` +
        `${(dates.after / dates.before).toFixed(2)} | | |`,
    );
    const spread = (xs: Reading[]) => xs.map((x) => (x.nodeUs - txNode).toFixed(0)).join(' ');
    console.log('\nper-round node µs/call (before | after):');
    for (const [name, r] of results) console.log(`  ${name}: ${spread(r.before)} | ${spread(r.after)}`);
  } finally {
    await database.close();
    await drop();
  }
}

await main();
