/**
 * The workflow core's throughput, next to the raw commit rate of the same database, driver and
 * concurrency. It prints figures and writes them to bench/results/; it never asserts a timing.
 *
 *   npm run bench:core                          # N=2000, C=16, PGlite (memory, folder) and PostgreSQL
 *   npm run bench:core -- --n 500 --concurrency 8 --targets postgres
 *
 * See docs/benchmarks.md for what each figure means.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Db } from '../src/core/db/database.js';
import { maintenanceHandler } from '../src/core/jobs/maintenance.js';
import { JobWorker, type JobHandler, type JobOutcome } from '../src/core/jobs/job-worker.js';
import { outboxDeliveryHandler } from '../src/core/outbox/outbox.js';
import { NonRetriableError } from '../src/core/retry-errors.js';
import { systemClock } from '../src/core/runtime.js';
import { WorkflowStore } from '../src/core/workflow/workflow-store.js';
import { createMetrics } from '../src/observability/metrics.js';
import {
  openTarget,
  TARGET_NAMES,
  type BenchTarget,
  type ServerCounters,
  type TargetName,
} from './lib/bench-targets.js';
import { startCpuMeter, type CpuReading } from './lib/cpu-meter.js';
import { rawCommits } from './lib/raw-commits.js';
import { summarize, type Summary } from './lib/percentiles.js';
import { probeNodePostgres, StatementProbe, type ProbeSnapshot } from './lib/statement-probe.js';

const USAGE = `Usage: npm run bench:core -- [options]

  --n <count>            workflows per run (env BENCH_N; default 2000)
  --concurrency <C>      job concurrency per kind, raw commit loops, pool size (env BENCH_CONCURRENCY; default 16)
  --pool <size>          connection pool size (default C)
  --window <count>       most workflows in flight at once (default 2 × C)
  --targets <list>       comma-separated: ${TARGET_NAMES.join(', ')} (env BENCH_TARGETS; default all)
  --raw-ms <ms>          length of each raw commit measurement (default 3000)
  --poll-ms <ms>         the worker's poll interval (default 20)
  --warmup <count>       workflows run first and not measured (default 200)
  --bare                 only the two bench job kinds (default: also the core's maintenance and outbox kinds, as in the service)

PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test, used as the
admin URL to create (and afterwards drop) a database for the run.`;

// ---------------------------------------------------------------------------------------------
// Settings

type Settings = {
  n: number;
  concurrency: number;
  pool: number;
  window: number;
  targets: TargetName[];
  rawMs: number;
  pollMs: number;
  warmup: number;
  bare: boolean;
  adminUrl: string;
};

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      concurrency: { type: 'string', short: 'c' },
      pool: { type: 'string' },
      window: { type: 'string' },
      targets: { type: 'string' },
      'raw-ms': { type: 'string' },
      'poll-ms': { type: 'string' },
      warmup: { type: 'string' },
      bare: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (name: string, text: string | undefined, fallback: number, min: number) => {
    if (text === undefined || text.trim() === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      console.error(`${name} must be a whole number ≥ ${min}, not "${text}"\n\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  const env = process.env;
  const n = whole('--n', values.n ?? env.BENCH_N, 2000, 1);
  const concurrency = whole('--concurrency', values.concurrency ?? env.BENCH_CONCURRENCY, 16, 1);
  const targets = (values.targets ?? env.BENCH_TARGETS ?? TARGET_NAMES.join(','))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of targets) {
    if (!(TARGET_NAMES as readonly string[]).includes(t)) {
      console.error(`unknown target "${t}"; choose from ${TARGET_NAMES.join(', ')}`);
      process.exit(2);
    }
  }
  return {
    n,
    concurrency,
    pool: whole('--pool', values.pool, concurrency, 1),
    window: whole('--window', values.window, 2 * concurrency, 1),
    targets: targets as TargetName[],
    rawMs: whole('--raw-ms', values['raw-ms'], 3000, 100),
    pollMs: whole('--poll-ms', values['poll-ms'], 20, 1),
    warmup: whole('--warmup', values.warmup, 200, 0),
    bare: values.bare ?? false,
    adminUrl:
      env.BENCH_DATABASE_URL?.trim() || env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test',
  };
}

// ---------------------------------------------------------------------------------------------
// The raw commit loop lives in ./lib/raw-commits.ts (shared with bench/load/load-bench.ts).

// ---------------------------------------------------------------------------------------------
// The three-step workflow: create (with job 1) → job 1: transition to step 2 (with job 2) →
// job 2: final transition. Both transitions happen inside ctx.complete(), as real handlers do.

const STEP_1 = 'bench.step-1';
const STEP_2 = 'bench.step-2';

type JobTiming = {
  kind: 1 | 2;
  /** job.created_at (= run_at: the jobs are due at once). */
  createdAt: number;
  startedAt: number;
  loadedAt: number;
  completedAt: number;
};

class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

type WorkflowRun = {
  workflows: number;
  completed: number;
  lost: number;
  seconds: number;
  jobs: JobTiming[];
  workflowMs: number[];
  outcomes: Record<string, Partial<Record<JobOutcome, number>>>;
};

async function runWorkflows(db: Db, settings: Settings, count: number): Promise<WorkflowRun> {
  // Wired as the composition root wires them (src/main.ts): a metered store, metered job outcomes.
  const metrics = createMetrics({ defaultMetrics: false });
  const store = new WorkflowStore((kind, to) => metrics.transitions.inc({ kind, to }));
  const jobs: JobTiming[] = [];
  const workflowMs: number[] = [];
  const createdAt = new Map<string, number>();
  const outcomes: WorkflowRun['outcomes'] = {};
  const slots = new Slots(settings.window);
  let completed = 0;
  let lost = 0;
  let progressAt = performance.now();
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finish = resolve));

  const settle = (workflowId: string, ok: boolean) => {
    const began = createdAt.get(workflowId);
    if (began === undefined) return;
    createdAt.delete(workflowId);
    if (ok) {
      completed += 1;
      workflowMs.push(performance.now() - began);
    } else lost += 1;
    progressAt = performance.now();
    slots.release();
    if (completed + lost === count) finish();
  };

  const step = (kind: 1 | 2): JobHandler => ({
    kind: kind === 1 ? STEP_1 : STEP_2,
    async run(ctx) {
      const startedAt = Date.now();
      const workflowId = ctx.job.workflowId;
      if (workflowId === null) throw new NonRetriableError('bench job without a workflow');
      // load → decide → persist, as a domain handler does.
      const wf = await store.get(ctx.db, workflowId);
      if (!wf) throw new NonRetriableError(`workflow ${workflowId} is gone`);
      const loadedAt = Date.now();
      await ctx.complete(async (tx) => {
        await store.transition(tx, {
          workflowId,
          expectedVersion: wf.version,
          to: kind === 1 ? 'step-2' : 'done',
          data: { ...wf.data, step: kind + 1 },
          audit: { reason: kind === 1 ? 'step 1 finished' : 'step 2 finished', actor: 'bench' },
          jobs: kind === 1 ? [{ kind: STEP_2, bound: true, payload: { step: 2 } }] : [],
          now: ctx.now(),
        });
      });
      jobs.push({
        kind,
        createdAt: ctx.job.createdAt.getTime(),
        startedAt,
        loadedAt,
        completedAt: Date.now(),
      });
      if (kind === 2) settle(workflowId, true);
    },
  });

  const extra = settings.bare ? [] : [maintenanceHandler, outboxDeliveryHandler({ channels: new Map() })];
  const worker = new JobWorker({
    db,
    handlers: [step(1), step(2), ...extra],
    clock: systemClock,
    logger: pino({ level: 'warn' }),
    owner: `bench:${process.pid}`,
    pollIntervalMs: settings.pollMs,
    leaseMs: 60_000,
    concurrency: settings.concurrency,
    maxAttempts: 4,
    backoff: { baseMs: 1000, maxMs: 300_000 },
    onOutcome: (kind, outcome, seconds) => {
      metrics.jobRuns.inc({ kind, outcome });
      metrics.jobDuration.observe({ kind }, seconds);
      const byKind = (outcomes[kind] ??= {});
      byKind[outcome] = (byKind[outcome] ?? 0) + 1;
    },
  });

  const started = performance.now();
  worker.start();
  const watchdog = setInterval(() => {
    if (performance.now() - progressAt > 60_000) {
      console.error(
        `!! no workflow finished for 60 s (${completed} done, ${lost} lost of ${count}); outcomes so far:`,
        outcomes,
      );
      process.exit(1);
    }
  }, 5000);
  let next = 0;
  const creators = Math.min(settings.concurrency, count);
  await Promise.all(
    Array.from({ length: creators }, async () => {
      while (next < count) {
        const i = next++;
        await slots.acquire();
        const id = randomUUID();
        createdAt.set(id, performance.now());
        await store.create(db, {
          id,
          kind: 'bench.three-step',
          subjectKey: `bench-${i}`,
          state: 'step-1',
          data: { step: 1, tenant: `tenant_${i % 100}` },
          audit: { reason: 'bench workflow created', actor: 'bench' },
          jobs: [{ kind: STEP_1, bound: true, payload: { step: 1 } }],
          now: new Date(),
        });
        worker.wake();
      }
    }),
  );
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(watchdog);
  await worker.stop(5000);
  return { workflows: count, completed, lost, seconds, jobs, workflowMs, outcomes };
}

// ---------------------------------------------------------------------------------------------
// Phases: each opens the database (a fresh pool on PostgreSQL), measures, closes.

type Phase<T> = {
  result: T;
  probe: ProbeSnapshot;
  cpu: CpuReading;
  /** CPU ms of the PostgreSQL backends of this phase's pool (undefined for PGlite: it is in processMs). */
  serverCpuMs: number | undefined;
  server: ServerCounters | undefined;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function counterDelta(a: ServerCounters, b: ServerCounters): ServerCounters {
  return {
    xactCommit: b.xactCommit - a.xactCommit,
    xactRollback: b.xactRollback - a.xactRollback,
    walRecords: b.walRecords - a.walRecords,
    walBytes: b.walBytes - a.walBytes,
    walWrite: b.walWrite - a.walWrite,
    walSync: b.walSync - a.walSync,
  };
}

async function settledCounters(target: BenchTarget): Promise<ServerCounters | undefined> {
  if (!target.counters) return undefined;
  // Backends flush their statistics when they exit; wait until the figures stop moving.
  let last = await target.counters();
  for (let i = 0; i < 15; i++) {
    await sleep(200);
    const now = await target.counters();
    if (now.xactCommit - last.xactCommit <= 1) return now;
    last = now;
  }
  return last;
}

async function phase<T>(
  target: BenchTarget,
  settings: Settings,
  probe: StatementProbe,
  run: (db: Db) => Promise<T>,
): Promise<Phase<T>> {
  const before = await settledCounters(target);
  const database = await target.open(settings.pool);
  probe.reset();
  probe.enabled = true;
  const meter = startCpuMeter();
  // A fresh pool has no backends yet, so what its backends used by the end is this phase's.
  let result: T;
  let serverCpuMs: number | undefined;
  try {
    result = await run(database.db);
  } finally {
    probe.enabled = false;
    serverCpuMs = target.serverCpuMs?.();
    await database.close();
  }
  const cpu = meter();
  const after = await settledCounters(target);
  return {
    result,
    probe: probe.snapshot(),
    cpu,
    serverCpuMs,
    server: before && after ? counterDelta(before, after) : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Reporting

type RawFigures = {
  commitsPerSecond: number;
  commits: number;
  seconds: number;
  statementsPerCommit: number;
  durableCommitsPerRow: number;
  nodeCpuMsPerCommit: number;
  /** This process plus the PostgreSQL backends (PGlite runs inside this process). */
  cpuMsPerCommit: number;
  serverCpuMsPerCommit: number | undefined;
  machineBusyPercent: number | undefined;
  server?: { xactCommitPerRow: number; walSyncPerRow: number; walBytesPerRow: number };
};

type TargetResult = {
  target: TargetName;
  label: string;
  details: Record<string, string>;
  raw: { before: RawFigures; after: RawFigures; autocommit: RawFigures; meanCommitsPerSecond: number };
  workflows: {
    n: number;
    completed: number;
    lost: number;
    seconds: number;
    perSecond: number;
    ratio: number;
    ratioToAutocommit: number;
    jobLatencyMs: Summary;
    jobLatencyByKindMs: Record<string, Summary>;
    queueWaitMs: Summary;
    loadMs: Summary;
    completeTxMs: Summary;
    workflowLatencyMs: Summary;
    outcomes: WorkflowRun['outcomes'];
    perWorkflow: {
      statements: number;
      durableCommits: number;
      explicitCommits: number;
      /** Statements that committed on their own (outside BEGIN … COMMIT) and wrote, by statement. */
      autocommitWrites: Record<string, number>;
      emptyClaims: number;
      readOnlyStatements: number;
      jobsPerClaim: number;
      connectionBusyMs: number;
      poolWaitMs: number;
      nodeCpuMs: number;
      serverCpuMs: number | undefined;
      cpuMs: number;
      server?: { xactCommit: number; walSync: number; walBytes: number; walRecords: number };
    };
    machineBusyPercent: number | undefined;
    /** This process's CPU as a percentage of one core (Node's event loop is one thread). */
    processBusyPercent: number;
    /** Raw commit's CPU ÷ workflow's CPU: the ratio a machine of our own, limited by CPU alone, would show. */
    cpuRatio: number;
    statements: Record<string, { perWorkflow: number; meanMs: number; maxMs: number; rowsPerCall: number }>;
    bounds: { commitBound: number; roundTripBound: number; cpuBound: number };
  };
};

function rawFigures(p: Phase<{ commits: number; seconds: number }>): RawFigures {
  const { commits, seconds } = p.result;
  return {
    commitsPerSecond: commits / seconds,
    commits,
    seconds,
    statementsPerCommit: p.probe.statements / commits,
    durableCommitsPerRow: (p.probe.commits + p.probe.autocommitWrites) / commits,
    nodeCpuMsPerCommit: p.cpu.processMs / commits,
    cpuMsPerCommit: (p.cpu.processMs + (p.serverCpuMs ?? 0)) / commits,
    serverCpuMsPerCommit: p.serverCpuMs === undefined ? undefined : p.serverCpuMs / commits,
    machineBusyPercent: p.cpu.machineBusyPercent,
    ...(p.server
      ? {
          server: {
            xactCommitPerRow: p.server.xactCommit / commits,
            walSyncPerRow: p.server.walSync / commits,
            walBytesPerRow: p.server.walBytes / commits,
          },
        }
      : {}),
  };
}

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');

function table(headers: string[], rows: string[][], alignLeft = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < alignLeft ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function benchTarget(
  target: BenchTarget,
  settings: Settings,
  probe: StatementProbe,
): Promise<TargetResult> {
  const say = (text: string) => console.log(`[${target.name}] ${text}`);
  say(`warming up (${settings.warmup} workflows, raw commits for 500 ms) …`);
  await phase(target, settings, probe, (db) => rawCommits(db, settings.concurrency, 500, 'transaction'));
  if (settings.warmup > 0)
    await phase(target, settings, probe, (db) => runWorkflows(db, settings, settings.warmup));

  say(`raw commits (BEGIN; INSERT; COMMIT) × ${settings.concurrency} loops for ${settings.rawMs} ms …`);
  const rawBefore = rawFigures(
    await phase(target, settings, probe, (db) =>
      rawCommits(db, settings.concurrency, settings.rawMs, 'transaction'),
    ),
  );
  say(`raw autocommit INSERTs × ${settings.concurrency} loops for ${settings.rawMs} ms …`);
  const rawAuto = rawFigures(
    await phase(target, settings, probe, (db) =>
      rawCommits(db, settings.concurrency, settings.rawMs, 'autocommit'),
    ),
  );
  say(`${settings.n} three-step workflows, concurrency ${settings.concurrency} …`);
  const wf = await phase(target, settings, probe, (db) => runWorkflows(db, settings, settings.n));
  say(`raw commits again …`);
  const rawAfter = rawFigures(
    await phase(target, settings, probe, (db) =>
      rawCommits(db, settings.concurrency, settings.rawMs, 'transaction'),
    ),
  );

  const run = wf.result;
  const n = run.workflows;
  const perSecond = run.completed / run.seconds;
  const rawMean = (rawBefore.commitsPerSecond + rawAfter.commitsPerSecond) / 2;
  const p = wf.probe;
  const claim = Object.entries(p.categories).find(([label]) => label.startsWith('claim jobs'))?.[1];
  const claimsThatClaimed = claim?.autocommitWrites ?? 0;
  const durableCommits = p.commits + p.autocommitWrites;
  const connectionBusyMs = Object.values(p.categories).reduce((sum, c) => sum + c.totalMs, 0);
  const rawStatementsPerCommit = rawBefore.statementsPerCommit;
  const statements = Object.fromEntries(
    Object.entries(p.categories)
      .sort((a, b) => b[1].totalMs - a[1].totalMs)
      .map(([label, c]) => [
        label,
        {
          perWorkflow: c.count / n,
          meanMs: c.totalMs / c.count,
          maxMs: c.maxMs,
          rowsPerCall: c.rows / c.count,
        },
      ]),
  );
  const jobsByKind = (k: 1 | 2) => run.jobs.filter((j) => j.kind === k);
  const result: TargetResult = {
    target: target.name,
    label: target.label,
    details: target.details,
    raw: { before: rawBefore, after: rawAfter, autocommit: rawAuto, meanCommitsPerSecond: rawMean },
    workflows: {
      n,
      completed: run.completed,
      lost: run.lost,
      seconds: run.seconds,
      perSecond,
      ratio: perSecond / rawMean,
      ratioToAutocommit: perSecond / rawAuto.commitsPerSecond,
      jobLatencyMs: summarize(run.jobs.map((j) => j.completedAt - j.createdAt)),
      jobLatencyByKindMs: {
        [STEP_1]: summarize(jobsByKind(1).map((j) => j.completedAt - j.createdAt)),
        [STEP_2]: summarize(jobsByKind(2).map((j) => j.completedAt - j.createdAt)),
      },
      queueWaitMs: summarize(run.jobs.map((j) => j.startedAt - j.createdAt)),
      loadMs: summarize(run.jobs.map((j) => j.loadedAt - j.startedAt)),
      completeTxMs: summarize(run.jobs.map((j) => j.completedAt - j.loadedAt)),
      workflowLatencyMs: summarize(run.workflowMs),
      outcomes: run.outcomes,
      perWorkflow: {
        statements: p.statements / n,
        durableCommits: durableCommits / n,
        explicitCommits: p.commits / n,
        autocommitWrites: Object.fromEntries(
          Object.entries(p.categories)
            .filter(([, c]) => c.autocommitWrites > 0)
            .map(([label, c]) => [label, c.autocommitWrites / n]),
        ),
        emptyClaims: p.autocommitEmptyWrites / n,
        readOnlyStatements: p.autocommitReads / n,
        jobsPerClaim: claim && claimsThatClaimed > 0 ? claim.rows / claimsThatClaimed : Number.NaN,
        connectionBusyMs: connectionBusyMs / n,
        poolWaitMs: p.poolWaits.totalMs / n,
        nodeCpuMs: wf.cpu.processMs / n,
        serverCpuMs: wf.serverCpuMs === undefined ? undefined : wf.serverCpuMs / n,
        cpuMs: (wf.cpu.processMs + (wf.serverCpuMs ?? 0)) / n,
        ...(wf.server
          ? {
              server: {
                xactCommit: wf.server.xactCommit / n,
                walSync: wf.server.walSync / n,
                walBytes: wf.server.walBytes / n,
                walRecords: wf.server.walRecords / n,
              },
            }
          : {}),
      },
      machineBusyPercent: wf.cpu.machineBusyPercent,
      processBusyPercent: (100 * wf.cpu.processMs) / wf.cpu.wallMs,
      cpuRatio:
        (rawBefore.cpuMsPerCommit + rawAfter.cpuMsPerCommit) /
        2 /
        ((wf.cpu.processMs + (wf.serverCpuMs ?? 0)) / n),
      statements,
      bounds: {
        // If each durable commit cost what a raw one does, and nothing else counted.
        commitBound: rawMean / (durableCommits / n),
        // If each statement cost what a raw-loop statement does (round trips dominate).
        roundTripBound: (rawMean * rawStatementsPerCommit) / (p.statements / n),
        // If this process's CPU were the limit (one core for Node).
        cpuBound: 1000 / (wf.cpu.processMs / n),
      },
    },
  };
  printTarget(result);
  return result;
}

function printTarget(r: TargetResult): void {
  const w = r.workflows;
  const pw = w.perWorkflow;
  const out: string[] = [];
  out.push('');
  out.push(
    `=== ${r.label} ===  ${Object.entries(r.details)
      .map(([k, v]) => `${k}=${v}`)
      .join('  ')}`,
  );
  out.push('');
  const dbCpu = (ms: number | undefined) => (ms === undefined ? 'in process' : f3(ms));
  const rawRow = (label: string, x: RawFigures) => [
    label,
    f0(x.commitsPerSecond),
    f3(x.nodeCpuMsPerCommit),
    dbCpu(x.serverCpuMsPerCommit),
    f0(x.machineBusyPercent ?? Number.NaN),
    f2(x.statementsPerCommit),
    f2(x.durableCommitsPerRow),
  ];
  out.push(
    table(
      [
        'measure',
        'rate /s',
        'node CPU ms/op',
        'db CPU ms/op',
        'machine CPU %',
        'statements/op',
        'durable commits/op',
      ],
      [
        rawRow('raw commits, BEGIN+INSERT+COMMIT (before)', r.raw.before),
        rawRow('raw commits, BEGIN+INSERT+COMMIT (after)', r.raw.after),
        rawRow('raw commits, autocommit INSERT', r.raw.autocommit),
        [
          'workflows (3 transitions, 2 jobs), end to end',
          f2(w.perSecond),
          f3(pw.nodeCpuMs),
          dbCpu(pw.serverCpuMs),
          f0(w.machineBusyPercent ?? Number.NaN),
          f2(pw.statements),
          f2(pw.durableCommits),
        ],
      ],
    ),
  );
  out.push('');
  out.push(
    `ratio workflows/s ÷ raw commits/s (mean of before/after ${f0(r.raw.meanCommitsPerSecond)}/s): ${f3(w.ratio)}   ` +
      `(÷ autocommit INSERTs/s: ${f3(w.ratioToAutocommit)})   aim ≥ 0.150  ${w.ratio >= 0.15 ? 'MET' : 'SHORT'}`,
  );
  out.push(
    `CPU per op (node + db): raw commit ${f3((r.raw.before.cpuMsPerCommit + r.raw.after.cpuMsPerCommit) / 2)} ms, ` +
      `workflow ${f3(pw.cpuMs)} ms → CPU-only ratio ${f3(w.cpuRatio)} (what a machine of our own, limited by CPU alone, would show)`,
  );
  out.push(
    `completed ${w.completed}/${w.n} workflows in ${f2(w.seconds)} s` +
      (w.lost > 0 ? `  !! ${w.lost} LOST (failed or skipped)` : ''),
  );
  out.push('');
  out.push(
    table(
      ['latency (ms)', 'p50', 'p90', 'p99', 'max'],
      [
        ['job: created_at → committed done (both kinds)', w.jobLatencyMs],
        [`  ${STEP_1}`, w.jobLatencyByKindMs[STEP_1]],
        [`  ${STEP_2}`, w.jobLatencyByKindMs[STEP_2]],
        ['  queue wait: created_at → handler starts', w.queueWaitMs],
        ['  handler load (getWorkflow)', w.loadMs],
        ['  ctx.complete(transition) transaction', w.completeTxMs],
        ['workflow: create called → job 2 committed', w.workflowLatencyMs],
      ].map(([label, s]) => {
        const x = s as Summary;
        return [label as string, f1(x.p50), f1(x.p90), f1(x.p99), f1(x.max)];
      }),
    ),
  );
  out.push('');
  out.push('commits per workflow, counted by the statement probe (transactions that wrote):');
  out.push(
    `  ${'COMMIT of BEGIN … COMMIT'.padEnd(46)} ${f2(pw.explicitCommits)}   (the two ctx.complete() transactions)`,
  );
  for (const [label, perWf] of Object.entries(pw.autocommitWrites)) {
    const why = label.startsWith('claim jobs')
      ? `(2 jobs ÷ ${f2(pw.jobsPerClaim)} jobs per claim; the claim commits on its own)`
      : label.startsWith('with created')
        ? '(createWorkflow: one statement, no BEGIN/COMMIT)'
        : '(a write outside a transaction)';
    out.push(`  ${label.padEnd(46)} ${f2(perWf)}   ${why}`);
  }
  out.push(`  ${'= durable commits'.padEnd(46)} ${f2(pw.durableCommits)}`);
  out.push(
    `  not counted (no commit record): ${f2(pw.readOnlyStatements)} reads (loads, version lookups), ${f2(pw.emptyClaims)} claims that found nothing`,
  );
  if (pw.server) {
    out.push(
      `  server says: xact_commit ${f2(pw.server.xactCommit)}/workflow (includes read-only statements), ` +
        `WAL fsyncs ${f3(pw.server.walSync)}/workflow (raw: ${f3(r.raw.before.server?.walSyncPerRow ?? NaN)}/commit), ` +
        `WAL ${f0(pw.server.walBytes)} bytes/workflow (raw: ${f0(r.raw.before.server?.walBytesPerRow ?? NaN)}/commit); WAL counters are server-wide`,
    );
  }
  out.push('');
  out.push(
    'where the time goes (per workflow; statement time includes the round trip and, on PGlite, queueing):',
  );
  out.push(
    table(
      ['statement', 'per workflow', 'mean ms', 'max ms', 'rows/call', 'busy ms/workflow'],
      Object.entries(w.statements).map(([label, s]) => [
        label,
        f2(s.perWorkflow),
        f3(s.meanMs),
        f1(s.maxMs),
        f2(s.rowsPerCall),
        f3(s.meanMs * s.perWorkflow),
      ]),
    ),
  );
  out.push(
    `  connection busy ${f2(pw.connectionBusyMs)} ms/workflow; waiting for a pooled connection ${f2(pw.poolWaitMs)} ms/workflow; ` +
      `this process's CPU ${f3(pw.nodeCpuMs)} ms/workflow; machine CPU ${f0(w.machineBusyPercent ?? NaN)} % of one core`,
  );
  out.push(
    `  simple bounds: commit-bound ${f0(w.bounds.commitBound)} wf/s (raw rate ÷ durable commits), ` +
      `round-trip-bound ${f0(w.bounds.roundTripBound)} wf/s (raw statements/s ÷ statements), ` +
      `Node-CPU-bound ${f0(w.bounds.cpuBound)} wf/s`,
  );
  if (w.ratio < 0.15) out.push(diagnosis(r));
  const odd = Object.entries(w.outcomes).flatMap(([kind, o]) =>
    Object.entries(o)
      .filter(([outcome]) => outcome !== 'done')
      .map(([outcome, c]) => `${kind} ${outcome} ×${c}`),
  );
  if (odd.length > 0) out.push(`  job outcomes other than done: ${odd.join(', ')}`);
  console.log(out.join('\n'));
}

/** One paragraph on why the workflow rate is short of 0.15 × the raw commit rate. */
function diagnosis(r: TargetResult): string {
  const w = r.workflows;
  const pw = w.perWorkflow;
  const rawCpu = (r.raw.before.cpuMsPerCommit + r.raw.after.cpuMsPerCommit) / 2;
  const rawStatements = r.raw.before.statementsPerCommit;
  const busy = w.machineBusyPercent ?? Number.NaN;
  const cores = cpus().length;
  const limit =
    busy >= 80 * cores
      ? `The machine was CPU-bound (${f0(busy)} % of ${cores * 100} %), so CPU per operation decides.`
      : w.processBusyPercent >= 85
        ? `This process used ${f0(w.processBusyPercent)} % of a core${pw.serverCpuMs === undefined ? ' (PGlite runs inside it)' : ''}: ` +
          `its one event-loop thread was the limit, so CPU per operation decides.`
        : `Neither the machine (${f0(busy)} %) nor this process (${f0(w.processBusyPercent)} % of a core) was saturated: ` +
          `look at latency and pool waits.`;
  return [
    `  diagnosis: short of 0.15×. ${limit}`,
    `  A workflow used ${f3(pw.cpuMs)} ms of CPU (this process ${f3(pw.nodeCpuMs)}${pw.serverCpuMs === undefined ? ', database included' : ` + PostgreSQL backends ${f3(pw.serverCpuMs)}`}) against ${f3(rawCpu)} ms per raw commit: ${f1(pw.cpuMs / rawCpu)}×.`,
    `  It sends ${f1(pw.statements)} statements (${f2(pw.durableCommits)} durable commits) where a raw commit sends ${f1(rawStatements)}: ${f1(pw.statements / rawStatements)}× the round trips;`,
    `  each of its statements costs ${f1(pw.cpuMs / pw.statements / (rawCpu / rawStatements))}× a raw one in CPU (wider rows, jsonb, 4–5 indexes on jobs, the audit foreign key, RETURNING, query building).`,
    `  To reach 0.15× a workflow would have to cost ≤ ${f3(rawCpu / 0.15)} ms of CPU.`,
  ].join('\n');
}

function printSummary(results: TargetResult[], skipped: Record<string, string>): void {
  console.log('\n=== summary (compare within one run; 2 shared, noisy cores) ===\n');
  console.log(
    table(
      [
        'database',
        'workflows/s',
        'raw commits/s',
        'ratio',
        'CPU-only ratio',
        'job p50 ms',
        'job p99 ms',
        'commits/wf',
        'statements/wf',
      ],
      results.map((r) => [
        r.label,
        f1(r.workflows.perSecond),
        f0(r.raw.meanCommitsPerSecond),
        f3(r.workflows.ratio),
        f3(r.workflows.cpuRatio),
        f1(r.workflows.jobLatencyMs.p50),
        f1(r.workflows.jobLatencyMs.p99),
        f2(r.workflows.perWorkflow.durableCommits),
        f1(r.workflows.perWorkflow.statements),
      ]),
    ),
  );
  for (const [name, why] of Object.entries(skipped)) console.log(`${name}: SKIPPED (${why})`);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const settings = readSettings();
  const probe = new StatementProbe();
  probeNodePostgres(probe);
  console.log(
    `core bench: N=${settings.n} C=${settings.concurrency} pool=${settings.pool} window=${settings.window} ` +
      `poll=${settings.pollMs}ms raw=${settings.rawMs}ms warmup=${settings.warmup} ` +
      `handlers=${settings.bare ? 'bench only' : 'bench + core maintenance + outbox'} ` +
      `node=${process.version} cpus=${cpus().length}×${cpus()[0]?.model ?? '?'}`,
  );
  const results: TargetResult[] = [];
  const skipped: Record<string, string> = {};
  for (const name of settings.targets) {
    const target = await openTarget(name, { probe, adminUrl: settings.adminUrl });
    if ('skipped' in target) {
      const banner = '!'.repeat(100);
      console.error(
        `\n${banner}\n!! PostgreSQL is NOT reachable at ${settings.adminUrl.replace(/:[^:@/]*@/, ':***@')}\n` +
          `!! (${target.skipped})\n!! SKIPPING PostgreSQL. Set BENCH_DATABASE_URL or DATABASE_URL to an admin URL.\n${banner}\n`,
      );
      skipped[name] = `unreachable: ${target.skipped}`;
      continue;
    }
    try {
      results.push(await benchTarget(target, settings, probe));
    } finally {
      await target.dispose();
    }
  }
  printSummary(results, skipped);

  const here = dirname(fileURLToPath(import.meta.url));
  const folder = join(here, 'results');
  await mkdir(folder, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(folder, `core-${stamp}.json`);
  await writeFile(
    file,
    `${JSON.stringify(
      {
        bench: 'core',
        at: new Date().toISOString(),
        machine: {
          node: process.version,
          platform: process.platform,
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model,
        },
        settings: { ...settings, adminUrl: settings.adminUrl.replace(/:[^:@/]*@/, ':***@') },
        results,
        skipped,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nresults written to ${relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
