import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inboundEvents, sourceCheckpoints } from '../../src/core/db/schema.js';
import { systemClock } from '../../src/core/runtime.js';
import { createEmailInbox, EMAIL_INBOUND_SOURCE } from '../../src/peers/email/email-intake.js';
import type { EmailSink, EmailSource, IncomingEmail } from '../../src/peers/email/email-port.js';
import { createImapSource, type ImapSourceOptions } from '../../src/peers/email/imap-source.js';
import { dovecotSupport, startDovecot, warnDovecotSkipped, type Dovecot } from '../fakes/dovecot.js';
import { testLogger } from '../helpers/silent-logger.js';
import { databaseKind, useTestDatabase } from '../helpers/test-database.js';

const support = dovecotSupport();
if (!support.available) warnDovecotSkipped(support.reason);
const title = `IMAP source against Dovecot (${databaseKind})${support.available ? '' : ` — SKIPPED: ${support.reason}`}`;

function rfc822(input: { messageId: string; subject?: string; text?: string; from?: string }): string {
  return [
    `From: ${input.from ?? 'Sam Sender <sam@example.com>'}`,
    'To: Owner <owner@example.com>',
    `Subject: ${input.subject ?? 'Hello'}`,
    `Message-ID: ${input.messageId}`,
    'Date: Wed, 15 Jan 2025 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    input.text ?? 'Could we meet on Tuesday?',
    '',
  ].join('\r\n');
}

const newId = (label: string) => `<${label}.${randomUUID()}@example.com>`;

async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 8000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!support.available)(title, () => {
  const database = useTestDatabase();
  let dovecot: Dovecot;
  const running: EmailSource[] = [];
  let mailboxes = 0;

  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((source) => source.stop()));
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  const db = () => database.current.db;

  async function freshMailbox(): Promise<string> {
    const name = `Test${++mailboxes}-${randomUUID().slice(0, 8)}`;
    await dovecot.createMailbox(name);
    return name;
  }

  /** The real inbox (claim + store), recording every call of the sink. */
  function recordingSink(wrap?: (email: IncomingEmail, store: EmailSink) => Promise<void>) {
    const inbox = createEmailInbox({ db: db(), clock: systemClock });
    const calls: string[] = [];
    // Recorded once the sink has finished (stored, or failed), so a test that saw the call may
    // read the database without racing the commit.
    const sink: EmailSink = async (email) => {
      try {
        await (wrap ? wrap(email, inbox.sink) : inbox.sink(email));
      } finally {
        calls.push(email.messageId);
      }
    };
    return { sink, calls };
  }

  function source(mailbox: string, overrides: Partial<ImapSourceOptions> = {}): EmailSource {
    const created = createImapSource({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      user: dovecot.user,
      password: dovecot.password,
      mailbox,
      pollIntervalMs: 300,
      tlsRejectUnauthorized: true,
      db: db(),
      checkpointName: `imap:test:${mailbox}`,
      logger: testLogger,
      reconnectMinMs: 50,
      reconnectMaxMs: 500,
      ...overrides,
    });
    running.push(created);
    return created;
  }

  async function claimed(messageId: string) {
    return db()
      .select()
      .from(inboundEvents)
      .where(and(eq(inboundEvents.source, EMAIL_INBOUND_SOURCE), eq(inboundEvents.naturalKey, messageId)));
  }

  async function checkpointOf(mailbox: string) {
    const [row] = await db()
      .select()
      .from(sourceCheckpoints)
      .where(eq(sourceCheckpoints.name, `imap:test:${mailbox}`));
    return row?.value;
  }
  /** Waits until the mailbox's checkpoint has moved to `uid` (it is written after the sink returns). */
  const checkpointReaches = (mailbox: string, uid: number) =>
    waitFor(
      async () => ((await checkpointOf(mailbox)) as { lastUid?: number } | undefined)?.lastUid === uid,
      'the checkpoint',
    );

  it('takes a message appended to the mailbox once, and stores it claimed by its Message-ID', async () => {
    const mailbox = await freshMailbox();
    const { sink, calls } = recordingSink();
    const imap = source(mailbox);
    await imap.start(sink);
    expect(imap.healthy()).toBe(true);

    const id = newId('once');
    const uid = await dovecot.appendMessage(rfc822({ messageId: id, subject: 'Lunch?' }), { mailbox });
    await waitFor(() => calls.includes(id), 'the appended message');
    await checkpointReaches(mailbox, uid);
    await sleep(1000); // several polls and IDLE wake-ups later
    expect(calls).toEqual([id]);

    const rows = await claimed(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.payload).toMatchObject({
      messageId: id,
      subject: 'Lunch?',
      source: 'imap',
      from: { address: 'sam@example.com', name: 'Sam Sender' },
      text: expect.stringContaining('Tuesday') as unknown,
    });
    expect(await checkpointOf(mailbox)).toMatchObject({ lastUid: uid });
  });

  it('first start leaves the mail already in the mailbox alone and takes what arrives after', async () => {
    const mailbox = await freshMailbox();
    const archive = [newId('archive-1'), newId('archive-2')];
    for (const id of archive) await dovecot.appendMessage(rfc822({ messageId: id }), { mailbox });

    const { sink, calls } = recordingSink();
    await source(mailbox).start(sink);
    const fresh = newId('after-first-start');
    await dovecot.appendMessage(rfc822({ messageId: fresh }), { mailbox });
    await waitFor(() => calls.includes(fresh), 'the new message');
    await sleep(700);
    expect(calls).toEqual([fresh]);
    for (const id of archive) expect(await claimed(id)).toHaveLength(0);
  });

  it('a new source instance after a stop neither repeats nor skips (mail arrived while stopped)', async () => {
    const mailbox = await freshMailbox();
    const first = recordingSink();
    const before = source(mailbox);
    await before.start(first.sink);
    const m1 = newId('before-stop');
    await dovecot.appendMessage(rfc822({ messageId: m1 }), { mailbox });
    await waitFor(() => first.calls.includes(m1), 'm1');
    await before.stop();
    expect(before.healthy()).toBe(false);

    const whileStopped = [newId('stopped-1'), newId('stopped-2')];
    for (const id of whileStopped) await dovecot.appendMessage(rfc822({ messageId: id }), { mailbox });

    const second = recordingSink();
    await source(mailbox).start(second.sink);
    await waitFor(
      () => whileStopped.every((id) => second.calls.includes(id)),
      'the mail that came while stopped',
    );
    await sleep(700);
    expect(first.calls).toEqual([m1]);
    // In UID order, and m1 is not handed over again.
    expect(second.calls).toEqual(whileStopped);
    for (const id of [m1, ...whileStopped]) expect(await claimed(id)).toHaveLength(1);
  });

  it('IDLE delivers a new message long before the next poll', async () => {
    const mailbox = await freshMailbox();
    const { sink, calls } = recordingSink();
    await source(mailbox, { pollIntervalMs: 10 * 60_000 }).start(sink);
    await sleep(1500); // the connection is quiet: imapflow is in IDLE now
    const id = newId('idle');
    const appendedAt = Date.now();
    await dovecot.appendMessage(rfc822({ messageId: id }), { mailbox });
    await waitFor(() => calls.includes(id), 'the message announced by IDLE', 8000);
    expect(Date.now() - appendedAt).toBeLessThan(8000);
  });

  it('a sink that fails after storing leaves the checkpoint; the message comes again and is claimed once', async () => {
    const mailbox = await freshMailbox();
    let failures = 0;
    const { sink, calls } = recordingSink(async (email, store) => {
      await store(email);
      if (failures++ === 0) throw new Error('crashed between storing and checkpointing');
    });
    await source(mailbox).start(sink);
    const id = newId('crash');
    const uid = await dovecot.appendMessage(rfc822({ messageId: id }), { mailbox });
    await waitFor(() => calls.filter((c) => c === id).length >= 2, 'the second delivery');
    await checkpointReaches(mailbox, uid);
    expect(await claimed(id)).toHaveLength(1);
  });

  it('reconnects after the server drops the session, and misses nothing', async () => {
    const mailbox = await freshMailbox();
    const { sink, calls } = recordingSink();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const imap = source(mailbox, { logger });
    await imap.start(sink);
    await dovecot.kick();
    await waitFor(
      () => lines.some((l) => l.includes('reconnecting')),
      'the source to notice the lost connection',
    );
    const id = newId('after-kick');
    await dovecot.appendMessage(rfc822({ messageId: id }), { mailbox });
    await waitFor(() => calls.includes(id), 'the message after the reconnect');
    await waitFor(() => imap.healthy(), 'healthy again');
    expect(lines.filter((l) => l.includes('IMAP source connected'))).toHaveLength(2);
    expect(await claimed(id)).toHaveLength(1);
  });

  it('after a UIDVALIDITY change re-reads mail since the first start: new taken, repeats claimed once, archive left', async () => {
    const mailbox = await freshMailbox();
    const first = recordingSink();
    const before = source(mailbox);
    await before.start(first.sink);
    const m1 = newId('before-renumbering');
    await dovecot.appendMessage(rfc822({ messageId: m1 }), { mailbox });
    await waitFor(() => first.calls.includes(m1), 'm1');
    await before.stop();
    const oldValidity = (await dovecot.status(mailbox)).uidValidity;

    // The mailbox is rebuilt: same name, new UIDVALIDITY, its mail appended again.
    await dovecot.deleteMailbox(mailbox);
    await sleep(1100); // Dovecot derives UIDVALIDITY from the clock
    await dovecot.createMailbox(mailbox);
    const oldArchive = newId('old-archive');
    await dovecot.appendMessage(rfc822({ messageId: oldArchive }), {
      mailbox,
      internalDate: new Date('2020-03-01T09:00:00Z'),
    });
    await dovecot.appendMessage(rfc822({ messageId: m1 }), { mailbox });
    const m2 = newId('after-renumbering');
    await dovecot.appendMessage(rfc822({ messageId: m2 }), { mailbox });
    expect((await dovecot.status(mailbox)).uidValidity).not.toBe(oldValidity);

    const second = recordingSink();
    await source(mailbox).start(second.sink);
    await waitFor(() => second.calls.includes(m2), 'm2');
    // The checkpoint moves past m2, and the resync mark goes, only after the sink returns.
    await waitFor(
      async () => ((await checkpointOf(mailbox)) as { resync?: unknown } | undefined)?.resync === undefined,
      'the resync finished',
    );
    await sleep(700);
    // m1 went to the sink again (the resync), and its claim made that a no-op.
    expect(second.calls).toContain(m1);
    expect(second.calls).not.toContain(oldArchive);
    expect(await claimed(oldArchive)).toHaveLength(0);
    expect(await claimed(m1)).toHaveLength(1);
    expect(await claimed(m2)).toHaveLength(1);
    const checkpoint = (await checkpointOf(mailbox)) as Record<string, unknown>;
    expect(checkpoint.uidValidity).toBe(String((await dovecot.status(mailbox)).uidValidity));
    expect(checkpoint.resync).toBeUndefined();

    // Afterwards it is back to normal: the next message is taken once.
    const m3 = newId('later');
    await dovecot.appendMessage(rfc822({ messageId: m3 }), { mailbox });
    await waitFor(() => second.calls.includes(m3), 'm3');
    expect(second.calls.filter((c) => c === m2)).toHaveLength(1);
  });

  it('a mailbox deleted and recreated while the source runs: it reconnects and takes the new mail', async () => {
    const mailbox = await freshMailbox();
    const { sink, calls } = recordingSink();
    const imap = source(mailbox);
    await imap.start(sink);
    await dovecot.deleteMailbox(mailbox);
    await sleep(1100); // a new UIDVALIDITY
    await dovecot.createMailbox(mailbox);
    const id = newId('recreated');
    await dovecot.appendMessage(rfc822({ messageId: id }), { mailbox });
    await waitFor(() => calls.includes(id), 'the message in the recreated mailbox');
    await waitFor(() => imap.healthy(), 'healthy');
    expect(await claimed(id)).toHaveLength(1);
  });

  // Last: Dovecot slows further logins from an address that failed one (its auth penalty).
  it('a failed first connection (wrong password) does not fail start(): unhealthy, retrying, stoppable', async () => {
    const mailbox = await freshMailbox();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const { sink, calls } = recordingSink();
    const imap = source(mailbox, { password: 'wrong', logger });
    await imap.start(sink);
    expect(imap.healthy()).toBe(false);
    await waitFor(() => lines.filter((l) => l.includes('IMAP connection failed')).length >= 2, 'a retry');
    await imap.stop();
    expect(calls).toEqual([]);
    expect(await checkpointOf(mailbox)).toBeUndefined();
  });
});
