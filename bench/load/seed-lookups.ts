/**
 * Lookups with many stored workflows: writes N collections turns (default 1,000,000) straight into
 * a fresh PostgreSQL database with SQL (generate_series, cloned from two real turns the service
 * made: one sent automatically, one waiting for a manager), then times over HTTP, against the built
 * service as a child process:
 *
 *   GET /orchestrate/workflow/{conversation_id}/status   (random conversations)
 *   GET /orchestrate/workflows/{workflow_id}             (random turns, with their audit trail)
 *   GET /orchestrate/approvals?status=pending            (the approval queue's first page, 100 items)
 *   GET /dashboard                                       (the dashboard's approval queue page, 100 items)
 *
 * and EXPLAIN (ANALYZE, BUFFERS) of the queries behind them. PostgreSQL only. The dashboard page is
 * read as a manager: made with `countersign user create` on the same DATABASE_URL, signed in through
 * the login form, the generated password changed as the first sign-in demands; every timed answer
 * must be a 200 showing queue items (a redirect to the login or an error page counts as a failure).
 *
 *   npm run bench:seed                                   # 1,000,000 turns, 5 % awaiting approval
 *   npm run bench:seed -- --turns 100000 --lookups 2000
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { OpenAiFake } from '../../test/fakes/openai-fake.js';
import { SmsAgentFake } from '../../test/fakes/sms-agent-fake.js';
import { DashboardClient } from '../../test/integration/dashboard/dashboard-client.js';
import { percentile } from '../lib/percentiles.js';
import { ADMIN_TOKEN, createServiceDatabase, loadAverage, startService } from './service-process.js';

const { values } = parseArgs({
  options: {
    turns: { type: 'string' },
    lookups: { type: 'string' },
    concurrency: { type: 'string' },
    'pending-every': { type: 'string' },
    keep: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`Usage: npm run bench:seed -- [--turns N (1000000)] [--lookups N (3000)] [--concurrency C (8)]
  [--pending-every K (20: one turn in K awaits a manager)] [--keep (keep the database)]
PostgreSQL admin URL: BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.`);
  process.exit(0);
}
const TURNS = Number(values.turns ?? process.env.BENCH_SEED_TURNS ?? 1_000_000);
const LOOKUPS = Number(values.lookups ?? 3000);
const CONCURRENCY = Number(values.concurrency ?? 8);
const PENDING_EVERY = Number(values['pending-every'] ?? 20);
const adminUrl = process.env.BENCH_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.js');

const round = (n: number, d = 2) => Number(n.toFixed(d));

function serviceEnv(ai: OpenAiFake, sms: SmsAgentFake): Record<string, string> {
  return {
    AI_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-test-key',
    OPENAI_BASE_URL: ai.baseUrl,
    SMS_PROVIDER: 'sms-agent',
    SMS_AGENT_URL: sms.url,
    SEND_WINDOW_START_HOUR: '0',
    SEND_WINDOW_END_HOUR: '24',
    TURN_COALESCE_MS: '0',
    LOG_LEVEL: 'warn',
  };
}

type Timed = { p50: number; p90: number; p99: number; max: number; count: number; perSecond: number };

/**
 * `headers` replace the API token (the dashboard takes a session cookie); with `check`, each body
 * is read and one that fails counts as status "<status> failed check" (timed up to its last byte,
 * before the check runs).
 */
async function timeGets(
  baseUrl: string,
  paths: (i: number) => string,
  count: number,
  concurrency: number,
  options: { headers?: Record<string, string>; check?: (body: string) => boolean } = {},
): Promise<Timed & { statuses: Record<string, number> }> {
  const headers = options.headers ?? { authorization: `Bearer ${ADMIN_TOKEN}` };
  const check = options.check;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(baseUrl);
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next;
        next += 1;
        const t0 = performance.now();
        const [status, body] = await new Promise<[number, Buffer[]]>((resolve) => {
          const req = httpRequest(
            { agent, host: url.hostname, port: url.port, path: paths(i), headers },
            (res) => {
              const chunks: Buffer[] = [];
              if (check) res.on('data', (chunk: Buffer) => chunks.push(chunk));
              else res.resume();
              res.on('end', () => resolve([res.statusCode ?? 0, chunks]));
            },
          );
          req.on('error', () => resolve([0, []]));
          req.end();
        });
        times.push(performance.now() - t0);
        const key =
          check && !check(Buffer.concat(body).toString('utf8')) ? `${status} failed check` : String(status);
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    count,
    p50: round(percentile(times, 50)),
    p90: round(percentile(times, 90)),
    p99: round(percentile(times, 99)),
    max: round(times.reduce((a, b) => Math.max(a, b), 0)),
    perSecond: round(count / seconds, 0),
    statuses,
  };
}

/** The approval queue page's items (`<article data-approval-item>`, one per pending draft). */
const queueItems = (html: string) => html.match(/data-approval-item=/g)?.length ?? 0;

/**
 * A manager's dashboard session, as an operator and a person would make it: `countersign user
 * create` against the service's database (it prints a generated password once), the login form
 * (its CSRF token bound to the cs_login cookie), then the password change the first sign-in
 * demands (the session's CSRF token). Returns the Cookie header for the timed requests and the
 * number of items the approval queue page shows.
 */
async function managerSession(
  baseUrl: string,
  env: Record<string, string>,
): Promise<{ cookie: string; items: number }> {
  const username = 'bench-manager';
  const made = spawnSync(
    process.execPath,
    [cli, 'user', 'create', '--role', 'manager', '--username', username],
    {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    },
  );
  const generated = made.stdout.trim().split('\n').at(-1)?.trim() ?? '';
  if (made.status !== 0 || !generated) {
    throw new Error(`countersign user create exited ${made.status}: ${made.stderr}${made.stdout}`);
  }
  const browser = new DashboardClient(baseUrl);
  const origin = { origin: baseUrl };
  const expect = async (what: string, res: Response, status: number, location?: string) => {
    const body = await res.text();
    if (res.status !== status || (location !== undefined && res.headers.get('location') !== location)) {
      throw new Error(
        `${what}: expected ${status}${location ? ` to ${location}` : ''}, got ${res.status} ${res.headers.get('location') ?? ''}\n${body.slice(0, 500)}`,
      );
    }
    return body;
  };
  const login = await expect('GET /dashboard/login', await browser.get('/dashboard/login'), 200);
  const signedIn = await browser.post(
    '/dashboard/login',
    { _csrf: DashboardClient.csrfIn(login), username, password: generated, next: '/dashboard' },
    origin,
  );
  await expect('sign-in with the generated password', signedIn, 303, '/dashboard/password');
  const form = await expect('GET /dashboard/password', await browser.get('/dashboard/password'), 200);
  const password = randomBytes(18).toString('base64url');
  const changed = await browser.post(
    '/dashboard/password',
    { _csrf: DashboardClient.csrfIn(form), current: generated, password, confirm: password },
    origin,
  );
  await expect('password change', changed, 303, '/dashboard');
  const page = await expect('GET /dashboard', await browser.get('/dashboard'), 200);
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  return { cookie, items: queueItems(page) };
}

async function main(): Promise<void> {
  const uptime = () => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
  console.log(`seed bench: ${TURNS} turns, 1 in ${PENDING_EVERY} awaiting approval; ${uptime()}`);
  const ai = await new OpenAiFake({
    defaultContent: {
      text: 'Thanks for your message. You can pay online through the resident portal or at the leasing office.',
      intent: 'balance_question',
      confidence: 0.95,
      plan: null,
    },
  }).start();
  const sms = await new SmsAgentFake().start();
  const db = await createServiceDatabase('postgres', adminUrl);
  const url = db.url as string;
  const client = new pg.Client({ connectionString: url });
  try {
    // 1. Two real turns from the service: one sent automatically, one waiting for a manager.
    let service = await startService({ cli, env: { ...db.env, ...serviceEnv(ai, sms) } });
    const put = (id: string, phone: string) =>
      service.call('PUT', `/ledger/tenants/${id}`, {
        name: 'Maria Lopez',
        phone,
        timezone: 'America/New_York',
        amount_owed: 600,
        due_date: '2026-11-20',
      });
    const text = (id: string, phone: string, n: number) =>
      service.call('POST', '/orchestrate/sms-received', {
        tenant_id: id,
        phone_number: phone,
        content: 'What is my balance?',
        conversation_id: `conv_${id}`,
        message_id: `seed-${n}`,
        direction: 'inbound',
      });
    const settle = async (conversation: string, state: string) => {
      for (let i = 0; i < 300; i++) {
        const s = (await service.call('GET', `/orchestrate/workflow/${conversation}/status`)).body as {
          status?: string;
        };
        if (s.status === state) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${conversation} did not reach ${state}`);
    };
    await put('tmpl_sent', '+12125550101');
    await text('tmpl_sent', '+12125550101', 1);
    await settle('conv_tmpl_sent', 'completed');
    ai.enqueueReply({
      text: 'Thanks for your message. A member of our team will follow up about your balance shortly.',
      intent: 'balance_question',
      confidence: 0.7,
      plan: null,
    });
    await put('tmpl_wait', '+12125550102');
    await text('tmpl_wait', '+12125550102', 2);
    await settle('conv_tmpl_wait', 'awaiting_approval');
    await service.stop();

    // 2. Clone them with SQL.
    await client.connect();
    const t0 = performance.now();
    const exec = async (label: string, q: string, params: unknown[] = []) => {
      const s = performance.now();
      const r = await client.query(q, params);
      console.log(`  ${label}: ${r.rowCount ?? 0} rows in ${((performance.now() - s) / 1000).toFixed(1)} s`);
    };
    await exec(
      'templates',
      `create unlogged table seed_tmpl as
         select c.conversation_id = 'conv_tmpl_wait' as waiting, w.id as workflow_id, w.state, w.previous_state, w.data, w.version
           from collections_conversations c join workflows w on w.id = c.latest_workflow_id
          where c.conversation_id in ('conv_tmpl_sent', 'conv_tmpl_wait')`,
    );
    await exec(
      'ids',
      `create unlogged table seed_ids as
         select g, gen_random_uuid() as id, (g % $2 = 0) as waiting,
                now() - make_interval(secs => ($1 - g) * 30) as at
           from generate_series(1, $1) g`,
      [TURNS, PENDING_EVERY],
    );
    await exec(
      'workflows',
      `insert into workflows (id, kind, subject_key, state, previous_state, data, version, created_at, updated_at)
       select i.id, 'collections', 'conv_seed_' || i.g, t.state, t.previous_state, t.data, t.version, i.at, i.at
         from seed_ids i join seed_tmpl t on t.waiting = i.waiting`,
    );
    await exec(
      'audit_log',
      `insert into audit_log (workflow_id, from_state, to_state, reason, actor, correlation_id, details, at)
       select i.id, a.from_state, a.to_state, a.reason, a.actor, a.correlation_id, a.details, i.at
         from seed_ids i join seed_tmpl t on t.waiting = i.waiting join audit_log a on a.workflow_id = t.workflow_id
        order by i.g, a.id`,
    );
    await exec(
      'conversations',
      `insert into collections_conversations (conversation_id, tenant_id, phone, timezone, state, latest_workflow_id,
                                              last_outbound_at, last_inbound_at, created_at, updated_at)
       select 'conv_seed_' || i.g, 'seed_' || i.g, '+1' || (2000000000 + i.g)::text, 'America/New_York',
              c.state, i.id, case when i.waiting then null else i.at end, i.at, i.at, i.at
         from seed_ids i join seed_tmpl t on t.waiting = i.waiting
         join collections_conversations c on c.latest_workflow_id = t.workflow_id`,
    );
    await exec(
      'approvals',
      `insert into collections_approvals (id, workflow_id, conversation_id, tenant_id, phone, tenant_text, draft,
                                          confidence, intent, flags, rule, status, created_at)
       select 'resp_seed_' || i.g, i.id, 'conv_seed_' || i.g, 'seed_' || i.g, '+1' || (2000000000 + i.g)::text,
              a.tenant_text, a.draft, a.confidence, a.intent, a.flags, a.rule, 'pending', i.at
         from seed_ids i join seed_tmpl t on t.waiting and i.waiting
         join collections_approvals a on a.workflow_id = t.workflow_id`,
    );
    // Decided items too (one turn in 7 of the rest), so the queue's index has more than pending rows.
    await exec(
      'approvals (decided)',
      `insert into collections_approvals (id, workflow_id, conversation_id, tenant_id, phone, tenant_text, draft,
                                          confidence, intent, flags, rule, status, sent_text, decided_by, created_at, decided_at)
       select 'resp_seed_' || i.g, i.id, 'conv_seed_' || i.g, 'seed_' || i.g, '+1' || (2000000000 + i.g)::text,
              a.tenant_text, a.draft, a.confidence, a.intent, a.flags, a.rule, 'approved', a.draft, 'seed', i.at,
              i.at + interval '5 minutes'
         from seed_ids i join seed_tmpl t on t.waiting join collections_approvals a on a.workflow_id = t.workflow_id
        where not i.waiting and i.g % 7 = 0`,
    );
    await exec('drop helpers', 'drop table seed_tmpl, seed_ids');
    await exec('analyze', 'analyze');
    const seedSeconds = (performance.now() - t0) / 1000;
    const sizes = await client.query<{ rel: string; rows: string; size: string }>(
      `select relname as rel, n_live_tup::text as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
         from pg_stat_user_tables where n_live_tup > 0 order by pg_total_relation_size(relid) desc limit 8`,
    );
    console.log(
      `  seeded in ${seedSeconds.toFixed(0)} s:`,
      sizes.rows.map((r) => `${r.rel} ${r.rows} (${r.size})`).join(', '),
    );

    // 3. EXPLAIN the queries behind the lookups.
    const someWorkflow = await client.query<{ id: string }>(
      `select id from workflows where subject_key = 'conv_seed_' || $1::text`,
      [Math.floor(TURNS / 2)],
    );
    const wid = someWorkflow.rows[0]?.id ?? '';
    const explain = async (q: string, params: unknown[]) => {
      const r = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${q}`, params);
      return r.rows.map((x) => x['QUERY PLAN']);
    };
    const plans = {
      latestWorkflow: await explain(
        `select * from workflows where kind = 'collections' and subject_key = $1 order by created_at desc, id desc limit 1`,
        [`conv_seed_${Math.floor(TURNS / 3)}`],
      ),
      auditTrail: await explain(`select * from audit_log where workflow_id = $1 order by id`, [wid]),
      approvalsPending: await explain(
        `select * from collections_approvals where status = 'pending' order by created_at asc limit 100`,
        [],
      ),
    };

    // 4. Time the lookups over HTTP.
    service = await startService({ cli, env: { ...db.env, ...serviceEnv(ai, sms) } });
    const manager = await managerSession(service.baseUrl, { ...db.env, ...serviceEnv(ai, sms) });
    if (manager.items === 0) throw new Error('the approval queue page shows no items: nothing to time');
    console.log(`  signed in as a manager; the approval queue page shows ${manager.items} items`);
    const dashboardGets = {
      headers: { cookie: manager.cookie },
      check: (html: string) => queueItems(html) === manager.items,
    };
    const ids = await client.query<{ id: string; subject_key: string }>(
      `select id, subject_key from workflows tablesample system (1) where kind = 'collections' limit $1`,
      [LOOKUPS],
    );
    const sample = ids.rows;
    const pick = (i: number) => sample[(i * 7919) % sample.length] as { id: string; subject_key: string };
    // Warm-up: the service's JIT and pool, PostgreSQL's cache for the sampled rows.
    await timeGets(service.baseUrl, (i) => `/orchestrate/workflow/${pick(i).subject_key}/status`, 300, 4);
    const results: Record<string, Timed & { statuses: Record<string, number>; items?: number }> = {};
    for (const c of [1, CONCURRENCY]) {
      results[`status_c${c}`] = await timeGets(
        service.baseUrl,
        (i) => `/orchestrate/workflow/${pick(i + 17).subject_key}/status`,
        LOOKUPS,
        c,
      );
      results[`workflow_c${c}`] = await timeGets(
        service.baseUrl,
        (i) => `/orchestrate/workflows/${pick(i + 31).id}`,
        LOOKUPS,
        c,
      );
      results[`approvals_c${c}`] = await timeGets(
        service.baseUrl,
        () => '/orchestrate/approvals?status=pending',
        Math.min(500, LOOKUPS),
        c,
      );
      results[`dashboard_queue_c${c}`] = {
        items: manager.items,
        ...(await timeGets(service.baseUrl, () => '/dashboard', Math.min(500, LOOKUPS), c, dashboardGets)),
      };
    }
    const memory = service.memory();
    await service.stop();
    const failed = Object.entries(results).filter(([, v]) =>
      Object.keys(v.statuses).some((s) => s !== '200'),
    );
    for (const [k, v] of Object.entries(results)) console.log(`  ${k}: ${JSON.stringify(v)}`);
    for (const [k] of failed) console.error(`  ${k}: not every answer was a 200 showing what it should`);

    const out = {
      bench: 'seed-lookups',
      at: new Date().toISOString(),
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: round(totalmem() / 2 ** 30, 1),
      },
      uptime: uptime(),
      load: loadAverage(),
      settings: { turns: TURNS, pendingEvery: PENDING_EVERY, lookups: LOOKUPS, concurrency: CONCURRENCY },
      seedSeconds: round(seedSeconds, 1),
      tables: sizes.rows,
      results,
      serviceMemoryMb: memory,
      plans,
    };
    const folder = join(root, 'bench', 'results');
    await mkdir(folder, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(folder, `seed-lookups-${stamp}.json`);
    await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);
    await writeFile(join(folder, 'seed-lookups-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log(`results written to ${relative(process.cwd(), file)}`);
    // A redirect to the login or an error page must not pass for a timed page.
    if (failed.length > 0) process.exitCode = 1;
  } finally {
    await client.end().catch(() => undefined);
    if (!values.keep) await db.dispose();
    else console.log(`kept database ${db.name}`);
    await ai.stop();
    await sms.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
