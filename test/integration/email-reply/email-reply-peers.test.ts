import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailReplyModule } from '../../../src/email-reply/email-reply-module.js';
import { dovecotSupport, startDovecot, warnDovecotSkipped, type Dovecot } from '../../fakes/dovecot.js';
import { OpenAiFake } from '../../fakes/openai-fake.js';
import { SmsGatewayFake } from '../../fakes/sms-gateway-fake.js';
import { startSmtpFake, type SmtpFake } from '../../fakes/smtp-fake.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * The email seed's own example end to end over real protocols: mail arrives in a Dovecot
 * mailbox, the draft comes from an OpenAI-compatible fake, the owner is texted through the seed's
 * SMS gateway fake and answers through POST /orchestrator/sms-response, and the reply leaves by
 * SMTP to smtp-server, threaded.
 */
const OWNER = '+14155550122';
const ADDRESS = 'owner@example.com';

const support = dovecotSupport();
if (!support.available) warnDovecotSkipped(support.reason);
const title = support.available
  ? `email auto-reply over IMAP, SMTP, SMS gateway and an LLM (${databaseKind})`
  : `email auto-reply over real peers (${databaseKind}) — SKIPPED: ${support.reason}`;

describe.skipIf(!support.available)(title, () => {
  let sut: ServiceUnderTest;
  let dovecot: Dovecot;
  let smtp: SmtpFake;
  const gateway = new SmsGatewayFake();
  const openai = new OpenAiFake({ apiKey: null });
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot({ user: ADDRESS });
    cleanups.push(() => dovecot.stop());
    smtp = await startSmtpFake();
    cleanups.push(() => smtp.close());
    await Promise.all([gateway.start(), openai.start()]);
    cleanups.push(() => Promise.all([gateway.stop(), openai.stop()]).then(() => undefined));
    sut = await startServiceUnderTest({
      env: {
        YOUR_PHONE_NUMBER: OWNER,
        EMAIL_ADDRESS: ADDRESS,
        EMAIL_PASSWORD: dovecot.password,
        IMAP_HOST: dovecot.host,
        IMAP_PORT: String(dovecot.port),
        IMAP_SECURE: 'false',
        POLL_INTERVAL: '1',
        GMAIL_SMTP_SERVER: smtp.host,
        GMAIL_SMTP_PORT: String(smtp.port),
        SMTP_SECURE: 'false',
        SMS_GATEWAY_URL: gateway.url,
        OPENAI_BASE_URL: openai.baseUrl,
      },
      modules: [emailReplyModule()],
    });
    cleanups.push(() => sut.stop());
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const call: ServiceUnderTest['call'] = (...args) => sut.call(...args);

  const until = eventually;

  /** The owner answers a draft once the workflow shows it is waiting (the text may land first). */
  const awaitingDraft = (id: string, version: number) =>
    until(
      async () => (await call('GET', `/workflow/${encodeURIComponent(id)}`)).body,
      (w) => w.status === 'awaiting_user' && w.draft_version === version,
      `draft ${version} awaiting the owner`,
    );
  const ownerTexts = () => gateway.texts.filter((t) => t.to === OWNER).map((t) => t.message);
  let said = 0;
  async function ownerSays(message: string) {
    said += 1;
    const res = await call('POST', '/orchestrator/sms-response', {
      messageId: `gw-in-${said}`,
      message,
      phoneNumber: OWNER,
      receivedAt: new Date().toISOString(),
    });
    expect(res.status).toBe(200);
  }

  it('"Meeting tomorrow at 2pm?" → draft → "2 reject meeting with health reason" → redraft → "1" → threaded reply', async () => {
    openai.enqueueReply({
      text: 'Hi Ana, 2pm tomorrow works for me. Sam',
      intent: 'other',
      confidence: 0.9,
      plan: null,
    });
    openai.enqueueReply({
      text: 'Hi Ana, I am sorry, I cannot make the meeting tomorrow for health reasons. Sam',
      intent: 'other',
      confidence: 0.9,
      plan: null,
    });
    await dovecot.appendMessage(
      [
        'From: Ana Silva <ana@example.net>',
        `To: ${ADDRESS}`,
        'Subject: Meeting tomorrow',
        'Message-ID: <meeting-1@example.net>',
        'Date: Thu, 15 Jan 2026 10:00:00 +0000',
        '',
        'Meeting tomorrow at 2pm?',
        '',
      ].join('\r\n'),
    );
    const shown = await until(ownerTexts, (t) => t.length >= 1, 'the first draft by SMS');
    expect(shown[0]).toContain('Meeting tomorrow');
    expect(shown[0]).toContain('2pm tomorrow works for me');
    expect(shown[0]).toContain('1=Send 2=Edit 3=Ignore');

    await awaitingDraft('meeting-1@example.net', 1);
    await ownerSays('2 reject meeting with health reason');
    await until(ownerTexts, (t) => t.length >= 2, 'the redraft by SMS');
    expect(ownerTexts()[1]).toContain('health reasons');
    // The redraft was asked with the email, the previous draft and the instruction as typed.
    const redraftPrompt = JSON.stringify(openai.completions.at(-1)?.json);
    expect(redraftPrompt).toContain('reject meeting with health reason');
    expect(redraftPrompt).toContain('2pm tomorrow works for me');
    expect(redraftPrompt).toContain('Meeting tomorrow at 2pm?');

    await awaitingDraft('meeting-1@example.net', 2);
    await ownerSays('1');
    const [reply] = await smtp.waitForMessages(1, 20_000);
    expect(reply!.parsed.subject).toBe('Re: Meeting tomorrow');
    expect(reply!.parsed.inReplyTo).toBe('<meeting-1@example.net>');
    expect(reply!.parsed.text).toContain('health reasons');
    expect(reply!.envelope.to).toEqual(['ana@example.net']);
    expect(reply!.parsed.headers.get('x-countersign-reply')).toBeDefined();
    await until(ownerTexts, (t) => t.some((m) => m.startsWith('✅ Reply sent to')), 'the confirmation');
    expect(smtp.messages).toHaveLength(1);
  });

  it.each([
    ['auto_submitted', { 'Auto-Submitted': 'auto-replied' }, 'ana@example.net'],
    ['precedence_bulk', { Precedence: 'bulk' }, 'ana@example.net'],
    ['mailing_list', { 'List-Id': '<news.example.net>' }, 'ana@example.net'],
    ['mailing_list', { 'List-Unsubscribe': '<mailto:u@example.net>' }, 'ana@example.net'],
    ['null_return_path', { 'Return-Path': '<>' }, 'ana@example.net'],
    ['automated_sender', {}, 'MAILER-DAEMON@example.net'],
    ['automated_sender', {}, 'no-reply@example.net'],
    ['auto_response_suppress', { 'X-Auto-Response-Suppress': 'All' }, 'ana@example.net'],
    ['own_address', {}, ADDRESS],
    ['own_marker', { 'X-Countersign-Reply': 'v1' }, 'ana@example.net'],
  ])('skips %s (%j from %s) with no AI call and no SMS', async (reason, headers, from) => {
    const calls = openai.completions.length;
    const texts = gateway.texts.length;
    const id = `skip-${Math.random().toString(36).slice(2)}@example.net`;
    const res = await call('POST', '/emails', {
      message_id: `<${id}>`,
      from,
      to: [ADDRESS],
      subject: 'hello',
      text: 'hello',
      headers,
      received_at: new Date().toISOString(),
    });
    expect(res.status).toBe(202);
    const workflow = await until(
      async () => (await call('GET', `/workflow/${encodeURIComponent(id)}`)).body,
      (w) => w.status === 'skipped',
      'the skip',
    );
    expect(workflow.skip_reason).toBe(reason);
    expect(openai.completions.length).toBe(calls);
    expect(gateway.texts.length).toBe(texts);
  });
});
