import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../src/core/retry-errors.js';
import { createNotificationServiceChannel } from '../../src/peers/notify/notification-service.js';
import type { Notice, NotifyChannel } from '../../src/peers/notify/notify-port.js';
import { NotificationServiceFake } from '../fakes/notification-service-fake.js';
import {
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetriable,
  expectRetryAfterHonoured,
  expectTimesOut,
  failure,
  type ContractPeer,
} from './peer-contract.js';

/** The Notification Service channel over real HTTP against its fake. */

const notice: Notice = {
  kind: 'approval_needed',
  subject: 'Draft waiting for approval',
  body: 'A reply to tenant_12345 (confidence 0.72) needs your approval.',
  priority: 'high',
  metadata: { workflow_id: 'wf-1', conversation_id: 'conv_abc123', confidence: 0.72 },
};

describe('Notification Service channel (contract)', () => {
  const fake = new NotificationServiceFake();
  let channel: NotifyChannel;
  let n = 0;
  const key = () => `notice:${++n}:notification-service`;
  const signal = () => AbortSignal.timeout(10_000);
  const peer: ContractPeer = {
    name: 'notification_service',
    fake,
    call: (guard) =>
      createNotificationServiceChannel({ baseUrl: fake.url, guard }).send(notice, key(), signal()),
    requestsAtPeer: () => fake.requests.length,
  };

  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.heal();
    fake.requests.length = 0;
    channel = createNotificationServiceChannel({
      baseUrl: fake.url,
      guard: contractGuard('notification_service'),
    });
  });

  it('posts the seed body with the idempotency key and returns the service id', async () => {
    const idempotencyKey = key();
    const { providerId } = await channel.send(notice, idempotencyKey, signal());
    const [request] = fake.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/notifications/send');
    expect(request?.headers['idempotency-key']).toBe(idempotencyKey);
    expect(request?.headers['content-type']).toContain('application/json');
    expect(request?.json).toEqual({
      channel: 'email',
      recipient: 'managers',
      content: { subject: notice.subject, body: notice.body },
      priority: 'high',
      metadata: { ...notice.metadata, notice_kind: 'approval_needed' },
    });
    const stored = fake.notifications.find((s) => s.idempotencyKey === idempotencyKey);
    expect(providerId).toBe(stored?.id);
  });

  it('sends a named recipient and the configured delivery channel', async () => {
    const custom = createNotificationServiceChannel({
      baseUrl: fake.url,
      guard: contractGuard('notification_service'),
      deliveryChannel: 'slack',
    });
    await custom.send({ ...notice, recipient: 'manager_456' }, key(), signal());
    expect(fake.requests[0]?.json).toMatchObject({ channel: 'slack', recipient: 'manager_456' });
  });

  it('a retry with the same key is stored once and answers the same id', async () => {
    const idempotencyKey = key();
    const first = await channel.send(notice, idempotencyKey, signal());
    const again = await channel.send(notice, idempotencyKey, signal());
    expect(again.providerId).toBe(first.providerId);
    expect(fake.notifications.filter((s) => s.idempotencyKey === idempotencyKey)).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it('a 5xx is retriable', () => expectRetriable(peer, { kind: 'status', status: 503 }));

  it('a 4xx is non-retriable', async () => {
    fake.failNext({ kind: 'status', status: 422, body: '{"detail":"priority is not valid"}' });
    const error = await failure(channel.send(notice, key(), signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toContain('422');
  });

  it('429 with Retry-After becomes RetryAfterError with the header in ms', () =>
    expectRetryAfterHonoured(peer, { seconds: 12 }));

  it('times out a hanging call', () => expectTimesOut(peer));

  it('an answer without an id still counts as sent', async () => {
    fake.failNext({ kind: 'status', status: 202, body: '' });
    const idempotencyKey = key();
    expect(await channel.send(notice, idempotencyKey, signal())).toEqual({
      providerId: `notification-service:${idempotencyKey}`,
    });
  });

  it('opens the breaker after repeated failures, then closes it after the reset', () =>
    expectBreakerOpensAndCloses(peer, { kind: 'status', status: 500 }));
});
