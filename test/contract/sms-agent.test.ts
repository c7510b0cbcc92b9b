import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError, retryClassOf } from '../../src/core/retry-errors.js';
import type { PeerGuard } from '../../src/peers/resilience.js';
import { createSmsAgentSender } from '../../src/peers/sms/sms-agent.js';
import type { SmsSendRequest } from '../../src/peers/sms/sms-port.js';
import { SmsAgentFake } from '../fakes/sms-agent-fake.js';
import {
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetriable,
  expectRetryAfterHonoured,
  expectTimesOut,
  failure,
  type ContractPeer,
} from './peer-contract.js';

const signal = () => AbortSignal.timeout(5000);

let n = 0;
const request = (): SmsSendRequest => ({
  to: '+14155550123',
  body: `We received your plan of $50 per week. (${++n})`,
  idempotencyKey: `draft:${n}:v1`,
  conversationId: `conv_${n}`,
});

describe('SMS Agent sender against the SMS Agent fake', () => {
  const fake = new SmsAgentFake();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(() => fake.heal());
  const sender = (guard: PeerGuard = contractGuard('sms_agent')) =>
    createSmsAgentSender({ guard, baseUrl: `${fake.url}/` });
  const peer: ContractPeer = {
    name: 'sms_agent',
    fake,
    call: (guard) => sender(guard).send(request(), signal()),
    requestsAtPeer: () => fake.sends().length,
  };

  it('posts {to, body, conversation_id} with the Idempotency-Key and returns the agent’s id', async () => {
    const text = request();
    const { providerId } = await sender().send(text, signal());
    const sent = fake.sends().at(-1);
    expect(sent?.json).toEqual({ to: text.to, body: text.body, conversation_id: text.conversationId });
    expect(sent?.headers['idempotency-key']).toBe(text.idempotencyKey);
    expect(fake.texts.at(-1)).toMatchObject({
      id: providerId,
      to: text.to,
      idempotencyKey: text.idempotencyKey,
    });
  });

  it('leaves conversation_id out when the text has none', async () => {
    const { conversationId: _none, ...text } = request();
    await sender().send(text, signal());
    expect(fake.sends().at(-1)?.json).toEqual({ to: text.to, body: text.body });
  });

  it('a retry with the same key gets the same id and sends nothing new', async () => {
    const text = request();
    const first = await sender().send(text, signal());
    const count = fake.texts.length;
    const again = await sender().send(text, signal());
    expect(again.providerId).toBe(first.providerId);
    expect(fake.texts).toHaveLength(count);
    expect(fake.repeats).toBeGreaterThanOrEqual(1);
  });

  it('a 5xx is retriable', () => expectRetriable(peer, { kind: 'status', status: 502 }));

  it('a 4xx is non-retriable', async () => {
    fake.failNext({ kind: 'status', status: 422, body: '{"detail":"invalid"}' });
    const error = await failure(sender().send(request(), signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
  });

  it('a 2xx without an id is retriable (the key makes asking again safe)', async () => {
    fake.failNext({ kind: 'status', status: 200, body: '{"status":"ok"}' });
    expect(retryClassOf(await failure(sender().send(request(), signal())))).toBe('retriable');
  });

  it('429 honours Retry-After', () => expectRetryAfterHonoured(peer, { seconds: 12 }));

  it('503 with Retry-After honours it too', () =>
    expectRetryAfterHonoured(peer, { seconds: 3, status: 503 }));

  it('a hung request times out (retriable)', () => expectTimesOut(peer));

  it('the breaker opens after N failures without calling the agent, and closes after its reset', () =>
    expectBreakerOpensAndCloses(peer, { kind: 'status', status: 500 }));
});
