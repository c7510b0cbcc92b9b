import { and, count, eq, lte, or } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterEach, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../../src/collections/collections-module.js';
import {
  auditLog,
  collectionsConversations,
  jobs,
  outbox,
  smsContacts,
  workflows,
} from '../../../src/core/db/schema.js';
import { ManualClock } from '../../../src/core/runtime.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * POST /orchestrate/outreach over real HTTP, on the collections module as the service wires it
 * (inbound texts, STOP, the outbox observer that completes a sent turn). The clock starts at 10:30 in New
 * York (00:30 in Tokyo); texts go through the dev outbox. Each test has its own service, so the
 * ledger holds only its tenants.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const START = '2025-01-15T15:30:00Z';
const HOUR = 3_600_000;

describe(`POST /orchestrate/outreach (${databaseKind})`, () => {
  let sut: ServiceUnderTest | undefined;
  let clock: ManualClock;
  let manager: string;
  let phoneSeq = 200;

  afterEach(async () => {
    await sut?.stop();
    sut = undefined;
  });

  async function start() {
    clock = new ManualClock(START);
    sut = await startServiceUnderTest({
      env: {},
      modules: [collectionsModule()],
      clock,
    });
    const token = await call('POST', '/admin/tokens', { name: 'maria-manager', role: 'manager' });
    expect(token.status).toBe(201);
    manager = token.body.token as string;
  }

  const call = async (method: string, path: string, body?: unknown) =>
    (await sut!.call(method, path, body)) as { status: number; body: Json };

  /** As the manager token, raw: the status, the content type and the parsed body. */
  async function outreach(body: unknown, raw = false) {
    const response = await fetch(`${sut!.service.url}/orchestrate/outreach`, {
      method: 'POST',
      headers: { authorization: `Bearer ${manager}`, 'content-type': 'application/json' },
      body: raw ? (body as string) : JSON.stringify(body),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: (await response.json()) as Json,
    };
  }

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

  let seq = 0;
  async function tenantText(t: { id: string; phone: string }, content: string, conversationId?: string) {
    seq += 1;
    const res = await call('POST', '/orchestrate/sms-received', {
      tenant_id: t.id,
      phone_number: t.phone,
      content,
      ...(conversationId ? { conversation_id: conversationId } : {}),
      message_id: `msg-${seq}`,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    // Past the coalescing window: the turn's draft job may run.
    clock.advance(3_001);
    return res.body;
  }

  const status = async (conversation: string) =>
    (await call('GET', `/orchestrate/workflow/${conversation}/status`)).body;
  const outbound = async (conversation: string) =>
    (
      (await call('GET', `/conversations/${conversation}/messages`)).body.messages as Json[] | undefined
    )?.filter((m) => m.direction === 'out') ?? [];
  const sentOnce = (conversation: string) =>
    eventually(
      () => outbound(conversation),
      (m) => m.length === 1 && ['sent', 'delivered'].includes(m[0]!.state),
      `one text in ${conversation}`,
    );
  /**
   * Waits until the worker has nothing to do now: no job running and none due on the test's clock.
   * Row counts taken before a request are only comparable once the turns already started have
   * written their last rows (a sent text's turn completes after the send).
   */
  const idle = () =>
    eventually(
      async () => {
        const due = or(
          eq(jobs.state, 'running'),
          and(eq(jobs.state, 'queued'), lte(jobs.runAt, clock.now())),
        );
        return Number((await sut!.service.database.db.select({ n: count() }).from(jobs).where(due))[0]!.n);
      },
      (n) => n === 0,
      'the worker idle',
    );
  const byTenant = (items: Json[]) => Object.fromEntries(items.map((i) => [i.tenant_id, i]));

  async function rowCounts() {
    const db = sut!.service.database.db;
    const of = async (table: PgTable) => Number((await db.select({ n: count() }).from(table))[0]!.n);
    return {
      workflows: await of(workflows),
      audit: await of(auditLog),
      conversations: await of(collectionsConversations),
      outbox: await of(outbox),
      contacts: await of(smsContacts),
    };
  }

  it('all_delinquent texts every delinquent tenant once, with the opt-out line; a second POST texts nobody', async () => {
    await start();
    const maria = await tenant();
    const ana = await tenant({
      name: 'Ana Ruiz',
      timezone: 'America/Chicago',
      amount_owed: 1200,
      tenant_portion: 300,
    });
    const stopped = await tenant({ name: 'Sam Lee' });
    const paidUp = await tenant({ name: 'Kim Park', amount_owed: 0 });
    const notDue = await tenant({ name: 'Lee Chan', due_date: '2025-02-01' });

    // Sam opts out by texting STOP: the suppression list, not the ledger, keeps him out.
    await tenantText(stopped, 'STOP', stopped.conversation);
    await eventually(
      () => status(stopped.conversation),
      (s) => s.status === 'opted_out',
      'opted out',
    );
    const confirmations = await eventually(
      () => outbound(stopped.conversation),
      (m) => m.length === 1,
      'the opt-out confirmation',
    );
    expect(confirmations[0]!.body).toContain('You are unsubscribed');

    const first = await outreach({ all_delinquent: true });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ requested: 3, dry_run: false });
    const scheduled = byTenant(first.body.scheduled);
    expect(Object.keys(scheduled).sort()).toEqual([maria.id, ana.id].sort());
    expect(first.body.skipped).toEqual([{ tenant_id: stopped.id, reason: 'opted_out' }]);
    for (const t of [maria, ana]) {
      expect(scheduled[t.id]).toMatchObject({
        conversation_id: t.conversation,
        status: 'processing',
        send_at: clock.now().toISOString(),
      });
      expect(scheduled[t.id].workflow_id).toMatch(/^workflow-[0-9a-f-]{36}$/);
    }

    const toMaria = await sentOnce(maria.conversation);
    expect(toMaria[0]!.body).toBe(
      'Hi Maria, this is a reminder about your rent. Your balance is $600. Your payment is 12 days late. ' +
        'Reply here if you have any questions.\nReply STOP to opt out',
    );
    expect(toMaria[0]!.body).toBe(scheduled[maria.id].text);
    const toAna = await sentOnce(ana.conversation);
    expect(toAna[0]!.body).toContain('Your portion of the $1,200 balance is $300.');
    expect(toAna[0]!.body.endsWith('\nReply STOP to opt out')).toBe(true);

    const done = await eventually(
      () => status(maria.conversation),
      (s) => s.status === 'completed',
      'the outreach turn completed',
    );
    expect(done).toMatchObject({
      workflow_id: scheduled[maria.id].workflow_id,
      current_step: 'response_sent',
      steps_completed: ['outreach', 'sending', 'response_sent'],
      metadata: { auto_approved: false, rule: 'outreach', guard_flags: [] },
    });
    const detail = (await call('GET', `/orchestrate/workflows/${scheduled[maria.id].workflow_id}`)).body;
    expect(detail.texts).toEqual([]);
    expect(detail.audit_trail[0]).toMatchObject({
      from: null,
      to: 'processing',
      reason: 'outreach',
      actor: 'maria-manager',
      details: {
        tenant_id: maria.id,
        mode: 'all_delinquent',
        ledger: { amount_owed: 600, tenant_portion: null, days_late: 12 },
        guard: { verdict: 'pass', flags: [] },
        recent_contact_hours: 72,
      },
    });

    // Nothing to the opted-out, the paid-up or the not-yet-due tenant.
    expect((await outbound(stopped.conversation)).map((m) => m.body)).toEqual(
      confirmations.map((m) => m.body),
    );
    expect(await outbound(paidUp.conversation)).toEqual([]);
    expect(await outbound(notDue.conversation)).toEqual([]);

    // Chosen by id, a tenant who is not delinquent or not in the ledger is named as skipped.
    const chosen = await outreach({ tenant_ids: [paidUp.id, notDue.id, 'tenant_nobody', paidUp.id] });
    expect(chosen.status).toBe(200);
    expect(chosen.body).toEqual({
      requested: 3,
      dry_run: false,
      scheduled: [],
      skipped: [
        { tenant_id: paidUp.id, reason: 'not_delinquent' },
        { tenant_id: notDue.id, reason: 'not_delinquent' },
        { tenant_id: 'tenant_nobody', reason: 'unknown_tenant' },
      ],
    });

    // The same POST again, an hour later: everyone was just contacted (or opted out).
    clock.advance(HOUR);
    await idle();
    const before = await rowCounts();
    const second = await outreach({ all_delinquent: true });
    expect(second.status).toBe(200);
    expect(second.body.scheduled).toEqual([]);
    expect(byTenant(second.body.skipped)).toEqual({
      [maria.id]: { tenant_id: maria.id, reason: 'recently_contacted' },
      [ana.id]: { tenant_id: ana.id, reason: 'recently_contacted' },
      [stopped.id]: { tenant_id: stopped.id, reason: 'opted_out' },
    });
    expect(await rowCounts()).toEqual(before);
    await new Promise((r) => setTimeout(r, 200));
    expect(await outbound(maria.conversation)).toHaveLength(1);
    expect(await outbound(ana.conversation)).toHaveLength(1);
  });

  it('holds the text where it is night and sends it when the window opens there', async () => {
    await start();
    const kenji = await tenant({ name: 'Kenji Sato', timezone: 'Asia/Tokyo', amount_owed: 900 });
    const opening = '2025-01-15T23:00:00.000Z'; // 08:00 in Tokyo

    const res = await outreach({ tenant_ids: [kenji.id] });
    expect(res.status).toBe(200);
    expect(res.body.scheduled).toEqual([
      {
        tenant_id: kenji.id,
        conversation_id: kenji.conversation,
        workflow_id: expect.stringMatching(/^workflow-/),
        status: 'scheduled',
        send_at: opening,
        text: expect.stringContaining('Hi Kenji, this is a reminder about your rent. Your balance is $900.'),
      },
    ]);
    const held = await status(kenji.conversation);
    expect(held).toMatchObject({ status: 'scheduled', metadata: { scheduled_for: opening } });

    // Asked again while it is held: one text is enough.
    clock.advance(2 * HOUR);
    const again = await outreach({ tenant_ids: [kenji.id] });
    expect(again.body.skipped).toEqual([{ tenant_id: kenji.id, reason: 'recently_contacted' }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await outbound(kenji.conversation)).toEqual([]);

    clock.set(new Date(Date.parse(opening) - 60_000));
    await new Promise((r) => setTimeout(r, 300));
    expect(await outbound(kenji.conversation)).toEqual([]);

    clock.set(opening);
    const sent = await sentOnce(kenji.conversation);
    expect(sent[0]!.body.endsWith('\nReply STOP to opt out')).toBe(true);
    await eventually(
      () => status(kenji.conversation),
      (s) => s.status === 'completed',
      'completed at 08:00',
    );
  });

  it('two concurrent POSTs send one text per tenant', async () => {
    await start();
    const ts = [await tenant(), await tenant({ name: 'Ana Ruiz' }), await tenant({ name: 'Sam Lee' })];
    const ids = ts.map((t) => t.id);
    const [a, b, c] = await Promise.all([
      outreach({ tenant_ids: ids }),
      outreach({ tenant_ids: [...ids].reverse() }),
      outreach({ all_delinquent: true }),
    ]);
    for (const r of [a, b, c]) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const all = [a, b, c].flatMap((r) => r.body.scheduled as Json[]);
    expect(all.map((s) => s.tenant_id).sort()).toEqual([...ids].sort());
    const skipped = [a, b, c].flatMap((r) => r.body.skipped as Json[]);
    expect(skipped).toHaveLength(6);
    expect(new Set(skipped.map((s) => s.reason))).toEqual(new Set(['recently_contacted']));
    for (const t of ts) await sentOnce(t.conversation);
    await new Promise((r) => setTimeout(r, 300));
    for (const t of ts) expect(await outbound(t.conversation)).toHaveLength(1);
    expect((await rowCounts()).workflows).toBe(3);
  });

  it('reuses the conversation the number already has, and waits for an escalation to be resolved', async () => {
    await start();
    const maria = await tenant();
    await tenantText(maria, 'What is my balance?', 'conv-seed-1');
    await eventually(
      () => status('conv-seed-1'),
      (s) => s.status === 'completed',
      'the reply sent',
    );

    // They just talked: no reminder on top.
    const now = await outreach({ tenant_ids: [maria.id] });
    expect(now.body.skipped).toEqual([{ tenant_id: maria.id, reason: 'recently_contacted' }]);

    // 36 h without a reply escalates the conversation; outreach leaves it to the person.
    clock.advance(36 * HOUR + 60_000);
    const escalations = await eventually(
      async () => (await call('GET', '/escalations?conversation_id=conv-seed-1')).body.escalations as Json[],
      (l) => l.length === 1,
      'the timeout escalation',
    );
    const blocked = await outreach({ tenant_ids: [maria.id] });
    expect(blocked.body.skipped).toEqual([{ tenant_id: maria.id, reason: 'conversation_escalated' }]);

    const resolved = await call('POST', `/escalations/${escalations[0]!.escalation_id}/resolve`, {
      resolution: 'Left a voicemail',
    });
    expect(resolved.status).toBe(200);
    clock.advance(37 * HOUR); // 73 h after the last text, 11:31 in New York
    const later = await outreach({ tenant_ids: [maria.id] });
    expect(later.body.scheduled).toMatchObject([
      { tenant_id: maria.id, conversation_id: 'conv-seed-1', status: 'processing' },
    ]);
    const sent = await eventually(
      () => outbound('conv-seed-1'),
      (m) => m.length === 2,
      'the reminder in the same conversation',
    );
    expect(sent[1]!.body).toContain('this is a reminder about your rent');
    expect(await outbound(maria.conversation)).toEqual([]);
  });

  it('bad bodies (400 problem+json) and dry runs write nothing; only managers may ask', async () => {
    await start();
    const maria = await tenant();
    const kenji = await tenant({ name: 'Kenji Sato', timezone: 'Asia/Tokyo' });
    const stopped = await tenant({ name: 'Sam Lee' });
    await tenantText(stopped, 'STOP', stopped.conversation);
    await eventually(
      () => status(stopped.conversation),
      (s) => s.status === 'opted_out',
      'opted out',
    );
    await idle();

    const before = await rowCounts();
    const bad: [unknown, boolean?][] = [
      [{}],
      [{ all_delinquent: false }],
      [{ dry_run: true }],
      [{ tenant_ids: [] }],
      [{ tenant_ids: [maria.id], all_delinquent: true }],
      [{ tenant_ids: Array.from({ length: 501 }, (_, i) => `t${i}`) }],
      [{ tenant_ids: [' '] }],
      [{ tenant_ids: maria.id }],
      [{ all_delinquent: 'yes' }],
      [{ all_delinquent: true, dry_run: 'no' }],
      ['{"all_delinquent": tru', true],
      ['[]', true],
    ];
    for (const [body, raw] of bad) {
      const res = await outreach(body, raw);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.type).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    }
    const neither = await outreach({ dry_run: true });
    expect(neither.body.detail).toContain('give exactly one of tenant_ids or all_delinquent: true');
    const viewer = await call('POST', '/admin/tokens', { name: 'vic-viewer', role: 'viewer' });
    const forbidden = await fetch(`${sut!.service.url}/orchestrate/outreach`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer.body.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ all_delinquent: true }),
    });
    expect(forbidden.status).toBe(403);
    const doc = (await (await fetch(`${sut!.service.url}/openapi.json`)).json()) as Json;
    expect(Object.keys(doc.paths['/orchestrate/outreach'].post.responses).sort()).toEqual(
      ['200', '400', '401', '403', '502', '503'].sort(),
    );
    expect(await rowCounts()).toEqual(before);

    const dry = await outreach({ all_delinquent: true, dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body.dry_run).toBe(true);
    expect(byTenant(dry.body.scheduled)).toEqual({
      [maria.id]: {
        tenant_id: maria.id,
        conversation_id: maria.conversation,
        workflow_id: null,
        status: 'processing',
        send_at: clock.now().toISOString(),
        text: expect.stringContaining('Hi Maria'),
      },
      [kenji.id]: {
        tenant_id: kenji.id,
        conversation_id: kenji.conversation,
        workflow_id: null,
        status: 'scheduled',
        send_at: '2025-01-15T23:00:00.000Z',
        text: expect.stringContaining('Hi Kenji'),
      },
    });
    expect(dry.body.skipped).toEqual([{ tenant_id: stopped.id, reason: 'opted_out' }]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await rowCounts()).toEqual(before);
    expect((await call('GET', `/orchestrate/workflow/${maria.conversation}/status`)).status).toBe(404);

    // The real run does what the dry run said.
    const real = await outreach({ all_delinquent: true });
    expect(
      (real.body.scheduled as Json[]).map(({ workflow_id: _w, ...rest }) => ({ ...rest, workflow_id: null })),
    ).toEqual(dry.body.scheduled);
    expect(real.body.skipped).toEqual(dry.body.skipped);
    await sentOnce(maria.conversation);
  });
});
