import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../../src/core/db/transaction.js';
import type { CoreServices, ModuleFactory, Service } from '../../../src/main.js';
import { enqueueSms } from '../../../src/peers/sms/sms-channel.js';
import { CollectionsMonitorFake } from '../../fakes/collections-monitor-fake.js';
import { NotificationServiceFake } from '../../fakes/notification-service-fake.js';
import { OpenAiFake } from '../../fakes/openai-fake.js';
import { SmsAgentFake } from '../../fakes/sms-agent-fake.js';
import { startServiceUnderTest } from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * The composition root picks adapters from the environment alone, and what it picked is what
 * runs: a service started with only the seed peers' URLs set talks to those peers over HTTP,
 * reports them under the seed's names in /health/dependencies, and with nothing set runs on the
 * embedded defaults.
 */
describe(`peer wiring (${databaseKind})`, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function start(env: Record<string, string>): Promise<{ service: Service; core: CoreServices }> {
    let core: CoreServices | undefined;
    const capture: ModuleFactory = (c) => {
      core = c;
      return { name: 'capture', register: () => undefined };
    };
    const sut = await startServiceUnderTest({ env, modules: [capture] });
    cleanups.push(() => sut.stop());
    return { service: sut.service, core: core! };
  }

  async function dependencies(service: Service) {
    const response = await fetch(`${service.url}/health/dependencies`);
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown> & {
      degradation_mode: string;
      details: Record<string, { adapter?: string; healthy: boolean }>;
    };
  }

  it('runs on the embedded defaults when nothing is configured', async () => {
    const { service, core } = await start({});
    const health = await dependencies(service);
    expect(health).toMatchObject({
      supabase: true,
      ai_rules: true,
      sms_outbox: true,
      email_outbox: true,
      ledger_builtin: true,
      degradation_mode: 'full',
    });
    expect(core.peers.choice).toMatchObject({ ai: 'rules', sms: 'outbox', ledger: 'builtin' });
    const draft = await core.peers.ai.draft(
      {
        kind: 'collections_reply',
        conversation: [{ role: 'tenant', text: 'I can pay $50 per week for 3 months' }],
        ledger: { tenantName: 'Ana', amountOwed: 600, daysLate: 12 },
        today: '2025-01-15',
      },
      AbortSignal.timeout(5000),
    );
    expect(draft.plan).toMatchObject({ weeklyAmount: 50, weeks: 12 });
  });

  describe('with the seed peers configured', () => {
    const agent = new SmsAgentFake();
    const openai = new OpenAiFake({ apiKey: null });
    const notifications = new NotificationServiceFake();
    const monitor = new CollectionsMonitorFake();
    let service: Service;
    let core: CoreServices;

    beforeAll(async () => {
      await Promise.all([agent.start(), openai.start(), notifications.start(), monitor.start()]);
      cleanups.push(() =>
        Promise.all([agent.stop(), openai.stop(), notifications.stop(), monitor.stop()]).then(() => {}),
      );
      ({ service, core } = await start({
        SMS_AGENT_URL: agent.url,
        OPENAI_BASE_URL: openai.baseUrl,
        NOTIFICATION_SERVICE_URL: notifications.url,
        COLLECTIONS_MONITOR_URL: monitor.url,
      }));
    });

    it('reports each peer under the seed’s name, with the adapter chosen', async () => {
      const health = await dependencies(service);
      expect(health).toMatchObject({
        sms_agent: true,
        openai_compatible: true,
        notification_service: true,
        collections_monitor: true,
        degradation_mode: 'full',
      });
      expect(health.details.sms_agent?.adapter).toBe('sms-agent');
    });

    it('delivers a queued text through the SMS agent once, with its idempotency key', async () => {
      const phone = '+14155550123';
      await inTransaction(core.db, (tx) =>
        enqueueSms(tx, {
          to: phone,
          body: 'Hi Ana, your balance is $600.00.',
          idempotencyKey: 'wiring-test-1',
          conversationId: 'conv_wiring',
          now: core.clock.now(),
          maxSegments: 3,
        }),
      );
      core.wakeWorker();
      await expect.poll(() => agent.texts.length, { timeout: 10_000 }).toBe(1);
      expect(agent.texts[0]).toMatchObject({
        to: phone,
        conversationId: 'conv_wiring',
        idempotencyKey: 'wiring-test-1',
      });
    });

    it('drafts with the OpenAI-compatible server', async () => {
      const before = openai.completions.length;
      const draft = await core.peers.ai.draft(
        {
          kind: 'collections_reply',
          conversation: [{ role: 'tenant', text: 'how much do I owe?' }],
          ledger: { tenantName: 'Ana', amountOwed: 600, daysLate: 12 },
          today: '2025-01-15',
        },
        AbortSignal.timeout(10_000),
      );
      expect(openai.completions.length).toBe(before + 1);
      expect(draft.flags.some((f) => f.startsWith('llm_self_report:'))).toBe(true);
    });

    it('shows a peer that stopped answering, and degrades instead of going offline', async () => {
      notifications.failAlways({ kind: 'status', status: 503 });
      const health = await dependencies(service);
      expect(health.notification_service).toBe(false);
      expect(health.degradation_mode).toBe('partial');
      notifications.heal();
    });
  });
});
