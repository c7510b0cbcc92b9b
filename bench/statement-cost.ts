/**
 * CPU per call of the hot fixed-shape store functions (workflow load and transition, job claim and
 * completion, the opt-out look-up, and the statements of an accepted inbound text: the event claim,
 * the stored text, the conversation upsert, the latest turn, the new workflow, the conversation's
 * latest turn and the text's link), before and after the statement-cost changes, in the same run.
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
import { openDatabase, type Database, type Executor, type Tx } from '../src/core/db/database.js';
import * as collections from '../src/collections/collections-store.js';
import { smsContacts } from '../src/core/db/peer-tables.js';
import {
  collectionsConversations,
  inboundEvents,
  jobs,
  smsMessages,
  workflows,
} from '../src/core/db/schema.js';
import * as inbound from '../src/core/inbound/inbound-events.js';
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
    claimInboundEvent: before.claimInboundEvent,
    attachInboundToWorkflow: before.attachInboundToWorkflow,
    recordInbound: before.recordInbound,
    upsertConversation: before.upsertConversation,
    latestWorkflow: before.latestWorkflow,
    setLatestWorkflow: (tx: Executor, id: string, workflowId: string, at: Date) =>
      before.updateConversation(tx, id, { latestWorkflowId: workflowId, updatedAt: at }),
    linkMessage: before.linkMessage,
    createWorkflow: before.createWorkflow,
  },
  after: {
    getWorkflow: store.getWorkflow,
    transition: store.transition,
    claimJobsOfKinds: queue.claimJobsOfKinds,
    completeJob: queue.completeJob,
    isOptedOut: sms.isOptedOut,
    claimInboundEvent: inbound.claimInboundEvent,
    attachInboundToWorkflow: inbound.attachInboundToWorkflow,
    recordInbound: sms.recordInbound,
    upsertConversation: collections.upsertConversation,
    latestWorkflow: collections.latestWorkflow,
    setLatestWorkflow: collections.setLatestWorkflow,
    linkMessage: sms.linkMessage,
    createWorkflow: store.createWorkflow,
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
/** Conversations (with collections turns) and stored texts and events the ingest cases touch. */
const CONVERSATIONS = 100;
const TEXTS = 1000;
const OTHER_KINDS = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'].map((k) => `bench.idle.${k}`);
const audit = { reason: 'bench', actor: 'bench', details: { n: 1 }, correlationId: 'bench' };

type State = {
  workflowIds: string[];
  versions: Map<string, number>;
  claimed: queue.ClaimedJob[];
  claimKind: string;
  messageIds: number[];
  eventIds: number[];
};

const conversationId = (v: Variant, i: number) => `conv_bench_${v}_${i % CONVERSATIONS}`;
const benchTurn = { conversationId: 'conv_bench', texts: [{ messageId: 1, body: 'What is my balance?' }] };

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
  {
    name: 'claimInboundEvent',
    call: (tx, _i, _s, v) =>
      impl[v].claimInboundEvent(tx, {
        source: 'sms:bench',
        naturalKey: randomUUID(),
        payload: {
          from: '+15550000001',
          to: null,
          body: 'What is my balance?',
          received_at: now().toISOString(),
        },
        now: now(),
      }),
  },
  {
    name: 'recordInbound',
    call: (tx, _i, _s, v) =>
      impl[v].recordInbound(
        tx,
        {
          provider: 'bench',
          providerMessageId: randomUUID(),
          from: '+15550000001',
          body: 'What is my balance?',
          receivedAt: now(),
          conversationId: 'conv_bench',
        },
        now(),
      ),
  },
  {
    name: 'upsertConversation (existing, as a text)',
    call: (tx, i, _s, v) =>
      impl[v].upsertConversation(tx as Tx, {
        conversationId: conversationId(v, i),
        phone: '+15550000001',
        tenantId: 'tenant_bench',
        now: now(),
        lastInboundAt: now(),
      }),
  },
  {
    name: 'latestWorkflow',
    call: (tx, i, _s, v) => impl[v].latestWorkflow(tx, conversationId(v, i)),
  },
  {
    name: 'createWorkflow (audit + 1 job)',
    call: (tx, i, _s, v) =>
      impl[v].createWorkflow(tx, {
        id: randomUUID(),
        kind: 'bench.created',
        subjectKey: conversationId(v, i),
        state: 'processing',
        data: benchTurn,
        audit: { reason: 'sms_received', actor: 'tenant', details: { message_id: i } },
        jobs: [{ kind: 'bench.draft', payload: {}, delayMs: 3_600_000, bound: true }],
        now: now(),
      }),
  },
  {
    name: 'setLatestWorkflow (updateConversation before)',
    call: (tx, i, s, v) =>
      impl[v].setLatestWorkflow(tx, conversationId(v, i), s.workflowIds[i % s.workflowIds.length]!, now()),
  },
  {
    name: 'linkMessage',
    call: (tx, i, s, v) =>
      impl[v].linkMessage(tx, s.messageIds[i % s.messageIds.length]!, {
        conversationId: conversationId(v, i),
        workflowId: s.workflowIds[i % s.workflowIds.length]!,
      }),
  },
  {
    // The statements of one accepted text through POST /orchestrate/sms-received, in their order
    // (SmsInbox.receive, onTenantText on a conversation whose last turn is completed, the route),
    // without the HTTP edge or the decisions: before, 12 in the transaction (the opt-out flag read
    // twice, the text read back); after, 10.
    name: 'ingest: statements of one accepted text',
    async call(tx, i, s, v) {
      const at = now();
      const f = impl[v];
      const providerMessageId = randomUUID();
      const claim = await f.claimInboundEvent(tx, {
        source: 'sms:bench',
        naturalKey: providerMessageId,
        payload: {
          from: '+15550000001',
          to: null,
          body: 'What is my balance?',
          received_at: at.toISOString(),
        },
        now: at,
      });
      const text = {
        provider: 'bench',
        providerMessageId,
        from: '+15550000001',
        body: 'What is my balance?',
        receivedAt: at,
        conversationId: conversationId(v, i),
      };
      const { id } = await f.recordInbound(tx, text, at);
      const optedOut = await f.isOptedOut(tx, text.from);
      await (tx as Tx).transaction(async (savepoint) => {
        await f.upsertConversation(savepoint, {
          conversationId: text.conversationId,
          phone: text.from,
          tenantId: 'tenant_bench',
          now: at,
          lastInboundAt: at,
        });
        await f.latestWorkflow(savepoint, text.conversationId);
        if (v === 'before') await f.isOptedOut(savepoint, text.from);
        else if (optedOut) throw new Error('the bench number is not opted out');
        const workflow = await f.createWorkflow(savepoint, {
          id: randomUUID(),
          kind: 'bench.created',
          subjectKey: text.conversationId,
          state: 'processing',
          data: benchTurn,
          audit: { reason: 'sms_received', actor: 'tenant', details: { message_id: id } },
          jobs: [{ kind: 'bench.draft', payload: {}, delayMs: 3_600_000, bound: true }],
          now: at,
        });
        await f.setLatestWorkflow(savepoint, text.conversationId, workflow.id, at);
        await f.linkMessage(savepoint, id, { conversationId: text.conversationId, workflowId: workflow.id });
      });
      if (v === 'before') await sms.findByProviderId(tx, text.provider, providerMessageId);
      return claim;
    },
  },
  {
    name: 'attachInboundToWorkflow',
    call: (tx, i, s, v) =>
      impl[v].attachInboundToWorkflow(
        tx,
        s.eventIds[i % s.eventIds.length]!,
        s.workflowIds[i % s.workflowIds.length]!,
      ),
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
  // The ingest cases: conversations with three collections turns each, stored texts, claimed events.
  await database.db.insert(collectionsConversations).values(
    Array.from({ length: CONVERSATIONS }, (_, i) => ({
      conversationId: conversationId(variant, i),
      phone: '+15550000001',
      tenantId: 'tenant_bench',
      state: 'open',
      createdAt: at,
      updatedAt: at,
    })),
  );
  await database.db.insert(workflows).values(
    Array.from({ length: CONVERSATIONS * 3 }, (_, i) => ({
      id: randomUUID(),
      kind: collections.COLLECTIONS_KIND,
      subjectKey: conversationId(variant, i),
      state: 'completed',
      data: benchTurn,
      version: 3,
      createdAt: new Date(at.getTime() - i * 1000),
      updatedAt: at,
    })),
  );
  const messages = await database.db
    .insert(smsMessages)
    .values(
      Array.from({ length: TEXTS }, () => ({
        direction: 'in',
        provider: 'bench.seed',
        providerMessageId: randomUUID(),
        fromNumber: '+15550000001',
        toNumber: '+15550000100',
        body: 'What is my balance?',
        segments: 1,
        encoding: 'gsm7',
        state: 'received',
        createdAt: at,
        updatedAt: at,
      })),
    )
    .returning({ id: smsMessages.id });
  const events = await database.db
    .insert(inboundEvents)
    .values(
      Array.from({ length: TEXTS }, () => ({
        source: 'sms:bench.seed',
        naturalKey: randomUUID(),
        payload: { body: 'What is my balance?' },
        receivedAt: at,
      })),
    )
    .returning({ id: inboundEvents.id });
  return {
    workflowIds,
    versions: new Map(workflowIds.map((id) => [id, 1])),
    claimed: [],
    claimKind: `bench.claim.${variant}`,
    messageIds: messages.map((m) => m.id),
    eventIds: events.map((e) => e.id),
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
  await checkSameIngest(database, s);
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

/**
 * The ingest statements give the same rows before and after: each runs on its own copy of the
 * input (a conversation, text or workflow id of its own), and the rows are compared without it.
 */
async function checkSameIngest(database: Database, s: State) {
  const { db } = database;
  const at = now();
  const same = (what: string, b: unknown, a: unknown) => {
    if (!isDeepStrictEqual(b, a))
      throw new Error(`${what} differs: ${JSON.stringify(b)} / ${JSON.stringify(a)}`);
  };
  const withoutKey = <T extends Record<string, unknown>>(row: T | undefined, key: keyof T) => {
    if (!row) return row;
    const { [key]: _dropped, ...rest } = row;
    return rest;
  };
  // Claim and record: a new one, then a repeat.
  for (const repeat of [false, true]) {
    const key = (v: Variant) => `check-${v}`;
    const [cb, ca] = [
      await before.claimInboundEvent(db, {
        source: 'sms:check',
        naturalKey: key('before'),
        payload: { a: 1 },
        now: at,
      }),
      await inbound.claimInboundEvent(db, {
        source: 'sms:check',
        naturalKey: key('after'),
        payload: { a: 1 },
        now: at,
      }),
    ];
    same(`claimInboundEvent (repeat ${repeat})`, withoutKey(cb, 'id'), withoutKey(ca, 'id'));
    const [eb, ea] = [
      await db.select().from(inboundEvents).where(eq(inboundEvents.id, cb.id)),
      await db.select().from(inboundEvents).where(eq(inboundEvents.id, ca.id)),
    ];
    same(
      'inbound_events row',
      withoutKey({ ...eb[0]!, naturalKey: '' }, 'id'),
      withoutKey({ ...ea[0]!, naturalKey: '' }, 'id'),
    );
    const text = (v: Variant) => ({
      provider: 'check',
      providerMessageId: `check-${v}`,
      from: '+15550000001',
      body: 'What is my balance? ✓',
      receivedAt: new Date(at.getTime() - 5000),
    });
    const [rb, ra] = [
      await before.recordInbound(db, text('before'), at),
      await sms.recordInbound(db, text('after'), at),
    ];
    same(`recordInbound (repeat ${repeat})`, withoutKey(rb, 'id'), withoutKey(ra, 'id'));
    const [mb, ma] = [await sms.getMessage(db, rb.id), await sms.getMessage(db, ra.id)];
    same(
      'sms_messages row',
      { ...withoutKey(mb, 'id'), providerMessageId: '' },
      { ...withoutKey(ma, 'id'), providerMessageId: '' },
    );
    await before.linkMessage(db, rb.id, { conversationId: 'conv_check', workflowId: s.workflowIds[0]! });
    await sms.linkMessage(db, ra.id, { conversationId: 'conv_check', workflowId: s.workflowIds[0]! });
    same(
      'linked sms_messages row',
      { ...withoutKey(await sms.getMessage(db, rb.id), 'id'), providerMessageId: '' },
      { ...withoutKey(await sms.getMessage(db, ra.id), 'id'), providerMessageId: '' },
    );
  }
  // The conversation upsert in every shape, one after the other on the same conversation.
  const shapes: { tenantId: string | undefined; lastInboundAt?: Date }[] = [
    { tenantId: undefined },
    { tenantId: 'tenant_a', lastInboundAt: new Date(at.getTime() + 1000) },
    { tenantId: undefined },
    { tenantId: '', lastInboundAt: new Date(at.getTime() + 2000) },
    { tenantId: 'tenant_b' },
  ];
  for (const [n, shape] of shapes.entries()) {
    const input = (v: Variant) => ({
      conversationId: `conv_check_${v}`,
      phone: '+15550000001',
      now: new Date(at.getTime() + n),
      ...shape,
    });
    const [ub, ua] = await db.transaction(async (tx) => [
      await before.upsertConversation(tx, input('before')),
      await collections.upsertConversation(tx, input('after')),
    ]);
    same(`upsertConversation ${n}`, withoutKey(ub, 'conversationId'), withoutKey(ua, 'conversationId'));
  }
  await before.updateConversation(db, 'conv_check_before', {
    latestWorkflowId: s.workflowIds[1]!,
    updatedAt: at,
  });
  await collections.setLatestWorkflow(db, 'conv_check_after', s.workflowIds[1]!, at);
  same(
    'setLatestWorkflow',
    withoutKey(await collections.getConversation(db, 'conv_check_before'), 'conversationId'),
    withoutKey(await collections.getConversation(db, 'conv_check_after'), 'conversationId'),
  );
  for (const i of [0, 1, 2]) {
    same(
      `latestWorkflow ${i}`,
      await before.latestWorkflow(db, conversationId('before', i)),
      await collections.latestWorkflow(db, conversationId('before', i)),
    );
  }
  same(
    'latestWorkflow (none)',
    await before.latestWorkflow(db, 'conv_none'),
    await collections.latestWorkflow(db, 'conv_none'),
  );
  // A new workflow with no job, and with a bound and a free one: the row, its audit row, its jobs.
  for (const followUps of [
    [],
    [
      { kind: 'check.draft', payload: { n: 1 }, delayMs: 5000, bound: true },
      { kind: 'check.free', singletonKey: 'check-single', maxAttempts: 3 },
    ],
  ]) {
    const ids = { before: randomUUID(), after: randomUUID() };
    const input = (v: Variant) => ({
      id: ids[v],
      kind: 'check.created',
      subjectKey: `check:${followUps.length}`,
      state: 'processing',
      data: benchTurn,
      audit: {
        reason: 'sms_received',
        actor: 'tenant',
        details: { message_id: 1 },
        correlationId: `check-${v}`,
      },
      jobs: followUps.map((j) => (j.singletonKey ? { ...j, singletonKey: `${j.singletonKey}-${v}` } : j)),
      now: at,
    });
    const [wb, wa] = [
      await before.createWorkflow(db, input('before')),
      await store.createWorkflow(db, input('after')),
    ];
    same('createWorkflow', withoutKey(wb, 'id'), withoutKey(wa, 'id'));
    same('createWorkflow (read back)', wa, await store.getWorkflow(db, ids.after));
    const trail = async (v: Variant) =>
      (await store.getAuditTrail(db, ids[v])).map(
        ({ id: _id, workflowId: _w, correlationId: _c, ...rest }) => rest,
      );
    same('createWorkflow audit', await trail('before'), await trail('after'));
    const jobsOf = async (v: Variant) =>
      (await db.select().from(jobs).where(eq(jobs.workflowId, ids[v])))
        .concat(
          await db
            .select()
            .from(jobs)
            .where(eq(jobs.singletonKey, `check-single-${v}`)),
        )
        .map(({ id: _id, workflowId: _w, singletonKey, ...rest }) => ({
          ...rest,
          single: singletonKey !== null,
        }))
        .sort((x, y) => x.kind.localeCompare(y.kind));
    same('createWorkflow jobs', await jobsOf('before'), await jobsOf('after'));
  }
  const [[ib], [ia]] = [
    await db
      .select({ id: inboundEvents.id })
      .from(inboundEvents)
      .where(eq(inboundEvents.naturalKey, 'check-before')),
    await db
      .select({ id: inboundEvents.id })
      .from(inboundEvents)
      .where(eq(inboundEvents.naturalKey, 'check-after')),
  ];
  await before.attachInboundToWorkflow(db, ib!.id, s.workflowIds[2]!);
  await inbound.attachInboundToWorkflow(db, ia!.id, s.workflowIds[2]!);
  const eventOf = async (id: number) =>
    (await db.select().from(inboundEvents).where(eq(inboundEvents.id, id)))[0]?.workflowId;
  same('attachInboundToWorkflow', await eventOf(ib!.id), await eventOf(ia!.id));
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
