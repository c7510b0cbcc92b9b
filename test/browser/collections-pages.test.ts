import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/service-under-test.js';
import {
  chromiumAvailable,
  hasHorizontalScroll,
  MOBILE,
  startDashboardHarness,
  suiteName,
  type DashboardHarness,
} from './browser-harness.js';

/**
 * The collections pages in Chromium, signed in through the real shell (sessions, CSRF, CSP):
 * approve, modify and reject from the queue (by button and by keyboard), the conversation showing
 * the send, an obsolete item's clear message, a viewer who cannot decide, an escalation resolved,
 * a tenant's markup shown as text, and the screenshots at desktop and 375 px.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const WAIT = { timeout: 30_000 };

describe.skipIf(!chromiumAvailable)(suiteName('dashboard in the browser: collections pages'), () => {
  let h: DashboardHarness;
  let phoneSeq = 500;
  let seq = 0;

  beforeAll(async () => {
    h = await startDashboardHarness({
      env: { SEND_WINDOW_START_HOUR: '0', SEND_WINDOW_END_HOUR: '24', TURN_COALESCE_MS: '0' },
    });
  });
  afterAll(() => h?.stop());

  const call = async (method: string, path: string, body?: unknown) =>
    (await h.call(method, path, body)) as { status: number; body: Json };

  async function tenant() {
    phoneSeq += 1;
    const id = `tenant_${phoneSeq}`;
    const phone = `+1212555${String(phoneSeq).padStart(4, '0')}`;
    const put = await call('PUT', `/ledger/tenants/${id}`, {
      name: 'Maria Lopez',
      phone,
      timezone: 'America/New_York',
      amount_owed: 600,
      due_date: '2025-01-03',
    });
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    return { id, phone, conversation: `conv_${id}` };
  }
  type T = Awaited<ReturnType<typeof tenant>>;

  async function text(t: T, content: string) {
    seq += 1;
    const res = await call('POST', '/orchestrate/sms-received', {
      tenant_id: t.id,
      phone_number: t.phone,
      content,
      conversation_id: t.conversation,
      message_id: `browser-${seq}-${Date.now()}`,
    });
    expect(res.status).toBe(202);
  }
  const status = async (conversation: string) =>
    (await call('GET', `/orchestrate/workflow/${conversation}/status`)).body;
  const settled = (conversation: string, ok: (s: Json) => boolean, what: string) =>
    eventually(() => status(conversation), ok, what, 30_000);
  async function queued(t: T, content = 'I lost my job and cannot pay right now') {
    await text(t, content);
    const waiting = await settled(t.conversation, (s) => s.status === 'awaiting_approval', 'a queued draft');
    return waiting.metadata.response_queue_id as string;
  }
  const approvalStatus = async (id: string) => {
    for (const s of ['pending', 'approved', 'modified', 'rejected', 'obsolete']) {
      const list = (await call('GET', `/orchestrate/approvals?status=${s}&limit=500`)).body
        .approvals as Json[];
      if (list.some((a) => a.response_queue_id === id)) return s;
    }
    return undefined;
  };
  const outbound = async (conversation: string) =>
    ((await call('GET', `/conversations/${conversation}/messages`)).body.messages as Json[]).filter(
      (m) => m.direction === 'out',
    );

  /** Console errors (a CSP refusal shows up here) and dialogs the page raised. */
  function watch(page: Page) {
    const problems: string[] = [];
    page.on('console', (m) => {
      // Chromium asks for /favicon.ico by itself (the API answers 401): not these pages' doing.
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) {
        problems.push(`${m.text()} ${m.location().url}`);
      }
    });
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    return problems;
  }

  /** Reloads the conversation page until `ok` holds for its texts. */
  async function conversationShows(page: Page, conversation: string, words: string) {
    await eventually(
      async () => {
        await page.goto(h.url(`/dashboard/conversations/${conversation}`));
        return page.locator('.cs-message-out').allInnerTexts();
      },
      (texts) => texts.some((x) => x.includes(words) && /\b(sent|delivered)\b/.test(x)),
      `"${words}" sent in ${conversation}`,
      30_000,
    );
  }

  it('approve from the queue, and the send shows in the conversation', async () => {
    const t = await tenant();
    const id = await queued(t);
    const page = await h.newPage('manager');
    const problems = watch(page);
    await page.goto(h.url('/dashboard'));
    const item = page.locator(`#item-${id}`);
    await item.waitFor(WAIT);
    const draft = await item.getByLabel('Reply to send').inputValue();
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('decided') === id, WAIT),
      item.getByRole('button', { name: 'Approve and send' }).click(),
    ]);
    await expect(
      page
        .getByRole('status')
        .filter({ hasText: `Item ${id} approved` })
        .count(),
    ).resolves.toBe(1);
    expect(await approvalStatus(id)).toBe('approved');
    await conversationShows(page, t.conversation, draft.slice(0, 30));
    await expect(page.getByText('approval:approved').count()).resolves.toBeGreaterThan(0);
    await h.screenshot(page, 'conversation');
    expect(await hasHorizontalScroll(page)).toBe(false);
    expect(problems).toEqual([]);
  });

  it('modify: the edited draft is what the tenant gets', async () => {
    const t = await tenant();
    const id = await queued(t);
    const page = await h.newPage('manager');
    await page.goto(h.url('/dashboard'));
    const item = page.locator(`#item-${id}`);
    await item.getByLabel('Reply to send').fill('Hi Maria, call us and we will find a plan together.');
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('decided') === id, WAIT),
      item.getByRole('button', { name: 'Approve and send' }).click(),
    ]);
    expect(await approvalStatus(id)).toBe('modified');
    await conversationShows(page, t.conversation, 'Hi Maria, call us and we will find a plan together.');
  });

  it('reject with the keyboard (j to select, r to reject): nothing is sent', async () => {
    const t = await tenant();
    const id = await queued(t);
    const page = await h.newPage('manager');
    await page.goto(h.url('/dashboard'));
    await page.locator(`#item-${id}`).waitFor(WAIT);
    // j moves down the list; stop on this item (others may wait above it).
    const ids = await page.locator('[data-approval-item]').evaluateAll((els) => els.map((e) => e.id));
    for (let i = 0; i <= ids.indexOf(`item-${id}`); i++) await page.keyboard.press('j');
    await expect(page.evaluate<string | undefined>('document.activeElement?.id')).resolves.toBe(`item-${id}`);

    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('decided') === id, WAIT),
      page.keyboard.press('r'),
    ]);
    expect(await approvalStatus(id)).toBe('rejected');
    expect(await outbound(t.conversation)).toHaveLength(0);
  });

  it('a tenant text with markup shows as text, and no script runs', async () => {
    const t = await tenant();
    const id = await queued(t, 'I lost my job <script>alert(1)</script> <img src=x onerror=alert(2)>');
    const page = await h.newPage('manager');
    const problems = watch(page);
    await page.goto(h.url('/dashboard'));
    const quoted = page.locator(`#item-${id} [data-tenant-text]`);
    await expect(quoted.innerText()).resolves.toContain('<script>alert(1)</script>');
    await expect(page.locator(`#item-${id} img`).count()).resolves.toBe(0);
    await page.goto(h.url(`/dashboard/conversations/${t.conversation}`));
    await expect(page.locator('.cs-message-in').first().innerText()).resolves.toContain(
      '<script>alert(1)</script>',
    );
    expect(problems.filter((p) => p.startsWith('dialog'))).toEqual([]);
    await call('POST', '/orchestrate/approve-response', { response_queue_id: id, action: 'reject' });
  });

  it('a viewer sees no decision buttons, and a forged POST with a valid CSRF token gets 403 and changes nothing', async () => {
    const t = await tenant();
    const id = await queued(t);
    const page = await h.newPage('viewer');
    await page.goto(h.url('/dashboard'));
    const item = page.locator(`#item-${id}`);
    await item.waitFor(WAIT);
    await expect(item.getByRole('button').count()).resolves.toBe(0);
    // In the page (no DOM types here): the viewer's own CSRF token from hx-headers, a real POST.
    const forged = await page.evaluate<{ status: number; hadToken: boolean }>(`(async () => {
      const headers = JSON.parse(document.body.getAttribute('hx-headers') || '{}');
      const token = headers['X-CSRF-Token'] || '';
      const res = await fetch(${JSON.stringify(`/dashboard/approvals/${id}`)}, {
        method: 'POST',
        body: new URLSearchParams({ _csrf: token, action: 'approve', approved_text: 'forged' }),
      });
      return { status: res.status, hadToken: token.length > 0 };
    })()`);
    expect(forged).toEqual({ status: 403, hadToken: true });
    expect(await approvalStatus(id)).toBe('pending');
    expect(await outbound(t.conversation)).toHaveLength(0);
    await call('POST', '/orchestrate/approve-response', { response_queue_id: id, action: 'reject' });
  });

  it('an item made obsolete while open: the live queue says so, and deciding it gives a clear message', async () => {
    const t = await tenant();
    const id = await queued(t);
    const page = await h.newPage('manager');
    const problems = watch(page);
    await page.goto(h.url('/dashboard'));
    const item = page.locator(`#item-${id}`);
    await item.getByLabel('Reply to send').fill('An edit in progress');
    const token = await page.locator(`#item-${id} input[name="_csrf"]`).inputValue();

    await text(t, 'What is my balance?');
    await settled(
      t.conversation,
      (s) => s.status === 'awaiting_approval' && s.metadata.response_queue_id !== id,
      'a new queued draft',
    );
    // The poll (every 5 s) replaces the list: the old item moves to "Recently closed" with its reason.
    await page.locator(`#closed-${id}`).waitFor(WAIT);
    await expect(page.locator(`#closed-${id}`).innerText()).resolves.toContain(
      'Obsolete: the tenant texted again',
    );
    // The alert is written after htmx settles the swap (a moment after #closed- appears): wait for it.
    await page.locator('#queue-alert', { hasText: 'has left the queue' }).waitFor(WAIT);

    // A decision sent from the stale copy of the page is refused with the reason.
    const fields = JSON.stringify({ _csrf: token, action: 'approve', approved_text: 'x' });
    await page.evaluate(`(() => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = ${JSON.stringify(`/dashboard/approvals/${id}`)};
      for (const [name, value] of Object.entries(${fields})) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    })()`);
    await page.waitForURL((u) => u.pathname === `/dashboard/approvals/${id}`, WAIT);
    const alert = page.getByRole('alert').filter({ hasText: 'was not decided' });
    await expect(alert.innerText()).resolves.toContain('the tenant has texted again');
    expect(await outbound(t.conversation)).toHaveLength(0);
    expect(problems.filter((p) => !p.includes('409'))).toEqual([]);
  });

  it('resolve an escalation from the list', async () => {
    const t = await tenant();
    await text(t, 'My attorney will contact you about this');
    const escalated = await settled(t.conversation, (s) => s.status === 'escalated', 'escalated');
    const escId = escalated.metadata.escalation_id as string;
    const page = await h.newPage('manager');
    const problems = watch(page);
    await page.goto(h.url('/dashboard/escalations?severity=high'));
    const card = page.locator(`#esc-${escId}`);
    await card.waitFor(WAIT);
    await h.screenshot(page, 'escalations');
    expect(await hasHorizontalScroll(page)).toBe(false);
    await card.getByLabel('Assign to').fill('dana');
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('done') === escId, WAIT),
      card.getByRole('button', { name: 'Assign' }).click(),
    ]);
    await card.getByLabel('Resolution').fill('Called the attorney; paused collection.');
    await Promise.all([
      page.waitForURL(
        (u) => u.searchParams.get('done') === escId && u.searchParams.get('status') === 'open',
        WAIT,
      ),
      card.getByRole('button', { name: 'Resolve' }).click(),
    ]);
    // Assign redirected to the same URL, so the wait above cannot tell the two pages apart.
    await page
      .getByRole('status')
      .filter({ hasText: `Escalation ${escId} is resolved` })
      .waitFor(WAIT);
    const list = (await call('GET', `/escalations?conversation_id=${t.conversation}`)).body
      .escalations as Json[];
    expect(list[0]).toMatchObject({
      status: 'resolved',
      assigned_to: 'dana',
      resolved_by: h.users.manager.username,
      resolution: 'Called the attorney; paused collection.',
    });
    expect(problems).toEqual([]);
  });

  it('screenshots of the queue and the plans at desktop and 375 px, with nothing scrolling sideways', async () => {
    const t = await tenant();
    await text(t, 'I can pay $50 per week for 3 months');
    const done = await settled(t.conversation, (s) => s.status === 'completed', 'the plan reply sent');
    const planId = done.metadata.payment_plan_id as string;
    const u = await tenant();
    const id = await queued(u);

    const page = await h.newPage('manager');
    const problems = watch(page);
    await page.goto(h.url('/dashboard'));
    await page.locator(`#item-${id}`).waitFor(WAIT);
    await page.locator('#shortcuts summary').click();
    await h.screenshot(page, 'approvals');
    await page.goto(h.url(`/dashboard/plans/${planId}`));
    await expect(page.getByRole('heading', { name: 'Schedule' }).count()).resolves.toBe(1);
    await h.screenshot(page, 'plans');

    const mobile = await h.newPage('manager', MOBILE);
    const mobileProblems = watch(mobile);
    await mobile.goto(h.url('/dashboard'));
    await expect(
      mobile.locator(`#item-${id}`).getByRole('button', { name: 'Approve and send' }).isVisible(),
    ).resolves.toBe(true);
    for (const path of [
      '/dashboard',
      '/dashboard/conversations',
      `/dashboard/conversations/${u.conversation}`,
      '/dashboard/escalations?status=any',
      '/dashboard/plans',
      `/dashboard/plans/${planId}`,
    ]) {
      await mobile.goto(h.url(path));
      expect(await hasHorizontalScroll(mobile), path).toBe(false);
    }
    expect(mobileProblems).toEqual([]);
    expect(problems).toEqual([]);
    await call('POST', '/orchestrate/approve-response', { response_queue_id: id, action: 'reject' });
  });
});
