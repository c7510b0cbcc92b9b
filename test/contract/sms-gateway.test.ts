import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError, retryClassOf } from '../../src/core/retry-errors.js';
import { PeerUnavailableError, type PeerGuard } from '../../src/peers/resilience.js';
import { createSmsGatewaySender } from '../../src/peers/sms/sms-gateway.js';
import type { SmsSendRequest } from '../../src/peers/sms/sms-port.js';
import { SmsGatewayFake } from '../fakes/sms-gateway-fake.js';
import {
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetryAfterHonoured,
  expectTimesOut,
  failure,
  type ContractPeer,
} from './peer-contract.js';

const signal = () => AbortSignal.timeout(5000);

let n = 0;
const request = (): SmsSendRequest => ({
  to: '+14155550123',
  body: `📧 John: Meeting tomorrow at 2pm?\nDraft: Yes, 2pm works.\n1=Send 2=Edit 3=Ignore (${++n})`,
  idempotencyKey: `email-draft:${n}:v1`,
});

describe('SMS Gateway sender against the SMS Gateway fake', () => {
  const fake = new SmsGatewayFake();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(() => fake.heal());
  const sender = (guard: PeerGuard = contractGuard('sms_gateway')) =>
    createSmsGatewaySender({ guard, baseUrl: fake.url });
  const peer: ContractPeer = {
    name: 'sms_gateway',
    fake,
    call: (guard) => sender(guard).send(request(), signal()),
    requestsAtPeer: () => fake.sends().length,
  };

  it('posts {to, message} with the Idempotency-Key and returns message_id', async () => {
    const text = request();
    const { providerId } = await sender().send(text, signal());
    const sent = fake.sends().at(-1);
    expect(sent?.json).toEqual({ to: text.to, message: text.body });
    expect(sent?.headers['idempotency-key']).toBe(text.idempotencyKey);
    expect(fake.texts.at(-1)).toMatchObject({ messageId: providerId, message: text.body });
  });

  it('a retry with the same key gets the same message_id and sends nothing new', async () => {
    const text = request();
    const first = await sender().send(text, signal());
    const count = fake.texts.length;
    expect((await sender().send(text, signal())).providerId).toBe(first.providerId);
    expect(fake.texts).toHaveLength(count);
    expect(fake.repeats).toBeGreaterThanOrEqual(1);
  });

  it('{success: false} with a permanent reason is non-retriable', async () => {
    fake.refuseNext('Invalid phone number');
    const error = await failure(sender().send(request(), signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toContain('Invalid phone number');
  });

  it('{success: false} with a temporary reason is retriable', async () => {
    fake.refuseNext('Modem timeout, try again later');
    const error = await failure(sender().send(request(), signal()));
    expect(error).toBeInstanceOf(PeerUnavailableError);
  });

  it('success without a message_id still counts as sent, named by the key', async () => {
    fake.failNext({ kind: 'status', status: 200, body: '{"success":true,"message_id":null,"error":null}' });
    const text = request();
    expect((await sender().send(text, signal())).providerId).toBe(`key:${text.idempotencyKey}`);
  });

  it('an answer in another shape is retriable', async () => {
    fake.failNext({ kind: 'status', status: 200, body: '{"ok":true}' });
    expect(retryClassOf(await failure(sender().send(request(), signal())))).toBe('retriable');
  });

  it('a 5xx is retriable, a 4xx is not', async () => {
    fake.failNext({ kind: 'status', status: 500 });
    expect(retryClassOf(await failure(sender().send(request(), signal())))).toBe('retriable');
    fake.failNext({ kind: 'status', status: 401 });
    expect(retryClassOf(await failure(sender().send(request(), signal())))).toBe('non_retriable');
  });

  it('429 honours Retry-After', () => expectRetryAfterHonoured(peer, { seconds: 9 }));

  it('a hung request times out (retriable)', () => expectTimesOut(peer));

  it('a slow answer within the limit is fine', async () => {
    fake.failNext({ kind: 'delay', ms: 100 });
    const guard = contractGuard('sms_gateway', { timeoutMs: 1000 });
    await expect(sender(guard).send(request(), signal())).resolves.toMatchObject({
      providerId: expect.any(String),
    });
  });

  it('the breaker opens after N failures without calling the gateway, and closes after its reset', () =>
    expectBreakerOpensAndCloses(peer, { kind: 'drop' }));
});
