import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { pino } from 'pino';
import { collectionsModule } from '../../src/collections/collections-module.js';
import { dashboardSessions } from '../../src/core/db/schema.js';
import { createSession, hashSessionToken } from '../../src/dashboard/auth/session-store.js';
import { createDashboardUser, setDashboardPassword } from '../../src/dashboard/auth/user-store.js';
import { dashboardModule } from '../../src/dashboard/dashboard-module.js';
import { emailReplyModule } from '../../src/email-reply/email-reply-module.js';
import type { ModuleFactory } from '../../src/main.js';
import { startServiceUnderTest } from '../helpers/service-under-test.js';
import { onPostgres } from '../helpers/test-database.js';
import { DashboardClient } from '../integration/dashboard/dashboard-client.js';
import { badDashboardForms, CSRF_PLACEHOLDER, type DashboardBody } from './dashboard-bodies.js';
import {
  BAD_SEGMENTS,
  SEED_TENANT,
  sendRequest,
  watchServiceTrouble,
  type Request,
  type Sent,
} from './fuzz-harness.js';
import {
  installSessionTouchWatch,
  installWriteWatch,
  sameMark,
  waitForQuiet,
  writeMark,
  writesBetweenExcept,
  type WriteMark,
} from './write-watch.js';

/**
 * Fuzzes the dashboard's form routes (every non-GET route under /dashboard, found at run time in
 * the app's route table) over real HTTP, signed in with a real session: generated bad
 * urlencoded bodies, most with the session cookie, CSRF token and Origin so they reach the form
 * handling, some with a broken CSRF token or origin (must be 403) or a bad session (must be a
 * 303 to the sign-in page). Every answer must be < 500; a 4xx an HTML page with an alert (the
 * dashboard's error page or the form again with its error); a redirect stays inside /dashboard;
 * /livez stays up; a rejected request writes nothing but a session's last-seen time (see
 * docs/fuzz.md, "Dashboard form routes").
 */

export type DashboardFuzzOptions = {
  /** Bad bodies per form route. */
  runs: number;
  seed: number;
  /** Only routes whose "METHOD /path" contains this text. */
  only?: string;
  /** Not the routes whose "METHOD /path" contains one of these. */
  skip?: readonly string[];
  log?: (line: string) => void;
};

type Tally = { runs: number; rejected: number; accepted: number; statuses: Record<string, number> };

export type DashboardRouteReport = Tally & {
  route: string;
  /** Requests per credential case (full, no-csrf, wrong-csrf, cross-site, bad-session). */
  shells: Record<string, number>;
  kinds: Record<string, number>;
  ms: number;
};

export type DashboardFuzzReport = {
  database: 'pglite' | 'postgres';
  seed: number;
  runs: number;
  /** Every non-GET route under /dashboard the app registered. */
  routes: string[];
  /** Routes fuzzed without an example form (a new route: add one to FORM_EXAMPLES). */
  routesWithoutExample: string[];
  perRoute: DashboardRouteReport[];
  totals: { requests: number; rejected: number; accepted: number; statuses: Record<string, number> };
  watchedTables: string[];
  /** Writes a rejected request may make (table:OP), with docs/fuzz.md saying why. */
  allowedOnReject: string[];
  /** How many times each allowed write was seen after a rejected request. */
  allowedSeen: Record<string, number>;
  failures: string[];
  failuresPerRoute: Record<string, number>;
  /** 4xx answered by Node's HTTP parser before the app (problem+json, src/http/client-errors.ts). */
  nodeLevel: Record<string, number>;
  /** 4xx answered by the API's middlewares in front of the dashboard (problem+json): each is a failure. */
  apiEdge: Record<string, number>;
  /** Client-side refusals (not sent), by code. */
  clientErrors: Record<string, number>;
  serverErrors: string[];
  durationMs: number;
};

/** A rejected request may write only these; docs/fuzz.md says why. */
export const ALLOWED_ON_REJECT = ['dashboard_sessions:TOUCH'] as const;

const ADMIN_TOKEN = 'fuzz-admin-token-00000000000000000000';
const USERNAME = 'fuzz-admin';
const PASSWORD = 'fuzz-admin-password-0001';
// Not containing the username, or the password check refuses it before anything is changed.
const NEW_PASSWORD = 'correct-horse-battery-0002';
const MAX_FAILURES_PER_ROUTE = 15;

/**
 * A valid form per route (what the page would post), for the mutators; `_csrf` is filled in
 * when sent. A route missing here is still fuzzed, with `{ _csrf }` only, and reported.
 */
const FORM_EXAMPLES: Record<string, Record<string, string>> = {
  'POST /dashboard/login': {
    _csrf: CSRF_PLACEHOLDER,
    next: '/dashboard/escalations',
    username: USERNAME,
    password: PASSWORD,
  },
  'POST /dashboard/logout': { _csrf: CSRF_PLACEHOLDER },
  'POST /dashboard/password': {
    _csrf: CSRF_PLACEHOLDER,
    username: USERNAME,
    current: PASSWORD,
    password: NEW_PASSWORD,
    confirm: NEW_PASSWORD,
  },
  'POST /dashboard/approvals/:id': {
    _csrf: CSRF_PLACEHOLDER,
    action: 'approve',
    approved_text: 'Thanks, we have your payment plan.',
    notes: 'fuzz',
  },
  'POST /dashboard/escalations/:id/assign': {
    _csrf: CSRF_PLACEHOLDER,
    back: 'status=open',
    assigned_to: 'Fuzz team',
  },
  'POST /dashboard/escalations/:id/resolve': {
    _csrf: CSRF_PLACEHOLDER,
    back: 'status=open',
    resolution: 'Called the tenant.',
  },
  'POST /dashboard/email/:workflowId/:action': {
    _csrf: CSRF_PLACEHOLDER,
    draft_version: '1',
    instructions: 'Shorter, please.',
  },
  'POST /dashboard/sandbox/text': { _csrf: CSRF_PLACEHOLDER, as: 'tenant:t-fuzz', body: 'Can I pay Friday?' },
  'POST /dashboard/sandbox/email': {
    _csrf: CSRF_PLACEHOLDER,
    as: 'owner:default',
    from: 'Ana Silva <ana@example.net>',
    subject: 'Hello',
    text: 'Can we meet on Tuesday?',
  },
  'POST /dashboard/sandbox/tenants': {
    _csrf: CSRF_PLACEHOLDER,
    tenant_id: 't-fuzz-new',
    name: 'New Tenant',
    phone: '+12125550199',
    timezone: 'America/New_York',
    amount_owed: '600',
    days_late: '12',
  },
};

type Shell = 'full' | 'no-csrf' | 'wrong-csrf' | 'cross-site' | 'bad-session';

const tally = (): Tally => ({ runs: 0, rejected: 0, accepted: 0, statuses: {} });
const bump = (map: Record<string, number>, key: string | number) => {
  map[key] = (map[key] ?? 0) + 1;
};

function truncate(value: string, max = 300): string {
  const safe = JSON.stringify(value);
  return safe.length > max ? `${safe.slice(0, max)}…(${value.length} chars)` : safe;
}

/** The dashboard module, noting every non-GET route under /dashboard once the app has it. */
function discoveringDashboard(found: string[]): ModuleFactory {
  const factory = dashboardModule({
    // No throttle in effect: every sign-in body gets to the password check (the throttle's own
    // 429 is tested in test/integration/dashboard/dashboard-auth.test.ts).
    throttle: { maxFailures: 1e9, maxFailuresPerAddress: 1e9, windowMs: 60_000 },
  });
  return (core) => {
    const module = factory(core);
    return {
      ...module,
      register(app) {
        module.register(app);
        for (const r of app.routes) {
          const route = `${r.method} ${r.path}`;
          if (['GET', 'HEAD', 'OPTIONS', 'ALL'].includes(r.method)) continue;
          if (!/^\/dashboard(\/|$)/.test(r.path) || found.includes(route)) continue;
          found.push(route);
        }
      },
    };
  };
}

export async function runDashboardFuzz(options: DashboardFuzzOptions): Promise<DashboardFuzzReport> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const trouble = watchServiceTrouble();

  const routes: string[] = [];
  const sut = await startServiceUnderTest({
    env: { API_ADMIN_TOKEN: ADMIN_TOKEN, YOUR_PHONE_NUMBER: '+12025550100', COUNTERSIGN_ROLE: 'api' },
    modules: [collectionsModule(), emailReplyModule(), discoveringDashboard(routes)],
    logger: pino({ level: 'error' }, trouble.logSink),
  });
  const port = sut.service.port!;
  const db = sut.service.database.db;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const origin = `http://127.0.0.1:${port}`;
  const failuresPer = new Map<string, number>();

  const report: DashboardFuzzReport = {
    database: onPostgres ? 'postgres' : 'pglite',
    seed: options.seed,
    runs: options.runs,
    routes,
    routesWithoutExample: routes.filter((r) => !FORM_EXAMPLES[r]),
    perRoute: [],
    totals: { requests: 0, rejected: 0, accepted: 0, statuses: {} },
    watchedTables: [],
    allowedOnReject: [...ALLOWED_ON_REJECT],
    allowedSeen: {},
    failures: [],
    failuresPerRoute: {},
    nodeLevel: {},
    apiEdge: {},
    clientErrors: {},
    serverErrors: trouble.serverErrors,
    durationMs: 0,
  };

  const send = (req: Request) => sendRequest(port, agent, req);

  try {
    // Seed: a tenant, a conversation with an escalation, an email in the owner's mailbox.
    const api = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const seeded = [
      await send({
        method: 'PUT',
        path: '/tenants/t-fuzz',
        headers: api,
        body: SEED_TENANT,
      }),
      await send({
        method: 'POST',
        path: '/orchestrate/sms-received',
        headers: api,
        body: JSON.stringify({
          tenant_id: 't-fuzz',
          phone_number: '+12125550101',
          content: 'What is my balance?',
          conversation_id: 'conv_t-fuzz',
        }),
      }),
      await send({
        method: 'POST',
        path: '/escalations/trigger',
        headers: api,
        body: JSON.stringify({ conversation_id: 'conv_t-fuzz', reason: 'fuzz seed', severity: 'high' }),
      }),
      await send({
        method: 'POST',
        path: '/emails',
        headers: api,
        body: JSON.stringify({
          message_id: '<fuzz-example@example.com>',
          from: 'Ana Silva <ana@example.net>',
          subject: 'Hello',
          text: 'Can we meet on Tuesday?',
        }),
      }),
    ];
    const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;
    const escalationId =
      rows<{ id: string }>(await db.execute(sql`select id from collections_escalations limit 1`))[0]?.id ??
      'esc_missing';
    const emailWorkflowId =
      rows<{ id: string }>(
        await db.execute(sql`select id::text as id from workflows where kind like 'email%' limit 1`),
      )[0]?.id ?? randomUUID();
    log(
      `seeded: ${seeded.map((s) => s.status).join(' ')}; escalation ${escalationId}, email workflow ${emailWorkflowId}`,
    );

    // One admin, signed in over HTTP once; later sessions (after an accepted sign-out) are made
    // the same way sign-in makes them (createSession), without the password round trip.
    const { user } = await createDashboardUser(db, {
      username: USERNAME,
      password: PASSWORD,
      role: 'admin',
      mustChangePassword: false,
      now: new Date(),
    });
    const client = DashboardClient.for(sut);
    const signedIn = await client.signIn(USERNAME, PASSWORD);
    if (signedIn.status !== 303 || !client.cookies.get('cs_session')) {
      throw new Error(`sign-in failed: ${signedIn.status} ${await signedIn.text()}`);
    }
    const session = { token: client.cookies.get('cs_session')!, csrf: await client.csrf() };
    // The sign-in form's own token, bound to its cs_login cookie (the browser keeps it an hour).
    const loginClient = new DashboardClient(sut.service.url!);
    const loginToken = DashboardClient.csrfIn(await (await loginClient.get('/dashboard/login')).text());
    // A session that ended (signed out), for the bad-session cases.
    const ended = await createSession(db, { userId: user.id, now: new Date(), policy: policyOf(sut) });
    await db.execute(sql`delete from dashboard_sessions where token_hash = ${hashSessionToken(ended.token)}`);

    const restoreSession = async () => {
      const live = await db
        .select({ h: dashboardSessions.tokenHash })
        .from(dashboardSessions)
        .where(eq(dashboardSessions.tokenHash, hashSessionToken(session.token)));
      if (live.length > 0) return;
      const made = await createSession(db, { userId: user.id, now: new Date(), policy: policyOf(sut) });
      session.token = made.token;
      session.csrf = made.csrfToken;
    };

    log(`dashboard form routes: ${routes.length} (${routes.join(', ')})`);

    let mark: WriteMark = { logId: 0, idempotency: '' };
    /** After an accepted (or unseen) sign-out or password change: the session and password back, a new mark. */
    const resync = async (pattern: string) => {
      if (pattern === '/dashboard/password') {
        await setDashboardPassword(db, {
          userId: user.id,
          password: PASSWORD,
          mustChangePassword: false,
          now: new Date(),
          keepSessionHash: hashSessionToken(session.token),
        });
      }
      await restoreSession();
      await waitForQuiet(db, 50, 2_000);
      mark = await writeMark(db);
    };

    report.watchedTables = await installWriteWatch(db);
    await installSessionTouchWatch(db);
    const canary = await writeMark(db);
    await db.execute(sql`update ledger_tenants set name = name where tenant_id = 't-fuzz'`);
    if (sameMark(canary, await writeMark(db))) throw new Error('the write watch did not see a write');
    await waitForQuiet(db);
    mark = await writeMark(db);

    const fail = (route: string, what: string) => {
      const n = (failuresPer.get(route) ?? 0) + 1;
      failuresPer.set(route, n);
      if (n <= MAX_FAILURES_PER_ROUTE) report.failures.push(`${route}: ${what}`);
    };

    const livez = async (route: string) => {
      try {
        const res = await send({ method: 'GET', path: '/livez', headers: {}, body: undefined, fresh: true });
        if (res.status !== 200) fail(route, `/livez answered ${res.status}`);
      } catch (error) {
        fail(route, `/livez failed: ${String(error)}`);
      }
    };

    const paramValue = (route: string, name: string, pick: number): string => {
      if (name === 'id') return route.includes('/escalations/') ? escalationId : 'resp_fuzz_missing';
      if (name === 'workflowId') return emailWorkflowId;
      if (name === 'action') return ['send', 'edit', 'ignore'][pick % 3]!;
      return `fuzz-${name}`;
    };

    const shellArb = fc.oneof(
      { weight: 12, arbitrary: fc.constant<Shell>('full') },
      { weight: 1, arbitrary: fc.constant<Shell>('no-csrf') },
      { weight: 1, arbitrary: fc.constant<Shell>('wrong-csrf') },
      { weight: 1, arbitrary: fc.constant<Shell>('cross-site') },
      { weight: 2, arbitrary: fc.constant<Shell>('bad-session') },
    );
    const caseArb = (bodies: fc.Arbitrary<DashboardBody>) =>
      fc.record({
        body: bodies,
        shell: shellArb,
        // full: 0–1 Origin, 2 Origin + Sec-Fetch-Site, 3 no Origin; token in the header when the
        // body has none (htmx), and sometimes both.
        originStyle: fc.nat({ max: 3 }),
        tokenInHeader: fc.nat({ max: 4 }),
        variant: fc.nat(),
        htmx: fc.nat({ max: 5 }),
        extra: fc.option(
          fc.constantFrom<Record<string, string>>(
            { authorization: 'Bearer wrong-token' },
            { authorization: `Bearer ${ADMIN_TOKEN}` },
            { 'idempotency-key': '' },
            { 'x-correlation-id': '\u00ff\u00e9 ../x' },
            { accept: 'application/json' },
            { 'content-encoding': 'gzip' },
            { 'x-csrf-token': '' },
          ),
          { freq: 12 },
        ),
        badParam: fc.option(fc.constantFrom(...BAD_SEGMENTS), { freq: 8 }),
      });

    let routeIndex = 0;
    for (const route of routes) {
      routeIndex += 1;
      if (options.only && !route.includes(options.only)) continue;
      if (options.skip?.some((text) => route.includes(text))) continue;
      const [method = 'POST', pattern = '/'] = route.split(' ');
      const isLogin = pattern === '/dashboard/login';
      const example = FORM_EXAMPLES[route] ?? { _csrf: CSRF_PLACEHOLDER };
      const entry: DashboardRouteReport = { route, ...tally(), shells: {}, kinds: {}, ms: 0 };
      const t0 = Date.now();
      const cases = fc.sample(caseArb(badDashboardForms(example)), {
        numRuns: options.runs,
        seed: options.seed + routeIndex,
      });
      let i = 0;
      for (const c of cases) {
        i += 1;
        const paramNames = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
        const path = pattern.replace(/:(\w+)/g, (_m, name: string) =>
          c.badParam && name === paramNames[0]
            ? c.badParam
            : encodeURIComponent(paramValue(route, name, c.variant)),
        );
        const token = isLogin ? loginToken : session.csrf;
        const badToken = [
          '',
          'x',
          `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
          ended.csrfToken,
          token.toUpperCase(),
          `${token}%20`,
          `${token}${token}`,
        ][c.variant % 7]!;
        const headers: Record<string, string | string[]> = {};
        if (c.body.contentType !== undefined) headers['content-type'] = c.body.contentType;
        const cookies: string[] = [];
        let fill = token;
        const bodyHasToken = c.body.body?.includes(CSRF_PLACEHOLDER) ?? false;
        if (c.shell === 'bad-session') {
          const badCookies = [
            undefined,
            'cs_session=',
            'cs_session=garbage',
            `cs_session=${ended.token}`,
            `cs_session=${session.token.slice(0, -2)}`,
            `cs_session=${'A'.repeat(43)}`,
            `cs_session=${'s'.repeat(6000)}`,
            'cs_session=%ff%fe%00',
            `cs_session=${encodeURIComponent(session.token)}x`,
            'cs_session=a; cs_session=b',
            `cs_login=${loginToken}`,
          ];
          const bad = badCookies[c.variant % badCookies.length];
          if (bad) cookies.push(bad);
          if (c.variant % 3 === 0) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
          headers.origin = origin;
          if (!bodyHasToken || c.tokenInHeader === 0) headers['x-csrf-token'] = token;
        } else {
          cookies.push(`cs_session=${session.token}`);
          if (isLogin) cookies.push(`cs_login=${loginToken}`);
          if (c.shell === 'cross-site') {
            const style = c.variant % 6;
            if (style < 4) {
              headers.origin = [
                'https://evil.example',
                'null',
                `http://127.0.0.1:${port + 1}`,
                `http://localhost:${port}`,
              ][style]!;
            } else headers['sec-fetch-site'] = style === 4 ? 'cross-site' : 'same-site';
          } else if (c.originStyle <= 2) {
            headers.origin = origin;
            if (c.originStyle === 2) headers['sec-fetch-site'] = 'same-origin';
          }
          if (c.shell === 'wrong-csrf') {
            fill = badToken;
            if (isLogin && c.variant % 2 === 0) {
              // The right field, but no or another pre-session cookie.
              fill = token;
              cookies.pop();
              if (c.variant % 4 === 0) cookies.push(`cs_login=${ended.csrfToken}`);
            } else if (!isLogin && badToken && (!bodyHasToken || c.tokenInHeader < 2)) {
              headers['x-csrf-token'] = badToken;
            }
          } else if (c.shell === 'no-csrf') {
            fill = '';
          } else if (!isLogin && (!bodyHasToken || c.tokenInHeader === 0)) {
            headers['x-csrf-token'] = token;
          }
        }
        if (c.htmx === 0) headers['hx-request'] = 'true';
        if (c.extra && c.shell === 'full') Object.assign(headers, c.extra);
        // A fresh key each time: the same key with another body is the API's 422, by design.
        if (headers['idempotency-key'] === '') headers['idempotency-key'] = randomUUID();
        if (cookies.length && headers.cookie === undefined) headers.cookie = cookies.join('; ');
        const body = c.body.body?.replaceAll(CSRF_PLACEHOLDER, fill);

        bump(entry.shells, c.shell);
        bump(entry.kinds, c.body.kind.split(':')[0] ?? c.body.kind);
        let res: Sent;
        try {
          res = await send({ method, path, headers, body });
        } catch (error) {
          // Usually a reset while still writing a large body the server answered without reading
          // (a 413, or a sign-out that never needed the body): the server may have handled it
          // (ended the session, changed the password), unseen. Put things back and re-mark, so
          // its writes are not charged to the next request.
          bump(report.clientErrors, (error as { code?: string }).code ?? 'client-error');
          await resync(pattern);
          continue;
        }
        entry.runs += 1;
        report.totals.requests += 1;
        bump(entry.statuses, res.status);
        bump(report.totals.statuses, res.status);
        const extraNote = c.extra && c.shell === 'full' ? ` +${Object.keys(c.extra).join(',')}` : '';
        const where = `${method} ${path.slice(0, 120)} [${c.shell}${extraNote}, ${c.body.kind}, ct ${c.body.contentType ?? '(none)'}${headers['hx-request'] ? ', htmx' : ''}] body=${truncate(body ?? '(none)')}`;
        if (process.env.FUZZ_TRACE) log(`trace ${res.status} ${where.slice(0, 200)}`);
        if (res.status >= 500) fail(route, `${res.status} for ${where}: ${truncate(res.text, 500)}`);

        // Answered in front of the dashboard: Node's parser (allowed), or the API's middlewares (a failure).
        const edge =
          res.status >= 400 && res.status < 500 && res.contentType.startsWith('application/problem+json');
        if (edge) {
          bump(res.nodeLevel ? report.nodeLevel : report.apiEdge, res.status);
          let problem: { status?: unknown } | undefined;
          try {
            problem = JSON.parse(res.text) as { status?: unknown };
          } catch {
            problem = undefined;
          }
          if (problem?.status !== res.status)
            fail(route, `${res.status} with a broken problem body for ${where}`);
          // The API's middlewares once answered dashboard requests with problem+json: its
          // Idempotency-Key middleware and its body limit (docs/fuzz.md, items 8 and 9, both fixed).
          // Now only Node's parser, which answers before the app, may.
          if (!res.nodeLevel) {
            fail(
              route,
              `${res.status} as problem+json (not the dashboard's HTML) for ${where}: ${truncate(res.text)}`,
            );
          }
        } else if (res.status >= 400 && res.status < 500) {
          const htmxRedirect = res.status === 401 && res.hxRedirect !== undefined && headers['hx-request'];
          if (
            !htmxRedirect &&
            (!res.contentType.startsWith('text/html') || !res.text.includes('role="alert"'))
          ) {
            fail(
              route,
              `${res.status} is not an HTML page with an alert (${res.contentType}) for ${where}: ${truncate(res.text)}`,
            );
          }
        } else if (res.status >= 300 && res.status < 400) {
          if (res.status !== 303 || !/^\/dashboard(\/|\?|$)/.test(res.location)) {
            fail(route, `${res.status} to ${JSON.stringify(res.location)} for ${where}`);
          }
        }

        const toSignIn = res.status === 303 && res.location.startsWith('/dashboard/login?next=');
        // A body over the limit is refused before the shell looks at the credentials: the HTML
        // "Too large" page (item 9), which is checked above like every other 4xx page.
        const overLimit =
          res.status === 413 &&
          body !== undefined &&
          Buffer.byteLength(body) > sut.service.config.http.bodyLimitBytes;
        // What the shell must have answered, whatever the body.
        if (!edge && !overLimit && res.status < 500) {
          if (c.shell === 'bad-session' && !isLogin) {
            const htmxRedirect = res.status === 401 && res.hxRedirect?.startsWith('/dashboard/login');
            if (!toSignIn && !htmxRedirect) fail(route, `a bad session got ${res.status} for ${where}`);
          } else if (c.shell === 'no-csrf' || c.shell === 'wrong-csrf' || c.shell === 'cross-site') {
            const ok = res.status === 403 || (isLogin && res.status === 400);
            if (!ok) fail(route, `${c.shell} got ${res.status}, not 403, for ${where}`);
          } else if (c.shell === 'full' && toSignIn) {
            fail(route, `the live session was sent to sign in for ${where}`);
            // Recover, or every later request would fail the same way.
            await restoreSession();
          }
        }

        // Only a request with an Idempotency-Key can touch idempotency_keys (watched by content).
        const keyed = headers['idempotency-key'] !== undefined;
        const after = await writeMark(db, keyed ? undefined : mark);
        if (res.status < 400 && !toSignIn) {
          entry.accepted += 1;
          report.totals.accepted += 1;
          // An accepted sign-out ends the session and a password change changes the password:
          // put both back, so the next bodies again reach the form handling.
          await resync(pattern);
        } else {
          entry.rejected += 1;
          report.totals.rejected += 1;
          if (!sameMark(mark, after)) {
            const wrote = await writesBetweenExcept(db, mark, after, ALLOWED_ON_REJECT);
            if (wrote) fail(route, `${res.status} but wrote ${wrote} for ${where}`);
            else bump(report.allowedSeen, ALLOWED_ON_REJECT.join(','));
            mark = after;
          }
        }
        if (i % 1000 === 0) await livez(route);
      }
      await livez(route);
      entry.ms = Date.now() - t0;
      report.perRoute.push(entry);
      log(
        `${route.padEnd(44)} ${entry.runs} sent, ${entry.rejected} rejected, ${entry.accepted} accepted | ${histogram(entry.statuses)} | ${histogram(entry.shells)} | ${entry.ms} ms`,
      );
    }
  } finally {
    agent.destroy();
    await sut.stop();
    trouble.stop();
  }
  report.routesWithoutExample = routes.filter((r) => !FORM_EXAMPLES[r]);
  report.failuresPerRoute = Object.fromEntries(failuresPer);
  report.failures.push(...trouble.unhandledFailures());
  report.durationMs = Date.now() - started;
  return report;
}

function policyOf(sut: {
  service: { config: { dashboard: { sessionIdleMs: number; sessionMaxMs: number } } };
}) {
  return {
    idleMs: sut.service.config.dashboard.sessionIdleMs,
    maxMs: sut.service.config.dashboard.sessionMaxMs,
  };
}

const histogram = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
