import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../../src/collections/collections-module.js';
import {
  collectionsApprovals,
  collectionsEscalations,
  ledgerTenants,
  outbox,
  smsMessages,
  workflows,
} from '../../../src/core/db/schema.js';
import type { DashboardEnv, DashboardRole } from '../../../src/dashboard/dashboard-env.js';
import { registerEmailDraftPages } from '../../../src/dashboard/pages/email-drafts.js';
import { registerMetricsPages } from '../../../src/dashboard/pages/metrics.js';
import { registerSandboxPages } from '../../../src/dashboard/pages/sandbox.js';
import { emailReplyModule } from '../../../src/email-reply/email-reply-module.js';
import type { CoreServices, ModuleFactory } from '../../../src/main.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * The email drafts, metrics and sandbox pages on the real service (rules engine, dev outbox, replies
 * kept in the outbox), driven in-process through a bare dashboard router: a middleware stands in for
 * the shell's session, so these tests do not depend on sign-in or CSRF (the browser test covers those).
 */
const OWNER = '+12025550100';

describe(`dashboard: email drafts, metrics, sandbox (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  let core: CoreServices;
  const capture: ModuleFactory = (c) => {
    core = c;
    return { name: 'capture-core', register: () => undefined };
  };

  beforeAll(async () => {
    sut = await startServiceUnderTest({
      env: {
        YOUR_PHONE_NUMBER: OWNER,
        OWNER_NAME: 'Sam',
        // Replies may go out at any hour of the test run, and a turn is drafted at once.
        SEND_WINDOW_START_HOUR: '0',
        SEND_WINDOW_END_HOUR: '24',
        TURN_COALESCE_MS: '0',
      },
      modules: [emailReplyModule(), collectionsModule(), capture],
    });
  });
  afterAll(() => sut.stop());

  function dashboard(role: DashboardRole) {
    const pages = new Hono<DashboardEnv>();
    pages.use(async (c, next) => {
      c.set('user', { id: `u-${role}`, username: role, role, mustChangePassword: false });
      c.set('csrfToken', 'csrf-token-for-tests');
      await next();
    });
    for (const register of [registerEmailDraftPages, registerMetricsPages, registerSandboxPages]) {
      register(pages, { core });
    }
    pages.onError((error, c) => {
      console.error(error);
      return c.text(`500: ${String(error)}`, 500);
    });
    return new Hono().route('/dashboard', pages);
  }
  const as = (role: DashboardRole) => {
    // Built on first use: the service (and its core) starts in beforeAll.
    let built: ReturnType<typeof dashboard> | undefined;
    const app = {
      request: (...args: Parameters<Hono['request']>) => (built ??= dashboard(role)).request(...args),
    };
    return {
      get: async (path: string) => {
        const res = await app.request(path);
        return { status: res.status, html: await res.text() };
      },
      post: async (path: string, form: Record<string, string>) => {
        const res = await app.request(path, { method: 'POST', body: new URLSearchParams(form) });
        return { status: res.status, location: res.headers.get('location'), html: await res.text() };
      },
    };
  };
  const manager = as('manager');
  const viewer = as('viewer');

  const thread = async (person: string) =>
    (await manager.get(`/dashboard/sandbox/thread?as=${encodeURIComponent(person)}`)).html;
  const until = (read: () => Promise<string>, ok: (html: string) => boolean, what: string) =>
    eventually(read, ok, what, 30_000);

  async function dropEmail(subject: string, text: string) {
    const res = await manager.post('/dashboard/sandbox/email', {
      _csrf: 'csrf-token-for-tests',
      as: 'owner:default',
      from: 'Ana Silva <ana@example.net>',
      subject,
      text,
    });
    expect(res.status, res.html).toBe(303);
  }

  /** The draft on the email page that is waiting for the owner, with its version. */
  async function waitingDraft(subject: string) {
    const html = await until(
      async () => (await manager.get('/dashboard/email')).html,
      (h) => h.includes('name="draft_version"') && h.includes(subject),
      `a waiting draft for "${subject}"`,
    );
    const article = /<article[^>]*data-workflow="([0-9a-f-]{36})"[\s\S]*?<\/article>/.exec(html);
    expect(article, html).not.toBeNull();
    const version = /name="draft_version" value="(\d+)"/.exec(article![0]);
    return { id: article![1]!, version: version![1]!, html: article![0] };
  }

  const workflowState = async (id: string) =>
    (await core.db.select({ state: workflows.state }).from(workflows).where(eq(workflows.id, id)))[0]?.state;

  it('sandbox, tenant: a tenant added in the sandbox texts, and the reply comes back to the thread', async () => {
    const page = await manager.get('/dashboard/sandbox');
    expect(page.status).toBe(200);
    expect(page.html).toContain(`Mailbox owner, ${OWNER}`);

    const added = await manager.post('/dashboard/sandbox/tenants', {
      _csrf: 'x',
      tenant_id: 't1',
      name: 'Maria Lopez',
      phone: '+12125550101',
      timezone: 'America/New_York',
      amount_owed: '600',
      days_late: '12',
    });
    expect(added.status, added.html).toBe(303);
    expect(added.location).toBe('/dashboard/sandbox?as=tenant%3At1&done=tenant');
    expect((await manager.get(added.location!)).html).toContain('Maria Lopez (tenant t1)');

    const sent = await manager.post('/dashboard/sandbox/text', {
      as: 'tenant:t1',
      body: 'What is my balance?',
    });
    expect(sent.status, sent.html).toBe(303);
    const html = await until(
      () => thread('tenant:t1'),
      (h) => h.includes('data-direction="out"'),
      'the answer in the tenant thread',
    );
    expect(html).toContain('What is my balance?');
    expect(html).toMatch(/\$600/);
  });

  it('sandbox, owner: an email becomes a text with the draft; "1" sends the reply and confirms', async () => {
    await dropEmail('Meeting tomorrow', 'Are we still on for the meeting tomorrow at 2pm?');
    await until(
      () => thread('owner:default'),
      (h) => h.includes('📧') && h.includes('1=Send 2=Edit 3=Ignore'),
      'the draft texted to the owner',
    );
    const { id } = await waitingDraft('Meeting tomorrow');
    const answered = await manager.post('/dashboard/sandbox/text', { as: 'owner:default', body: '1' });
    expect(answered.status).toBe(303);
    await until(
      () => thread('owner:default'),
      (h) => h.includes('✅ Reply sent to'),
      'the confirmation text',
    );
    expect(await workflowState(id)).toBe('reply_sent');
    const [reply] = await core.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.channel, 'email'), eq(outbox.workflowId, id)));
    expect(reply?.state).toBe('sent');
    const email = (await manager.get('/dashboard/email')).html;
    expect(email).toMatch(new RegExp(`data-workflow="${id}" data-status="reply_sent"`));
  });

  it('email drafts: approving the waiting draft sends it; a stale or repeated approval is refused (409)', async () => {
    await dropEmail('Invoice', 'Can you send me the invoice for March?');
    const draft = await waitingDraft('Invoice');
    expect(draft.html).toContain('Send this reply');

    const stale = await manager.post(`/dashboard/email/${draft.id}/send`, {
      draft_version: String(Number(draft.version) + 1),
    });
    expect(stale.status).toBe(409);
    expect(stale.html).toContain('newer');
    expect(await workflowState(draft.id)).toBe('awaiting_user');

    const ok = await manager.post(`/dashboard/email/${draft.id}/send`, { draft_version: draft.version });
    expect(ok.status, ok.html).toBe(303);
    expect(ok.location).toBe('/dashboard/email?done=send');
    await eventually(
      () => workflowState(draft.id),
      (s) => s === 'reply_sent',
      'the reply sent',
    );

    const again = await manager.post(`/dashboard/email/${draft.id}/send`, { draft_version: draft.version });
    expect(again.status).toBe(409);
    await until(
      () => thread('owner:default'),
      (h) => (h.match(/✅ Reply sent to/g) ?? []).length >= 2,
      'the second confirmation',
    );
  });

  it('email drafts: an edit from the page redrafts; ignore settles it', async () => {
    await dropEmail('Friday', 'Are you free on Friday?');
    const first = await waitingDraft('Friday');
    const empty = await manager.post(`/dashboard/email/${first.id}/edit`, {
      draft_version: first.version,
      instructions: '   ',
    });
    expect(empty.status).toBe(400);
    const edit = await manager.post(`/dashboard/email/${first.id}/edit`, {
      draft_version: first.version,
      instructions: 'Say NO politely!',
    });
    expect(edit.status, edit.html).toBe(303);
    const second = await until(
      async () => (await waitingDraft('Friday')).version,
      (v) => Number(v) > Number(first.version),
      'the redraft',
    );
    const ignored = await manager.post(`/dashboard/email/${first.id}/ignore`, { draft_version: second });
    expect(ignored.status, ignored.html).toBe(303);
    await eventually(
      () => workflowState(first.id),
      (s) => s === 'user_ignored',
      'ignored',
    );
  });

  it('a viewer reads every page but cannot act', async () => {
    await dropEmail('Viewer check', 'Is the office open on Monday?');
    const draft = await waitingDraft('Viewer check');
    const page = await viewer.get('/dashboard/email');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Viewer check');
    expect(page.html).not.toContain('name="draft_version"');
    const refused = await viewer.post(`/dashboard/email/${draft.id}/send`, { draft_version: draft.version });
    expect(refused.status).toBe(403);
    expect(await workflowState(draft.id)).toBe('awaiting_user');

    const inbound = async () => ((await thread('owner:default')).match(/data-direction="in"/g) ?? []).length;
    const before = await inbound();
    const sandbox = await viewer.get('/dashboard/sandbox');
    expect(sandbox.status).toBe(200);
    expect(sandbox.html).not.toContain('action="/dashboard/sandbox/text"');
    expect((await viewer.post('/dashboard/sandbox/text', { as: 'owner:default', body: '3' })).status).toBe(
      403,
    );
    expect((await viewer.post('/dashboard/sandbox/email', { as: 'owner:default', text: 'x' })).status).toBe(
      403,
    );
    expect((await viewer.post('/dashboard/sandbox/tenants', { tenant_id: 't9' })).status).toBe(403);
    expect(await inbound()).toBe(before);
    expect((await viewer.get('/dashboard/metrics')).status).toBe(200);

    // Settle it so that later drafts are shown.
    expect(
      (await manager.post(`/dashboard/email/${draft.id}/ignore`, { draft_version: draft.version })).status,
    ).toBe(303);
  });

  it('bad form input is a clear 4xx and changes nothing', async () => {
    // What a form could add: an inbound text, an email workflow, a tenant. (Outbound texts of the
    // earlier tests may still be on their way, so those are not counted.)
    const count = async () => [
      (await core.db.select({ id: smsMessages.id }).from(smsMessages).where(eq(smsMessages.direction, 'in')))
        .length,
      (await core.db.select({ id: workflows.id }).from(workflows)).length,
      (await core.db.select({ id: ledgerTenants.tenantId }).from(ledgerTenants)).length,
    ];
    const before = await count();
    const cases: [string, Record<string, string>, number][] = [
      ['/dashboard/sandbox/text', { as: 'owner:default', body: '  ' }, 400],
      ['/dashboard/sandbox/text', { as: 'owner:default', body: 'x'.repeat(1601) }, 400],
      ['/dashboard/sandbox/text', { as: 'tenant:nobody', body: 'hi' }, 400],
      ['/dashboard/sandbox/text', { as: '+15555550123', body: 'hi' }, 400],
      ['/dashboard/sandbox/email', { as: 'tenant:t1', from: 'a@b.c', text: 'hi' }, 400],
      ['/dashboard/sandbox/email', { as: 'owner:default', from: 'not an address', text: 'hi' }, 400],
      ['/dashboard/sandbox/email', { as: 'owner:default', from: 'a@example.net', text: '' }, 400],
      [
        '/dashboard/sandbox/tenants',
        {
          tenant_id: 't2',
          name: 'X',
          phone: '+12125550102',
          timezone: 'UTC',
          amount_owed: 'lots',
          days_late: '1',
        },
        400,
      ],
      [
        '/dashboard/sandbox/tenants',
        { tenant_id: 't2', name: 'X', phone: 'abc', timezone: 'UTC', amount_owed: '5', days_late: '1' },
        400,
      ],
      [
        '/dashboard/sandbox/tenants',
        { tenant_id: 't2', name: 'X', phone: OWNER, timezone: 'UTC', amount_owed: '5', days_late: '1' },
        400,
      ],
      [
        '/dashboard/sandbox/tenants',
        {
          tenant_id: 't2',
          name: 'X',
          phone: '+12125550101',
          timezone: 'UTC',
          amount_owed: '5',
          days_late: '1',
        },
        409,
      ],
      ['/dashboard/email/not-a-uuid/send', { draft_version: '1' }, 404],
      [`/dashboard/email/${randomUUID()}/send`, { draft_version: '1' }, 404],
      [`/dashboard/email/${randomUUID()}/approve`, { draft_version: '1' }, 404],
      [`/dashboard/email/${randomUUID()}/send`, { draft_version: 'one' }, 400],
      [`/dashboard/email/${randomUUID()}/send`, {}, 400],
    ];
    for (const [path, form, status] of cases) {
      const res = await manager.post(path, form);
      expect(res.status, `${path} ${JSON.stringify(form)}: ${res.html}`).toBe(status);
      expect(res.html).toContain('role="alert"');
    }
    expect(await count()).toEqual(before);
    expect((await manager.get('/dashboard/metrics?window=1y')).status).toBe(400);
    expect((await manager.get('/dashboard/sandbox?as=tenant:nobody')).status).toBe(404);
  });

  it('metrics: the charts show the stored figures of an hour bucket', async () => {
    const hour = 3_600_000;
    const start = new Date(Math.floor((Date.now() - 5 * hour) / hour) * hour);
    const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000);
    const label = `${start.toISOString().slice(0, 10)} ${start.toISOString().slice(11, 13)}:00`;
    await core.db.insert(smsMessages).values(
      [1, 2, 3, 4, 5, 6, 7].map((i) => ({
        direction: i <= 4 ? 'in' : 'out',
        provider: 'metrics-probe',
        providerMessageId: `probe-${i}-${randomUUID()}`,
        fromNumber: '+12125550177',
        toNumber: 'countersign',
        body: `probe ${i}`,
        segments: 1,
        encoding: 'gsm7',
        state: i <= 4 ? 'received' : 'delivered',
        createdAt: at(i),
        updatedAt: at(i),
      })),
    );
    await core.db.insert(workflows).values(
      [true, true, true, false].map((auto) => ({
        id: randomUUID(),
        kind: 'collections',
        subjectKey: 'conv_metrics_probe',
        state: 'completed',
        data: { decision: auto ? 'auto_send' : 'manager_approval', auto_approved: auto },
        createdAt: at(10),
        updatedAt: at(10),
      })),
    );
    await core.db.insert(collectionsApprovals).values(
      [10, 20].map((minutes, i) => ({
        id: `resp_probe_${i}_${randomUUID()}`,
        workflowId: randomUUID(),
        conversationId: 'conv_metrics_probe',
        phone: '+12125550177',
        tenantText: 'probe',
        draft: 'probe',
        confidence: 0.7,
        intent: 'general',
        flags: [],
        rule: 'probe',
        status: 'approved',
        createdAt: at(5),
        decidedAt: at(5 + minutes),
      })),
    );
    await core.db.insert(collectionsEscalations).values(
      [1, 2].map((i) => ({
        id: `esc_probe_${i}_${randomUUID()}`,
        conversationId: 'conv_metrics_probe',
        type: 'metrics_probe',
        reason: 'probe',
        severity: 'low',
        autoDetected: true,
        escalatedBy: 'system',
        assignedTo: 'manager',
        status: 'open',
        metadata: {},
        expectedResolutionAt: at(60),
        createdAt: at(30),
      })),
    );

    const page = await manager.get('/dashboard/metrics');
    expect(page.status).toBe(200);
    const bar = (series: string, bucket: string) =>
      new RegExp(`data-series="${series}" data-bucket="${bucket}" data-value="([\\d.]+)"`).exec(
        page.html,
      )?.[1];
    expect(bar('in', label)).toBe('4');
    expect(bar('out', label)).toBe('3');
    expect(bar('rate', label)).toBe('0.75');
    expect(bar('wait', label)).toBe(String(15 * 60_000));
    expect(bar('escalations', 'metrics_probe')).toBe('2');
    expect(page.html).toMatch(/role="img" aria-labelledby="texts-title texts-desc"/);
    expect(page.html).toContain('<title id="texts-title">Texts per hour</title>');
    // The table fallback has the same figures.
    const row = new RegExp(
      `<th scope="row">${label}</th><td data-series="in">(\\d+)</td><td data-series="out">(\\d+)</td>`,
    ).exec(page.html);
    expect(row?.slice(1)).toEqual(['4', '3']);
    expect(page.html).toMatch(/75%/);

    const week = await manager.get('/dashboard/metrics?window=7d');
    expect(week.status).toBe(200);
    expect(week.html).toContain('Texts per 6 hours');
    expect(week.html).toMatch(/data-series="escalations" data-bucket="metrics_probe" data-value="2"/);
  });
});
