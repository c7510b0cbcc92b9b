import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../../src/core/db/schema.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { emailReplyModule } from '../../../src/email-reply/email-reply-module.js';
import { OpenAiFake } from '../../fakes/openai-fake.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * Time in the email workflow, on an injected clock: the owner's 24 hours, the AI's retries with
 * backoff, and the edit limit. Nothing waits for real time except the worker's 20 ms poll.
 */
const OWNER = '+14155550133';
const HOUR = 3_600_000;

describe(`email auto-reply on an injected clock (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const openai = new OpenAiFake({ apiKey: null });

  beforeAll(async () => {
    await openai.start();
    sut = await startServiceUnderTest({
      env: {
        YOUR_PHONE_NUMBER: OWNER,
        EMAIL_ADDRESS: 'owner@example.com',
        OPENAI_BASE_URL: openai.baseUrl,
        MAX_RETRY_ATTEMPTS: '3',
        RETRY_BASE_DELAY_MS: '1000',
        RETRY_MAX_DELAY_MS: '60000',
        // The AI fallback after an open breaker is tested elsewhere; here every failure is the LLM's.
        CIRCUIT_BREAKER_THRESHOLD: '100',
        MAX_EDIT_ITERATIONS: '2',
        USER_RESPONSE_TIMEOUT: '86400',
        PUBLIC_BASE_URL: 'https://countersign.example.com',
      },
      modules: [emailReplyModule()],
      clock,
    });
  });
  afterAll(async () => {
    await sut.stop();
    await openai.stop();
  });

  const call: ServiceUnderTest['call'] = (...args) => sut.call(...args);

  const until = eventually;

  /**
   * Drives a workflow through its AI retries on the clock: each time a failed try has been
   * recorded (its retry is then scheduled and no job runs), the clock jumps past the longest
   * backoff (RETRY_MAX_DELAY_MS), until `ok` holds.
   */
  async function retryUntil(id: string, ok: (w: Record<string, unknown>) => boolean, what: string) {
    let seen = 0;
    return until(
      async () => {
        const w = await workflow(id);
        const failures = (w.audit_trail as { reason: string }[]).filter((a) =>
          a.reason.startsWith('draft_failed'),
        ).length;
        if (!ok(w) && failures > seen) {
          seen = failures;
          clock.advance(61_000);
        }
        return w;
      },
      ok,
      what,
    );
  }

  let n = 0;
  async function email(subject: string) {
    n += 1;
    const id = `clock-${n}@example.net`;
    const res = await call('POST', '/emails', {
      message_id: `<${id}>`,
      from: 'Ana <ana@example.net>',
      to: ['owner@example.com'],
      subject,
      text: `${subject}?`,
      headers: {},
      received_at: clock.now().toISOString(),
    });
    expect(res.status).toBe(202);
    return id;
  }
  const workflow = async (id: string) => (await call('GET', `/workflow/${encodeURIComponent(id)}`)).body;
  const ownerTexts = async () => {
    const res = await call('GET', `/sms/messages?phone=${encodeURIComponent(OWNER)}&limit=200`);
    return (res.body.messages as { direction: string; body: string }[])
      .filter((m) => m.direction === 'out')
      .map((m) => m.body);
  };
  let said = 0;
  async function ownerSays(message: string) {
    said += 1;
    await call('POST', '/orchestrator/sms-response', {
      messageId: `clock-in-${said}`,
      message,
      phoneNumber: OWNER,
      receivedAt: clock.now().toISOString(),
    });
  }
  const repliesSent = async () =>
    (await sut.service.database.db.select().from(outbox).where(eq(outbox.channel, 'email'))).filter(
      (r) => r.state === 'sent',
    );

  it('retries the AI with backoff on the clock, then drafts', async () => {
    openai.failNext({ kind: 'status', status: 500 }, 2);
    const id = await email('Retry me');
    await until(
      () => openai.completions.length,
      (c) => c >= 1,
      'the first AI call',
    );
    // The retry waits for its backoff: nothing happens until the clock moves.
    await new Promise((r) => setTimeout(r, 200));
    expect(openai.completions.length).toBe(1);
    expect((await workflow(id)).status).toBe('ai_generating');
    await retryUntil(id, (w) => w.status === 'awaiting_user', 'the draft after two failures');
    expect(openai.completions.filter((r) => r.body.includes('Retry me'))).toHaveLength(3);
    await ownerSays('3');
    await until(
      () => workflow(id),
      (w) => w.status === 'user_ignored',
      'ignored',
    );
  });

  it('gives up after MAX_RETRY_ATTEMPTS retries: failed, owner told, nothing sent', async () => {
    openai.failAlways({ kind: 'status', status: 500 });
    try {
      const id = await email('Never drafted');
      const failed = await retryUntil(id, (w) => w.status === 'failed', 'failed');
      expect(failed.last_error).toBeTruthy();
      // The first try and MAX_RETRY_ATTEMPTS (3) retries, no more.
      const calls = openai.completions.filter((r) => r.body.includes('Never drafted')).length;
      expect(calls).toBe(4);
      await until(ownerTexts, (t) => t.some((m) => m.startsWith('⚠️')), 'the failure notice');
      const list = await call('GET', '/workflow/failed');
      expect((list.body.workflows as { message_id: string }[]).map((w) => w.message_id)).toContain(`<${id}>`);
      openai.heal();
      const retried = await call('POST', `/workflow/${encodeURIComponent(id)}/retry`);
      expect(retried.status).toBe(200);
      await until(
        () => workflow(id),
        (w) => w.status === 'awaiting_user',
        'drafted after the retry',
      );
      await ownerSays('3');
      await until(
        () => workflow(id),
        (w) => w.status === 'user_ignored',
        'ignored',
      );
    } finally {
      openai.heal();
    }
  });

  it('times out after USER_RESPONSE_TIMEOUT: nothing is sent and the owner is told', async () => {
    const sentBefore = (await repliesSent()).length;
    const id = await email('Will time out');
    await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user',
      'awaiting the owner',
    );
    clock.advance(23 * HOUR);
    await new Promise((r) => setTimeout(r, 200));
    expect((await workflow(id)).status).toBe('awaiting_user');
    clock.advance(2 * HOUR);
    await until(
      () => workflow(id),
      (w) => w.status === 'timeout',
      'the timeout',
    );
    await until(ownerTexts, (t) => t.some((m) => m.startsWith('⏱ No answer in time')), 'the timeout notice');
    await ownerSays('1');
    await new Promise((r) => setTimeout(r, 200));
    expect((await repliesSent()).length).toBe(sentBefore);
  });

  it('a new draft restarts the clock; after MAX_EDIT_ITERATIONS edits the owner is told and may still send', async () => {
    const id = await email('Edit me');
    await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user' && w.draft_version === 1,
      'draft 1',
    );
    clock.advance(20 * HOUR);
    await ownerSays('2 shorter please');
    await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user' && w.draft_version === 2,
      'draft 2',
    );
    // 20 h after draft 2 is 40 h after draft 1: still waiting, since each draft restarts the clock.
    clock.advance(20 * HOUR);
    await new Promise((r) => setTimeout(r, 200));
    expect((await workflow(id)).status).toBe('awaiting_user');
    await ownerSays('edit Mention Friday');
    const third = await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user' && w.draft_version === 3,
      'draft 3',
    );
    expect(third.instructions).toEqual(['shorter please', 'Mention Friday']);
    await ownerSays('2 one more');
    await until(
      ownerTexts,
      (t) => t.some((m) => m.startsWith('No more edits for this email')),
      'the limit notice',
    );
    expect((await workflow(id)).draft_version).toBe(3);
    await ownerSays('1');
    await until(
      () => workflow(id),
      (w) => w.status === 'reply_sent',
      'sent',
    );
  });

  it('a draft too long for the text is linked; the page shows it as text, and only while it waits', async () => {
    const long = `Hi Ana, <script>alert(1)</script> ${'Here is everything you asked about, in detail. '.repeat(12)}Sam`;
    openai.enqueueReply({ text: long, intent: 'other', confidence: 0.9, plan: null });
    const id = await email('Long answer');
    await until(
      () => workflow(id),
      (w) => w.status === 'awaiting_user',
      'awaiting the owner',
    );
    const texts = await until(
      ownerTexts,
      (t) => t.some((m) => m.includes('https://countersign.example.com/drafts/')),
      'the linked text',
    );
    const url = new URL(
      /https:\/\/countersign\.example\.com\/drafts\/\S+/.exec(texts.find((m) => m.includes('/drafts/'))!)![0],
    );
    const page = await fetch(`${sut.service.url}${url.pathname}`);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).not.toContain('<script>');
    expect(body).toContain('Here is everything you asked about');
    expect((await fetch(`${sut.service.url}${url.pathname}x`)).status).toBe(404);
    await ownerSays('3');
    await until(
      () => workflow(id),
      (w) => w.status === 'user_ignored',
      'ignored',
    );
    expect((await fetch(`${sut.service.url}${url.pathname}`)).status).toBe(410);
  });
});
