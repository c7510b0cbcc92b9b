/**
 * The service under load: the built `node dist/cli.js serve` as a child process, on PostgreSQL and
 * on PGlite, against fake peers (an OpenAI-compatible AI with an injected latency and the seed's
 * SMS Agent, both real HTTP servers in this process), driven at fixed rates and at the maximum.
 * It prints figures and writes them to bench/results/; it never asserts a timing.
 *
 *   npm run bench                                   # both databases, AI latency 0 and 1000 ms
 *   npm run bench -- --targets postgres --ai-latency 0 --rates 100,300,max --seconds 15
 *   npm run bench -- --targets postgres --ai-latency 0 --rates 100,300 --roles all,split
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
import { postgresBackendCpuBetween, postgresBackendCpuByPid } from '../lib/cpu-meter.js';
import { percentile } from '../lib/percentiles.js';
import { rawCommits } from '../lib/raw-commits.js';
import { renderChart } from './chart.js';
import { drive } from './load-gen.js';
import {
  ADMIN_TOKEN,
  createServiceDatabase,
  loadAverage,
  ROLE_MODES,
  ROLES_OF,
  SERVICE_ROLES,
  startDeployment,
  type DatabaseKind,
  type Deployment,
  type RoleMode,
  type ServiceDatabase,
  type ServiceProcess,
  type ServiceRole,
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
  --roles <list>          all,split,split-nice (env BENCH_ROLES; default all): one "serve --role all" process, or
                          "--role api" (takes the load) and "--role worker" on the same database (PostgreSQL only);
                          split-nice runs that worker at nice 10 (every thread)
  --env K=V[,K=V]         extra environment for the service (e.g. JOB_CONCURRENCY=64,AI_MAX_CONCURRENCY=256)
  --cpu-prof              run every service process with node --cpu-prof; profiles go to bench/results/profiles/
  --cpu-prof-role <list>  profile only the processes of these roles (all,api,worker); implies --cpu-prof
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
  roleModes: RoleMode[];
  extraEnv: Record<string, string>;
  /** The roles whose processes run under node --cpu-prof; empty: none. */
  cpuProfRoles: ServiceRole[];
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
      roles: { type: 'string' },
      env: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      'cpu-prof-role': { type: 'string' },
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
  const roleModes = list(values.roles ?? env.BENCH_ROLES ?? 'all');
  for (const m of roleModes) if (!(ROLE_MODES as readonly string[]).includes(m)) fail(`unknown roles "${m}"`);
  const profRoles = values['cpu-prof-role'] === undefined ? undefined : list(values['cpu-prof-role']);
  for (const r of profRoles ?? []) {
    if (!(SERVICE_ROLES as readonly string[]).includes(r)) fail(`unknown --cpu-prof-role "${r}"`);
  }
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
    roleModes: roleModes as RoleMode[],
    extraEnv,
    cpuProfRoles: (profRoles ?? (values['cpu-prof'] ? SERVICE_ROLES : [])) as ServiceRole[],
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

/** One service process's share of a point. */
type ProcessFigures = {
  cpuMsPerWorkflow: number | undefined;
  /** VmRSS at the end of the point, and the highest polled (every 200 ms) during it. */
  rssMb: number;
  peakRssMb: number;
};

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
  /** Summed over the service's processes (split: api + worker). */
  serviceCpuMsPerWorkflow: number | undefined;
  postgresCpuMsPerWorkflow: number | undefined;
  /** The largest process's (split: the larger of api and worker; each is in byRole). */
  rssMb: number | undefined;
  peakRssMb: number | undefined;
  byRole: Partial<Record<ServiceRole, ProcessFigures>>;
  machineLoad: string;
  /** Error and fatal lines in the service's logs so far in the scenario (every process). */
  serviceErrors: number;
};

type ScenarioResult = {
  database: DatabaseKind;
  aiLatencyMs: number;
  roles: RoleMode;
  serviceEnv: Record<string, string>;
  tenants: number;
  raw: { commitsPerSecond: number; before: number; after: number; loops: number } | undefined;
  points: PointResult[];
  /** VmHWM at the end of the scenario: the largest process's, and each process's. */
  peakRssMb: number | undefined;
  peakRssMbByRole: Partial<Record<ServiceRole, number>>;
  loadBefore: string;
  loadAfter: string;
  errorSamples: string[];
};

const round = (n: number, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

/** CPU ms used so far by each process of the deployment. */
const cpuByRole = (deployment: Deployment) =>
  new Map(deployment.processes.map((p) => [p.role, p.cpuMs()] as const));

/** The sum over every process, or undefined if one could not be read. */
function totalCpuMs(cpu: ReadonlyMap<ServiceRole, number | undefined>): number | undefined {
  let total = 0;
  for (const ms of cpu.values()) {
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

const largest = (values: Iterable<number>) => Math.max(Number.NEGATIVE_INFINITY, ...values);

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
    deployment: Deployment;
    sms: SmsAgentFake;
    ai: OpenAiFake;
    aiLatencyMs: number;
  },
  offered: number | 'max',
  firstTenant: { next: number; count: number },
): Promise<PointResult> {
  const { db, deployment, sms, ai } = scenario;
  const service = deployment.api;
  sms.server.requests.length = 0;
  sms.texts.length = 0;
  ai.server.requests.length = 0;
  const commitsBefore = await xactCommit(db);
  const cpuBefore = cpuByRole(deployment);
  const pgCpuBefore = db.url ? postgresBackendCpuByPid(db.name) : undefined;
  const base = firstTenant.next;
  const tenantOf = (i: number) => (base + i) % firstTenant.count;
  const run = Date.now();
  const peakRss = new Map<ServiceRole, number>();
  const pollRss = () => {
    for (const p of deployment.processes) {
      peakRss.set(p.role, Math.max(peakRss.get(p.role) ?? 0, p.memory()?.rssMb ?? 0));
    }
  };
  const rssTimer = setInterval(pollRss, 200);
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
  pollRss();

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
  const cpuAfter = cpuByRole(deployment);
  const pgCpuAfter = db.url ? postgresBackendCpuByPid(db.name) : undefined;
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
  const byRole: Partial<Record<ServiceRole, ProcessFigures>> = {};
  for (const p of deployment.processes) {
    byRole[p.role] = {
      cpuMsPerWorkflow: per(cpuBefore.get(p.role), cpuAfter.get(p.role)),
      rssMb: round(p.memory()?.rssMb ?? NaN),
      peakRssMb: round(peakRss.get(p.role) ?? NaN),
    };
  }
  const figures = Object.values(byRole);
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
    serviceCpuMsPerWorkflow: per(totalCpuMs(cpuBefore), totalCpuMs(cpuAfter)),
    postgresCpuMsPerWorkflow: per(0, postgresBackendCpuBetween(pgCpuBefore, pgCpuAfter)),
    rssMb: largest(figures.map((f) => f.rssMb)),
    peakRssMb: largest(figures.map((f) => f.peakRssMb)),
    byRole,
    machineLoad: loadAverage(),
    serviceErrors: deployment.processes.reduce((n, p) => n + p.errorLines().length, 0),
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

/** How a scenario is named in the console and in the skipped list. */
const scenarioName = (kind: DatabaseKind, aiLatencyMs: number, mode: RoleMode) =>
  `${kind}, AI ${aiLatencyMs} ms, roles ${mode}`;

async function runScenario(
  settings: Settings,
  kind: DatabaseKind,
  aiLatencyMs: number,
  mode: RoleMode,
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
  // node --cpu-prof writes when the process exits: one temporary folder per profiled role.
  const profTmp = new Map<ServiceRole, string>();
  for (const role of ROLES_OF[mode]) {
    if (settings.cpuProfRoles.includes(role)) {
      profTmp.set(role, await mkdtemp(join(tmpdir(), `countersign-prof-${role}-`)));
    }
  }
  let deployment: Deployment | undefined;
  try {
    const serviceEnv = {
      ...BASE_ENV,
      OPENAI_BASE_URL: ai.baseUrl,
      SMS_AGENT_URL: sms.url,
      ...settings.extraEnv,
    };
    deployment = await startDeployment(mode, {
      cli,
      env: { ...db.env, ...serviceEnv },
      nodeArgs: (role) => {
        const dir = profTmp.get(role);
        return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
      },
    });
    const service = deployment.api;
    const perPoint = settings.rates.map((r) => (r === 'max' ? 1500 : r) * settings.seconds);
    const tenants = Math.ceil(Math.max(...perPoint) * 1.2);
    const seedStart = performance.now();
    await seedTenants(service, tenants);
    const pids = deployment.processes.map((p) => `${p.role} ${p.pid}`).join(', ');
    console.log(
      `  ${scenarioName(kind, aiLatencyMs, mode)}: pid ${pids}, ${tenants} tenants imported in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );
    const rawBefore = await rawCommitRate(db, settings.rawMs);
    const points: PointResult[] = [];
    const cursor = { next: 0, count: tenants };
    const target = { db, deployment, sms, ai, aiLatencyMs };
    // Warm-up: JIT, connection pool, caches; and the proof that some process runs the jobs.
    const warmUp = await runPoint({ ...settings, seconds: 3 }, target, 50, cursor);
    if (warmUp.delivered === 0) {
      throw new Error(`no reply to the ${warmUp.accepted} warm-up texts: is the job worker running?`);
    }
    for (const rate of settings.rates) {
      const p = await runPoint(settings, target, rate, cursor);
      points.push(p);
      const rss = Object.entries(p.byRole)
        .map(([role, f]) => `${role} ${f.rssMb} (peak ${f.peakRssMb})`)
        .join(', ');
      console.log(
        `    offered ${String(rate).padStart(4)}/s: accepted ${p.acceptedPerSecond}/s, ingest p50/p99 ${p.ingestMs.p50}/${p.ingestMs.p99} ms, ` +
          `e2e ${p.workflowsPerSecond} wf/s p50/p99 ${p.e2eMs.p50}/${p.e2eMs.p99} ms (${p.undelivered} undelivered), ` +
          `commits/wf ${p.xactCommitPerWorkflow ?? 'n/a'}, CPU/wf ${p.serviceCpuMsPerWorkflow} ms + pg ${p.postgresCpuMsPerWorkflow ?? 'n/a'} ms, ` +
          `RSS MB ${rss}, load ${p.machineLoad}`,
      );
    }
    const rawAfter = await rawCommitRate(db, settings.rawMs);
    const peakRssMbByRole: Partial<Record<ServiceRole, number>> = {};
    for (const p of deployment.processes) {
      const peak = p.memory()?.peakMb;
      if (peak !== undefined) peakRssMbByRole[p.role] = round(peak);
    }
    const errorSamples = deployment.processes
      .flatMap((p) => p.errorLines().map((line) => `${p.role}: ${line}`))
      .slice(0, 5);
    await deployment.stop();
    deployment = undefined;
    if (profTmp.size > 0) {
      await mkdir(profDir, { recursive: true });
      for (const [role, dir] of profTmp) {
        for (const f of await readdir(dir)) {
          await copyFile(join(dir, f), join(profDir, `${kind}-ai${aiLatencyMs}-${role}-${f}`));
        }
      }
    }
    const peaks = Object.values(peakRssMbByRole);
    return {
      database: kind,
      aiLatencyMs,
      roles: mode,
      serviceEnv: { ...serviceEnv, OPENAI_BASE_URL: '(fake)', SMS_AGENT_URL: '(fake)' },
      tenants,
      raw: {
        commitsPerSecond: round((rawBefore + rawAfter) / 2, 0),
        before: round(rawBefore, 0),
        after: round(rawAfter, 0),
        loops: 16,
      },
      points,
      peakRssMb: peaks.length > 0 ? largest(peaks) : undefined,
      peakRssMbByRole,
      loadBefore,
      loadAfter: loadAverage(),
      errorSamples,
    };
  } finally {
    await deployment?.stop();
    for (const dir of profTmp.values()) await rm(dir, { recursive: true, force: true });
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
  // dist/ was built from this just before (npm run bench builds first); others may edit src/ meanwhile.
  const git = (...args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout ?? '';
  const source = {
    commit: git('rev-parse', 'HEAD').trim(),
    uncommittedInSrc: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean),
  };
  console.log(
    `load bench: targets ${settings.targets.join(',')}, AI latency ${settings.aiLatencies.join(',')} ms, ` +
      `roles ${settings.roleModes.join(',')}, rates ${settings.rates.join(',')}, ${settings.seconds} s a point, node ${process.version}, ` +
      `${cpus().length}×${cpus()[0]?.model ?? '?'}\n  uptime: ${uptime}`,
  );
  const scenarios: ScenarioResult[] = [];
  const skipped: string[] = [];
  for (const kind of settings.targets) {
    for (const aiLatencyMs of settings.aiLatencies) {
      for (const mode of settings.roleModes) {
        const name = scenarioName(kind, aiLatencyMs, mode);
        if (mode !== 'all' && kind !== 'postgres') {
          console.log(`  ${name}: skipped (a PGlite folder belongs to one process)`);
          skipped.push(`${name}: split roles need PostgreSQL`);
          continue;
        }
        try {
          const s = await runScenario(settings, kind, aiLatencyMs, mode, cli, root);
          scenarios.push(s);
          const peaks = Object.entries(s.peakRssMbByRole).map(([role, mb]) => `${role} ${mb}`);
          console.log(`  raw INSERT+COMMIT ${s.raw?.commitsPerSecond}/s; peak RSS MB ${peaks.join(', ')}`);
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          console.error(`  ${name}: FAILED: ${why}`);
          skipped.push(`${name}: ${why.slice(0, 500)}`);
        }
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
    source,
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
  console.log(
    '\nsummary (e2e = text accepted → reply received by the fake SMS Agent; CPU/wf: ms per turn, ' +
      'summed over the service processes; RSS in MB, polled during the point)',
  );
  const rows = [
    [
      'database',
      'AI ms',
      'roles',
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
      'CPU/wf',
      'pg CPU/wf',
      'RSS peak',
      'RSS peak per process',
    ],
  ];
  for (const s of scenarios) {
    for (const p of s.points) {
      rows.push([
        s.database,
        String(s.aiLatencyMs),
        s.roles,
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
        String(p.serviceCpuMsPerWorkflow ?? 'n/a'),
        String(p.postgresCpuMsPerWorkflow ?? 'n/a'),
        String(p.peakRssMb),
        Object.entries(p.byRole)
          .map(([role, f]) => `${role} ${f.peakRssMb}`)
          .join(' / '),
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
