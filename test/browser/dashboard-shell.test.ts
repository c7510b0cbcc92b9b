import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../src/collections/collections-module.js';
import { dashboardSessions } from '../../src/core/db/schema.js';
import { createDashboardUser } from '../../src/dashboard/auth/user-store.js';
import { dashboardModule } from '../../src/dashboard/dashboard-module.js';
import { emailReplyModule } from '../../src/email-reply/email-reply-module.js';
import {
  chromiumAvailable,
  hasHorizontalScroll,
  MOBILE,
  startDashboardHarness,
  suiteName,
  type DashboardHarness,
} from './browser-harness.js';
import { decideCount, decidePage } from './shell-test-pages.js';

const onLoginPage = (page: Page) => new URL(page.url()).pathname === '/dashboard/login';

describe.skipIf(!chromiumAvailable)(suiteName('dashboard shell in Chromium'), () => {
  let h: DashboardHarness;
  let attacker: Server;
  let attackerUrl: string;
  /** The page the attacker serves: a form posting to our dashboard, optionally with a (leaked) token. */
  let attackerPage = '';

  beforeAll(async () => {
    h = await startDashboardHarness({
      modules: [collectionsModule(), emailReplyModule(), dashboardModule({ extraPages: [decidePage] })],
    });
    // Another origin on the same host (another port): same-site, so a Lax cookie is sent with it.
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(attackerPage);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => attacker?.close(resolve));
    await h?.stop();
  });

  it('signs in and lands on the page asked for; the login page has labels and fits 375 px', async () => {
    const page = await h.newPage('anonymous');
    await page.goto(h.url('/dashboard/settings'));
    expect(onLoginPage(page)).toBe(true);
    await h.screenshot(page, 'login');
    await page.setViewportSize(MOBILE);
    expect(await hasHorizontalScroll(page)).toBe(false);
    // The username field has focus; Tab goes on to the password and then the button.
    const focused = () =>
      page.evaluate<string>('document.activeElement.id || document.activeElement.textContent');
    expect(await focused()).toBe('username');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('password');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Sign in');
    await page.getByLabel('Username').fill(h.users.manager.username);
    await page.getByLabel('Password').fill(h.users.manager.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(h.url('/dashboard/settings'));
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Settings');
    await expect(page.getByText(`Signed in as ${h.users.manager.username} (manager)`).count()).resolves.toBe(
      1,
    );
  });

  it('keeps a wrong password on the sign-in page with a message', async () => {
    const page = await h.newPage('anonymous');
    await h.signIn(page, h.users.viewer.username, 'wrong-password-here');
    expect(onLoginPage(page)).toBe(true);
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'The username or password is wrong.',
    );
    expect((await page.context().cookies()).some((c) => c.name === 'cs_session')).toBe(false);
  });

  it('sets the session cookie Secure, HttpOnly and SameSite=Lax, and Chromium keeps it on http://127.0.0.1', async () => {
    const page = await h.newPage('viewer');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'cs_session');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/dashboard' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('cs_session');
    // Kept and sent: a signed-in page loads.
    await page.goto(h.url('/dashboard/settings'));
    expect(onLoginPage(page)).toBe(false);
  });

  it('signs out: the session row is gone and pages ask for sign-in again', async () => {
    const page = await h.newPage('manager');
    const before = await h.db.select().from(dashboardSessions);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(h.url('/dashboard/login'));
    const after = await h.db.select().from(dashboardSessions);
    expect(after.length).toBe(before.length - 1);
    await page.goto(h.url('/dashboard/metrics'));
    expect(onLoginPage(page)).toBe(true);
  });

  it('makes a user with a generated password choose a new one before anything else', async () => {
    const created = await createDashboardUser(h.db, {
      username: 'newcomer',
      role: 'manager',
      now: new Date(),
    });
    const page = await h.newPage('anonymous');
    await h.signIn(page, 'newcomer', created.password);
    await page.waitForURL(h.url('/dashboard/password'));
    await page.goto(h.url('/dashboard/plans'));
    expect(new URL(page.url()).pathname).toBe('/dashboard/password');
    await expect(page.getByRole('navigation', { name: 'Sections' }).count()).resolves.toBe(0);
    await page.getByLabel('Current password').fill(created.password);
    await page.getByLabel('New password', { exact: true }).fill('newcomer-password');
    await page.getByLabel('New password again').fill('newcomer-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('username');
    await page.getByLabel('Current password').fill(created.password);
    await page.getByLabel('New password', { exact: true }).fill('a-much-better-password');
    await page.getByLabel('New password again').fill('a-much-better-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(h.url('/dashboard'));
    await page.goto(h.url('/dashboard/plans'));
    expect(new URL(page.url()).pathname).toBe('/dashboard/plans');
  });

  it('refuses a form posted without the CSRF token, and nothing changes', async () => {
    const page = await h.newPage('manager');
    await page.goto(h.url('/dashboard/test/decide'));
    const start = decideCount();
    // The POST redirects to the same URL: wait for its answer and the page it leads to.
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Count' }).click(),
    ]);
    await page.locator('#counter', { hasText: String(start + 1) }).waitFor();
    expect(decideCount()).toBe(start + 1);
    // The same form with its token removed.
    await page.evaluate<void>(`document.querySelector('main input[name="_csrf"]').remove()`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Count' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('no valid security token');
    expect(decideCount()).toBe(start + 1);
  });

  it('refuses a post from another origin even when it carries the right token', async () => {
    const page = await h.newPage('manager');
    await page.goto(h.url('/dashboard/test/decide'));
    const token = await page.locator('main input[name="_csrf"]').getAttribute('value');
    const start = decideCount();
    attackerPage = `<form method="post" action="${h.url('/dashboard/test/decide')}"><input type="hidden" name="_csrf" value="${token}"><button>Win a prize</button></form>`;
    await page.goto(attackerUrl);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('another site');
    expect(decideCount()).toBe(start);
    // Still signed in: the refusal ended nothing.
    await page.goto(h.url('/dashboard/test/decide'));
    expect(onLoginPage(page)).toBe(false);
  });

  it('shows a viewer a readable refusal on a manager route, and the manager the page', async () => {
    const viewer = await h.newPage('viewer');
    const res = await viewer.goto(h.url('/dashboard/test/decide'));
    expect(res?.status()).toBe(403);
    await expect(viewer.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Not allowed');
    await expect(viewer.getByRole('alert').textContent()).resolves.toContain(
      'Your role (viewer) may not do this',
    );
    const manager = await h.newPage('manager');
    expect((await manager.goto(h.url('/dashboard/test/decide')))?.status()).toBe(200);
  });

  it('shows the settings page without CSP errors, fitting 375 px, and saves its screenshots', async () => {
    const page = await h.newPage('admin');
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(h.url('/dashboard/settings'));
    await expect(page.getByRole('heading', { name: 'Collections thresholds' }).count()).resolves.toBe(1);
    await expect(page.getByRole('heading', { name: "Peers' health" }).count()).resolves.toBe(1);
    await expect(page.locator('table').first().textContent()).resolves.toContain('healthy');
    // The owner's phone shows only its last four digits.
    const owner = h.service.config.mailboxes[0]?.ownerPhone;
    const text = (await page.locator('main').textContent()) ?? '';
    if (owner) {
      expect(text).not.toContain(owner);
      expect(text).toContain(`•${owner.slice(-4)}`);
    }
    // htmx loaded from our own origin and configured from the meta tag.
    await page.waitForFunction('window.htmx !== undefined && htmx.config.includeIndicatorStyles === false');
    const shots = await h.screenshot(page, 'settings');
    expect(shots.mobile).toMatch(/settings-mobile\.png$/);
    await page.setViewportSize(MOBILE);
    expect(await hasHorizontalScroll(page)).toBe(false);
    expect(problems).toEqual([]);
  });
});
