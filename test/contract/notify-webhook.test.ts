import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../src/core/retry-errors.js';
import type { Notice } from '../../src/peers/notify/notify-port.js';
import { createWebhookNotifyChannel } from '../../src/peers/notify/webhook-notify.js';
import type { PeerGuard } from '../../src/peers/resilience.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import {
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetriable,
  expectRetryAfterHonoured,
  expectTimesOut,
  type ContractPeer,
} from './peer-contract.js';

/**
 * The JSON webhook channel over real HTTP. The receiver is a bare FakeHttpServer that answers
 * "ok" as text, as many webhook receivers do.
 */

const SECRET = 'whsec_test';

const notice: Notice = {
  kind: 'escalation',
  subject: 'Conversation escalated',
  body: 'The tenant asked for a supervisor.',
  priority: 'urgent',
  metadata: { workflow_id: 'wf-2', escalation_id: 'esc_789jkl' },
  recipient: 'supervisor_team',
};

describe('webhook notify channel (contract)', () => {
  const receiver = new FakeHttpServer(() => ({
    status: 200,
    text: 'ok',
    headers: { 'content-type': 'text/plain' },
  }));
  let n = 0;
  const key = () => `notice:${++n}:webhook`;
  const signal = () => AbortSignal.timeout(10_000);
  const channel = ({
    secret,
    guard = contractGuard('notify_webhook'),
  }: { secret?: string; guard?: PeerGuard } = {}) =>
    createWebhookNotifyChannel({ url: `${receiver.url}/hooks/countersign`, guard, secret });
  const peer: ContractPeer = {
    name: 'notify_webhook',
    fake: receiver,
    call: (guard) => channel({ guard }).send(notice, key(), signal()),
    requestsAtPeer: () => receiver.requests.length,
  };

  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => {
    receiver.heal();
    receiver.requests.length = 0;
  });

  it('posts the notice with its kind and the idempotency key, unsigned without a secret', async () => {
    const idempotencyKey = key();
    expect(await channel().send(notice, idempotencyKey, signal())).toEqual({
      providerId: `webhook:${idempotencyKey}`,
    });
    const [request] = receiver.requests;
    expect(request?.path).toBe('/hooks/countersign');
    expect(request?.headers['idempotency-key']).toBe(idempotencyKey);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['x-countersign-signature']).toBeUndefined();
    expect(request?.json).toEqual({
      kind: 'escalation',
      subject: notice.subject,
      body: notice.body,
      priority: 'urgent',
      metadata: notice.metadata,
      recipient: 'supervisor_team',
      idempotency_key: idempotencyKey,
    });
  });

  it('signs the raw body with HMAC-SHA256 when a secret is set', async () => {
    await channel({ secret: SECRET }).send(notice, key(), signal());
    const [request] = receiver.requests;
    const expected = `sha256=${createHmac('sha256', SECRET)
      .update(request?.body ?? '')
      .digest('hex')}`;
    expect(request?.headers['x-countersign-signature']).toBe(expected);
  });

  it('sends the same body on a retry of the same notice', async () => {
    const idempotencyKey = key();
    await channel({ secret: SECRET }).send(notice, idempotencyKey, signal());
    await channel({ secret: SECRET }).send(notice, idempotencyKey, signal());
    const [a, b] = receiver.requests;
    expect(b?.body).toBe(a?.body);
    expect(b?.headers['x-countersign-signature']).toBe(a?.headers['x-countersign-signature']);
  });

  it('a 5xx is retriable', () => expectRetriable(peer, { kind: 'status', status: 500 }));

  it('a 4xx is non-retriable', async () => {
    receiver.failNext({ kind: 'status', status: 410 });
    await expect(channel().send(notice, key(), signal())).rejects.toBeInstanceOf(NonRetriableError);
  });

  it('429 with Retry-After becomes RetryAfterError with the header in ms', () =>
    expectRetryAfterHonoured(peer, { seconds: 3 }));

  it('503 with Retry-After is a RetryAfterError too', () =>
    expectRetryAfterHonoured(peer, { seconds: 9, status: 503 }));

  it('times out a hanging receiver', () => expectTimesOut(peer));

  it('opens the breaker after repeated failures, then closes it after the reset', () =>
    expectBreakerOpensAndCloses(peer, { kind: 'drop' }));
});
