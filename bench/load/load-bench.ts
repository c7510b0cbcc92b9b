/**
 * The service under load: the built `node dist/cli.js serve` as a child process, on PostgreSQL and
 * on PGlite, against fake peers (an OpenAI-compatible AI with an injected latency and the seed's
 * SMS Agent, both real HTTP servers in this process), driven at fixed rates and at the maximum.
 * It prints figures and writes them to bench/results/; it never asserts a timing.
 *
 *   npm run bench                                   # both databases, AI latency 0 and 1000 ms
 *   npm run bench -- --targets postgres --ai-latency 0 --rates 100,300,max --seconds 15
 *   npm run bench -- --help
 *
 * One workflow = one collections turn: a tenant's text accepted by POST /orchestrate/sms-received
 * → the draft job calls the AI → the decision (auto_send at confidence 0.95) → the outbox sends
 * the reply → the fake SMS Agent receives it. See docs/performance.md.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase } from '../../src/core/db/database.js';
import { OpenAiFake } from '../../test/fakes/openai-fake.js';
import { SmsAgentFake } from '../../test/fakes/sms-agent-fake.js';
import { postgresBackendCpuMs } from '../lib/cpu-meter.js';
import { percentile } from '../lib/percentiles.js';
import { rawCommits } from '../lib/raw-commits.js';
import { renderChart } from './chart.js';
import { drive } from './load-gen.js';
import {
  ADMIN_TOKEN,
  createServiceDatabase,
  loadAverage,
  startService,
  type DatabaseKind,
  type ServiceDatabase,
  type ServiceProcess,
} from './service-process.js';

const USAGE = `Usage: npm run bench -- [options]

  --targets <list>        postgres,pglite (env BENCH_TARGETS; default both)
  --ai-latency <list>     injected AI latency in ms, comma-separated (default 0,1000)
  --rates <list>          offered loads in requests/s, and "max" (default 50,100,200,300,500,max)
  --seconds <s>           length of each load point (env BENCH_SECONDS; default 10)
  --connections <n>       connections of the load generator (default 64; "max" uses --max-connections)
  --max-connections <n>   closed-loop connections at "max" (default 32)
  --drain-seconds <s>     longest wait for the last replies after a point (default 60; also stops after 15 s without one)
  --raw-ms <ms>           length of the raw INSERT+COMMIT measurement (default 3000)
  --env K=V[,K=V]         extra environment for the service (e.g. JOB_CONCURRENCY=64,AI_MAX_CONCURRENCY=256)
  --cpu-prof              run the service with node --cpu-prof; profiles go to bench/results/profiles/
  --label <text>          a label kept in the results file
  --chart <file>          only redraw bench/results/load-chart.svg from a results file (e.g. bench/results/latest.json)

PostgreSQL admin URL: BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test; the bench
creates a database of its own and drops it at the end.`;

type Settings = {
  targets: DatabaseKind[];
  aiLatencies: number[];
  rates: (number | 'max')[];
  seconds: number;
  connections: number;
  maxConnections: number;
  drainSeconds: number;
  rawMs: number;
  extraEnv: Record<string, string>;
  cpuProf: boolean;
  label: string | undefined;
  chartFrom: string | undefined;
  adminUrl: string;
};

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string' },
      'ai-latency': { type: 'string' },
      rates: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      'max-connections': { type: 'string' },
      'drain-seconds': { type: 'string' },
      'raw-ms': { type: 'string' },
      env: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      label: { type: 'string' },
      chart: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const fail = (message: string): never => {
    console.error(`${message}\n\n${USAGE}`);
    process.exit(2);
  };
  const num = (name: string, text: string | undefined, fallback: number, min: number) => {
    if (text === undefined || text.trim() === '') return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) fail(`${name} must be a number ≥ ${min}, not "${text}"`);
    return n;
  };
  const list = (text: string) =>
    text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  const env = process.env;
  const targets = list(values.targets ?? env.BENCH_TARGETS ?? 'postgres,pglite');
  for (const t of targets) if (t !== 'postgres' && t !== 'pglite') fail(`unknown target "${t}"`);
  const rates = list(values.rates ?? env.BENCH_RATES ?? '50,100,200,300,500,max').map((r) =>
    r === 'max' ? ('max' as const) : num('--rates', r, 0, 1),
  );
  const extraEnv: Record<string, string> = {};
  for (const pair of list(values.env ?? env.BENCH_SERVICE_ENV ?? '')) {
    const at = pair.indexOf('=');
    if (at <= 0) fail(`--env wants K=V pairs, not "${pair}"`);
    extraEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    targets: targets as DatabaseKind[],
    aiLatencies: list(values['ai-latency'] ?? env.BENCH_AI_LATENCY ?? '0,1000').map((v) =>
      num('--ai-latency', v, 0, 0),
    ),
    rates,
    seconds: num('--seconds', values.seconds ?? env.BENCH_SECONDS, 10, 1),
    connections: num('--connections', values.connections, 64, 1),
    maxConnections: num('--max-connections', values['max-connections'], 32, 1),
    drainSeconds: num('--drain-seconds', values['drain-seconds'], 60, 1),
    rawMs: num('--raw-ms', values['raw-ms'], 3000, 100),
    extraEnv,
    cpuProf: values['cpu-prof'] ?? false,
    label: values.label ?? env.BENCH_LABEL,
    chartFrom: values.chart,
    adminUrl: env.BENCH_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test',
  };
}

// ---------------------------------------------------------------------------------------------
// Tenants: distinct phones, a timezone (so allowed hours are the ledger's zone's), imported by CSV.

const AREAS = ['212', '646', '718', '917', '347', '929', '516', '914'];
const tenantId = (i: number) => `bench_t${i}`;
const phoneOf = (i: number) =>
  `+1${AREAS[Math.floor(i / 10_000) % AREAS.length]}555${String(i % 10_000).padStart(4, '0')}`;
const TENANT_TEXT = 'What is my balance?';
/** A clean draft: no figure the ledger does not hold, no forbidden wording; sent automatically at 0.95. */
const DRAFT = {
  text: 'Thanks for your message. You can pay online through the resident portal or at the leasing office.',
  intent: 'balance_question',
  confidence: 0.95,
  plan: null,
};

async function seedTenants(service: ServiceProcess, count: number): Promise<void> {
  const header = 'tenant_id,name,phone,timezone,amount_owed,due_date';
  const chunk = 1000;
  for (let from = 0; from < count; from += chunk) {
    const lines = [header];
    for (let i = from; i < Math.min(count, from + chunk); i++) {
      lines.push(`${tenantId(i)},Tenant ${i},${phoneOf(i)},America/New_York,600,2026-11-20`);
    }
    const res = await service.call('POST', '/ledger/tenants/import', `${lines.join('\n')}\n`, 'text/csv');
    if (res.status !== 200)
      throw new Error(`tenant import failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Figures

type PointResult = {
  offered: number | 'max';
  seconds: number;
  sent: number;
  accepted: number;
  rejected: Record<string, number>;
  acceptedPerSecond: number;
  ingestMs: { p50: number; p90: number; p99: number; max: number };
  delivered: number;
  undelivered: number;
  workflowsPerSecond: number;
  /** From the request's due time to the fake SMS Agent receiving the reply. */
  e2eMs: { p50: number; p90: number; p99: number; max: number };
  /** The same less the injected AI latency and the coalescing window. */
  e2eLessInjectedMs: { p50: number; p99: number };
  xactCommitPerWorkflow: number | undefined;
  serviceCpuMsPerWorkflow: number | undefined;
  postgresCpuMsPerWorkflow: number | undefined;
  rssMb: number | undefined;
  peakRssMb: number | undefined;
  machineLoad: string;
  serviceErrors: number;
};

type ScenarioResult = {
  database: DatabaseKind;
  aiLatencyMs: number;
  serviceEnv: Record<string, string>;
  tenants: number;
  raw: { commitsPerSecond: number; before: number; after: number; loops: number } | undefined;
  points: PointResult[];
  peakRssMb: number | undefined;
  loadBefore: string;
  loadAfter: string;
  errorSamples: string[];
};

const round = (n: number, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

async function xactCommit(db: ServiceDatabase): Promise<number | undefined> {
  if (!db.url) return undefined;
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query('select pg_stat_clear_snapshot()');
    const r = await c.query<{ c: string }>(
      'select xact_commit::text as c from pg_stat_database where datname = current_database()',
    );
    return Number(r.rows[0]?.c ?? NaN);
  } finally {
    await c.end();
  }
}

/** Raw single-row INSERT+COMMIT with the service's driver: node-postgres on the same server, PGlite in-process. */
async function rawCommitRate(db: ServiceDatabase, ms: number): Promise<number> {
  const loops = 16;
  if (db.url) {
    const database = await openDatabase({ url: db.url, poolSize: loops });
    try {
      await database.db.execute(sql`create table if not exists bench_commits (v integer not null)`);
      const r = await rawCommits(database.db, loops, ms, 'transaction');
      await database.db.execute(sql`drop table bench_commits`);
      return r.commits / r.seconds;
    } finally {
      await database.close();
    }
  }
  // The service holds the lock on its PGlite folder: measure a PGlite of our own in a temp folder.
  const dir = await mkdtemp(join(tmpdir(), 'countersign-load-raw-'));
  const pglite = new PGlite(join(dir, 'pgdata'));
  try {
    await pglite.waitReady;
    const database = await openDatabase({ pglite });
    await database.db.execute(sql`create table if not exists bench_commits (v integer not null)`);
    const r = await rawCommits(database.db, loops, ms, 'transaction');
    return r.commits / r.seconds;
  } finally {
    await pglite.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function runPoint(
  settings: Settings,
  scenario: {
    db: ServiceDatabase;
    service: ServiceProcess;
    sms: SmsAgentFake;
    ai: OpenAiFake;
    aiLatencyMs: number;
  },
  offered: number | 'max',
  firstTenant: { next: number; count: number },
): Promise<PointResult> {
  const { db, service, sms, ai } = scenario;
  sms.server.requests.length = 0;
  sms.texts.length = 0;
  ai.server.requests.length = 0;
  const commitsBefore = await xactCommit(db);
  const cpuBefore = service.cpuMs();
  const pgCpuBefore = db.url ? postgresBackendCpuMs(db.name) : undefined;
  const base = firstTenant.next;
  const tenantOf = (i: number) => (base + i) % firstTenant.count;
  const run = Date.now();
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, service.memory()?.rssMb ?? 0);
  }, 200);
  const { samples, seconds } = await drive({
    url: `${service.baseUrl}/orchestrate/sms-received`,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    rate: offered === 'max' ? undefined : offered,
    seconds: settings.seconds,
    connections: offered === 'max' ? settings.maxConnections : settings.connections,
    body: (i) => {
      const t = tenantOf(i);
      return JSON.stringify({
        tenant_id: tenantId(t),
        phone_number: phoneOf(t),
        content: TENANT_TEXT,
        conversation_id: `conv_${tenantId(t)}`,
        message_id: `bench-${run}-${i}`,
        timestamp: new Date(run + i).toISOString(),
        direction: 'inbound',
      });
    },
  });
  firstTenant.next = (base + samples.length) % firstTenant.count;
  const accepted = samples.filter((s) => s.status === 202);
  const rejected: Record<string, number> = {};
  for (const s of samples) {
    if (s.status !== 202) rejected[String(s.status)] = (rejected[String(s.status)] ?? 0) + 1;
  }

  // Wait for the replies: every accepted text should get one; stop when none arrived for a while.
  // At most --drain-seconds, and 15 s without a new reply: what is left is counted undelivered.
  let last = -1;
  let quietSince = Date.now();
  const drainUntil = Date.now() + settings.drainSeconds * 1000;
  while (sms.texts.length < accepted.length && Date.now() < drainUntil) {
    if (sms.texts.length !== last) {
      last = sms.texts.length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 15_000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  clearInterval(rssTimer);
  peakRss = Math.max(peakRss, service.memory()?.rssMb ?? 0);

  // Match each accepted text to the first reply to its phone after it was due.
  const receivedByPhone = new Map<string, number[]>();
  for (const r of sms.sends()) {
    const to = (r.json as { to?: string } | undefined)?.to;
    if (!to) continue;
    const list = receivedByPhone.get(to) ?? [];
    list.push(r.at);
    receivedByPhone.set(to, list);
  }
  const e2e: number[] = [];
  let lastDelivery = 0;
  for (const s of accepted) {
    const arrivals = receivedByPhone.get(phoneOf(tenantOf(s.index)));
    const at = arrivals?.find((a) => a >= s.dueAt);
    if (at === undefined) continue;
    e2e.push(at - s.dueAt);
    lastDelivery = Math.max(lastDelivery, at);
  }
  // Let backends report their counters (PostgreSQL flushes them at most once a second).
  await new Promise((r) => setTimeout(r, 1200));
  const commitsAfter = await xactCommit(db);
  const cpuAfter = service.cpuMs();
  const pgCpuAfter = db.url ? postgresBackendCpuMs(db.name) : undefined;
  const delivered = e2e.length;
  const firstDue = samples[0]?.dueAt ?? run;
  const ingest = accepted.map((s) => s.doneMono - s.dueMono);
  const injected =
    scenario.aiLatencyMs + Number(settings.extraEnv.TURN_COALESCE_MS ?? BASE_ENV.TURN_COALESCE_MS);
  const per = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && delivered > 0 ? round((b - a) / delivered, 2) : undefined;
  const q = (values: number[]) => ({
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    max: round(values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY)),
  });
  const errors = service.errorLines().length;
  return {
    offered,
    seconds: round(seconds, 2),
    sent: samples.length,
    accepted: accepted.length,
    rejected,
    acceptedPerSecond: round(accepted.length / seconds),
    ingestMs: q(ingest),
    delivered,
    undelivered: accepted.length - delivered,
    workflowsPerSecond: delivered > 0 ? round(delivered / ((lastDelivery - firstDue) / 1000)) : 0,
    e2eMs: q(e2e),
    e2eLessInjectedMs: {
      p50: round(percentile(e2e, 50) - injected),
      p99: round(percentile(e2e, 99) - injected),
    },
    xactCommitPerWorkflow: per(commitsBefore, commitsAfter),
    serviceCpuMsPerWorkflow: per(cpuBefore, cpuAfter),
    postgresCpuMsPerWorkflow: per(pgCpuBefore, pgCpuAfter),
    rssMb: round(service.memory()?.rssMb ?? NaN),
    peakRssMb: round(peakRss),
    machineLoad: loadAverage(),
    serviceErrors: errors,
  };
}

/** The service's settings for every scenario; --env adds to or overrides them. */
const BASE_ENV: Record<string, string> = {
  AI_PROVIDER: 'openai',
  OPENAI_API_KEY: 'sk-test-key',
  SMS_PROVIDER: 'sms-agent',
  // Allowed hours: all day, so no reply is held until morning.
  SEND_WINDOW_START_HOUR: '0',
  SEND_WINDOW_END_HOUR: '24',
  // No coalescing window: it would add its length to every end-to-end latency.
  TURN_COALESCE_MS: '0',
  // A failed peer call is not the subject here.
  CIRCUIT_BREAKER_THRESHOLD: '1000',
  LOG_LEVEL: 'info',
};

async function runScenario(
  settings: Settings,
  kind: DatabaseKind,
  aiLatencyMs: number,
  cli: string,
  root: string,
): Promise<ScenarioResult> {
  const loadBefore = loadAverage();
  const ai = await new OpenAiFake({ defaultContent: DRAFT }).start();
  ai.server.latencyMs = aiLatencyMs;
  const sms = await new SmsAgentFake().start();
  const db = await createServiceDatabase(kind, settings.adminUrl);
  if (db.url && process.env.BENCH_PG_LOG_STATEMENTS === '1') {
    // Diagnosis only: every statement of this database, with its duration, in the server's log.
    const c = new pg.Client({ connectionString: settings.adminUrl });
    await c.connect();
    await c.query(`alter database ${db.name} set log_min_duration_statement = 0`);
    await c.end();
  }
  const profDir = join(root, 'bench', 'results', 'profiles');
  let service: ServiceProcess | undefined;
  try {
    const serviceEnv = {
      ...BASE_ENV,
      OPENAI_BASE_URL: ai.baseUrl,
      SMS_AGENT_URL: sms.url,
      ...settings.extraEnv,
    };
    const profTmp = settings.cpuProf ? await mkdtemp(join(tmpdir(), 'countersign-prof-')) : undefined;
    service = await startService({
      cli,
      env: { ...db.env, ...serviceEnv },
      nodeArgs: profTmp ? ['--cpu-prof', `--cpu-prof-dir=${profTmp}`] : [],
    });
    const perPoint = settings.rates.map((r) => (r === 'max' ? 1500 : r) * settings.seconds);
    const tenants = Math.ceil(Math.max(...perPoint) * 1.2);
    const seedStart = performance.now();
    await seedTenants(service, tenants);
    console.log(
      `  ${kind}, AI ${aiLatencyMs} ms: service pid ${service.pid}, ${tenants} tenants imported in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );
    const rawBefore = await rawCommitRate(db, settings.rawMs);
    const points: PointResult[] = [];
    const cursor = { next: 0, count: tenants };
    // Warm-up: JIT, connection pool, caches.
    await runPoint({ ...settings, seconds: 3 }, { db, service, sms, ai, aiLatencyMs }, 50, cursor);
    for (const rate of settings.rates) {
      const p = await runPoint(settings, { db, service, sms, ai, aiLatencyMs }, rate, cursor);
      points.push(p);
      console.log(
        `    offered ${String(rate).padStart(4)}/s: accepted ${p.acceptedPerSecond}/s, ingest p50/p99 ${p.ingestMs.p50}/${p.ingestMs.p99} ms, ` +
          `e2e ${p.workflowsPerSecond} wf/s p50/p99 ${p.e2eMs.p50}/${p.e2eMs.p99} ms (${p.undelivered} undelivered), ` +
          `commits/wf ${p.xactCommitPerWorkflow ?? 'n/a'}, CPU/wf ${p.serviceCpuMsPerWorkflow} ms + pg ${p.postgresCpuMsPerWorkflow ?? 'n/a'} ms, ` +
          `RSS ${p.rssMb} MB (peak ${p.peakRssMb}), load ${p.machineLoad}`,
      );
    }
    const rawAfter = await rawCommitRate(db, settings.rawMs);
    const peak = service.memory()?.peakMb;
    const errorSamples = service.errorLines().slice(0, 5);
    await service.stop();
    service = undefined;
    if (profTmp) {
      await mkdir(profDir, { recursive: true });
      for (const f of await readdir(profTmp)) {
        await copyFile(join(profTmp, f), join(profDir, `${kind}-ai${aiLatencyMs}-${f}`));
      }
      await rm(profTmp, { recursive: true, force: true });
    }
    return {
      database: kind,
      aiLatencyMs,
      serviceEnv: { ...serviceEnv, OPENAI_BASE_URL: '(fake)', SMS_AGENT_URL: '(fake)' },
      tenants,
      raw: {
        commitsPerSecond: round((rawBefore + rawAfter) / 2, 0),
        before: round(rawBefore, 0),
        after: round(rawAfter, 0),
        loops: 16,
      },
      points,
      peakRssMb: peak === undefined ? undefined : round(peak),
      loadBefore,
      loadAfter: loadAverage(),
      errorSamples,
    };
  } finally {
    await service?.stop();
    await db.dispose();
    await ai.stop();
    await sms.stop();
  }
}

async function main(): Promise<void> {
  const settings = readSettings();
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  if (settings.chartFrom) {
    const saved = JSON.parse(await readFile(settings.chartFrom, 'utf8')) as { scenarios: ScenarioResult[] };
    await writeFile(join(root, 'bench', 'results', 'load-chart.svg'), renderChart(saved.scenarios));
    console.log(`bench/results/load-chart.svg redrawn from ${settings.chartFrom}`);
    return;
  }
  const cli = join(root, 'dist', 'cli.js');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const uptime = spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
  console.log(
    `load bench: targets ${settings.targets.join(',')}, AI latency ${settings.aiLatencies.join(',')} ms, ` +
      `rates ${settings.rates.join(',')}, ${settings.seconds} s a point, node ${process.version}, ` +
      `${cpus().length}×${cpus()[0]?.model ?? '?'}\n  uptime: ${uptime}`,
  );
  const scenarios: ScenarioResult[] = [];
  const skipped: string[] = [];
  for (const kind of settings.targets) {
    for (const aiLatencyMs of settings.aiLatencies) {
      try {
        scenarios.push(await runScenario(settings, kind, aiLatencyMs, cli, root));
        const s = scenarios.at(-1);
        if (s) console.log(`  raw INSERT+COMMIT ${s.raw?.commitsPerSecond}/s; peak RSS ${s.peakRssMb} MB`);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        console.error(`  ${kind}, AI ${aiLatencyMs} ms: FAILED: ${why}`);
        skipped.push(`${kind}/ai${aiLatencyMs}: ${why.slice(0, 500)}`);
      }
    }
  }

  printSummary(scenarios);
  const folder = join(root, 'bench', 'results');
  await mkdir(folder, { recursive: true });
  const result = {
    bench: 'load',
    id: randomUUID(),
    at: new Date().toISOString(),
    label: settings.label,
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: round(totalmem() / 2 ** 30),
      uptimeAtStart: uptime,
      uptimeAtEnd: spawnSync('uptime', { encoding: 'utf8' }).stdout.trim(),
    },
    settings: { ...settings, adminUrl: settings.adminUrl.replace(/:[^:@/]*@/, ':***@') },
    scenarios,
    skipped,
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  const file = join(folder, `bench-${stamp}.json`);
  await writeFile(file, text);
  await writeFile(join(folder, 'latest.json'), text);
  await writeFile(join(folder, 'load-chart.svg'), renderChart(scenarios));
  console.log(`\nresults written to ${relative(process.cwd(), file)} (and latest.json, load-chart.svg)`);
}

function printSummary(scenarios: ScenarioResult[]): void {
  console.log('\nsummary (e2e = text accepted → reply received by the fake SMS Agent)');
  const rows = [
    [
      'database',
      'AI ms',
      'offered',
      'accepted/s',
      'ingest p50',
      'ingest p99',
      'wf/s',
      'e2e p50−AI',
      'e2e p99−AI',
      'commits/wf',
      'raw/s',
      'wf/raw',
      'RSS peak',
    ],
  ];
  for (const s of scenarios) {
    for (const p of s.points) {
      rows.push([
        s.database,
        String(s.aiLatencyMs),
        String(p.offered),
        String(p.acceptedPerSecond),
        String(p.ingestMs.p50),
        String(p.ingestMs.p99),
        String(p.workflowsPerSecond),
        String(p.e2eLessInjectedMs.p50),
        String(p.e2eLessInjectedMs.p99),
        String(p.xactCommitPerWorkflow ?? 'n/a'),
        String(s.raw?.commitsPerSecond ?? '?'),
        s.raw ? (p.workflowsPerSecond / s.raw.commitsPerSecond).toFixed(3) : '?',
        String(p.peakRssMb),
      ]);
    }
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const r of rows) console.log(r.map((v, c) => v.padStart(widths[c] ?? 0)).join('  '));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
