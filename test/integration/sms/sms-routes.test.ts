import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { smsContacts, smsMessages } from '../../../src/core/db/peer-tables.js';
import { inboundEvents, outbox } from '../../../src/core/db/schema.js';
import type { JobWorker } from '../../../src/core/jobs/job-worker.js';
import {
  enqueueOutbound,
  getOutboxRow,
  outboxDeliveryHandler,
  type OutboundChannel,
} from '../../../src/core/outbox/outbox.js';
import { ManualClock, randomIds } from '../../../src/core/runtime.js';
import { inboundRedeliveryHandler } from '../../../src/core/inbound/inbound-delivery.js';
import { createPeerGuard } from '../../../src/peers/resilience.js';
import { createDevOutboxSender } from '../../../src/peers/sms/dev-outbox.js';
import {
  enqueueSms,
  SMS_CHANNEL,
  SmsRefusedError,
  smsOutboundChannel,
} from '../../../src/peers/sms/sms-channel.js';
import type { InboundSms } from '../../../src/peers/sms/sms-port.js';
import { createSmsInbox, smsRoutesModule } from '../../../src/peers/sms/sms-routes.js';
import { isOptedOut } from '../../../src/peers/sms/sms-store.js';
import { createTwilioSender } from '../../../src/peers/sms/twilio.js';
import { SmsGatewayFake } from '../../fakes/sms-gateway-fake.js';
import { TwilioFake } from '../../fakes/twilio-fake.js';
import { readProblem, useTestApp } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';
import { testWorker } from '../../helpers/test-worker.js';

/**
 * The SMS edge and channel on a real database, with the app listening on a real port so that the
 * Twilio fake posts its signed webhooks to it over sockets, as Twilio would.
 */

const OUR_NUMBER = '+14155550100';
const MAX_SEGMENTS = 3;

// Every test texts its own number, so rows and opt-outs never leak between tests.
let numberSeq = 200;
const newNumber = () => `+1415555${String(++numberSeq).padStart(4, '0')}`;

async function until<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe(`SMS routes and channel (${databaseKind})`, () => {
  const twilio = new TwilioFake();
  const gateway = new SmsGatewayFake();
  const clock = new ManualClock();
  const inbox = createSmsInbox();
  const heard: { sms: InboundSms; rowId: number }[] = [];
  let server: ServerType | undefined;
  let baseUrl = '';

  // Registered before useTestApp's hooks, so the port is known when the module is built.
  beforeAll(async () => {
    await twilio.start();
    await gateway.start();
    server = serve({ fetch: (request) => t.current.app.fetch(request), port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server?.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    (server as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await twilio.stop();
    await gateway.stop();
  });

  const t = useTestApp({
    clock,
    modules: ({ database }) => [
      smsRoutesModule({
        db: database.db,
        clock,
        ids: randomIds,
        inbox,
        defaultRegion: 'US',
        publicBaseUrl: baseUrl,
        twilioAuthToken: twilio.authToken,
        ownNumber: OUR_NUMBER,
        sandbox: true,
      }),
    ],
  });
  const db = () => t.current.database.db;

  beforeAll(() => {
    inbox.onInbound(async (_tx, sms, rowId) => {
      heard.push({ sms, rowId });
    });
  });
  beforeEach(() => {
    twilio.heal();
    gateway.heal();
  });

  const twilioChannel = (timeoutMs = 2000) =>
    smsOutboundChannel(
      createTwilioSender({
        guard: createPeerGuard({
          name: 'twilio',
          timeoutMs,
          maxConcurrency: 4,
          breakerThreshold: 50,
          breakerResetMs: 1000,
        }),
        baseUrl: twilio.url,
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: OUR_NUMBER,
        publicBaseUrl: baseUrl,
        clock,
      }),
      { db: db(), clock, maxSegments: MAX_SEGMENTS, fromNumber: OUR_NUMBER },
    );
  const outboxChannel = () =>
    smsOutboundChannel(createDevOutboxSender({ db: db(), clock, fromNumber: OUR_NUMBER }), {
      db: db(),
      clock,
      maxSegments: MAX_SEGMENTS,
      fromNumber: OUR_NUMBER,
    });
  const workerFor = (channel: OutboundChannel): JobWorker =>
    testWorker(db(), clock, [outboxDeliveryHandler({ channels: new Map([[channel.name, channel]]) })]);

  const inboundUrl = () => `${baseUrl}/webhooks/twilio/sms`;
  const rowsBySid = (sid: string) =>
    db().select().from(smsMessages).where(eq(smsMessages.providerMessageId, sid));
  const rowsTo = (phone: string) => db().select().from(smsMessages).where(eq(smsMessages.toNumber, phone));
  const contact = async (phone: string) =>
    (await db().select().from(smsContacts).where(eq(smsContacts.phone, phone)))[0];
  const key = () => `draft:${randomUUID()}:v1`;

  async function sendThroughOutbox(channel: OutboundChannel, to: string, body: string) {
    const queued = await enqueueSms(db(), {
      to,
      body,
      idempotencyKey: key(),
      now: clock.now(),
      maxSegments: MAX_SEGMENTS,
    });
    await workerFor(channel).drain();
    const row = await getOutboxRow(db(), queued.id);
    if (!row) throw new Error('outbox row missing');
    return row;
  }

  describe('Twilio inbound webhook', () => {
    it('a signed text is taken once, however often Twilio posts it', async () => {
      const from = newNumber();
      const messageSid = `SM${randomUUID().replaceAll('-', '')}`;
      const heardBefore = heard.length;
      const responses = await Promise.all(
        Array.from({ length: 5 }, () =>
          twilio.sendInbound(inboundUrl(), {
            from,
            to: OUR_NUMBER,
            body: 'I can pay $50 Friday',
            messageSid,
          }),
        ),
      );
      for (const { response } of responses) {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
        expect(await response.text()).toContain('<Response/>');
      }
      const rows = await rowsBySid(messageSid);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        direction: 'in',
        provider: 'twilio',
        fromNumber: from,
        toNumber: OUR_NUMBER,
        body: 'I can pay $50 Friday',
        state: 'received',
        segments: 1,
        encoding: 'gsm7',
      });
      const events = await db()
        .select()
        .from(inboundEvents)
        .where(and(eq(inboundEvents.source, 'sms:twilio'), eq(inboundEvents.naturalKey, messageSid)));
      expect(events).toHaveLength(1);
      expect(heard.slice(heardBefore)).toEqual([
        { sms: expect.objectContaining({ providerMessageId: messageSid, from }), rowId: rows[0]?.id },
      ]);
    });

    it.each([
      ['no signature', null],
      ['a garbage signature', 'bm90IGEgc2lnbmF0dXJl'],
    ])('%s is refused with 403 and nothing is stored', async (_name, signature) => {
      const from = newNumber();
      const { response, messageSid } = await twilio.sendInbound(
        inboundUrl(),
        { from, to: OUR_NUMBER, body: 'STOP' },
        { signature },
      );
      expect(response.status).toBe(403);
      expect(await readProblem(response)).toMatchObject({
        status: 403,
        detail: expect.stringContaining('X-Twilio-Signature'),
      });
      expect(await rowsBySid(messageSid)).toHaveLength(0);
      expect(await isOptedOut(db(), from)).toBe(false);
    });

    it('a signature made with another token, or over another URL, is refused', async () => {
      const from = newNumber();
      const params = twilio.inboundParams({ from, to: OUR_NUMBER, body: 'STOP' });
      const otherToken = new TwilioFake({ authToken: 'not-our-token' }).sign(inboundUrl(), params);
      const otherUrl = twilio.sign('https://elsewhere.example.com/webhooks/twilio/sms', params);
      for (const signature of [otherToken, otherUrl]) {
        const response = await twilio.postSigned(inboundUrl(), params, { signature });
        expect(response.status).toBe(403);
      }
      const tampered = await twilio.postSigned(
        inboundUrl(),
        { ...params, Body: 'START' },
        { signature: twilio.sign(inboundUrl(), params) },
      );
      expect(tampered.status).toBe(403);
      expect(await rowsBySid(params.MessageSid ?? '')).toHaveLength(0);
      expect(await isOptedOut(db(), from)).toBe(false);
    });

    it('hands listeners the opt-out flag as the text left it, and answers the link they made', async () => {
      const from = newNumber();
      const seen: { body: string; optedOut: boolean | undefined }[] = [];
      const remove = inbox.onInbound(async (_tx, sms, rowId, optedOut) => {
        seen.push({ body: sms.body, optedOut });
        return sms.body === 'link me' ? { conversationId: `conv_${rowId}`, workflowId: 'wf-1' } : undefined;
      });
      const receive = (body: string) =>
        db().transaction((tx) =>
          inbox.receive(
            tx,
            {
              provider: 'test',
              providerMessageId: randomUUID(),
              from,
              body,
              receivedAt: clock.now(),
            },
            clock.now(),
          ),
        );
      try {
        await receive('hello');
        await receive('STOP');
        await receive('still there?');
        await receive('YES');
        const linked = await receive('link me');
        expect(seen).toEqual([
          { body: 'hello', optedOut: false },
          { body: 'STOP', optedOut: true },
          { body: 'still there?', optedOut: true },
          { body: 'YES', optedOut: false },
          { body: 'link me', optedOut: false },
        ]);
        expect(linked).toMatchObject({ accepted: true, keyword: undefined });
        if (!linked.accepted) throw new Error('not accepted');
        expect(linked.link).toEqual({ conversationId: `conv_${linked.messageRowId}`, workflowId: 'wf-1' });
        // A redelivery knows no flag: the listener reads it itself.
        seen.length = 0;
        await db().transaction((tx) =>
          inbox.redeliver(tx, { channel: 'sms', inboundEventId: 0, ref: linked.messageRowId }),
        );
        expect(seen).toEqual([{ body: 'link me', optedOut: undefined }]);
      } finally {
        remove();
      }
    });

    it('a listener that fails keeps the text (200), and a job hands it over again once', async () => {
      const from = newNumber();
      const messageSid = `SM${randomUUID().replaceAll('-', '')}`;
      let failOnce = true;
      const handed: string[] = [];
      const remove = inbox.onInbound(async (_tx, sms) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('workflow store unavailable');
        }
        handed.push(sms.providerMessageId);
      });
      try {
        const first = await twilio.sendInbound(inboundUrl(), {
          from,
          to: OUR_NUMBER,
          body: 'hello',
          messageSid,
        });
        // Twilio does not resend a webhook that failed: the text must be kept now, not on a retry.
        expect(first.response.status).toBe(200);
        expect(await rowsBySid(messageSid)).toHaveLength(1);
        const worker = testWorker(db(), clock, [
          inboundRedeliveryHandler({ sms: (tx, payload) => inbox.redeliver(tx, payload) }),
        ]);
        await worker.drain();
        await worker.drain();
        expect(handed).toEqual([messageSid]);
        const repeat = await twilio.sendInbound(inboundUrl(), {
          from,
          to: OUR_NUMBER,
          body: 'hello',
          messageSid,
        });
        expect(repeat.response.status).toBe(200);
        expect(handed).toEqual([messageSid]);
      } finally {
        remove();
      }
    });
  });

  describe('opt-out', () => {
    it('STOP opts the sender out: enqueueSms refuses, and the channel refuses a text already queued', async () => {
      const phone = newNumber();
      const queued = await enqueueOutbound(db(), {
        channel: SMS_CHANNEL,
        recipient: phone,
        payload: { to: phone, body: 'Your balance is $120.' },
        idempotencyKey: key(),
        now: clock.now(),
      });
      const { response } = await twilio.sendInbound(inboundUrl(), {
        from: phone,
        to: OUR_NUMBER,
        body: 'Stop',
      });
      expect(response.status).toBe(200);
      expect(await contact(phone)).toMatchObject({ optedOut: true, reason: 'stop_word' });

      await expect(
        enqueueSms(db(), {
          to: phone,
          body: 'Hi again',
          idempotencyKey: key(),
          now: clock.now(),
          maxSegments: MAX_SEGMENTS,
        }),
      ).rejects.toMatchObject({ name: 'SmsRefusedError', reason: 'opted_out' });

      const sendsBefore = twilio.sends().length;
      await workerFor(twilioChannel()).drain();
      expect(twilio.sends().length).toBe(sendsBefore);
      expect(await getOutboxRow(db(), queued.id)).toMatchObject({ state: 'failed', attempts: 1 });
      expect(await rowsTo(phone)).toEqual([
        expect.objectContaining({ direction: 'out', state: 'failed', errorCode: 'opted_out' }),
      ]);
    });

    it('START opts back in; YES does only for a number that opted out', async () => {
      const phone = newNumber();
      await twilio.sendInbound(inboundUrl(), { from: phone, to: OUR_NUMBER, body: 'UNSUBSCRIBE' });
      expect(await isOptedOut(db(), phone)).toBe(true);
      await twilio.sendInbound(inboundUrl(), { from: phone, to: OUR_NUMBER, body: 'start' });
      expect(await contact(phone)).toMatchObject({ optedOut: false, reason: 'opt_in_word' });

      const row = await sendThroughOutbox(twilioChannel(), phone, 'Welcome back.');
      expect(row.state).toBe('sent');

      await twilio.sendInbound(inboundUrl(), { from: phone, to: OUR_NUMBER, body: 'STOP' });
      await twilio.sendInbound(inboundUrl(), { from: phone, to: OUR_NUMBER, body: 'Yes' });
      expect(await isOptedOut(db(), phone)).toBe(false);
      const other = newNumber();
      await twilio.sendInbound(inboundUrl(), { from: other, to: OUR_NUMBER, body: 'Yes' });
      expect(await contact(other)).toBeUndefined();
    });

    it('Twilio error 21610 on send marks the number opted out and is not retried', async () => {
      const phone = newNumber();
      twilio.optedOut.add(phone);
      const row = await sendThroughOutbox(twilioChannel(), phone, 'Your balance is $120.');
      expect(row).toMatchObject({ state: 'failed', attempts: 1 });
      expect(twilio.sends().filter((r) => r.form?.To === phone)).toHaveLength(1);
      expect(await contact(phone)).toMatchObject({ optedOut: true, reason: 'provider_21610' });
      expect(await rowsTo(phone)).toEqual([
        expect.objectContaining({ state: 'failed', errorCode: '21610', providerMessageId: null }),
      ]);

      clock.advance(3_600_000);
      await workerFor(twilioChannel()).drain();
      expect(twilio.sends().filter((r) => r.form?.To === phone)).toHaveLength(1);
    });

    it('a text over the segment budget is refused, never cut, and never reaches Twilio', async () => {
      const phone = newNumber();
      const long = `${'a'.repeat(459)}b`;
      await expect(
        enqueueSms(db(), {
          to: phone,
          body: long,
          idempotencyKey: key(),
          now: clock.now(),
          maxSegments: MAX_SEGMENTS,
        }),
      ).rejects.toBeInstanceOf(SmsRefusedError);
      const queued = await enqueueOutbound(db(), {
        channel: SMS_CHANNEL,
        recipient: phone,
        payload: { to: phone, body: long },
        idempotencyKey: key(),
        now: clock.now(),
      });
      const sendsBefore = twilio.sends().length;
      await workerFor(twilioChannel()).drain();
      expect(twilio.sends().length).toBe(sendsBefore);
      expect(await getOutboxRow(db(), queued.id)).toMatchObject({ state: 'failed' });
      expect(await rowsTo(phone)).toEqual([
        expect.objectContaining({ state: 'failed', errorCode: 'too_long', segments: 4, body: long }),
      ]);
    });
  });

  describe('Twilio delivery', () => {
    it('a text goes out once, and its status callback moves it to delivered, never back', async () => {
      const phone = newNumber();
      const row = await sendThroughOutbox(twilioChannel(), phone, 'Your plan is $50 per week.');
      expect(row.state).toBe('sent');
      const sid = row.providerId ?? '';
      expect(twilio.find(sid)).toMatchObject({
        to: phone,
        statusCallback: `${baseUrl}/webhooks/twilio/status`,
      });
      expect(await rowsBySid(sid)).toEqual([
        expect.objectContaining({ state: 'sent', direction: 'out', toNumber: phone }),
      ]);

      expect((await twilio.sendStatus(sid, 'delivered')).status).toBe(204);
      expect((await rowsBySid(sid))[0]?.state).toBe('delivered');
      expect((await twilio.sendStatus(sid, 'sent')).status).toBe(204);
      expect((await rowsBySid(sid))[0]?.state).toBe('delivered');

      const res = await t.current.request(`/sms/messages?phone=${encodeURIComponent(phone)}`, {
        as: 'viewer',
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { messages: Record<string, unknown>[] };
      expect(body.messages).toEqual([
        expect.objectContaining({ provider: 'twilio', provider_message_id: sid, state: 'delivered' }),
      ]);
    });

    it('an unsigned status callback is refused; one for an unknown sid changes nothing', async () => {
      const phone = newNumber();
      const row = await sendThroughOutbox(twilioChannel(), phone, 'Reminder.');
      const sid = row.providerId ?? '';
      const statusUrl = `${baseUrl}/webhooks/twilio/status`;
      const unsigned = await twilio.sendStatusCallback(
        statusUrl,
        { messageSid: sid, status: 'failed' },
        { signature: null },
      );
      expect(unsigned.status).toBe(403);
      expect((await rowsBySid(sid))[0]?.state).toBe('sent');
      const unknown = await twilio.sendStatusCallback(statusUrl, {
        messageSid: 'SMunknown',
        status: 'delivered',
      });
      expect(unknown.status).toBe(204);
    });

    it('an undelivered report with error 21610 opts the number out', async () => {
      const phone = newNumber();
      const row = await sendThroughOutbox(twilioChannel(), phone, 'Reminder.');
      await twilio.sendStatus(row.providerId ?? '', 'undelivered', 21610);
      expect(await rowsBySid(row.providerId ?? '')).toEqual([
        expect.objectContaining({ state: 'undelivered', errorCode: '21610' }),
      ]);
      expect(await contact(phone)).toMatchObject({ optedOut: true, reason: 'provider_21610' });
    });

    it('after a lost answer the retry finds the text at Twilio instead of sending it twice', async () => {
      const phone = newNumber();
      // Twilio takes the text but answers after our 200 ms limit: the outcome is unknown.
      twilio.failNext({ kind: 'delay', ms: 500 });
      const queued = await enqueueSms(db(), {
        to: phone,
        body: 'Lost answer',
        idempotencyKey: key(),
        now: clock.now(),
        maxSegments: MAX_SEGMENTS,
      });
      const channel = twilioChannel(200);
      await workerFor(channel).drain();
      expect(await getOutboxRow(db(), queued.id)).toMatchObject({ state: 'sending', attempts: 1 });
      const stored = await until('Twilio to store the text', () =>
        twilio.messages.find((m) => m.to === phone),
      );

      const listsBefore = twilio.lists().length;
      clock.advance(600_000);
      await workerFor(channel).drain();
      expect(await getOutboxRow(db(), queued.id)).toMatchObject({
        state: 'sent',
        providerId: stored.sid,
        attempts: 2,
      });
      expect(twilio.sends().filter((r) => r.form?.To === phone)).toHaveLength(1);
      expect(twilio.lists().length).toBeGreaterThan(listsBefore);
      expect(await rowsTo(phone)).toEqual([
        expect.objectContaining({ providerMessageId: stored.sid, state: 'sent' }),
      ]);
    });
  });

  describe('dev outbox and sandbox', () => {
    it('a text sent through the dev outbox shows in GET /sms/messages, once', async () => {
      const phone = newNumber();
      const idempotencyKey = key();
      const conversationId = `conv_${randomUUID()}`;
      for (let i = 0; i < 2; i += 1) {
        await enqueueSms(db(), {
          to: phone,
          body: 'Hi Maria, your balance is $1,200.',
          idempotencyKey,
          conversationId,
          now: clock.now(),
          maxSegments: MAX_SEGMENTS,
        });
      }
      await workerFor(outboxChannel()).drain();
      const [sent] = await db().select().from(outbox).where(eq(outbox.idempotencyKey, idempotencyKey));
      expect(sent).toMatchObject({ state: 'sent', providerId: expect.stringMatching(/^OB/) });

      for (const query of [`phone=${encodeURIComponent(phone)}`, `conversation_id=${conversationId}`]) {
        const res = await t.current.request(`/sms/messages?${query}`, { as: 'viewer' });
        expect(res.status).toBe(200);
        const body = (await res.json()) as {
          messages: Record<string, unknown>[];
          next_before: number | null;
        };
        expect(body.messages).toEqual([
          expect.objectContaining({
            direction: 'out',
            provider: 'outbox',
            provider_message_id: sent?.providerId,
            from: OUR_NUMBER,
            to: phone,
            body: 'Hi Maria, your balance is $1,200.',
            state: 'delivered',
            segments: 1,
            encoding: 'gsm7',
            conversation_id: conversationId,
          }),
        ]);
        expect(body.next_before).toBeNull();
      }
    });

    it('the message list pages with before and needs a token', async () => {
      const phone = newNumber();
      for (const body of ['one', 'two', 'three']) {
        await t.current.request('/sandbox/sms', { as: 'manager', json: { from: phone, body } });
      }
      const first = await t.current.request(`/sms/messages?phone=${encodeURIComponent(phone)}&limit=2`, {
        as: 'viewer',
      });
      const page1 = (await first.json()) as { messages: { body: string }[]; next_before: number };
      expect(page1.messages.map((m) => m.body)).toEqual(['three', 'two']);
      const second = await t.current.request(
        `/sms/messages?phone=${encodeURIComponent(phone)}&limit=2&before=${page1.next_before}`,
        { as: 'viewer' },
      );
      const page2 = (await second.json()) as { messages: { body: string }[] };
      expect(page2.messages.map((m) => m.body)).toEqual(['one']);
      expect((await t.current.request('/sms/messages')).status).toBe(401);
    });

    it('the sandbox phone texts in through the same path as a real text', async () => {
      const phone = newNumber();
      const heardBefore = heard.length;
      const res = await t.current.request('/sandbox/sms', {
        as: 'manager',
        json: { from: '(415) 555-' + phone.slice(-4), body: 'I can pay $50 per week' },
      });
      expect(res.status).toBe(201);
      const row = (await res.json()) as Record<string, unknown>;
      expect(row).toMatchObject({
        direction: 'in',
        provider: 'outbox',
        from: phone,
        to: OUR_NUMBER,
        state: 'received',
      });
      expect(heard.slice(heardBefore)).toEqual([
        { sms: expect.objectContaining({ provider: 'outbox', from: phone }), rowId: row.id },
      ]);

      await t.current.request('/sandbox/sms', { as: 'manager', json: { from: phone, body: 'STOP' } });
      expect(await isOptedOut(db(), phone)).toBe(true);
      expect(
        (await t.current.request('/sandbox/sms', { as: 'viewer', json: { from: phone, body: 'hi' } })).status,
      ).toBe(403);
    });
  });

  describe('SMS Gateway inbound', () => {
    it('a forwarded text is taken once by messageId', async () => {
      const phone = newNumber();
      const messageId = `gw-${randomUUID()}`;
      const url = `${baseUrl}/sms/inbound/gateway`;
      const text = { messageId, message: '1', phoneNumber: phone, receivedAt: '2025-01-15T10:29:00Z' };
      const first = await gateway.forwardInbound(url, text, t.current.tokens.service);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ status: 'received', message_id: messageId });
      const again = await gateway.forwardInbound(url, text, t.current.tokens.service);
      expect(await again.json()).toEqual({ status: 'duplicate', message_id: messageId });
      expect(await rowsBySid(messageId)).toEqual([
        expect.objectContaining({
          provider: 'sms-gateway',
          fromNumber: phone,
          toNumber: OUR_NUMBER,
          body: '1',
          createdAt: new Date('2025-01-15T10:29:00Z'),
        }),
      ]);
      expect(
        (await gateway.forwardInbound(url, { ...text, messageId: 'other' }, t.current.tokens.manager)).status,
      ).toBe(403);
    });
  });

  describe('invalid phone numbers are a 400 naming the field', () => {
    it.each([
      ['/sandbox/sms', { from: 'not a phone', body: 'hi' }, '/from'],
      ['/sandbox/sms', { from: '+14155550123', body: 'hi', to: '12345' }, '/to'],
      [
        '/sms/inbound/gateway',
        { messageId: 'x1', message: 'hi', phoneNumber: '+1 555 123 0001' },
        '/phoneNumber',
      ],
    ])('POST %s %j', async (path, json, pointer) => {
      const res = await t.current.request(path, { as: 'admin', json });
      expect(res.status).toBe(400);
      const problem = await readProblem(res);
      expect(problem.errors).toEqual([
        expect.objectContaining({ pointer, detail: expect.stringContaining('valid phone number') }),
      ]);
    });

    it('GET /sms/messages?phone=', async () => {
      const res = await t.current.request('/sms/messages?phone=12345', { as: 'viewer' });
      expect(res.status).toBe(400);
      expect((await readProblem(res)).errors).toEqual([expect.objectContaining({ pointer: '/query/phone' })]);
    });
  });

  it('every SMS route is in the OpenAPI document', async () => {
    const res = await t.current.request('/openapi.json');
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/webhooks/twilio/sms',
      '/webhooks/twilio/status',
      '/sms/inbound/gateway',
      '/sms/messages',
      '/sandbox/sms',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });
});

describe(`SMS routes without Twilio or the sandbox configured (${databaseKind})`, () => {
  const clock = new ManualClock();
  const t = useTestApp({
    clock,
    modules: ({ database }) => [
      smsRoutesModule({
        db: database.db,
        clock,
        ids: randomIds,
        inbox: createSmsInbox(),
        defaultRegion: 'US',
      }),
    ],
  });

  it('the sandbox answers 404 whatever the body', async () => {
    for (const json of [{ from: '+14155550123', body: 'hi' }, { from: 'nope' }]) {
      const res = await t.current.request('/sandbox/sms', { as: 'manager', json });
      expect(res.status).toBe(404);
      expect(await readProblem(res)).toMatchObject({ detail: expect.stringContaining('dev outbox') });
    }
  });

  it('Twilio webhooks are refused: no signature can be checked without TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL', async () => {
    const fake = new TwilioFake();
    const params = fake.inboundParams({ from: '+14155550123', to: OUR_NUMBER, body: 'hi' });
    const res = await t.current.request('/webhooks/twilio/sms', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': fake.sign('http://localhost/webhooks/twilio/sms', params),
      },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(403);
    expect(await readProblem(res)).toMatchObject({ detail: expect.stringContaining('PUBLIC_BASE_URL') });
    const rows = await t.current.database.db.select().from(smsMessages);
    expect(rows).toHaveLength(0);
  });
});
