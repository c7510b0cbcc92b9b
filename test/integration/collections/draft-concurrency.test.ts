import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../../src/collections/collections-module.js';
import { emailReplyModule } from '../../../src/email-reply/email-reply-module.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { OpenAiFake } from '../../fakes/openai-fake.js';
import { SmsGatewayFake } from '../../fakes/sms-gateway-fake.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * Waiting on the AI must not serialize the pipeline (docs/performance.md). A draft keeps its job
 * slot while the AI thinks, so the drafts in flight follow AI_MAX_CONCURRENCY, not
 * JOB_CONCURRENCY: here 2 job slots per kind and an AI limit of 5. The OpenAI fake holds every
 * answer, so the calls it is holding are exactly the drafts waiting at once; with the drafts
 * bound to JOB_CONCURRENCY it would see 2. A sixth tenant's draft waits for a free slot, so the
 * AI limit still bounds what reaches the provider. The email workflow's draft job follows the
 * same limit. While the replies already decided wait to be sent, drafts do not widen: new work
 * waits for the sends (the third block).
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const JOB_SLOTS = 2;
const AI_LIMIT = 5;

/** 2 job slots a kind, 5 AI calls at once, and the OpenAI fake as the AI. */
const slotEnv = (openai: OpenAiFake): Record<string, string> => ({
  AI_PROVIDER: 'openai',
  OPENAI_API_KEY: 'sk-test-key',
  OPENAI_BASE_URL: openai.baseUrl,
  JOB_CONCURRENCY: String(JOB_SLOTS),
  AI_MAX_CONCURRENCY: String(AI_LIMIT),
  CIRCUIT_BREAKER_THRESHOLD: '100',
});

/** Tenant n (in the ledger, owing $600) texts; returns the conversation id. */
async function aTenantTexts(sut: ServiceUnderTest, clock: ManualClock, n: number): Promise<string> {
  const call = async (method: string, path: string, body?: unknown) =>
    (await sut.call(method, path, body)) as { status: number; body: Json };
  const id = `slot_tenant_${n}`;
  const phone = `+1212555${String(7000 + n)}`;
  const put = await call('PUT', `/ledger/tenants/${id}`, {
    name: `Tenant ${n}`,
    phone,
    amount_owed: 600,
    timezone: 'America/New_York',
    due_date: '2025-01-03',
  });
  expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
  const res = await call('POST', '/orchestrate/sms-received', {
    tenant_id: id,
    phone_number: phone,
    content: 'What is my balance?',
    conversation_id: `conv_${id}`,
    timestamp: clock.now().toISOString(),
    direction: 'inbound',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return `conv_${id}`;
}

describe(`drafts in flight follow the AI limit (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  const clock = new ManualClock('2025-01-15T15:30:00Z');
  const openai = new OpenAiFake();

  beforeAll(async () => {
    await openai.start();
    sut = await startServiceUnderTest({
      env: slotEnv(openai),
      modules: [collectionsModule()],
      clock,
    });
  });
  afterAll(async () => {
    openai.server.release();
    await sut?.stop();
    await openai.stop();
  });

  const call = async (method: string, path: string, body?: unknown) =>
    (await sut.call(method, path, body)) as { status: number; body: Json };

  const tenantTexts = (n: number) => aTenantTexts(sut, clock, n);

  const aiCalls = () => openai.server.requestsTo('/v1/chat/completions').length;

  it('runs as many drafts at once as the AI allows, more than JOB_CONCURRENCY, and no more', async () => {
    openai.server.hold();
    const conversations: string[] = [];
    for (let n = 1; n <= AI_LIMIT + 1; n += 1) conversations.push(await tenantTexts(n));
    // Past the coalescing window: every turn's draft job is due.
    clock.advance(3_001);

    await eventually(
      () => openai.server.waiting,
      (w) => w === AI_LIMIT,
      `${AI_LIMIT} AI calls held at once`,
    );
    expect(AI_LIMIT).toBeGreaterThan(JOB_SLOTS);
    // The sixth draft has no slot while five wait on the AI: nothing more reaches the provider.
    await new Promise((r) => setTimeout(r, 300));
    expect(openai.server.waiting).toBe(AI_LIMIT);
    expect(aiCalls()).toBe(AI_LIMIT);

    openai.server.release();
    for (const conversation of conversations) {
      await eventually(
        async () => (await call('GET', `/orchestrate/workflow/${conversation}/status`)).body,
        (s) => s.metadata?.decision != null,
        `the decision of ${conversation}`,
      );
    }
    expect(aiCalls()).toBe(AI_LIMIT + 1);
  });
});

describe(`email drafts in flight follow the AI limit (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  const openai = new OpenAiFake();
  const EMAILS = 3;

  beforeAll(async () => {
    await openai.start();
    sut = await startServiceUnderTest({
      env: {
        YOUR_PHONE_NUMBER: '+12025550123',
        EMAIL_ADDRESS: 'owner@example.com',
        AI_PROVIDER: 'openai',
        OPENAI_API_KEY: 'sk-test-key',
        OPENAI_BASE_URL: openai.baseUrl,
        JOB_CONCURRENCY: '1',
        AI_MAX_CONCURRENCY: String(EMAILS),
        CIRCUIT_BREAKER_THRESHOLD: '100',
      },
      modules: [emailReplyModule()],
    });
  });
  afterAll(async () => {
    openai.server.release();
    await sut?.stop();
    await openai.stop();
  });

  it('drafts several emails at once with one job slot', async () => {
    openai.server.hold();
    const ids: string[] = [];
    for (let n = 1; n <= EMAILS; n += 1) {
      const id = `slots-${n}-${Date.now()}@example.net`;
      ids.push(id);
      const res = (await sut.call('POST', '/emails', {
        message_id: `<${id}>`,
        from: `sender${n}@example.net`,
        to: ['owner@example.com'],
        subject: `Question ${n}`,
        text: 'Can we meet on Tuesday?',
        received_at: new Date().toISOString(),
      })) as { status: number; body: Json };
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    }
    await eventually(
      () => openai.server.waiting,
      (w) => w === EMAILS,
      `${EMAILS} AI calls held at once`,
    );
    openai.server.release();
    for (const id of ids) {
      await eventually(
        async () => ((await sut.call('GET', `/workflow/${encodeURIComponent(id)}`)) as { body: Json }).body,
        (w) => w.draft_version >= 1,
        `the draft of ${id}`,
      );
    }
  });
});

describe(`drafts do not widen while replies wait to be sent (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  const clock = new ManualClock('2025-01-15T15:30:00Z');
  // Sure drafts that the guard passes: each is sent without a manager.
  const openai = new OpenAiFake({
    defaultContent: {
      text: 'Thanks for your message. You can pay online through the resident portal or at the leasing office.',
      intent: 'balance_question',
      confidence: 0.95,
      plan: null,
    },
  });
  const gateway = new SmsGatewayFake();

  beforeAll(async () => {
    await Promise.all([openai.start(), gateway.start()]);
    sut = await startServiceUnderTest({
      env: {
        ...slotEnv(openai),
        SMS_PROVIDER: 'sms-gateway',
        SMS_GATEWAY_URL: gateway.url,
      },
      modules: [collectionsModule()],
      clock,
    });
  });
  afterAll(async () => {
    openai.server.release();
    gateway.server.release();
    await sut?.stop();
    await Promise.all([openai.stop(), gateway.stop()]);
  });

  const decided = async (conversation: string) =>
    eventually(
      async () => (await sut.call('GET', `/orchestrate/workflow/${conversation}/status`)).body as Json,
      (s) => s.metadata?.decision != null,
      `the decision of ${conversation}`,
    );

  it('holds drafts to JOB_CONCURRENCY while the deliveries are backlogged, and widens them once the sends catch up', async () => {
    // The SMS gateway holds every send: the deliveries fill their slots and more wait.
    gateway.server.hold();
    const first: string[] = [];
    for (let n = 101; n <= 104; n += 1) first.push(await aTenantTexts(sut, clock, n));
    clock.advance(3_001);
    for (const conversation of first)
      expect((await decided(conversation)).metadata.decision).toBe('auto_send');
    await eventually(
      () => gateway.server.waiting,
      (w) => w === JOB_SLOTS,
      `${JOB_SLOTS} sends held`,
    );

    // New texts arrive: their drafts may not take more than JOB_CONCURRENCY slots meanwhile.
    openai.server.hold();
    const second: string[] = [];
    for (let n = 111; n <= 116; n += 1) second.push(await aTenantTexts(sut, clock, n));
    clock.advance(3_001);
    await eventually(
      () => openai.server.waiting,
      (w) => w === JOB_SLOTS,
      `${JOB_SLOTS} AI calls held`,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(openai.server.waiting).toBe(JOB_SLOTS);

    // The sends go out; once a delivery claim comes back short, drafts widen to the AI limit.
    gateway.server.release();
    await eventually(
      () => openai.server.waiting,
      (w) => w === AI_LIMIT,
      `${AI_LIMIT} AI calls held`,
    );
    openai.server.release();
    for (const conversation of second) await decided(conversation);
    await eventually(
      () => gateway.sends().length,
      (n) => n === first.length + second.length,
      'every reply sent once',
    );
  });
});
