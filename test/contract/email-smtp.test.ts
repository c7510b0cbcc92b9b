import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enqueueOutbound, getOutboxRow, outboxDeliveryHandler } from '../../src/core/outbox/outbox.js';
import { NonRetriableError, RetryAfterError, retryClassOf } from '../../src/core/retry-errors.js';
import { ManualClock } from '../../src/core/runtime.js';
import { MARKER_HEADER, type IncomingEmail, type OutgoingEmail } from '../../src/peers/email/email-port.js';
import { threadedReply } from '../../src/peers/email/parse-email.js';
import { createPeerGuard, PeerTimeoutError, type PeerGuardOptions } from '../../src/peers/resilience.js';
import {
  createSmtpSender,
  emailOutboundChannel,
  messageIdFor,
  outgoingEmailPayload,
  usesImplicitTls,
  type SmtpSenderOptions,
} from '../../src/peers/email/smtp-sender.js';
import { startSmtpFake, type SmtpFake } from '../fakes/smtp-fake.js';
import { databaseKind, useTestDatabase } from '../helpers/test-database.js';
import { testWorker } from '../helpers/test-worker.js';

const OWNER = 'owner@example.com';

const original: IncomingEmail = {
  messageId: '<lunch-2@mail.example.org>',
  from: { address: 'sam@example.org', name: 'Sam Sender' },
  to: [{ address: OWNER }],
  subject: 'RE: Re: Lunch on Tuesday?',
  text: 'Does 12:30 work?',
  headers: {},
  inReplyTo: '<lunch-1@example.com>',
  references: ['<lunch-0@mail.example.org>', '<lunch-1@example.com>'],
  receivedAt: new Date('2025-01-15T10:00:00Z'),
  source: 'imap',
};

function guard(overrides: Partial<PeerGuardOptions> = {}) {
  return createPeerGuard({
    name: 'smtp',
    timeoutMs: 5000,
    maxConcurrency: 2,
    breakerThreshold: 5,
    breakerResetMs: 60_000,
    ...overrides,
  });
}

function senderFor(fake: SmtpFake, overrides: Partial<SmtpSenderOptions> = {}) {
  return createSmtpSender({
    host: fake.host,
    port: fake.port,
    from: `Owner <${OWNER}>`,
    timeoutMs: 5000,
    tlsRejectUnauthorized: false,
    guard: guard(),
    clientName: 'countersign.test',
    ...overrides,
  });
}

function reply(key: string = randomUUID()): OutgoingEmail {
  return threadedReply(original, {
    text: 'Yes, 12:30 works. See you then!',
    messageId: messageIdFor(key, OWNER),
  });
}

const signal = () => new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the send to fail');
}

describe('SMTP sender against smtp-server', () => {
  let plain: SmtpFake;
  beforeAll(async () => {
    plain = await startSmtpFake();
  });
  afterAll(() => plain.close());

  it('sends a threaded reply: one "Re: ", In-Reply-To, References, the marker, the stable Message-ID', async () => {
    const email = reply('draft-1:v1');
    const result = await senderFor(plain).send(email, signal());
    const [received] = (await plain.waitForMessages(1)).slice(-1);
    expect(result.providerId).toBe(email.messageId);
    expect(received?.envelope).toEqual({ from: OWNER, to: ['sam@example.org'] });
    const parsed = received!.parsed;
    expect(parsed.subject).toBe('Re: Lunch on Tuesday?');
    expect(parsed.messageId).toBe(messageIdFor('draft-1:v1', OWNER));
    expect(parsed.messageId).toMatch(/@example\.com>$/);
    expect(parsed.inReplyTo).toBe('<lunch-2@mail.example.org>');
    expect(parsed.references).toEqual([
      '<lunch-0@mail.example.org>',
      '<lunch-1@example.com>',
      '<lunch-2@mail.example.org>',
    ]);
    expect(parsed.headers.get(MARKER_HEADER.toLowerCase())).toBe('yes');
    expect(parsed.from?.value[0]).toEqual({ address: OWNER, name: 'Owner' });
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0] : undefined).toEqual({
      address: 'sam@example.org',
      name: 'Sam Sender',
    });
    expect(parsed.text?.trim()).toBe('Yes, 12:30 works. See you then!');
  });

  it('keeps a caller’s marker value (any spelling) and writes the marker once', async () => {
    const before = plain.messages.length;
    await senderFor(plain).send({ ...reply(), headers: { 'x-countersign-reply': 'notice:42' } }, signal());
    const [received] = (await plain.waitForMessages(before + 1)).slice(-1);
    const markerLines = received!.parsed.headerLines.filter((h) => h.key === MARKER_HEADER.toLowerCase());
    expect(markerLines).toHaveLength(1);
    expect(received!.parsed.headers.get(MARKER_HEADER.toLowerCase())).toBe('notice:42');
  });

  it('a second attempt of the same draft version carries the same Message-ID', async () => {
    const before = plain.messages.length;
    const sender = senderFor(plain);
    await sender.send(reply('draft-2:v1'), signal());
    await sender.send(reply('draft-2:v1'), signal());
    await sender.send(reply('draft-2:v2'), signal());
    const ids = (await plain.waitForMessages(before + 3)).slice(before).map((m) => m.parsed.messageId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('451 is retriable and sends nothing; the retry arrives once', async () => {
    const before = plain.messages.length;
    const sender = senderFor(plain);
    plain.fail({ stage: 'rcpt', code: 451, message: '4.3.0 Try again later' });
    const error = await failure(sender.send(reply('draft-3:v1'), signal()));
    expect(retryClassOf(error)).toBe('retriable');
    expect((error as Error).message).toContain('451');
    plain.fail({ stage: 'data', code: 451 });
    expect(retryClassOf(await failure(sender.send(reply('draft-3:v1'), signal())))).toBe('retriable');
    expect(plain.messages.length).toBe(before);
    await sender.send(reply('draft-3:v1'), signal());
    expect(plain.messages.length).toBe(before + 1);
  });

  it('550 (no such mailbox) is permanent: NonRetriableError', async () => {
    plain.fail({ stage: 'rcpt', code: 550, message: '5.1.1 No such user here' });
    const error = await failure(senderFor(plain).send(reply(), signal()));
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toContain('550');
    plain.fail({ stage: 'data', code: 554, message: '5.7.1 Message rejected as spam' });
    expect(await failure(senderFor(plain).send(reply(), signal()))).toBeInstanceOf(NonRetriableError);
  });

  it('a connection dropped during DATA is retriable', async () => {
    plain.fail({ stage: 'data', drop: true });
    const error = await failure(senderFor(plain).send(reply(), signal()));
    expect(retryClassOf(error)).toBe('retriable');
  });

  it('a server slower than the time limit: PeerTimeoutError, at the limit, not at the server’s pace', async () => {
    plain.fail({ stage: 'data', delayMs: 2000 });
    const started = Date.now();
    const error = await failure(
      senderFor(plain, { guard: guard({ timeoutMs: 300 }) }).send(reply(), signal()),
    );
    expect(error).toBeInstanceOf(PeerTimeoutError);
    expect(retryClassOf(error)).toBe('retriable');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('nobody listening is retriable', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const sender = createSmtpSender({
      host: '127.0.0.1',
      port,
      from: OWNER,
      timeoutMs: 2000,
      tlsRejectUnauthorized: true,
      guard: guard(),
    });
    expect(retryClassOf(await failure(sender.send(reply(), signal())))).toBe('retriable');
  });

  it('the breaker opens after consecutive failures, refuses without connecting, and closes after a good trial', async () => {
    const breakerGuard = guard({ breakerThreshold: 2, breakerResetMs: 300 });
    const sender = senderFor(plain, { guard: breakerGuard });
    plain.fail({ stage: 'rcpt', code: 451 });
    plain.fail({ stage: 'rcpt', code: 421 });
    await failure(sender.send(reply(), signal()));
    await failure(sender.send(reply(), signal()));
    expect(breakerGuard.circuit()).toBe('open');

    const connections = plain.connections;
    const refused = await failure(sender.send(reply(), signal()));
    expect(refused).toBeInstanceOf(RetryAfterError);
    expect(plain.connections).toBe(connections);

    await new Promise((r) => setTimeout(r, 350));
    const before = plain.messages.length;
    await sender.send(reply('draft-breaker:v1'), signal());
    expect(breakerGuard.circuit()).toBe('closed');
    expect(plain.messages.length).toBe(before + 1);
  });

  it('a 5xx does not open the breaker (the server answered)', async () => {
    const breakerGuard = guard({ breakerThreshold: 2 });
    const sender = senderFor(plain, { guard: breakerGuard });
    for (let i = 0; i < 3; i++) {
      plain.fail({ stage: 'rcpt', code: 550 });
      await failure(sender.send(reply(), signal()));
    }
    expect(breakerGuard.circuit()).toBe('closed');
  });
});

describe('SMTP sender: TLS and authentication', () => {
  const fakes: SmtpFake[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });
  const start = async (...args: Parameters<typeof startSmtpFake>) => {
    const fake = await startSmtpFake(...args);
    fakes.push(fake);
    return fake;
  };
  const auth = { user: OWNER, pass: 'app-password' };

  it('port 465 means implicit TLS; any other port STARTTLS when offered; SMTP_SECURE overrides', () => {
    expect(usesImplicitTls(465, undefined)).toBe(true);
    expect(usesImplicitTls(587, undefined)).toBe(false);
    expect(usesImplicitTls(25, undefined)).toBe(false);
    expect(usesImplicitTls(2465, true)).toBe(true);
    expect(usesImplicitTls(465, false)).toBe(false);
  });

  it('implicit TLS (as on 465) with a self-signed certificate and login', async () => {
    const fake = await start({ tls: 'implicit', auth });
    await senderFor(fake, { secure: true, user: auth.user, password: auth.pass }).send(reply(), signal());
    const [received] = await fake.waitForMessages(1);
    expect(received).toMatchObject({ secure: true, user: OWNER });
  });

  it('upgrades with STARTTLS when the server offers it (as on 587), then logs in', async () => {
    const fake = await start({ tls: 'starttls', auth });
    await senderFor(fake, { user: auth.user, password: auth.pass }).send(reply(), signal());
    const [received] = await fake.waitForMessages(1);
    expect(received).toMatchObject({ secure: true, user: OWNER });
  });

  it('checks the certificate unless told not to: a self-signed one fails (retriable, a config problem)', async () => {
    const fake = await start({ tls: 'implicit' });
    const error = await failure(
      senderFor(fake, { secure: true, tlsRejectUnauthorized: true }).send(reply(), signal()),
    );
    expect(retryClassOf(error)).toBe('retriable');
    expect(fake.messages).toHaveLength(0);
  });

  it('a wrong password (535) is permanent: NonRetriableError', async () => {
    const fake = await start({ tls: 'starttls', auth });
    const error = await failure(
      senderFor(fake, { user: auth.user, password: 'wrong' }).send(reply(), signal()),
    );
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as Error).message).toContain('535');
  });
});

describe(`SMTP through the outbox (${databaseKind})`, () => {
  const database = useTestDatabase();
  let fake: SmtpFake;
  beforeAll(async () => {
    fake = await startSmtpFake();
  });
  afterAll(() => fake.close());

  it('a send deferred with 451 is retried by the job queue and arrives once, threaded', async () => {
    const clock = new ManualClock();
    const channel = emailOutboundChannel(senderFor(fake));
    const worker = testWorker(database.current.db, clock, [
      outboxDeliveryHandler({ channels: new Map([[channel.name, channel]]) }),
    ]);
    const key = `email-draft:${randomUUID()}:v1`;
    const email = threadedReply(original, { text: 'Yes.', messageId: messageIdFor(key, OWNER) });
    const { id } = await enqueueOutbound(database.current.db, {
      channel: 'email',
      recipient: email.to.address,
      payload: outgoingEmailPayload(email),
      idempotencyKey: key,
      now: clock.now(),
    });
    fake.fail({ stage: 'data', code: 451 });
    await worker.drain();
    expect(await getOutboxRow(database.current.db, id)).toMatchObject({ attempts: 1 });
    expect(fake.messages).toHaveLength(0);

    clock.advance(60_000);
    await worker.drain();
    clock.advance(60_000);
    await worker.drain(); // nothing left to do: it is sent
    expect(await getOutboxRow(database.current.db, id)).toMatchObject({
      state: 'sent',
      attempts: 2,
      providerId: email.messageId,
    });
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0]?.parsed).toMatchObject({
      messageId: email.messageId,
      inReplyTo: original.messageId,
      subject: 'Re: Lunch on Tuesday?',
    });
  });

  it('a payload that is not an email fails for good', async () => {
    const channel = emailOutboundChannel(senderFor(fake));
    const error = await failure(
      channel.send(
        { recipient: 'x', payload: { body: 'an SMS?' }, idempotencyKey: 'k', maybeSent: false, attempt: 1 },
        signal(),
      ),
    );
    expect(error).toBeInstanceOf(NonRetriableError);
  });
});
