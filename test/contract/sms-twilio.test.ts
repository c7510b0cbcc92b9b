import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NonRetriableError, retryClassOf } from '../../src/core/retry-errors.js';
import { ManualClock } from '../../src/core/runtime.js';
import { PeerUnavailableError } from '../../src/peers/resilience.js';
import type { SmsSendRequest } from '../../src/peers/sms/sms-port.js';
import {
  createTwilioSender,
  SmsOptedOutError,
  TwilioApiError,
  verifyTwilioSignature,
  type TwilioSenderOptions,
} from '../../src/peers/sms/twilio.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import { TwilioFake } from '../fakes/twilio-fake.js';
import {
  contractGuard,
  expectBreakerOpensAndCloses,
  expectRetriable,
  expectRetryAfter,
  expectTimesOut,
  failure,
  type ContractPeer,
} from './peer-contract.js';

const TO = '+14155550123';
const FROM = '+14155550100';
const PUBLIC = 'https://countersign.example.com';
const signal = () => AbortSignal.timeout(5000);

let n = 0;
const request = (body = `Your balance is $120. (${++n})`): SmsSendRequest => ({
  to: TO,
  body,
  idempotencyKey: `draft:${n}:v1`,
});

/** A sender for the fake's account, from FROM. */
const twilioSender = (fake: TwilioFake, options: Partial<TwilioSenderOptions> = {}) =>
  createTwilioSender({
    guard: contractGuard('twilio'),
    baseUrl: fake.url,
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    from: FROM,
    ...options,
  });

describe('Twilio sender against the Twilio fake', () => {
  const fake = new TwilioFake();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  beforeEach(() => fake.heal());

  const sender = (options: Partial<TwilioSenderOptions> = {}) =>
    twilioSender(fake, { publicBaseUrl: PUBLIC, ...options });
  const peer: ContractPeer = {
    name: 'twilio',
    fake,
    call: (guard) => sender({ guard }).send(request(), signal()),
    requestsAtPeer: () => fake.sends().length,
  };

  it('sends a form with Basic auth, From and StatusCallback, and returns the message sid', async () => {
    const text = request('Hello from Countersign €');
    const { providerId } = await sender().send(text, signal());
    expect(providerId).toMatch(/^SM[0-9a-f]{32}$/);
    const sent = fake.sends().at(-1);
    expect(sent?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(sent?.form).toEqual({
      To: TO,
      From: FROM,
      Body: 'Hello from Countersign €',
      StatusCallback: `${PUBLIC}/webhooks/twilio/status`,
    });
    expect(fake.find(providerId)).toMatchObject({ to: TO, body: text.body, status: 'queued' });
  });

  it('uses a Messaging Service instead of From, and omits StatusCallback without a public URL', async () => {
    const { providerId } = await sender({ messagingServiceSid: 'MG0123', publicBaseUrl: undefined }).send(
      request(),
      signal(),
    );
    expect(fake.sends().at(-1)?.form).toEqual({
      To: TO,
      Body: expect.any(String),
      MessagingServiceSid: 'MG0123',
    });
    expect(fake.find(providerId)?.status).toBe('accepted');
  });

  it('wrong credentials are a non-retriable 20003', async () => {
    const error = await failure(sender({ authToken: 'wrong' }).send(request(), signal()));
    expect(error).toBeInstanceOf(TwilioApiError);
    expect(error).toMatchObject({ code: '20003' });
    expect(retryClassOf(error)).toBe('non_retriable');
  });

  it('error 21610 (recipient opted out) is SmsOptedOutError, non-retriable', async () => {
    const optedOut = '+14155550199';
    fake.optedOut.add(optedOut);
    const error = await failure(sender().send({ ...request(), to: optedOut }, signal()));
    expect(error).toBeInstanceOf(SmsOptedOutError);
    expect(error).toBeInstanceOf(NonRetriableError);
    expect(error).toMatchObject({ code: '21610' });
    expect(fake.messages.some((m) => m.to === optedOut)).toBe(false);
  });

  it('another 4xx keeps its Twilio code and is not retried', async () => {
    const error = await failure(sender().send({ ...request(), to: '+1234' }, signal()));
    expect(error).toBeInstanceOf(TwilioApiError);
    expect(error).toMatchObject({ code: '21211' });
    expect(retryClassOf(error)).toBe('non_retriable');
  });

  it('a 4xx without a Twilio body is still non-retriable', async () => {
    fake.failNext({ kind: 'status', status: 400, body: 'bad request' });
    const error = await failure(sender().send(request(), signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
    expect(error).not.toBeInstanceOf(TwilioApiError);
  });

  it('a 5xx is retriable', async () => {
    fake.failNextWithCode(20500, 500, 'Internal Server Error');
    const error = await failure(sender().send(request(), signal()));
    expect(error).toBeInstanceOf(PeerUnavailableError);
    expect(retryClassOf(error)).toBe('retriable');
  });

  it('a dropped connection is retriable', () => expectRetriable(peer, { kind: 'drop' }));

  it('429 honours Retry-After', async () => {
    fake.rateLimitNext(7);
    expectRetryAfter(await failure(sender().send(request(), signal())), 7000);
  });

  it('a hung request times out (retriable) at the guard’s limit', () => expectTimesOut(peer));

  it('the breaker opens after N failures without calling Twilio, and closes after its reset', async () => {
    const answer = await expectBreakerOpensAndCloses(peer, { kind: 'status', status: 503 });
    expect(answer).toMatchObject({ providerId: expect.stringMatching(/^SM/) });
  });

  it('4xx answers do not open the breaker (Twilio answered)', async () => {
    const breaker = contractGuard('twilio', { breakerThreshold: 2, breakerResetMs: 60_000 });
    const s = sender({ guard: breaker });
    for (let i = 0; i < 4; i += 1) await failure(s.send({ ...request(), to: '+1' }, signal()));
    expect(breaker.circuit()).toBe('closed');
  });
});

describe('Twilio reconciliation (findSent) against the Twilio fake', () => {
  let fakeAheadMs = 0;
  const fake = new TwilioFake({ now: () => new Date(Date.now() + fakeAheadMs) });
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  const sender = (clock = new ManualClock(new Date())) => twilioSender(fake, { clock });

  it('finds a text still queued at Twilio (no date_sent yet)', async () => {
    const text = request();
    const { providerId } = await sender().send(text, signal());
    expect(await sender().findSent(text, signal())).toEqual([providerId]);
  });

  it('finds a text that has left, through the To and DateSent> filters', async () => {
    const text = request();
    const { providerId } = await sender().send(text, signal());
    const stored = fake.find(providerId);
    if (!stored) throw new Error('not stored');
    Object.assign(stored, { status: 'sent', dateSent: new Date() });
    const listsBefore = fake.lists().length;
    expect(await sender().findSent(text, signal())).toEqual([providerId]);
    const [dated, all] = fake.lists().slice(listsBefore);
    expect(dated?.query.get('To')).toBe(TO);
    expect(dated?.query.get('DateSent>')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(all?.query.get('DateSent>')).toBeNull();
  });

  it('ignores another body, another number, a failed text, and texts older than the window', async () => {
    const text = request();
    const { providerId } = await sender().send(text, signal());
    expect(await sender().findSent({ ...text, body: `${text.body}!` }, signal())).toEqual([]);
    expect(await sender().findSent({ ...text, to: '+14155550124' }, signal())).toEqual([]);
    const twoDaysLater = new ManualClock(new Date(Date.now() + 2 * 86_400_000));
    expect(await sender(twoDaysLater).findSent(text, signal())).toEqual([]);
    const stored = fake.find(providerId);
    if (!stored) throw new Error('not stored');
    Object.assign(stored, { status: 'failed', dateSent: new Date() });
    expect(await sender().findSent(text, signal())).toEqual([]);
  });

  it('lists every match newest first, so the channel can skip sids another text owns', async () => {
    const text = request();
    const first = await sender().send(text, signal());
    fakeAheadMs = 5000; // RFC 2822 dates have whole seconds: the second text is created later
    const second = await sender().send(text, signal());
    fakeAheadMs = 0;
    expect(await sender().findSent(text, signal())).toEqual([second.providerId, first.providerId]);
  });
});

describe('the Twilio fake signs its webhooks the way the service verifies them', () => {
  const fake = new TwilioFake();
  const receiver = new FakeHttpServer(() => ({ status: 204 }));
  beforeAll(async () => {
    await fake.start();
    await receiver.start();
  });
  afterAll(async () => {
    await fake.stop();
    await receiver.stop();
  });

  it('a status callback goes to the StatusCallback the text carried, correctly signed', async () => {
    const callback = `${receiver.url}/webhooks/twilio/status`;
    const s = twilioSender(fake, { publicBaseUrl: receiver.url });
    const { providerId } = await s.send(request(), signal());
    const response = await fake.sendStatus(providerId, 'delivered');
    expect(response.status).toBe(204);
    const posted = receiver.requests.at(-1);
    expect(posted?.form).toMatchObject({
      MessageSid: providerId,
      MessageStatus: 'delivered',
      AccountSid: fake.accountSid,
    });
    const header = posted?.headers['x-twilio-signature'];
    expect(verifyTwilioSignature(fake.authToken, callback, posted?.form ?? {}, String(header))).toBe(true);
    expect(verifyTwilioSignature('another-token', callback, posted?.form ?? {}, String(header))).toBe(false);
    expect(fake.find(providerId)?.dateSent).toBeInstanceOf(Date);
  });
});
