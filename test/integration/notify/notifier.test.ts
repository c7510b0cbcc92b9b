import { randomUUID } from 'node:crypto';
import { eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notices } from '../../../src/core/db/peer-tables.js';
import { jobs, outbox } from '../../../src/core/db/schema.js';
import {
  getOutboxRow,
  outboxDeliveryHandler,
  type OutboundChannel,
} from '../../../src/core/outbox/outbox.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { createNotificationServiceChannel } from '../../../src/peers/notify/notification-service.js';
import { notifyOutboundChannel } from '../../../src/peers/notify/notify-channel.js';
import type { Notice } from '../../../src/peers/notify/notify-port.js';
import { createNotifier, listNotices, markNoticeRead } from '../../../src/peers/notify/notifier.js';
import { createPeerGuard } from '../../../src/peers/resilience.js';
import { NotificationServiceFake } from '../../fakes/notification-service-fake.js';
import { databaseKind, useTestDatabase } from '../../helpers/test-database.js';
import { testWorker } from '../../helpers/test-worker.js';

const notice = (overrides: Partial<Notice> = {}): Notice => ({
  kind: 'approval_needed',
  subject: 'Draft waiting for approval',
  body: 'A reply needs your approval.',
  priority: 'high',
  metadata: { workflow_id: 'wf', confidence: 0.72 },
  ...overrides,
});

describe(`notifier (${databaseKind})`, () => {
  const database = useTestDatabase();
  const db = () => database.current.db;
  const fake = new NotificationServiceFake();
  let clock: ManualClock;

  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(() => {
    clock = new ManualClock();
    fake.heal();
  });

  const inbox = (key: string) => db().select().from(notices).where(eq(notices.idempotencyKey, key));
  const outboxRows = (key: string) =>
    db()
      .select()
      .from(outbox)
      .where(like(outbox.idempotencyKey, `${key}:%`));

  it('writes the inbox row and one outbox row per external channel in the caller’s transaction', async () => {
    const key = `approval:${randomUUID()}:v1`;
    const workflowId = randomUUID();
    const notifier = createNotifier({ channels: ['dashboard', 'notification-service', 'webhook'] });
    const result = await db().transaction((tx) =>
      notifier.notify(tx, notice({ recipient: 'manager_456' }), key, clock.now(), workflowId),
    );
    expect(result.created).toBe(true);

    const [row] = await inbox(key);
    expect(row).toMatchObject({
      id: result.noticeId,
      kind: 'approval_needed',
      subject: 'Draft waiting for approval',
      priority: 'high',
      metadata: { workflow_id: 'wf', confidence: 0.72 },
      recipient: 'manager_456',
      readAt: null,
    });
    const rows = await outboxRows(key);
    expect(rows.map((r) => [r.channel, r.idempotencyKey]).sort()).toEqual([
      ['notify:notification-service', `${key}:notification-service`],
      ['notify:webhook', `${key}:webhook`],
    ]);
    for (const r of rows) {
      expect(r).toMatchObject({ recipient: 'manager_456', workflowId, state: 'pending' });
      expect(r.payload).toEqual(notice({ recipient: 'manager_456' }));
      const delivery = await db()
        .select()
        .from(jobs)
        .where(eq(jobs.singletonKey, `outbox:${r.id}`));
      expect(delivery).toHaveLength(1);
    }
  });

  it('a rolled back transaction writes neither the notice nor its outbox rows', async () => {
    const key = `approval:${randomUUID()}:v1`;
    const notifier = createNotifier({ channels: ['notification-service'] });
    await expect(
      db().transaction(async (tx) => {
        await notifier.notify(tx, notice(), key, clock.now());
        throw new Error('the decision failed after notifying');
      }),
    ).rejects.toThrow('the decision failed');
    expect(await inbox(key)).toHaveLength(0);
    expect(await outboxRows(key)).toHaveLength(0);
  });

  it('a repeated key notifies once', async () => {
    const key = `escalation:${randomUUID()}`;
    const notifier = createNotifier({ channels: ['notification-service'] });
    const first = await db().transaction((tx) =>
      notifier.notify(tx, notice({ kind: 'escalation' }), key, clock.now()),
    );
    clock.advance(1000);
    const again = await db().transaction((tx) =>
      notifier.notify(tx, notice({ kind: 'escalation' }), key, clock.now()),
    );
    expect(again).toEqual({ noticeId: first.noticeId, created: false });
    expect(await inbox(key)).toHaveLength(1);
    expect(await outboxRows(key)).toHaveLength(1);
  });

  it('with only the dashboard, writes the inbox row and no outbox row', async () => {
    const key = `failure:${randomUUID()}`;
    await createNotifier({ channels: [] }).notify(db(), notice({ kind: 'failure' }), key, clock.now());
    expect(await inbox(key)).toHaveLength(1);
    expect(await outboxRows(key)).toHaveLength(0);
  });

  describe('delivery through the outbox to the Notification Service', () => {
    /** A generous time limit unless a test wants one to expire: a loaded machine is slow, not down. */
    const channel = (timeoutMs = 10_000): OutboundChannel =>
      notifyOutboundChannel(
        createNotificationServiceChannel({
          baseUrl: fake.url,
          guard: createPeerGuard({
            name: 'notification_service',
            timeoutMs,
            maxConcurrency: 4,
            breakerThreshold: 5,
            breakerResetMs: 60_000,
          }),
        }),
      );
    const worker = (outbound: OutboundChannel) =>
      testWorker(db(), clock, [outboxDeliveryHandler({ channels: new Map([[outbound.name, outbound]]) })]);
    const stored = (key: string) => fake.notifications.filter((n) => n.idempotencyKey === key);

    async function notifyOnce(): Promise<{ key: string; outboxId: number }> {
      const key = `approval:${randomUUID()}:v1`;
      await db().transaction((tx) =>
        createNotifier({ channels: ['notification-service'] }).notify(tx, notice(), key, clock.now()),
      );
      const [row] = await outboxRows(key);
      if (!row) throw new Error('no outbox row');
      return { key, outboxId: row.id };
    }

    it('reaches the service once, however often the job runs', async () => {
      const { key, outboxId } = await notifyOnce();
      const w = worker(channel());
      await w.drain();
      await w.drain();
      const sentKey = `${key}:notification-service`;
      expect(stored(sentKey)).toHaveLength(1);
      expect(stored(sentKey)[0]).toMatchObject({
        channel: 'email',
        recipient: 'managers',
        subject: 'Draft waiting for approval',
        priority: 'high',
      });
      expect(await getOutboxRow(db(), outboxId)).toMatchObject({
        state: 'sent',
        providerId: stored(sentKey)[0]?.id,
      });
    });

    it('an attempt that timed out after the service stored it is retried with the same key and stored once', async () => {
      const { key, outboxId } = await notifyOnce();
      const sentKey = `${key}:notification-service`;
      // The service takes the notice but answers after our time limit: the outcome is unknown to us.
      fake.failNext({ kind: 'delay', ms: 600 });
      await worker(channel(200)).drain();
      expect(await getOutboxRow(db(), outboxId)).toMatchObject({ state: 'sending', attempts: 1 });
      for (let i = 0; i < 100 && stored(sentKey).length === 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(stored(sentKey)).toHaveLength(1);

      clock.advance(120_000); // past the retry's backoff
      await worker(channel()).drain();
      expect(await getOutboxRow(db(), outboxId)).toMatchObject({ state: 'sent', attempts: 2 });
      const attempts = fake.requests.filter((r) => r.headers['idempotency-key'] === sentKey);
      expect(attempts).toHaveLength(2);
      expect(stored(sentKey)).toHaveLength(1);
    });

    it('a refused notice (4xx) fails for good without retrying', async () => {
      const { key, outboxId } = await notifyOnce();
      fake.failNext({ kind: 'status', status: 400, body: '{"detail":"bad"}' });
      await worker(channel()).drain();
      clock.advance(600_000);
      await worker(channel()).drain();
      expect(await getOutboxRow(db(), outboxId)).toMatchObject({ state: 'failed' });
      expect(
        fake.requests.filter((r) => r.headers['idempotency-key'] === `${key}:notification-service`),
      ).toHaveLength(1);
    });
  });

  it('lists notices newest first, unread only on request, and marks them read once', async () => {
    const prefix = randomUUID();
    const notifier = createNotifier({ channels: [] });
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await notifier.notify(db(), notice({ subject: `n${i}` }), `${prefix}:${i}`, clock.now())).noticeId,
      );
    }
    const firstRead = await markNoticeRead(db(), ids[1] ?? 0, new Date('2025-01-16T00:00:00Z'));
    expect(firstRead?.readAt?.toISOString()).toBe('2025-01-16T00:00:00.000Z');
    const again = await markNoticeRead(db(), ids[1] ?? 0, new Date('2025-01-17T00:00:00Z'));
    expect(again?.readAt?.toISOString()).toBe('2025-01-16T00:00:00.000Z');
    expect(await markNoticeRead(db(), 987_654_321, clock.now())).toBeUndefined();

    const mine = (list: { id: number }[]) => list.map((n) => n.id).filter((id) => ids.includes(id));
    expect(mine(await listNotices(db(), { limit: 100 }))).toEqual([ids[2], ids[1], ids[0]]);
    expect(mine(await listNotices(db(), { limit: 100, unreadOnly: true }))).toEqual([ids[2], ids[0]]);
    expect(mine(await listNotices(db(), { limit: 100, before: ids[2] }))).toEqual([ids[1], ids[0]]);
    expect(await listNotices(db(), { limit: 1 })).toHaveLength(1);
  });
});
