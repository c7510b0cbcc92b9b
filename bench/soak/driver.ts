import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configVariables } from '../../src/config/config.js';
import {
  loadAverage,
  startService as startServiceProcess,
  type ServiceProcess,
} from '../load/service-process.js';
import { check, rssSummary } from './checker.js';
import type { PgCluster } from './pg-cluster.js';
import { SoakAiFake, SoakSmsFake, TEXTS, type AiFaultOptions, type TenantKind } from './soak-fakes.js';

/**
 * One run: fakes up, a fresh database on our own PostgreSQL cluster, the built service (one or
 * more processes), tenants seeded in the built-in ledger, texts posted at a fixed rate (each with a
 * unique message_id, retried with the same id until the service answers, and a share posted twice
 * on purpose), faults injected at given points, then — once every turn has settled — the checker.
 */

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(repoRoot, 'dist', 'cli.js');
export const RESULTS_DIR = join(repoRoot, 'bench', 'results');

// The service reads only what we give it (not this shell's DATABASE_URL and the like).
for (const name of configVariables) delete process.env[name];

/** The service's warn/error/fatal log lines, counted by message (with the error's message). */
function warnings(logFile: string, into: Map<string, { n: number; example: string }>): void {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    // pino's numbers (40 warn, 50 error, 60 fatal) or, as this service writes them, their labels.
    const level = /"level":"?(\w+)"?/.exec(line)?.[1];
    if (!level || !['40', '50', '60', 'warn', 'error', 'fatal'].includes(level)) continue;
    let key = line.slice(0, 120);
    try {
      const parsed = JSON.parse(line) as { msg?: string; err?: { message?: string }; error?: unknown };
      key = `${level} ${parsed.msg ?? ''} | ${String(parsed.err?.message ?? parsed.error ?? '').slice(0, 160)}`;
    } catch {
      // not JSON
    }
    const seen = into.get(key);
    if (seen) seen.n += 1;
    else into.set(key, { n: 1, example: line.slice(0, 1500) });
  }
}

/** Every service process started, so that an interrupted run leaves none behind. */
const started = new Set<ServiceProcess>();
export function killServices(): void {
  for (const svc of started) if (svc.child.exitCode === null) svc.child.kill('SIGKILL');
}

export type RunContext = {
  services: (ServiceProcess | undefined)[];
  ai: SoakAiFake;
  sms: SoakSmsFake;
  cluster: PgCluster;
  log(message: string): void;
  /** SIGKILL service i (the whole process), then start it again on the same database. */
  killAndRestart(i: number): Promise<void>;
};

export type FaultEvent = { at: number; name: string; run(ctx: RunContext): Promise<void> };

export type RunOptions = {
  scenario: string;
  texts: number;
  rate: number;
  tenants: number;
  mix?: Record<TenantKind, number>;
  services?: number;
  /** Share of texts posted a second time (same message_id) after the first was answered. */
  duplicateRate?: number;
  ai?: Partial<AiFaultOptions>;
  env?: Record<string, string>;
  /** Fractions (0..1) of the texts posted at which events run. */
  events?: FaultEvent[];
  settleTimeoutMs?: number;
  rssWarmupS?: number;
  cluster: PgCluster;
};

async function startService(options: Parameters<typeof startServiceProcess>[0]): Promise<ServiceProcess> {
  const svc = await startServiceProcess(options);
  started.add(svc);
  svc.child.once('exit', () => started.delete(svc));
  return svc;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(options: RunOptions): Promise<Record<string, unknown>> {
  const startedAt = new Date();
  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;
  const timeline: { t: number; event: string }[] = [];
  const log = (message: string) => {
    timeline.push({ t: Math.round(elapsedS() * 10) / 10, event: message });
    console.info(`[${options.scenario} ${elapsedS().toFixed(1)}s] ${message}`);
  };
  const loadSamples: { t: number; load: string }[] = [{ t: 0, load: loadAverage() }];

  const ai = await new SoakAiFake().start();
  const aiFaults: AiFaultOptions = {
    errorRate: 0,
    timeoutRate: 0,
    timeoutMs: 6000,
    latencyMs: 20,
    ...options.ai,
  };
  ai.configure(aiFaults, options.texts * 4 + 10_000);
  const sms = await new SoakSmsFake().start();
  const dbName = `cs_soak_${options.scenario.replace(/\W/g, '_')}_${Date.now().toString(36)}`;
  const databaseUrl = await options.cluster.createDatabase(dbName);
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '10',
    LOG_LEVEL: 'warn',
    AI_PROVIDER: 'openai-compatible',
    OPENAI_BASE_URL: ai.baseUrl,
    OPENAI_API_KEY: 'sk-soak-key',
    OPENAI_MODEL: 'gpt-5-mini',
    AI_TIMEOUT_MS: '3000',
    SMS_PROVIDER: 'sms-gateway',
    SMS_GATEWAY_URL: sms.url,
    SEND_WINDOW_START_HOUR: '0',
    SEND_WINDOW_END_HOUR: '24',
    TURN_COALESCE_MS: '200',
    JOB_POLL_INTERVAL_MS: '100',
    JOB_LEASE_MS: '10000',
    SHUTDOWN_GRACE_MS: '5000',
    ...options.env,
  };

  const serviceCount = options.services ?? 1;
  const logWarnings = new Map<string, { n: number; example: string }>();
  const services: (ServiceProcess | undefined)[] = [];
  const rss: { t: number; service: number; pid: number; rssMb: number }[] = [];
  const exits: { service: number; pid: number; how: string }[] = [];
  /**
   * Like a supervisor (systemd, Docker's restart policy): a service that exits when nobody asked
   * it to is recorded as a crash, with the end of its output, and started again.
   */
  const expectedExit = new Set<ServiceProcess>();
  const crashes: { service: number; pid: number; t: number; code: number | null; output_tail: string }[] = [];
  let finished = false;
  const supervise = (i: number, svc: ServiceProcess) => {
    svc.child.once('exit', (code) => {
      if (expectedExit.has(svc) || finished) return;
      let tail = '';
      try {
        tail = readFileSync(svc.logFile, 'utf8').slice(-2500);
      } catch {
        // gone
      }
      crashes.push({ service: i, pid: svc.pid, t: Math.round(elapsedS()), code, output_tail: tail });
      warnings(svc.logFile, logWarnings);
      void svc.stop(); // closes and deletes its log folder (already read)
      log(`service ${i} (pid ${svc.pid}) CRASHED with exit ${String(code)}; restarting it`);
      if (services[i] === svc) services[i] = undefined;
      void (async () => {
        for (;;) {
          try {
            const next = await startService({ cli: CLI, env, readyTimeoutMs: 120_000 });
            services[i] = next;
            supervise(i, next);
            log(`service ${i} restarted after the crash (pid ${next.pid})`);
            return;
          } catch (error) {
            log(`restart of service ${i} failed: ${String(error).slice(0, 200)}; trying again`);
            await sleep(2000);
          }
        }
      })();
    });
  };
  // The first start migrates; two processes starting at once on an empty database would race.
  for (let i = 0; i < serviceCount; i += 1) {
    services.push(await startService({ cli: CLI, env }));
    supervise(i, services[i]!);
    log(`service ${i} ready (pid ${services[i]!.pid})`);
  }

  const ctx: RunContext = {
    services,
    ai,
    sms,
    cluster: options.cluster,
    log,
    async killAndRestart(i) {
      const svc = services[i];
      if (!svc) return;
      services[i] = undefined;
      expectedExit.add(svc);
      const gone = new Promise<void>((resolve) => svc.child.once('exit', () => resolve()));
      svc.child.kill('SIGKILL');
      await gone;
      warnings(svc.logFile, logWarnings);
      exits.push({ service: i, pid: svc.pid, how: 'SIGKILL' });
      await svc.stop();
      log(`service ${i} killed with SIGKILL (pid ${svc.pid})`);
      services[i] = await startService({ cli: CLI, env, readyTimeoutMs: 120_000 });
      supervise(i, services[i]!);
      log(`service ${i} restarted (pid ${services[i]!.pid})`);
    },
  };

  // Tenants: an even spread of kinds by the mix, phones +1212555xxxx.
  const mix = options.mix ?? { auto: 0.8, approval: 0.1, escalate: 0.1 };
  const tenants: { id: string; phone: string; kind: TenantKind }[] = [];
  for (let i = 0; i < options.tenants; i += 1) {
    // Interleaved (by tenth), so every stretch of the run has every kind.
    const f = ((i % 10) + 0.5) / 10;
    const kind: TenantKind = f < mix.auto ? 'auto' : f < mix.auto + mix.approval ? 'approval' : 'escalate';
    tenants.push({ id: `soak_${i}`, phone: `+1212555${String(1000 + i).padStart(4, '0')}`, kind });
  }
  const ledgerRow = (i: number) => ({
    name: `Tenant ${i}`,
    amount_owed: 500 + (i % 7) * 25,
    timezone: 'America/New_York',
    due_date: '2026-11-20',
  });
  if (tenants.length <= 1000) {
    for (let i = 0; i < tenants.length; i += 25) {
      await Promise.all(
        tenants.slice(i, i + 25).map(async (t, j) => {
          const res = await services[0]!.call('PUT', `/ledger/tenants/${t.id}`, {
            ...ledgerRow(i + j),
            phone: t.phone,
          });
          if (res.status >= 300)
            throw new Error(`seeding ${t.id}: ${res.status} ${JSON.stringify(res.body)}`);
        }),
      );
    }
  } else {
    // Many tenants: the built-in ledger's CSV import, a thousand rows a request.
    for (let i = 0; i < tenants.length; i += 1000) {
      const rows = tenants.slice(i, i + 1000).map((t, j) => {
        const r = ledgerRow(i + j);
        return [t.id, r.name, t.phone, r.timezone, r.amount_owed, r.due_date].join(',');
      });
      const csv = ['tenant_id,name,phone,timezone,amount_owed,due_date', ...rows].join('\n');
      const res = await services[0]!.call('POST', '/ledger/tenants/import', csv, 'text/csv');
      if (res.status >= 300) throw new Error(`importing tenants: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }
  log(`${tenants.length} tenants seeded`);

  // The poster.
  const posted = new Map<string, number>();
  const http = { attempts: 0, retries: 0, by_status: {} as Record<string, number>, errors: 0 };
  let rr = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let maxLagS = 0;
  const latencies: number[] = [];
  const post = async (messageId: string, body: Record<string, unknown>): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      const up = services.filter((s): s is ServiceProcess => s !== undefined);
      const svc = up[rr++ % Math.max(1, up.length)];
      if (attempt > 0) http.retries += 1;
      if (!svc) {
        await sleep(250);
        continue;
      }
      http.attempts += 1;
      const started = performance.now();
      try {
        const res = await fetch(`${svc.baseUrl}/orchestrate/sms-received`, {
          method: 'POST',
          headers: {
            authorization: `Bearer cs_bench_admin_token_0123456789abcdef`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        await res.arrayBuffer();
        http.by_status[res.status] = (http.by_status[res.status] ?? 0) + 1;
        if (res.status === 202 || res.status === 200) {
          latencies.push(performance.now() - started);
          posted.set(messageId, (posted.get(messageId) ?? 0) + 1);
          return;
        }
        if (res.status < 500 && res.status !== 429) throw new Error(`POST answered ${res.status}`);
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('POST answered')) throw error;
        http.errors += 1;
      }
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
    }
  };

  const duplicateRate = options.duplicateRate ?? 0.02;
  const pending = new Set<Promise<void>>();
  const events = [...(options.events ?? [])].sort((a, b) => a.at - b.at);
  const postStart = performance.now();
  let launched = 0;
  let eventRunning: Promise<void> | undefined;
  const sampleRss = () => {
    for (const [i, svc] of services.entries()) {
      const mem = svc?.memory();
      if (svc && mem && Number.isFinite(mem.rssMb))
        rss.push({
          t: Math.round(elapsedS()),
          service: i,
          pid: svc.pid,
          rssMb: Math.round(mem.rssMb * 10) / 10,
        });
    }
  };
  const rssTimer = setInterval(sampleRss, 5000);
  const loadTimer = setInterval(
    () => loadSamples.push({ t: Math.round(elapsedS()), load: loadAverage() }),
    30_000,
  );
  log(`posting ${options.texts} texts at ${options.rate}/s`);
  while (launched < options.texts) {
    const due = Math.min(options.texts, Math.floor(((performance.now() - postStart) / 1000) * options.rate));
    maxLagS = Math.max(maxLagS, (due - launched) / options.rate);
    while (launched < due && inFlight < 1000) {
      const n = launched;
      launched += 1;
      const tenant = tenants[n % tenants.length]!;
      const messageId = `soak-${options.scenario}-${n}`;
      const body = {
        tenant_id: tenant.id,
        phone_number: tenant.phone,
        content: TEXTS[tenant.kind],
        conversation_id: `conv_${tenant.id}`,
        message_id: messageId,
      };
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const p = post(messageId, body)
        .then(async () => {
          if (Math.random() < duplicateRate) await post(messageId, body);
        })
        .finally(() => {
          inFlight -= 1;
          pending.delete(p);
        });
      pending.add(p);
    }
    const event = events[0];
    if (event && !eventRunning && launched >= event.at * options.texts) {
      events.shift();
      log(`event: ${event.name}`);
      eventRunning = event.run(ctx).finally(() => {
        eventRunning = undefined;
      });
    }
    await sleep(10);
  }
  const postSeconds = (performance.now() - postStart) / 1000;
  log(`all ${launched} texts launched in ${postSeconds.toFixed(1)} s; waiting for answers`);
  await Promise.all(pending);
  for (const event of events) {
    log(`event (after posting): ${event.name}`);
    await event.run(ctx);
  }
  await eventRunning;
  log(`all answered (${posted.size} message ids)`);

  // Settle: every turn terminal, nothing in the outbox, every text stored.
  const { default: pg } = await import('pg');
  const probe = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const settleDeadline = Date.now() + (options.settleTimeoutMs ?? 300_000);
  let settled = false;
  let last: Record<string, unknown> = {};
  while (Date.now() < settleDeadline) {
    try {
      const { rows } = await probe.query(
        `select (select count(*)::int from workflows where kind = 'collections' and state in ('processing', 'scheduled')) open_turns,
                (select count(*)::int from outbox where state in ('pending', 'sending')) open_outbox,
                (select count(*)::int from sms_messages where direction = 'in') texts_in`,
      );
      last = rows[0] as Record<string, unknown>;
      if (last.open_turns === 0 && last.open_outbox === 0 && Number(last.texts_in) >= posted.size) {
        settled = true;
        break;
      }
    } catch {
      // the database may be restarting
    }
    await sleep(2000);
  }
  await probe.end();
  const settleSeconds = elapsedS();
  log(settled ? 'settled' : `did not settle: ${JSON.stringify(last)}`);
  clearInterval(rssTimer);
  clearInterval(loadTimer);
  sampleRss();
  loadSamples.push({ t: Math.round(elapsedS()), load: loadAverage() });

  finished = true;
  for (const [i, svc] of services.entries()) {
    if (!svc) continue;
    expectedExit.add(svc);
    const exited = new Promise<number | null>((resolve) => {
      if (svc.child.exitCode !== null) resolve(svc.child.exitCode);
      else svc.child.once('exit', (code) => resolve(code));
    });
    const stopping = svc.stop();
    await exited;
    warnings(svc.logFile, logWarnings);
    await stopping;
    exits.push({ service: i, pid: svc.pid, how: `SIGTERM, exit ${String(await exited)}` });
  }
  const result = await check({ databaseUrl, posted, smsTexts: sms.texts, smsRepeats: sms.repeats });
  await ai.stop();
  await sms.stop();

  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  const perService = [...new Set(rss.map((s) => `${s.service}:${s.pid}`))].map((k) => {
    const [service, pid] = k.split(':').map(Number) as [number, number];
    const own = rss
      .filter((s) => s.service === service && s.pid === pid)
      .map((s) => ({ ...s, t: s.t - rss.find((x) => x.pid === pid)!.t }));
    return {
      service,
      pid,
      ...rssSummary(own, Math.round(options.rssWarmupS ?? Math.min(60, postSeconds / 10))),
    };
  });
  const report = {
    scenario: options.scenario,
    ok: settled && result.ok && crashes.length === 0,
    crashes,
    settled,
    started_at: startedAt.toISOString(),
    duration_s: Math.round(settleSeconds),
    posting_s: Math.round(postSeconds * 10) / 10,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      mem_gb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    load_average: loadSamples,
    settings: {
      texts: options.texts,
      rate_per_s: options.rate,
      tenants: options.tenants,
      mix,
      services: serviceCount,
      duplicate_rate: duplicateRate,
      ai_faults: aiFaults,
      env: Object.fromEntries(Object.entries(env).filter(([k]) => !/URL|KEY|TOKEN/.test(k))),
      database: `PostgreSQL 15 (own cluster, port ${options.cluster.port}), database ${dbName}`,
    },
    http: {
      ...http,
      max_in_flight: maxInFlight,
      max_lag_s: Math.round(maxLagS * 10) / 10,
      latency_ms: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99), max: Math.round(sorted.at(-1) ?? 0) },
    },
    ai: ai.summary(),
    sms_fake: { texts: sms.texts.length, repeats: sms.repeats },
    rss: perService,
    rss_samples: rss,
    exits,
    log_warnings: [...logWarnings]
      .sort((a, b) => b[1].n - a[1].n)
      .slice(0, 15)
      .map(([key, v]) => ({ key, ...v })),
    timeline,
    check: result,
  };
  return report;
}

export function writeResult(prefix: 'soak' | 'faults', report: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(
    RESULTS_DIR,
    `${prefix}-${String(report.scenario)}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
