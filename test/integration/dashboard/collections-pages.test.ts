import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../../src/collections/collections-module.js';
import { ledgerTenants } from '../../../src/core/db/peer-tables.js';
import { ManualClock } from '../../../src/core/runtime.js';
import type { DashboardEnv, DashboardRole } from '../../../src/dashboard/dashboard-env.js';
import { registerApprovalsPages } from '../../../src/dashboard/pages/approvals.js';
import { registerConversationsPages } from '../../../src/dashboard/pages/conversations.js';
import { registerEscalationsPages } from '../../../src/dashboard/pages/escalations.js';
import { registerPlansPages } from '../../../src/dashboard/pages/plans.js';
import type { CoreServices, ModuleFactory } from '../../../src/main.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * The collections pages of the dashboard over app.request, on the whole service (collections
 * workflow, rules engine, dev outbox) and a real database. The pages are mounted on a plain
 * router whose only middleware says who is signed in (the shell's sessions and CSRF are tested
 * by the shell); the clock moves only when the test moves it.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CSRF = 'csrf-token-for-collections-pages';

describe(`dashboard collections pages (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  let core!: CoreServices;
  let app: Hono;
  const clock = new ManualClock('2025-01-15T15:30:00Z');
  let phoneSeq = 300;
  let seq = 0;

  beforeAll(async () => {
    const capture: ModuleFactory = (c) => {
      core = c;
      return { name: 'capture-core', register: () => undefined };
    };
    sut = await startServiceUnderTest({ env: {}, modules: [collectionsModule(), capture], clock });
    const dashboard = new Hono<DashboardEnv>();
    dashboard.use('*', async (c, next) => {
      const role = (c.req.header('x-test-role') ?? 'manager') as DashboardRole;
      c.set('user', { id: `u-${role}`, username: `${role}-alice`, role, mustChangePassword: false });
      c.set('csrfToken', CSRF);
      await next();
    });
    for (const register of [
      registerApprovalsPages,
      registerConversationsPages,
      registerEscalationsPages,
      registerPlansPages,
    ]) {
      register(dashboard, { core });
    }
    app = new Hono().route('/dashboard', dashboard);
  });
  afterAll(async () => {
    await sut?.stop();
  });

  const call = async (method: string, path: string, body?: unknown) =>
    (await sut.call(method, path, body)) as { status: number; body: Json };

  const get = async (path: string, role: DashboardRole = 'manager') => {
    const res = await app.request(path, { headers: { 'x-test-role': role } });
    return { status: res.status, html: await res.text(), headers: res.headers };
  };
  const post = async (path: string, form: Record<string, string>, role: DashboardRole = 'manager') => {
    const res = await app.request(path, {
      method: 'POST',
      headers: { 'x-test-role': role, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: CSRF, ...form }).toString(),
    });
    return { status: res.status, html: await res.text(), location: res.headers.get('location') };
  };

  async function tenant(overrides: Json = {}) {
    phoneSeq += 1;
    const id = `tenant_${phoneSeq}`;
    const body = {
      name: 'Maria Lopez',
      phone: `+1212555${String(phoneSeq).padStart(4, '0')}`,
      timezone: 'America/New_York',
      amount_owed: 600,
      due_date: '2025-01-03',
      ...overrides,
    };
    const put = await call('PUT', `/ledger/tenants/${id}`, body);
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    return { id, phone: body.phone as string, conversation: `conv_${id}` };
  }
  type T = Awaited<ReturnType<typeof tenant>>;

  async function text(t: T, content: string) {
    seq += 1;
    const res = await call('POST', '/orchestrate/sms-received', {
      tenant_id: t.id,
      phone_number: t.phone,
      content,
      conversation_id: t.conversation,
      timestamp: new Date(clock.now().getTime() + seq).toISOString(),
    });
    expect(res.status).toBe(202);
    clock.advance(3_001);
    return res;
  }
  const status = async (conversation: string) =>
    (await call('GET', `/orchestrate/workflow/${conversation}/status`)).body;
  const settled = (conversation: string, ok: (s: Json) => boolean, what: string) =>
    eventually(() => status(conversation), ok, what);
  const outbound = async (conversation: string) =>
    ((await call('GET', `/conversations/${conversation}/messages`)).body.messages as Json[]).filter(
      (m) => m.direction === 'out',
    );
  const approval = async (id: string) => {
    for (const s of ['pending', 'approved', 'modified', 'rejected', 'obsolete']) {
      const list = (await call('GET', `/orchestrate/approvals?status=${s}&limit=500`)).body
        .approvals as Json[];
      const found = list.find((a) => a.response_queue_id === id);
      if (found) return found;
    }
    return undefined;
  };

  async function queued(t: T, content = 'I lost my job and cannot pay right now') {
    await text(t, content);
    const waiting = await settled(t.conversation, (s) => s.status === 'awaiting_approval', 'a queued draft');
    return waiting.metadata.response_queue_id as string;
  }

  it('lists a pending draft with what a manager needs, escaped, with a form carrying the CSRF token', async () => {
    const t = await tenant({ amount_owed: 725.5 });
    const id = await queued(t, 'I lost my job <script>alert(1)</script> and cannot pay');
    const page = await get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.html).toContain(`id="item-${id}"`);
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.html).toContain('$725.50 owed');
    expect(page.html).toMatch(/Confidence<\/dt><dd>\d+%<\/dd>/);
    expect(page.html).toContain('Intent</dt>');
    expect(page.html).toContain('Guard flags</dt>');
    expect(page.html).toContain(`name="_csrf" value="${CSRF}"`);
    expect(page.html).toContain(`action="/dashboard/approvals/${id}"`);
    expect(page.html).toContain('hx-trigger="every 5s"');
    expect(page.html).toContain('Keyboard shortcuts');
    expect(page.html).not.toMatch(/<script>[^<]/); // no inline script: the shortcuts are an asset
    const script = page.html.match(
      /<script src="(\/dashboard\/assets\/collections\/approvals\.[0-9a-f]+\.js)"/,
    );
    expect(script).not.toBeNull();
    const asset = await app.request(script![1]!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toContain("case 'j'");

    const viewer = await get('/dashboard', 'viewer');
    expect(viewer.html).toContain(`id="item-${id}"`);
    expect(viewer.html).not.toContain(`action="/dashboard/approvals/${id}"`);
    expect(viewer.html).not.toContain('Approve and send');
  });

  it("each item shows its own tenant's balance and plan: the turn's plan, else the conversation's newest", async () => {
    // The page reads balances and plans for all items at once (docs/performance.md): each must
    // still land on its own item.
    const offered = await tenant({ amount_owed: 640 });
    await text(offered, 'I can pay $40 per week for 4 months');
    const held = await settled(
      offered.conversation,
      (s) => s.status === 'awaiting_approval',
      'the plan held',
    );
    const turnPlan = held.metadata.payment_plan_id as string;
    const ownPlan = held.metadata.response_queue_id as string;

    const earlier = await tenant({ amount_owed: 600 });
    await text(earlier, 'I can pay $50 per week for 3 months');
    const done = await settled(earlier.conversation, (s) => s.status === 'completed', 'the plan reply sent');
    const conversationPlan = done.metadata.payment_plan_id as string;
    const later = await queued(earlier);

    const plain = await tenant({ amount_owed: 310.25 });
    const unplanned = await queued(plain);
    const stranger = await tenant({ amount_owed: 99 });
    const unknown = await queued(stranger);
    // The ledger forgets the last tenant (no API deletes one): its item says so, the others keep theirs.
    await core.db.delete(ledgerTenants).where(eq(ledgerTenants.tenantId, stranger.id));

    const html = (await get('/dashboard')).html;
    const item = (id: string) => {
      const start = html.indexOf(`id="item-${id}"`);
      expect(start, id).toBeGreaterThan(-1);
      return html.slice(start, html.indexOf('</article>', start));
    };
    for (const plan of [turnPlan, conversationPlan]) expect(plan).toMatch(/^pp_/);
    expect(item(ownPlan)).toContain('$640.00 owed');
    expect(item(ownPlan)).toContain(`/dashboard/plans/${turnPlan}`);
    expect(item(ownPlan)).toContain('$40.00 a week');
    expect(item(later)).toContain('$600.00 owed');
    expect(item(later)).toContain(`/dashboard/plans/${conversationPlan}`);
    expect(item(later)).toContain('$50.00 a week');
    expect(item(unplanned)).toContain('$310.25 owed');
    expect(item(unplanned)).not.toContain('/dashboard/plans/');
    expect(item(unknown)).toContain('not in the ledger');
    expect(item(unknown)).not.toContain('$99.00');
  });

  it('approve from the queue sends the draft; the conversation shows the text and the decision', async () => {
    const t = await tenant();
    const id = await queued(t);
    const draft = (await approval(id))!.draft as string;
    const res = await post(`/dashboard/approvals/${id}`, {
      action: 'approve',
      approved_text: draft,
      notes: 'ok',
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe(`/dashboard?decided=${id}`);
    expect(await approval(id)).toMatchObject({
      status: 'approved',
      decided_by: 'manager-alice',
      notes: 'ok',
    });
    await settled(t.conversation, (s) => s.status === 'completed', 'the approved reply sent');
    const sent = await outbound(t.conversation);
    expect(sent.map((m) => m.body)).toEqual([`${draft}\nReply STOP to opt out`]);

    const after = await get(res.location!);
    expect(after.html).toContain(`Item ${id} approved`);
    const conversation = await get(`/dashboard/conversations/${t.conversation}`);
    expect(conversation.status).toBe(200);
    expect(conversation.html).toContain('I lost my job and cannot pay right now');
    expect(conversation.html).toContain('Reply STOP to opt out');
    expect(conversation.html).toMatch(/cs-badge-ok">(sent|delivered)</);
    expect(conversation.html).toContain('approval:approved');
    expect(conversation.html).toContain('manager-alice');

    const again = await post(`/dashboard/approvals/${id}`, { action: 'reject' });
    expect(again.status).toBe(409);
    expect(again.html).toContain('already approved by manager-alice');
    expect(await outbound(t.conversation)).toHaveLength(1);
  });

  it('an edited draft is sent as a modification, with the newlines the tenant expects', async () => {
    const t = await tenant();
    const id = await queued(t);
    const res = await post(`/dashboard/approvals/${id}`, {
      action: 'approve',
      approved_text: 'Hi Maria,\r\ncall us and we will find a plan together.',
    });
    expect(res.status).toBe(303);
    expect(await approval(id)).toMatchObject({ status: 'modified' });
    await settled(t.conversation, (s) => s.status === 'completed', 'the modified reply sent');
    expect((await outbound(t.conversation)).map((m) => m.body)).toEqual([
      'Hi Maria,\ncall us and we will find a plan together.\nReply STOP to opt out',
    ]);
  });

  it('reject sends nothing', async () => {
    const t = await tenant();
    const id = await queued(t);
    const res = await post(`/dashboard/approvals/${id}`, { action: 'reject', approved_text: '' });
    expect(res.status).toBe(303);
    expect(await approval(id)).toMatchObject({ status: 'rejected' });
    expect((await status(t.conversation)).current_step).toBe('rejected');
    expect(await outbound(t.conversation)).toHaveLength(0);
    expect((await get(res.location!)).html).toContain(`Item ${id} rejected; nothing was sent.`);
  });

  it('an item made obsolete by a newer text gets a clear 409 and leaves the queue with its reason', async () => {
    const t = await tenant();
    const id = await queued(t);
    await text(t, 'What is my balance?');
    await settled(
      t.conversation,
      (s) => s.status === 'awaiting_approval' && s.metadata.response_queue_id !== id,
      'a new queued draft',
    );
    const res = await post(`/dashboard/approvals/${id}`, { action: 'approve', approved_text: 'Hello' });
    expect(res.status).toBe(409);
    expect(res.html).toContain('role="alert"');
    expect(res.html).toContain(`Item ${id} (conversation ${t.conversation}) was not decided.`);
    expect(res.html).toContain('the tenant has texted again');
    expect(res.html).toContain(`id="closed-${id}"`);
    expect(res.html).toContain('Obsolete: the tenant texted again');
    expect(await outbound(t.conversation)).toHaveLength(0);
  });

  it('a viewer cannot decide: 403 and nothing changes', async () => {
    const t = await tenant();
    const id = await queued(t);
    const res = await post(
      `/dashboard/approvals/${id}`,
      { action: 'approve', approved_text: 'Hello' },
      'viewer',
    );
    expect(res.status).toBe(403);
    expect(await approval(id)).toMatchObject({ status: 'pending' });
    const reject = await post(`/dashboard/approvals/${id}`, { action: 'reject' });
    expect(reject.status).toBe(303);
  });

  it('bad form input gets a clear 4xx and changes nothing', async () => {
    const t = await tenant();
    const id = await queued(t);
    const cases: [Record<string, string>, number, string][] = [
      [{ action: 'send-it' }, 400, 'Choose Approve or Reject'],
      [{}, 400, 'Choose Approve or Reject'],
      [{ action: 'approve', approved_text: '   ' }, 400, 'The reply is empty'],
      [{ action: 'modify' }, 400, 'The reply is empty'],
      [{ action: 'approve', approved_text: 'x'.repeat(2001) }, 400, 'at most 2000'],
    ];
    for (const [form, code, words] of cases) {
      const res = await post(`/dashboard/approvals/${id}`, form);
      expect(res.status, JSON.stringify(form)).toBe(code);
      expect(res.html).toContain(words);
    }
    expect((await post('/dashboard/approvals/resp_nothing', { action: 'reject' })).status).toBe(404);
    expect((await post('/dashboard/approvals/not-an-id', { action: 'reject' })).status).toBe(404);
    expect(await approval(id)).toMatchObject({ status: 'pending' });
    expect((await get('/dashboard/conversations/conv_nobody')).status).toBe(404);
    expect((await get('/dashboard/conversations?state=weird')).status).toBe(400);
    expect((await get('/dashboard/escalations?severity=apocalyptic')).status).toBe(400);
    expect((await get('/dashboard/escalations?status=maybe')).status).toBe(400);
    expect((await get('/dashboard/plans?status=pending')).status).toBe(400);
    expect((await get('/dashboard/plans/pp_nothing')).status).toBe(404);
    await post(`/dashboard/approvals/${id}`, { action: 'reject' });
  });

  it('the queue poll answers 204 while nothing changed and the new list when it did', async () => {
    const page = await get('/dashboard');
    const signature = page.html.match(/hx-get="\/dashboard\/approvals\/queue\?v=([^"]+)"/)![1]!;
    const same = await app.request(`/dashboard/approvals/queue?v=${signature}`, {
      headers: { 'hx-request': 'true' },
    });
    expect(same.status).toBe(204);
    const t = await tenant();
    const id = await queued(t);
    const changed = await get(`/dashboard/approvals/queue?v=${signature}`);
    expect(changed.status).toBe(200);
    expect(changed.html).toContain(`id="item-${id}"`);
    expect(changed.html).toContain('hx-swap-oob="true"');
    expect(changed.html).not.toContain('<html');
    await post(`/dashboard/approvals/${id}`, { action: 'reject' });
  });

  it('escalations: listed, filtered, assigned and resolved; a second resolve is a clear 409', async () => {
    const t = await tenant();
    await text(t, 'My attorney will contact you about this');
    const escalated = await settled(t.conversation, (s) => s.status === 'escalated', 'escalated');
    const escId = escalated.metadata.escalation_id as string;

    const list = await get('/dashboard/escalations');
    expect(list.status).toBe(200);
    expect(list.html).toContain(`id="esc-${escId}"`);
    expect(list.html).toContain('legal_team');
    expect((await get('/dashboard/escalations?severity=low')).html).not.toContain(`id="esc-${escId}"`);
    expect((await get('/dashboard/escalations?severity=high&type=legal')).html).toContain(
      `id="esc-${escId}"`,
    );
    expect((await get('/dashboard/escalations?assignee=legal_team')).html).toContain(`id="esc-${escId}"`);
    expect((await get('/dashboard/escalations', 'viewer')).html).not.toContain(
      `/escalations/${escId}/resolve`,
    );

    const back = 'status=open&severity=high';
    const assigned = await post(`/dashboard/escalations/${escId}/assign`, { assigned_to: 'dana', back });
    expect(assigned.status).toBe(303);
    expect(assigned.location).toBe(`/dashboard/escalations?status=open&severity=high&done=${escId}`);
    expect(
      ((await call('GET', `/escalations?conversation_id=${t.conversation}`)).body.escalations as Json[])[0],
    ).toMatchObject({ assigned_to: 'dana' });
    expect((await post(`/dashboard/escalations/${escId}/assign`, { assigned_to: '  ' })).status).toBe(400);
    expect(
      (await post(`/dashboard/escalations/${escId}/assign`, { assigned_to: 'x' }, 'viewer')).status,
    ).toBe(403);

    const resolved = await post(`/dashboard/escalations/${escId}/resolve`, {
      resolution: 'Spoke to the attorney <b>today</b>',
      back,
    });
    expect(resolved.status).toBe(303);
    const escalations = (await call('GET', `/escalations?conversation_id=${t.conversation}`)).body
      .escalations as Json[];
    expect(escalations[0]).toMatchObject({ status: 'resolved', resolved_by: 'manager-alice' });
    expect((await status(t.conversation)).current_step).toBe('escalation_resolved');
    const shown = await get(`/dashboard/escalations?status=resolved&done=${escId}`);
    expect(shown.html).toContain(`Escalation ${escId} is resolved (by manager-alice).`);
    expect(shown.html).toContain('Spoke to the attorney &lt;b&gt;today&lt;/b&gt;');

    const again = await post(`/dashboard/escalations/${escId}/resolve`, {});
    expect(again.status).toBe(409);
    expect(again.html).toContain('already resolved by manager-alice');
    const reassign = await post(`/dashboard/escalations/${escId}/assign`, { assigned_to: 'eve' });
    expect(reassign.status).toBe(409);
    expect(
      ((await call('GET', `/escalations?conversation_id=${t.conversation}`)).body.escalations as Json[])[0],
    ).toMatchObject({ assigned_to: 'dana' });
    expect((await post('/dashboard/escalations/esc_nothing/resolve', {})).status).toBe(404);

    const conversation = await get(`/dashboard/conversations/${t.conversation}`);
    expect(conversation.html).toContain('escalated:legal');
    expect(conversation.html).toContain('escalation_resolved');
  });

  it('payment plans: list, schedule, payments and a missed instalment', async () => {
    const t = await tenant();
    await text(t, 'I can pay $50 per week for 3 months');
    const done = await settled(t.conversation, (s) => s.status === 'completed', 'the plan reply sent');
    const planId = done.metadata.payment_plan_id as string;
    expect(planId).toMatch(/^pp_/);
    const plan = (await call('GET', `/orchestrate/payment-plans/${planId}`)).body;
    const first = (plan.start_date as string).slice(0, 10);
    const paid = await call('POST', `/orchestrate/payment-plans/${planId}/payments`, {
      amount: 50,
      payment_date: clock.now().toISOString().slice(0, 10),
      payment_method: 'card',
      reference: 'ref-1',
    });
    expect(paid.status).toBe(201);

    const list = await get('/dashboard/plans');
    expect(list.status).toBe(200);
    expect(list.html).toContain(`/dashboard/plans/${planId}`);
    expect((await get(`/dashboard/plans?status=${plan.status}`)).html).toContain(planId);
    expect((await get('/dashboard/plans?status=rejected')).html).not.toContain(planId);

    const detail = await get(`/dashboard/plans/${planId}`);
    expect(detail.status).toBe(200);
    expect(detail.html).toContain(first);
    expect(detail.html).toContain('ref-1');
    expect(detail.html).toContain('Missed instalments (0)');
    expect(detail.html).toMatch(/cs-badge-ok">paid</);

    // Three weeks on, the second instalment (the first was prepaid) is past its grace days.
    clock.advance(21 * 86_400_000);
    const later = await get(`/dashboard/plans/${planId}`);
    expect(later.html).toMatch(/Missed instalments \([1-9]\)/);
    expect(later.html).toMatch(/cs-badge-bad">missed</);
  });
});
