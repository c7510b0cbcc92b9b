import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiFake } from '../fakes/openai-fake.js';
import { SmsGatewayFake } from '../fakes/sms-gateway-fake.js';
import {
  killAllServices,
  spawnService,
  useServiceProcesses,
  waitFor,
  type ServiceProcess,
} from '../helpers/spawn-service.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';

/**
 * The short version of the soak's kill scenario (bench/soak, docs/soak.md): tenants text the built
 * service, which drafts with the OpenAI fake and replies through the SMS gateway fake (both real
 * HTTP servers); kill -9 while replies are going out; restart; the client posts again every text
 * it sent before the kill (as a client that never got its answers would) and then the rest.
 * Afterwards every text is stored once, every turn has settled, and no reply reached the gateway
 * twice (by idempotency key, or by turn, phone and body).
 *
 * Waits are on state (the gateway's record, the service's counts), never on time.
 */

useServiceProcesses('file');

const TOKEN = 'admin-token-for-the-collections-kill-0';
const TENANTS = 10;
/** Texts per tenant in each half of the run. */
const PER_TENANT = 2;
/** Kill once this many replies reached the gateway: mid-run, far from the end. */
const KILL_AFTER_TEXTS = 4;

const dataDir = onPostgres ? undefined : mkdtempSync(join(tmpdir(), 'countersign-collections-kill-'));
let postgres: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
// Every answer goes out by itself: a balance question, answered without figures, high confidence.
const ai = new OpenAiFake({
  apiKey: 'sk-collections-kill',
  defaultContent: {
    text: 'Hi, thanks for asking. Your balance is on your statement.',
    intent: 'balance_question',
    confidence: 0.95,
    plan: null,
  },
});
const gateway = new SmsGatewayFake();
let failed = false;

beforeEach((ctx) => {
  ctx.onTestFailed(() => {
    failed = true;
  });
});

afterAll(async () => {
  await killAllServices();
  await Promise.all([ai.stop(), gateway.stop()]);
  await postgres?.dispose(failed);
  if (!dataDir) return;
  if (failed) console.error(`[collections-kill] kept ${dataDir} for inspection (a test failed)`);
  else rmSync(dataDir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

async function call(service: ServiceProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as Json };
}

const tenants = Array.from({ length: TENANTS }, (_, i) => ({
  id: `kill_t${i}`,
  phone: `+1212555${String(2000 + i)}`,
  conversation: `conv_kill_t${i}`,
}));

type Text = { messageId: string; tenant: (typeof tenants)[number] };
const half = (name: string): Text[] =>
  Array.from({ length: TENANTS * PER_TENANT }, (_, n) => ({
    messageId: `${name}-${n}`,
    tenant: tenants[n % TENANTS]!,
  }));

/** Posts every text, a few at a time; returns the status each got. */
async function post(service: ServiceProcess, texts: Text[]): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < texts.length; i += 5) {
    const answers = await Promise.all(
      texts.slice(i, i + 5).map(({ messageId, tenant }) =>
        call(service, 'POST', '/orchestrate/sms-received', {
          tenant_id: tenant.id,
          phone_number: tenant.phone,
          content: 'What is my balance?',
          conversation_id: tenant.conversation,
          message_id: messageId,
        }),
      ),
    );
    statuses.push(...answers.map((a) => a.status));
  }
  return statuses;
}

const serviceEnv = () => ({
  ...(postgres ? { DATABASE_URL: postgres.url } : { DATA_DIR: dataDir }),
  PORT: '0',
  HOST: '127.0.0.1',
  API_ADMIN_TOKEN: TOKEN,
  AI_PROVIDER: 'openai-compatible',
  OPENAI_BASE_URL: ai.baseUrl,
  OPENAI_API_KEY: 'sk-collections-kill',
  SMS_PROVIDER: 'sms-gateway',
  SMS_GATEWAY_URL: gateway.url,
  SEND_WINDOW_START_HOUR: '0',
  SEND_WINDOW_END_HOUR: '24',
  TURN_COALESCE_MS: '100',
  JOB_LEASE_MS: '3000',
  JOB_POLL_INTERVAL_MS: '50',
  AI_TIMEOUT_MS: '2000',
  SHUTDOWN_GRACE_MS: '2000',
});

const OPEN_STATES = ['processing', 'scheduled'];

describe(`collections under kill -9 (${onPostgres ? 'PostgreSQL' : 'PGlite data folder'})`, () => {
  it('stores every text once, settles every turn and sends no reply twice', { timeout: 60_000 }, async () => {
    if (onPostgres) postgres = await createTestDatabase();
    await Promise.all([ai.start(), gateway.start()]);
    // Drafts take a while, so replies are in flight when the kill lands.
    ai.server.latencyMs = 40;

    const first = spawnService({ name: 'service (to be killed)', env: serviceEnv() });
    await first.waitForReady(30_000);
    for (const t of tenants) {
      const put = await call(first, 'PUT', `/ledger/tenants/${t.id}`, {
        name: 'Kim Lee',
        phone: t.phone,
        timezone: 'America/New_York',
        amount_owed: 600,
        due_date: '2026-11-20',
      });
      expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    }
    const before = half('before');
    const firstStatuses = await post(first, before);
    expect(firstStatuses.every((s) => s === 202)).toBe(true);
    await waitFor(`${KILL_AFTER_TEXTS} replies at the gateway`, () => {
      if (first.exitStatus) throw new Error(`the service exited\n${first.describe()}`);
      return gateway.texts.length >= KILL_AFTER_TEXTS;
    });
    await first.kill();
    const atKill = gateway.texts.length;

    const second = spawnService({ name: 'service (restarted)', env: serviceEnv() });
    await second.waitForReady(30_000);
    // The client never got its answers: it posts every text again, then the rest.
    const again = await post(second, before);
    expect(
      again.every((s) => s === 200),
      'every repeat is answered as a duplicate',
    ).toBe(true);
    const after = half('after');
    expect((await post(second, after)).every((s) => s === 202)).toBe(true);

    const posted = [...before, ...after];
    const perConversation = new Map<string, number>();
    for (const t of posted)
      perConversation.set(t.tenant.conversation, (perConversation.get(t.tenant.conversation) ?? 0) + 1);
    // Settled: no turn open, and every conversation holds each of its texts exactly once.
    const settled = await waitFor(
      'every turn settled',
      async () => {
        if (second.exitStatus) throw new Error(`the service exited\n${second.describe()}`);
        const health = await call(second, 'GET', '/health');
        const counts = ((health.body.workflows as Json | undefined)?.collections ?? {}) as Record<
          string,
          number
        >;
        if (OPEN_STATES.some((s) => (counts[s] ?? 0) > 0) || Object.keys(counts).length === 0) return false;
        const messages = await Promise.all(
          tenants.map(async (t) => ({
            tenant: t,
            list: (await call(second, 'GET', `/conversations/${t.conversation}/messages`)).body
              .messages as Json[],
          })),
        );
        const open = messages.some(({ list }) =>
          list.some(
            (m) => m.direction === 'out' && !['sent', 'delivered', 'failed'].includes(String(m.state)),
          ),
        );
        return open ? false : { counts, messages };
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${second.describe()}`);
    });
    await second.stop(15_000);

    expect(atKill).toBeLessThan(posted.length);
    expect(Object.keys(settled.counts).every((s) => !OPEN_STATES.includes(s))).toBe(true);
    // Nothing lost, nothing stored twice: each conversation has each of its texts once.
    for (const { tenant, list } of settled.messages) {
      const inbound = list.filter((m) => m.direction === 'in');
      expect(inbound, tenant.conversation).toHaveLength(perConversation.get(tenant.conversation)!);
    }
    // Nothing sent twice: one text per key and per (phone, body, turn) at the gateway, and the
    // gateway holds exactly the replies the service recorded as sent.
    const keys = gateway.texts.map((t) => t.idempotencyKey);
    expect(keys.every((k) => k !== null)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    const turns = gateway.texts.map((t) => JSON.stringify([t.to, t.message, t.idempotencyKey]));
    expect(new Set(turns).size).toBe(turns.length);
    const sentOut = settled.messages.flatMap(({ list }) =>
      list.filter((m) => m.direction === 'out' && ['sent', 'delivered'].includes(String(m.state))),
    );
    expect(gateway.texts.length).toBe(sentOut.length);
    expect(gateway.texts.length).toBeGreaterThan(atKill);
  });
});
