import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpenAiFake } from '../fakes/openai-fake.js';
import {
  killAllServices,
  spawnService,
  useServiceProcesses,
  waitFor,
  type ServiceProcess,
} from '../helpers/spawn-service.js';
import { createTestDatabase, onPostgres } from '../helpers/test-database.js';

/**
 * kill -9 of the built service while an email waits on the AI, and again right after the owner's
 * "1": after each restart the workflow goes on from where it was, the email is not lost, and the
 * reply is sent once.
 */
useServiceProcesses('file');

const OWNER = '+14155550144';
const TOKEN = 'admin-token-for-the-email-kill-test-00';
const openai = new OpenAiFake({ apiKey: null });
const dataDir = onPostgres ? undefined : mkdtempSync(join(tmpdir(), 'countersign-email-kill-'));
let postgres: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

afterAll(async () => {
  await killAllServices();
  await openai.stop();
  await postgres?.dispose(false);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe(`email auto-reply across kill -9 (${onPostgres ? 'PostgreSQL' : 'PGlite data folder'})`, () => {
  it('resumes a draft in flight and sends the approved reply once', { timeout: 180_000 }, async () => {
    await openai.start();
    if (onPostgres) postgres = await createTestDatabase();
    const env = {
      ...(postgres ? { DATABASE_URL: postgres.url } : { DATA_DIR: dataDir }),
      PORT: '0',
      HOST: '127.0.0.1',
      API_ADMIN_TOKEN: TOKEN,
      YOUR_PHONE_NUMBER: OWNER,
      EMAIL_ADDRESS: 'owner@example.com',
      OPENAI_BASE_URL: openai.baseUrl,
      JOB_LEASE_MS: '2000',
      JOB_POLL_INTERVAL_MS: '50',
    };
    const start = async (name: string) => {
      const service = spawnService({ name, env });
      await service.waitForReady(60_000);
      return service;
    };
    const call = async (service: ServiceProcess, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    const workflow = (service: ServiceProcess) =>
      call(service, 'GET', `/workflow/${encodeURIComponent('kill-1@example.net')}`);

    // 1. The AI answers slowly: kill while the draft is being written.
    openai.server.latencyMs = 3000;
    const first = await start('email service (killed while drafting)');
    await call(first, 'POST', '/emails', {
      message_id: '<kill-1@example.net>',
      from: 'Ana <ana@example.net>',
      to: ['owner@example.com'],
      subject: 'Meeting tomorrow',
      text: 'Meeting tomorrow at 2pm?',
      headers: {},
      received_at: new Date().toISOString(),
    });
    await waitFor('the AI call in flight', () => openai.completions.length >= 1);
    expect((await workflow(first)).status).toBe('ai_generating');
    await first.kill();

    // 2. Restart: the draft job's lease runs out and the draft is written again, once.
    openai.server.latencyMs = 0;
    const second = await start('email service (killed after the owner said 1)');
    const waiting = await waitFor(
      'the draft to reach the owner',
      async () => {
        const w = await workflow(second);
        return w.status === 'awaiting_user' ? w : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(waiting.draft_version).toBe(1);
    await call(second, 'POST', '/orchestrator/sms-response', {
      messageId: 'kill-in-1',
      message: '1',
      phoneNumber: OWNER,
      receivedAt: new Date().toISOString(),
    });
    await second.kill();

    // 3. Restart: whatever the kill interrupted, the reply goes out once.
    const third = await start('email service (final)');
    await waitFor('the reply', async () => (await workflow(third)).status === 'reply_sent', {
      timeoutMs: 60_000,
    });
    const status = await call(third, 'GET', '/workflow/status');
    expect(status.total).toBe(1);
    const trail = (await workflow(third)).audit_trail as { to: string }[];
    expect(trail.filter((a) => a.to === 'reply_sent')).toHaveLength(1);
    await third.stop();
  });
});
