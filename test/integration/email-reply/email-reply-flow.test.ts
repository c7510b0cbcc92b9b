import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../../src/core/db/schema.js';
import { emailReplyModule } from '../../../src/email-reply/email-reply-module.js';
import type { Service } from '../../../src/main.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * The email seed's flow through the real service, on the embedded defaults (rules engine, dev
 * SMS outbox, replies kept in the outbox): mail in by POST /emails, the owner's commands by
 * POST /orchestrator/sms-response, as the seed's gateway forwards them.
 */
const OWNER = '+14155550111';

describe(`email auto-reply flow (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  let service: Service;
  const call: ServiceUnderTest['call'] = (...args) => sut.call(...args);

  beforeAll(async () => {
    sut = await startServiceUnderTest({
      env: { YOUR_PHONE_NUMBER: OWNER, EMAIL_ADDRESS: 'owner@example.com', OWNER_NAME: 'Sam' },
      modules: [emailReplyModule()],
    });
    service = sut.service;
  });
  afterAll(() => sut.stop());

  let n = 0;
  async function email(subject: string, text: string, headers: Record<string, string> = {}) {
    n += 1;
    const id = `mail-${n}-${Date.now()}@example.net`;
    const res = await call('POST', '/emails', {
      message_id: `<${id}>`,
      from: 'Ana Silva <ana@example.net>',
      to: ['owner@example.com'],
      subject,
      text,
      headers,
      received_at: new Date().toISOString(),
    });
    expect(res.status).toBe(202);
    return id;
  }

  async function ownerTexts(): Promise<string[]> {
    const res = await call('GET', `/sms/messages?phone=${encodeURIComponent(OWNER)}&limit=200`);
    const messages = res.body.messages as { direction: string; body: string }[];
    return messages.filter((m) => m.direction === 'out').map((m) => m.body);
  }

  let texts = 0;
  async function ownerSays(message: string) {
    texts += 1;
    const res = await call('POST', '/orchestrator/sms-response', {
      messageId: `gw-${texts}-${Date.now()}`,
      message,
      phoneNumber: OWNER,
      receivedAt: new Date().toISOString(),
    });
    expect(res.status).toBe(200);
  }

  const workflow = async (id: string) =>
    (await call('GET', `/workflow/${encodeURIComponent(`<${id}>`)}`)).body;

  const until = <T>(read: () => Promise<T>, ok: (value: T) => boolean) =>
    eventually(read, ok, 'the workflow');

  it('the seed example: draft, "2 <instructions>", redraft, "1", a threaded reply and a confirmation', async () => {
    const id = await email('Meeting tomorrow', 'Meeting tomorrow at 2pm?');
    const first = await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user',
    );
    expect(first.draft_version).toBe(1);
    const shown = await until(ownerTexts, (t) =>
      t.some((b) => b.startsWith('📧') && b.includes('Meeting tomorrow')),
    );
    expect(shown.find((b) => b.startsWith('📧'))).toContain('1=Send 2=Edit 3=Ignore');

    await ownerSays('2 Reject meeting with Health reason');
    const second = await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user' && w.draft_version === 2,
    );
    // Kept exactly as typed (the seed's implementation lowercased it).
    expect(second.instructions).toEqual(['Reject meeting with Health reason']);

    await ownerSays(' 1 ');
    const done = await until(
      () => workflow(id),
      (w) => w.status === 'reply_sent',
    );
    expect((done.audit_trail as { to: string }[]).map((a) => a.to)).toContain('user_approved');

    const [reply] = await service.database.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.channel, 'email'), eq(outbox.workflowId, String(done.workflow_id))));
    expect(reply?.state).toBe('sent');
    expect(reply?.payload).toMatchObject({
      to: { address: 'ana@example.net' },
      subject: 'Re: Meeting tomorrow',
      inReplyTo: `<${id}>`,
      references: [`<${id}>`],
    });
    await until(ownerTexts, (t) => t.some((b) => b.startsWith('✅ Reply sent to')));
  });

  it('two emails waiting: "1" sends only the one shown; the other is presented next', async () => {
    const a = await email('First question', 'Can you send the invoice?');
    const b = await email('Second question', 'Are you free on Friday?');
    // Whichever draft was ready first is shown; the other waits its turn, unshown.
    const both = () => Promise.all([workflow(a), workflow(b)]);
    const [wa, wb] = await until(
      both,
      (ws) =>
        ws.every((w) => ['awaiting_user', 'ai_generated'].includes(String(w.status))) &&
        ws.some((w) => w.status === 'awaiting_user'),
    );
    expect([wa.status, wb.status].sort()).toEqual(['ai_generated', 'awaiting_user']);
    const [shown, other] = wa.status === 'awaiting_user' ? [a, b] : [b, a];

    const sentConfirmations = async () =>
      (await ownerTexts()).filter((m) => m.startsWith('✅ Reply sent to'));
    const confirmedBefore = (await sentConfirmations()).length;
    await ownerSays('1');
    await until(
      () => workflow(shown),
      (w) => w.status === 'reply_sent',
    );
    expect((await workflow(other)).status).not.toBe('reply_sent');
    await until(
      () => workflow(other),
      (w) => w.status === 'awaiting_user',
    );
    await ownerSays('3');
    await until(
      () => workflow(other),
      (w) => w.status === 'user_ignored',
    );
    await until(ownerTexts, (t) => t.some((m) => m.startsWith('✓ Email ignored')));
    // The confirmation of the first send is texted too; the next tests count the owner's texts.
    await until(sentConfirmations, (t) => t.length === confirmedBefore + 1);
    const sent = await service.database.db.select().from(outbox).where(eq(outbox.channel, 'email'));
    const ids = sent.map((row) => (row.payload as { inReplyTo?: string }).inReplyTo);
    expect(ids).toContain(`<${shown}>`);
    expect(ids).not.toContain(`<${other}>`);
  });

  it('an auto-reply is skipped before any draft, listed with its reason, and texts nobody', async () => {
    const before = (await ownerTexts()).length;
    const id = await email('Out of office', 'I am away until Monday.', { 'Auto-Submitted': 'auto-replied' });
    const skipped = await until(
      () => workflow(id),
      (w) => w.status === 'skipped',
    );
    expect(skipped.skip_reason).toBe('auto_submitted');
    const list = await call('GET', '/workflow/skipped');
    expect((list.body.workflows as { message_id: string }[]).map((w) => w.message_id)).toContain(`<${id}>`);
    expect((await ownerTexts()).length).toBe(before);
  });

  it('a command with nothing waiting gets a short answer and changes nothing; a stranger is ignored', async () => {
    const before = (await ownerTexts()).length;
    await ownerSays('1');
    await until(ownerTexts, (t) => t.length === before + 1);
    const stranger = await call('POST', '/orchestrator/sms-response', {
      messageId: `gw-stranger-${Date.now()}`,
      message: '1',
      phoneNumber: '+14155550199',
    });
    expect(stranger.status).toBe(200);
    const status = await call('GET', '/workflow/status');
    expect(status.body.by_status).not.toHaveProperty('user_approved');
  });

  it('answers 404 for an unknown message and 409 for a retry of a workflow that did not fail', async () => {
    expect((await call('GET', '/workflow/nope@example.net')).status).toBe(404);
    const id = await email('Quick one', 'Thanks!');
    await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user',
    );
    const retry = await call('POST', `/workflow/${encodeURIComponent(id)}/retry`);
    expect(retry.status).toBe(409);
    const timeout = await call('POST', `/workflow/timeout/${encodeURIComponent(id)}`);
    expect(timeout.status).toBe(200);
    expect(timeout.body.status).toBe('timeout');
    expect((await call('POST', `/workflow/timeout/${encodeURIComponent(id)}`)).status).toBe(409);
  });
});
