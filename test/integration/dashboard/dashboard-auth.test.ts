import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSessions, dashboardUsers } from '../../../src/core/db/schema.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { requireDashboardRole } from '../../../src/dashboard/auth/role-guard.js';
import { hashSessionToken } from '../../../src/dashboard/auth/session-store.js';
import { createDashboardUser } from '../../../src/dashboard/auth/user-store.js';
import { dashboardModule } from '../../../src/dashboard/dashboard-module.js';
import type { PageRegistrar } from '../../../src/dashboard/dashboard-env.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../../helpers/service-under-test.js';
import { DashboardClient } from './dashboard-client.js';

/** Routes behind the shell, for the guard and error-page checks. */
const testPages: PageRegistrar = (app) => {
  app.get('/test/managers-only', requireDashboardRole('manager'), (c) => c.text('for managers'));
  app.post('/test/admins-only', requireDashboardRole('admin'), (c) => c.text('done by an admin'));
  app.post('/test/echo', async (c) => {
    const body = await c.req.parseBody();
    return c.text(`echo ${String(body.value)}`);
  });
  app.get('/test/boom', () => {
    throw new Error('internal detail that must not leak');
  });
};

const USERS = {
  admin: { username: 'ada', password: 'ada-password-long-enough' },
  manager: { username: 'max', password: 'max-password-long-enough' },
  viewer: { username: 'vic', password: 'vic-password-long-enough' },
} as const;

describe('dashboard sign-in, sessions and CSRF over HTTP', () => {
  let sut: ServiceUnderTest;
  const clock = new ManualClock('2026-12-05T10:00:00Z');

  beforeAll(async () => {
    sut = await startServiceUnderTest({
      env: { DASHBOARD_SESSION_IDLE_MINUTES: '30', DASHBOARD_SESSION_HOURS: '2' },
      modules: [
        dashboardModule({
          extraPages: [testPages],
          throttle: { maxFailures: 3, maxFailuresPerAddress: 1000, windowMs: 600_000 },
        }),
      ],
      clock,
    });
    const db = sut.service.database.db;
    for (const [role, user] of Object.entries(USERS)) {
      await createDashboardUser(db, {
        ...user,
        role: role as 'admin',
        mustChangePassword: false,
        now: clock.now(),
      });
    }
  });
  afterAll(async () => {
    await sut?.stop();
  });

  it('sends people without a session to the sign-in page, and htmx requests by HX-Redirect', async () => {
    const client = DashboardClient.for(sut);
    const root = await client.get('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard');
    const page = await client.get('/dashboard/escalations?x=1');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(
      `/dashboard/login?next=${encodeURIComponent('/dashboard/escalations?x=1')}`,
    );
    const htmx = await client.get('/dashboard/settings', { 'hx-request': 'true' });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get('hx-redirect')).toMatch(/^\/dashboard\/login\?next=/);
    // No bearer token is asked for: the dashboard is not the API.
    expect(htmx.headers.get('www-authenticate')).toBeNull();
  });

  it('serves the sign-in page with a pre-session CSRF cookie, a CSP and no caching', async () => {
    const client = DashboardClient.for(sut);
    const res = await client.get('/dashboard/login');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>/);
    expect(client.cookies.get('cs_login')).toBe(DashboardClient.csrfIn(html));
    const line = client.lastSetCookies.find((l) => l.startsWith('cs_login='))!;
    expect(line).toMatch(/HttpOnly/i);
    expect(line).toMatch(/SameSite=Strict/i);
  });

  it('signs in with a Secure, HttpOnly, SameSite session cookie whose token is stored only as a hash', async () => {
    const client = DashboardClient.for(sut);
    const res = await client.signIn('MAX', USERS.manager.password, '/dashboard/plans');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/dashboard/plans');
    const line = client.lastSetCookies.find((l) => l.startsWith('cs_session='))!;
    expect(line).toMatch(/; HttpOnly/i);
    expect(line).toMatch(/; Secure/i);
    expect(line).toMatch(/; SameSite=Lax/i);
    expect(line).toMatch(/; Path=\/dashboard/i);
    const token = client.cookies.get('cs_session')!;
    const rows = await sut.service.database.db.select().from(dashboardSessions);
    expect(rows.some((r) => r.tokenHash === hashSessionToken(token))).toBe(true);
    expect(rows.some((r) => r.tokenHash === token)).toBe(false);
    expect((await client.get('/dashboard/settings')).status).toBe(200);
  });

  it('refuses a wrong password and an unknown user alike, and sets no session', async () => {
    const client = DashboardClient.for(sut);
    const wrong = await client.signIn(USERS.viewer.username, 'not-the-password');
    expect(wrong.status).toBe(401);
    const wrongText = await wrong.text();
    expect(wrongText).toContain('The username or password is wrong.');
    const unknown = await client.signIn('nobody', 'whatever-password');
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toContain('The username or password is wrong.');
    expect(client.cookies.has('cs_session')).toBe(false);
  });

  it('refuses a sign-in form without its pre-session token, or from another site', async () => {
    const client = DashboardClient.for(sut);
    await client.get('/dashboard/login');
    const noToken = await client.post('/dashboard/login', {
      username: 'max',
      password: USERS.manager.password,
    });
    expect(noToken.status).toBe(403);
    expect(client.cookies.has('cs_session')).toBe(false);
    const other = DashboardClient.for(sut);
    const form = await other.get('/dashboard/login');
    const token = DashboardClient.csrfIn(await form.text());
    const crossSite = await other.post(
      '/dashboard/login',
      { _csrf: token, username: 'max', password: USERS.manager.password },
      { origin: 'https://evil.example' },
    );
    expect(crossSite.status).toBe(403);
    expect(other.cookies.has('cs_session')).toBe(false);
  });

  it('throttles repeated failures for a username, even with the right password', async () => {
    const client = DashboardClient.for(sut);
    await createDashboardUser(sut.service.database.db, {
      username: 'target',
      role: 'viewer',
      password: 'target-password-long',
      mustChangePassword: false,
      now: clock.now(),
    });
    for (let i = 0; i < 3; i++) expect((await client.signIn('target', `guess-${i}`)).status).toBe(401);
    const blocked = await client.signIn('target', 'target-password-long');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    clock.advance(600_001);
    expect((await client.signIn('target', 'target-password-long')).status).toBe(303);
  });

  it('refuses a form post without the CSRF token, and it changes nothing', async () => {
    const client = DashboardClient.for(sut);
    await client.signIn(USERS.manager.username, USERS.manager.password);
    const token = client.cookies.get('cs_session')!;
    const refused = await client.post('/dashboard/logout', {});
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await refused.text()).toContain('security token');
    const rows = await sut.service.database.db
      .select()
      .from(dashboardSessions)
      .where(eq(dashboardSessions.tokenHash, hashSessionToken(token)));
    expect(rows).toHaveLength(1);
    const wrongToken = await client.post('/dashboard/test/echo', { _csrf: 'x'.repeat(43), value: 'a' });
    expect(wrongToken.status).toBe(403);
    // The header form (htmx) works, as does the field.
    const csrf = await client.csrf();
    expect(
      await (await client.post('/dashboard/test/echo', { value: 'b' }, { 'x-csrf-token': csrf })).text(),
    ).toBe('echo b');
    expect(await (await client.post('/dashboard/test/echo', { _csrf: csrf, value: 'c' })).text()).toBe(
      'echo c',
    );
  });

  it('refuses a cross-site post even with the right token', async () => {
    const client = DashboardClient.for(sut);
    await client.signIn(USERS.manager.username, USERS.manager.password);
    const csrf = await client.csrf();
    const evil = await client.post(
      '/dashboard/test/echo',
      { _csrf: csrf, value: 'x' },
      { origin: 'https://evil.example' },
    );
    expect(evil.status).toBe(403);
    const site = await client.post(
      '/dashboard/test/echo',
      { _csrf: csrf, value: 'x' },
      { 'sec-fetch-site': 'cross-site' },
    );
    expect(site.status).toBe(403);
    const same = await client.post(
      '/dashboard/test/echo',
      { _csrf: csrf, value: 'y' },
      { origin: sut.service.url!, 'sec-fetch-site': 'same-origin' },
    );
    expect(await same.text()).toBe('echo y');
  });

  it('signs out by deleting the session row', async () => {
    const client = DashboardClient.for(sut);
    await client.signIn(USERS.viewer.username, USERS.viewer.password);
    const token = client.cookies.get('cs_session')!;
    const csrf = await client.csrf();
    const out = await client.post('/dashboard/logout', { _csrf: csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/dashboard/login');
    const rows = await sut.service.database.db
      .select()
      .from(dashboardSessions)
      .where(eq(dashboardSessions.tokenHash, hashSessionToken(token)));
    expect(rows).toHaveLength(0);
    // The old cookie no longer works even if a browser kept it.
    const replay = new DashboardClient(sut.service.url!);
    replay.cookies.set('cs_session', token);
    expect((await replay.get('/dashboard/settings')).status).toBe(303);
  });

  it('guards routes by role: viewers read, managers decide, admins everything', async () => {
    const viewer = DashboardClient.for(sut);
    await viewer.signIn(USERS.viewer.username, USERS.viewer.password);
    const manager = DashboardClient.for(sut);
    await manager.signIn(USERS.manager.username, USERS.manager.password);
    const admin = DashboardClient.for(sut);
    await admin.signIn(USERS.admin.username, USERS.admin.password);

    const refused = await viewer.get('/dashboard/test/managers-only');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Your role (viewer) may not do this');
    expect((await manager.get('/dashboard/test/managers-only')).status).toBe(200);
    expect((await admin.get('/dashboard/test/managers-only')).status).toBe(200);

    // Any change by a viewer is refused by the shell, guarded route or not.
    const viewerPost = await viewer.post('/dashboard/test/echo', { _csrf: await viewer.csrf(), value: 'v' });
    expect(viewerPost.status).toBe(403);
    const managerPost = await manager.post('/dashboard/test/admins-only', { _csrf: await manager.csrf() });
    expect(managerPost.status).toBe(403);
    expect(await managerPost.text()).toContain('needs admin');
    const adminPost = await admin.post('/dashboard/test/admins-only', { _csrf: await admin.csrf() });
    expect(await adminPost.text()).toBe('done by an admin');
  });

  it('answers errors on /dashboard with HTML pages, never problem+json, and leaks nothing', async () => {
    const client = DashboardClient.for(sut);
    await client.signIn(USERS.manager.username, USERS.manager.password);
    const missing = await client.get('/dashboard/no-such-page');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
    const boom = await client.get('/dashboard/test/boom');
    expect(boom.status).toBe(500);
    expect(boom.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await boom.text();
    expect(text).not.toContain('internal detail');
    expect(text).toContain('Reference:');
    // A form post with an Idempotency-Key header still works (the API's middleware only stores it).
    const csrf = await client.csrf();
    const withKey = await client.post(
      '/dashboard/test/echo',
      { _csrf: csrf, value: 'k' },
      { 'idempotency-key': 'form-1' },
    );
    expect(await withKey.text()).toBe('echo k');
  });

  it('ends a session after the idle timeout and after its absolute lifetime', async () => {
    const client = DashboardClient.for(sut);
    await client.signIn(USERS.manager.username, USERS.manager.password);
    clock.advance(29 * 60_000);
    expect((await client.get('/dashboard/settings')).status).toBe(200);
    clock.advance(31 * 60_000);
    expect((await client.get('/dashboard/settings')).status).toBe(303);

    const busy = DashboardClient.for(sut);
    await busy.signIn(USERS.manager.username, USERS.manager.password);
    for (let i = 0; i < 4; i++) {
      clock.advance(25 * 60_000);
      expect((await busy.get('/dashboard/settings')).status).toBe(200);
    }
    clock.advance(25 * 60_000); // 125 minutes after sign-in: past DASHBOARD_SESSION_HOURS=2
    expect((await busy.get('/dashboard/settings')).status).toBe(303);
  });

  it('makes a first admin at first start that must change its password before anything else', async () => {
    const db = sut.service.database.db;
    const [admin] = await db.select().from(dashboardUsers).where(eq(dashboardUsers.username, 'admin'));
    expect(admin?.mustChangePassword).toBe(true);
    expect(admin?.role).toBe('admin');
  });

  it('serves htmx and the stylesheet from this service with long caching', async () => {
    const client = DashboardClient.for(sut);
    const html = await (await client.get('/dashboard/login')).text();
    const src = /<script src="(\/dashboard\/assets\/htmx\.min\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    const js = await client.get(src!);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toContain('htmx');
    const css = await client.get('/dashboard/assets/app.css');
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect((await client.get('/dashboard/assets/nope.js')).status).toBe(404);
  });

  it('answers bad sign-in input with a 4xx, never a 5xx', async () => {
    const client = DashboardClient.for(sut);
    const json = await client.request('POST', '/dashboard/login', {
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(400);
    const form = await client.get('/dashboard/login');
    const token = DashboardClient.csrfIn(await form.text());
    const huge = await client.post('/dashboard/login', {
      _csrf: token,
      username: 'x'.repeat(5000),
      password: 'y'.repeat(5000),
    });
    expect(huge.status).toBe(401);
    const nul = await client.signIn('max\u0000', 'p\u0000w');
    expect(nul.status).toBe(401);
    const next = await client.signIn(USERS.manager.username, USERS.manager.password, 'https://evil.example/');
    expect(next.headers.get('location')).toBe('/dashboard');
  });
});
