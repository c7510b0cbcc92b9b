import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { smsMessages } from '../../src/core/db/schema.js';
import {
  chromiumAvailable,
  startDashboardHarness,
  suiteName,
  type DashboardHarness,
} from './browser-harness.js';

/**
 * The email drafts, metrics and sandbox pages in Chromium, signed in through the real shell
 * (sessions, CSRF, CSP): a sandbox round trip for each workflow, an approval from the email page,
 * the metrics charts against stored rows, a viewer who cannot act, and the screenshots.
 */
const OWNER = '+12025550100';
const WAIT = { timeout: 30_000 };

describe.skipIf(!chromiumAvailable)(
  suiteName('dashboard in the browser: email drafts, metrics, sandbox'),
  () => {
    let h: DashboardHarness;

    beforeAll(async () => {
      h = await startDashboardHarness({
        env: {
          YOUR_PHONE_NUMBER: OWNER,
          OWNER_NAME: 'Sam',
          SEND_WINDOW_START_HOUR: '0',
          SEND_WINDOW_END_HOUR: '24',
          TURN_COALESCE_MS: '0',
        },
      });
    });
    afterAll(() => h?.stop());

    it('sandbox, tenant: add a tenant, text as them, and the answer appears in the thread', async () => {
      const page = await h.newPage('manager');
      await page.goto(h.url('/dashboard/sandbox'));
      await page.getByRole('button', { name: 'Add tenant' }).click();
      await page.waitForURL(/done=tenant/);
      await page.getByLabel('Text from +12125550101').fill('What is my balance?');
      await page.getByRole('button', { name: 'Send text' }).click();
      await page.waitForURL(/done=text/);
      // htmx polls the thread: the answer shows up without a reload.
      await page.locator('#thread li[data-direction="out"]').first().waitFor(WAIT);
      expect(await page.locator('#thread li[data-direction="out"]').first().textContent()).toContain('$600');
    });

    /** Reloads the email page until exactly one `selector` holds `text` (a waiting draft is an article). */
    const emailPageShows = (page: Page, selector: string, text: string) =>
      expect
        .poll(async () => {
          await page.goto(h.url('/dashboard/email'));
          return page.locator(selector, { hasText: text }).count();
        }, WAIT)
        .toBe(1);

    it('sandbox, owner: an email, the draft by text, "1", the reply sent and confirmed', async () => {
      const page = await h.newPage('manager');
      await page.goto(h.url('/dashboard/sandbox?as=owner:default'));
      await page.getByLabel('Subject').fill('Meeting tomorrow');
      await page.getByRole('button', { name: 'Drop into the inbox' }).click();
      await page.waitForURL(/done=email/);
      await page.locator('#thread li', { hasText: '1=Send 2=Edit 3=Ignore' }).first().waitFor(WAIT);
      // The text is stored when the gateway takes it; the workflow waits for the owner only once the
      // send has committed. A "1" in between is answered "a new draft is on its way".
      const drafts = await h.newPage('manager');
      await emailPageShows(drafts, 'article', 'Meeting tomorrow');
      await drafts.close();
      await page.getByLabel(`Text from ${OWNER}`).fill('1');
      await page.getByRole('button', { name: 'Send text' }).click();
      await page.waitForURL(/done=text/);
      await page.locator('#thread li', { hasText: '✅ Reply sent to' }).first().waitFor(WAIT);
      await h.screenshot(page, 'sandbox');

      await page.goto(h.url('/dashboard/email'));
      const sent = page.locator('tr[data-status="reply_sent"]', { hasText: 'Meeting tomorrow' });
      expect(await sent.count()).toBe(1);
    });

    it('email drafts: a manager approves the waiting draft from the page', async () => {
      const page = await h.newPage('manager');
      await page.goto(h.url('/dashboard/sandbox?as=owner:default'));
      await page.getByLabel('Subject').fill('Invoice for March');
      await page.getByLabel('Email', { exact: true }).fill('Can you send me the invoice for March?');
      await page.getByRole('button', { name: 'Drop into the inbox' }).click();
      await page.waitForURL(/done=email/);

      await emailPageShows(page, 'article', 'Invoice for March');
      await h.screenshot(page, 'email-drafts');
      await page.getByRole('button', { name: 'Send this reply' }).click();
      await page.waitForURL(/done=send/);
      expect(await page.getByRole('status').textContent()).toContain('Approved');
      await emailPageShows(page, 'tr[data-status="reply_sent"]', 'Invoice for March');
    });

    it('metrics: the charts show the texts stored in an hour bucket', async () => {
      const hour = 3_600_000;
      const start = new Date(Math.floor((Date.now() - 7 * hour) / hour) * hour);
      const label = `${start.toISOString().slice(0, 10)} ${start.toISOString().slice(11, 13)}:00`;
      await h.db.insert(smsMessages).values(
        [1, 2, 3, 4, 5].map((i) => ({
          direction: i <= 3 ? 'in' : 'out',
          provider: 'metrics-probe',
          providerMessageId: `probe-${i}-${randomUUID()}`,
          fromNumber: '+12125550188',
          toNumber: 'countersign',
          body: `probe ${i}`,
          segments: 1,
          encoding: 'gsm7',
          state: i <= 3 ? 'received' : 'delivered',
          createdAt: new Date(start.getTime() + i * 60_000),
          updatedAt: new Date(start.getTime() + i * 60_000),
        })),
      );
      const page = await h.newPage('viewer');
      await page.goto(h.url('/dashboard/metrics'));
      const bar = (series: string) => page.locator(`rect[data-series="${series}"][data-bucket="${label}"]`);
      expect(await bar('in').getAttribute('data-value')).toBe('3');
      expect(await bar('out').getAttribute('data-value')).toBe('2');
      expect(await page.getByRole('img', { name: /Texts per hour/ }).count()).toBe(1);
      await page.getByText('Texts per hour: table').click();
      const row = page.locator('table[data-table="texts"] tr', { hasText: label });
      expect(await row.locator('td').allTextContents()).toEqual(['3', '2']);
      await h.screenshot(page, 'metrics');
    });

    it('a viewer sees the pages but cannot act', async () => {
      const page = await h.newPage('viewer');
      await page.goto(h.url('/dashboard/sandbox?as=owner:default'));
      expect(await page.getByRole('button', { name: 'Send text' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Drop into the inbox' }).count()).toBe(0);
      const headers = JSON.parse((await page.locator('body').getAttribute('hx-headers')) ?? '{}') as Record<
        string,
        string
      >;
      const csrf = headers['X-CSRF-Token'] ?? '';
      const refused = await page.request.post(h.url('/dashboard/sandbox/text'), {
        form: { _csrf: csrf, as: 'owner:default', body: '3' },
      });
      expect(refused.status()).toBe(403);
      await page.goto(h.url('/dashboard/email'));
      expect(await page.getByRole('button', { name: 'Send this reply' }).count()).toBe(0);
    });
  },
);
