import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { collectionsModule } from '../../src/collections/collections-module.js';
import type { Db } from '../../src/core/db/database.js';
import type { Clock } from '../../src/core/runtime.js';
import { createDashboardUser } from '../../src/dashboard/auth/user-store.js';
import { dashboardModule } from '../../src/dashboard/dashboard-module.js';
import type { DashboardRole } from '../../src/dashboard/dashboard-env.js';
import { emailReplyModule } from '../../src/email-reply/email-reply-module.js';
import type { ModuleFactory, Service } from '../../src/main.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../helpers/service-under-test.js';

/**
 * The dashboard in Debian's Chromium through playwright-core, for the shell's tests and the
 * pages' tests alike: the whole service in this process on a fresh database (collections, email
 * reply and the dashboard), one signed-in browser context per page, screenshots as artifacts.
 *
 *   const h = await startDashboardHarness();
 *   const page = await h.newPage('manager');            // signed in, 1280×800
 *   await page.goto(h.url('/dashboard/settings'));
 *   await h.screenshot(page, 'settings');               // artifacts/screenshots/settings-{desktop,mobile}.png
 *   await h.stop();
 *
 * Use `describe.skipIf(!chromiumAvailable)(suiteName('…'), …)`: without Chromium the suite is
 * skipped and says why, loudly.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM_PATH);
export const CHROMIUM_SKIP_REASON = `SKIPPED: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH); browser tests did not run`;
if (!chromiumAvailable) console.warn(`[browser-harness] ${CHROMIUM_SKIP_REASON}`);

/** The suite's name, with the skip reason in it when Chromium is missing (so reports show it). */
export function suiteName(name: string): string {
  return chromiumAvailable ? name : `${name} — ${CHROMIUM_SKIP_REASON}`;
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const MOBILE = { width: 375, height: 812 } as const;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOT_DIR = join(REPO_ROOT, 'artifacts', 'screenshots');
export const DOCS_SCREENSHOT_DIR = join(REPO_ROOT, 'docs', 'screenshots');

/** One user per role, made directly through the user store; passwords need no change. */
export const HARNESS_USERS: Record<DashboardRole, { username: string; password: string }> = {
  admin: { username: 'test-admin', password: 'admin-password-for-tests-1' },
  manager: { username: 'test-manager', password: 'manager-password-for-tests-1' },
  viewer: { username: 'test-viewer', password: 'viewer-password-for-tests-1' },
};

export type DashboardHarness = {
  service: Service;
  /** The service's database, to seed or inspect state. */
  db: Db;
  /** The bearer-token API as admin (from service-under-test). */
  call: ServiceUnderTest['call'];
  /** The absolute URL of a path on the service. */
  url(path: string): string;
  users: typeof HARNESS_USERS;
  /** A page in a new browser context, signed in as `role` (or not signed in, for 'anonymous'). */
  newPage(role: DashboardRole | 'anonymous', viewport?: { width: number; height: number }): Promise<Page>;
  /** Signs in on a fresh page with any username and password; resolves when the sign-in form was sent. */
  signIn(page: Page, username: string, password: string): Promise<void>;
  /**
   * Saves `<name>-desktop.png` (1280×800) and `<name>-mobile.png` (375×812) full-page screenshots
   * to artifacts/screenshots/ (and docs/screenshots/ when UPDATE_SCREENSHOTS=1); restores the
   * page's viewport afterwards.
   */
  screenshot(page: Page, name: string): Promise<{ desktop: string; mobile: string }>;
  stop(): Promise<void>;
};

export async function startDashboardHarness(
  options: {
    env?: Record<string, string>;
    clock?: Clock;
    /** Replaces the default modules (collections, email reply, dashboard). */
    modules?: readonly ModuleFactory[];
  } = {},
): Promise<DashboardHarness> {
  if (!chromiumAvailable) throw new Error(CHROMIUM_SKIP_REASON);
  const sut = await startServiceUnderTest({
    env: options.env ?? {},
    modules: options.modules ?? [collectionsModule(), emailReplyModule(), dashboardModule()],
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const contexts: BrowserContext[] = [];
  let browser: Browser | undefined;
  try {
    const db = sut.service.database.db;
    const now = options.clock?.now() ?? new Date();
    for (const [role, user] of Object.entries(HARNESS_USERS) as [
      DashboardRole,
      { username: string; password: string },
    ][]) {
      await createDashboardUser(db, { ...user, role, mustChangePassword: false, now });
    }
    // Playwright gives every launch a new, empty profile directory and every context fresh storage.
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await sut.stop();
    throw error;
  }
  const base = sut.service.url!;
  const url = (path: string) => `${base}${path}`;

  const signIn = async (page: Page, username: string, password: string) => {
    await page.goto(url('/dashboard/login'));
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/dashboard/login')),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForLoadState('load');
  };

  return {
    service: sut.service,
    db: sut.service.database.db,
    call: sut.call,
    url,
    users: HARNESS_USERS,
    signIn,
    async newPage(role, viewport = DESKTOP) {
      const context = await browser!.newContext({ viewport });
      contexts.push(context);
      const page = await context.newPage();
      if (role !== 'anonymous') {
        await signIn(page, HARNESS_USERS[role].username, HARNESS_USERS[role].password);
        await page.waitForURL((u) => !u.pathname.startsWith('/dashboard/login'));
      }
      return page;
    },
    async screenshot(page, name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const original = page.viewportSize();
      const desktop = join(SCREENSHOT_DIR, `${name}-desktop.png`);
      const mobile = join(SCREENSHOT_DIR, `${name}-mobile.png`);
      await page.setViewportSize(DESKTOP);
      await page.screenshot({ path: desktop, fullPage: true });
      await page.setViewportSize(MOBILE);
      await page.screenshot({ path: mobile, fullPage: true });
      if (original) await page.setViewportSize(original);
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
        copyFileSync(desktop, join(DOCS_SCREENSHOT_DIR, `${name}-desktop.png`));
        copyFileSync(mobile, join(DOCS_SCREENSHOT_DIR, `${name}-mobile.png`));
      }
      return { desktop, mobile };
    },
    async stop() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser?.close().catch(() => undefined);
      await sut.stop();
    },
  };
}

/** The page's document is no wider than its viewport (nothing scrolls sideways). */
export async function hasHorizontalScroll(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(
    'document.documentElement.scrollWidth > document.documentElement.clientWidth',
  );
}
