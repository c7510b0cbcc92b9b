import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTHING_WAITING_TEXT } from '../../../src/email-reply/commands.js';
import { emailReplyModule } from '../../../src/email-reply/email-reply-module.js';
import { dovecotSupport, startDovecot, warnDovecotSkipped, type Dovecot } from '../../fakes/dovecot.js';
import { OpenAiFake } from '../../fakes/openai-fake.js';
import { startSmtpFake, type SmtpFake } from '../../fakes/smtp-fake.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * Several mailboxes (EMAIL_MAILBOXES_FILE): `sales` and `support` belong to one owner and leave
 * by their own SMTP servers; `ops` belongs to a second owner and keeps its replies in the outbox.
 * One owner is shown one draft at a time across their mailboxes; owners never act on each other's.
 */
const DANA = '+14155550161';
const LEE = '+14155550162';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dovecot = dovecotSupport();
if (!dovecot.available) warnDovecotSkipped(dovecot.reason);

describe(`email auto-reply with several mailboxes (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  let salesSmtp: SmtpFake;
  let supportSmtp: SmtpFake;
  const openai = new OpenAiFake({ apiKey: null });

  beforeAll(async () => {
    [salesSmtp, supportSmtp] = await Promise.all([startSmtpFake(), startSmtpFake()]);
    await openai.start();
    const smtp = (fake: SmtpFake) => ({ smtp_server: fake.host, smtp_port: fake.port, smtp_secure: false });
    const file = join(mkdtempSync(join(tmpdir(), 'countersign-mailboxes-')), 'mailboxes.json');
    writeFileSync(
      file,
      JSON.stringify([
        {
          name: 'sales',
          email_address: 'sales@example.com',
          owner_phone: DANA,
          owner_name: 'Dana',
          ...smtp(salesSmtp),
        },
        { name: 'support', email_address: 'support@example.com', owner_phone: DANA, ...smtp(supportSmtp) },
        { name: 'ops', email_address: 'ops@example.com', owner_phone: LEE },
      ]),
    );
    sut = await startServiceUnderTest({
      env: { EMAIL_MAILBOXES_FILE: file, OPENAI_BASE_URL: openai.baseUrl },
      modules: [emailReplyModule()],
    });
  });
  afterAll(async () => {
    await sut?.stop();
    await Promise.all([openai.stop(), salesSmtp?.close(), supportSmtp?.close()]);
  });

  const call = async (method: string, path: string, body?: unknown) =>
    (await sut.call(method, path, body)) as { status: number; body: Json };

  async function email(mailbox: string, id: string, subject: string) {
    const res = await call('POST', `/emails?mailbox=${mailbox}`, {
      message_id: `<${id}>`,
      from: 'Ana <ana@example.net>',
      to: [`${mailbox}@example.com`],
      subject,
      text: `${subject}?`,
      headers: {},
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  }
  const workflow = async (id: string, mailbox: string) =>
    (await call('GET', `/workflow/${encodeURIComponent(id)}?mailbox=${mailbox}`)).body;
  const textsTo = async (phone: string) => {
    const res = await call('GET', `/sms/messages?phone=${encodeURIComponent(phone)}&limit=200`);
    return (res.body.messages as { direction: string; body: string; created_at: string }[])
      .filter((m) => m.direction === 'out')
      .map((m) => m.body);
  };
  const drafts = async (phone: string) => (await textsTo(phone)).filter((t) => t.includes('1=Send'));
  let said = 0;
  async function says(phone: string, message: string) {
    said += 1;
    const res = await call('POST', '/orchestrator/sms-response', {
      messageId: `mbx-in-${said}`,
      message,
      phoneNumber: phone,
    });
    expect(res.status).toBe(200);
  }

  it('keeps the same email in two mailboxes as two workflows, and asks which one is meant', async () => {
    await email('sales', 'both@example.net', 'Copied to both');
    await email('support', 'both@example.net', 'Copied to both');
    const ambiguous = await call('GET', `/workflow/${encodeURIComponent('both@example.net')}`);
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.detail).toMatch(/several mailboxes \((sales, support|support, sales)\)/);
    expect((await workflow('both@example.net', 'sales')).mailbox).toBe('sales');
    expect((await workflow('both@example.net', 'support')).mailbox).toBe('support');
    const unknown = await call('POST', '/emails?mailbox=nope', {
      message_id: '<nope@example.net>',
      from: 'ana@example.net',
      to: ['nope@example.com'],
      subject: 'Lost',
      text: 'Which mailbox?',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/no mailbox named "nope"/);
  });

  it('shows one owner one draft at a time across their mailboxes; each reply leaves by its own mailbox', async () => {
    await eventually(
      () => drafts(DANA),
      (d) => d.length >= 1,
      "Dana's first draft",
    );
    const [sales, support] = [
      await workflow('both@example.net', 'sales'),
      await workflow('both@example.net', 'support'),
    ];
    // Both are drafted; exactly one waits on Dana.
    await eventually(
      async () => [
        (await workflow('both@example.net', 'sales')).status,
        (await workflow('both@example.net', 'support')).status,
      ],
      (s) => s.includes('awaiting_user') && s.includes('ai_generated'),
      'one shown, one queued',
    );
    expect(await drafts(DANA)).toHaveLength(1);
    const first =
      (await workflow('both@example.net', 'sales')).status === 'awaiting_user' ? 'sales' : 'support';
    const second = first === 'sales' ? 'support' : 'sales';
    expect([sales.mailbox, support.mailbox]).toEqual(['sales', 'support']);

    await says(DANA, '1');
    const [firstSmtp, secondSmtp] = first === 'sales' ? [salesSmtp, supportSmtp] : [supportSmtp, salesSmtp];
    const [reply] = await firstSmtp.waitForMessages(1, 20_000);
    expect(reply!.envelope.from).toBe(`${first}@example.com`);
    expect(reply!.parsed.inReplyTo).toBe('<both@example.net>');
    // Then the other mailbox's draft is shown, and only it is sent by the next "1".
    await eventually(
      () => workflow('both@example.net', second),
      (w) => w.status === 'awaiting_user',
      `the ${second} draft shown next`,
    );
    expect(await drafts(DANA)).toHaveLength(2);
    expect(secondSmtp.messages).toHaveLength(0);
    await says(DANA, '1');
    const [other] = await secondSmtp.waitForMessages(1, 20_000);
    expect(other!.envelope.from).toBe(`${second}@example.com`);
    await eventually(
      () => workflow('both@example.net', second),
      (w) => w.status === 'reply_sent',
      'both sent',
    );
    expect(salesSmtp.messages).toHaveLength(1);
    expect(supportSmtp.messages).toHaveLength(1);
    // Two confirmations, one per send; different idempotency keys although the Message-ID is one.
    await eventually(
      () => textsTo(DANA),
      (t) => t.filter((m) => m.startsWith('✅ Reply sent to')).length === 2,
      'two confirmations',
    );
  });

  it("gives each owner their own slot: one owner's answer never acts on the other's draft", async () => {
    await email('ops', 'ops-1@example.net', 'Server down');
    await email('sales', 'sales-2@example.net', 'Quote please');
    await eventually(
      async () => [
        (await workflow('ops-1@example.net', 'ops')).status,
        (await workflow('sales-2@example.net', 'sales')).status,
      ],
      (s) => s.every((x) => x === 'awaiting_user'),
      'both owners shown a draft at once',
    );
    await says(LEE, '3');
    await eventually(
      () => workflow('ops-1@example.net', 'ops'),
      (w) => w.status === 'user_ignored',
      'ops ignored by Lee',
    );
    expect((await workflow('sales-2@example.net', 'sales')).status).toBe('awaiting_user');
    await eventually(
      () => textsTo(LEE),
      (t) => t.includes('✓ Email ignored'),
      "Lee's confirmation",
    );
    // Dana's drafts were never texted to Lee, nor Lee's to Dana.
    expect((await drafts(LEE)).every((d) => d.includes('Server down'))).toBe(true);
    expect((await drafts(DANA)).some((d) => d.includes('Server down'))).toBe(false);
    await says(DANA, '3');
    await eventually(
      () => workflow('sales-2@example.net', 'sales'),
      (w) => w.status === 'user_ignored',
      'sales ignored by Dana',
    );
  });

  it('a text from a number that owns no mailbox is not a command', async () => {
    await email('support', 'support-3@example.net', 'Refund');
    await eventually(
      () => workflow('support-3@example.net', 'support'),
      (w) => w.status === 'awaiting_user',
      'shown to Dana',
    );
    await says('+14155550199', '1');
    await says(LEE, '1');
    // Both texts were taken: the stranger's is stored, and Lee, who has nothing waiting, is told so.
    await eventually(
      () => textsTo(LEE),
      (t) => t.includes(NOTHING_WAITING_TEXT),
      'Lee told nothing waits',
    );
    const stranger = await call('GET', `/sms/messages?phone=${encodeURIComponent('+14155550199')}`);
    expect((stranger.body.messages as Json[]).map((m) => m.direction)).toEqual(['in']);
    expect((await workflow('support-3@example.net', 'support')).status).toBe('awaiting_user');
    expect(supportSmtp.messages).toHaveLength(1);
  });
});

describe.skipIf(!dovecot.available)(`several mailboxes read by IMAP (${databaseKind})`, () => {
  let server: Dovecot;
  let sut: ServiceUnderTest;
  const openai = new OpenAiFake({ apiKey: null });

  beforeAll(async () => {
    server = await startDovecot({ user: 'desk@example.com' });
    await server.createMailbox('Support');
    await openai.start();
    const imap = {
      email_address: 'desk@example.com',
      email_password: server.password,
      imap_host: server.host,
      imap_port: server.port,
      imap_secure: false,
    };
    const file = join(mkdtempSync(join(tmpdir(), 'countersign-mailboxes-')), 'mailboxes.json');
    writeFileSync(
      file,
      JSON.stringify([
        { name: 'front', ...imap, owner_phone: DANA },
        { name: 'back', ...imap, imap_mailbox: 'Support', owner_phone: LEE },
      ]),
    );
    sut = await startServiceUnderTest({
      env: { EMAIL_MAILBOXES_FILE: file, OPENAI_BASE_URL: openai.baseUrl, POLL_INTERVAL: '1' },
      modules: [emailReplyModule()],
    });
  });
  afterAll(async () => {
    await sut?.stop();
    await openai.stop();
    await server?.stop();
  });

  const raw = (id: string, subject: string) =>
    [
      'From: Ana <ana@example.net>',
      'To: desk@example.com',
      `Subject: ${subject}`,
      `Message-ID: <${id}>`,
      'Date: Tue, 03 Mar 2026 10:00:00 +0000',
      '',
      `${subject}?`,
      '',
    ].join('\r\n');

  it('reads each mailbox with its own reader and checkpoint, and texts each owner their own', async () => {
    await server.appendMessage(raw('front-1@example.net', 'Front desk question'));
    await server.appendMessage(raw('back-1@example.net', 'Back office question'), { mailbox: 'Support' });
    const shown = async (id: string, mailbox: string) =>
      (await sut.call('GET', `/workflow/${encodeURIComponent(id)}?mailbox=${mailbox}`)).body as Json;
    await eventually(
      async () => [
        (await shown('front-1@example.net', 'front')).status,
        (await shown('back-1@example.net', 'back')).status,
      ],
      (s) => s.every((x) => x === 'awaiting_user'),
      'both emails read and shown to their owners',
    );
    const draftsTo = async (phone: string) => {
      const res = await sut.call('GET', `/sms/messages?phone=${encodeURIComponent(phone)}`);
      return (res.body.messages as Json[]).filter((m) => m.direction === 'out').map((m) => m.body as string);
    };
    expect((await draftsTo(DANA)).join('\n')).toContain('Front desk question');
    expect((await draftsTo(DANA)).join('\n')).not.toContain('Back office question');
    expect((await draftsTo(LEE)).join('\n')).toContain('Back office question');
    // The same folder is not read into the other mailbox.
    expect(
      (await sut.call('GET', `/workflow/${encodeURIComponent('front-1@example.net')}?mailbox=back`)).status,
    ).toBe(404);
  });
});
