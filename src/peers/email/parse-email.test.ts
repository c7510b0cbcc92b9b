import { describe, expect, it } from 'vitest';
import { MARKER_HEADER, type IncomingEmail } from './email-port.js';
import {
  decodeEncodedWords,
  fromIngestJson,
  isOwnReply,
  MAX_REFERENCES,
  MAX_REFERENCES_CHARS,
  messageIdList,
  normalizeMessageId,
  parseAddressList,
  parseRfc822,
  replyReferences,
  replySubject,
  syntheticMessageId,
  threadedReply,
} from './parse-email.js';
import { messageIdFor } from './smtp-sender.js';

const at = new Date('2025-01-15T10:30:00Z');
const crlf = (...lines: string[]) => lines.join('\r\n');

describe('replySubject: exactly one "Re: "', () => {
  it.each([
    ['Lunch', 'Re: Lunch'],
    ['Re: Lunch', 'Re: Lunch'],
    ['RE: Lunch', 'Re: Lunch'],
    ['re:Lunch', 'Re: Lunch'],
    ['RE: Re: Lunch', 'Re: Lunch'],
    ['Re: RE: re: Lunch', 'Re: Lunch'],
    ['Re:Re:Re: Lunch', 'Re: Lunch'],
    ['Re[2]: Lunch', 'Re: Lunch'],
    ['RE : Lunch', 'Re: Lunch'],
    ['  Re:   Lunch  ', 'Re: Lunch'],
    ['Lunch\r\n on Tuesday', 'Re: Lunch on Tuesday'],
    ['Fwd: Lunch', 'Re: Fwd: Lunch'],
    ['Re: Fwd: Lunch', 'Re: Fwd: Lunch'],
    ['Regarding lunch', 'Re: Regarding lunch'],
    ['Re lunch', 'Re: Re lunch'],
    ['Rent: overdue', 'Re: Rent: overdue'],
    ['', 'Re:'],
    ['Re:', 'Re:'],
    ['Grüße aus Köln', 'Re: Grüße aus Köln'],
  ])('%j → %j', (subject, expected) => {
    expect(replySubject(subject)).toBe(expected);
    // Replying to the reply changes nothing.
    expect(replySubject(replySubject(subject))).toBe(expected);
  });
});

describe('replyReferences: the original References, then its Message-ID', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `<m${i}@example.org>`);

  it.each([
    [{ messageId: '<b@x>', references: [] }, ['<b@x>']],
    [{ messageId: '<c@x>', references: ['<a@x>', '<b@x>'] }, ['<a@x>', '<b@x>', '<c@x>']],
    [{ messageId: '<b@x>', references: ['<a@x>', '<b@x>'] }, ['<a@x>', '<b@x>']],
    [{ messageId: '<c@x>', references: ['<a@x>', '<a@x>', '<b@x>'] }, ['<a@x>', '<b@x>', '<c@x>']],
  ])('%j → %j', (original, expected) => {
    expect(replyReferences(original)).toEqual(expected);
  });

  it(`keeps at most ${MAX_REFERENCES}: the root and the newest`, () => {
    const references = ids(30);
    const result = replyReferences({ messageId: '<new@x>', references });
    expect(result).toHaveLength(MAX_REFERENCES);
    expect(result[0]).toBe('<m0@example.org>');
    expect(result.at(-1)).toBe('<new@x>');
    expect(result.at(-2)).toBe('<m29@example.org>');
    expect(result.slice(1)).toEqual([...references.slice(30 - (MAX_REFERENCES - 2)), '<new@x>']);
  });

  it(`keeps the header under ${MAX_REFERENCES_CHARS} characters, still with root and newest`, () => {
    const long = (i: number) => `<${String(i).repeat(600)}@example.org>`;
    const result = replyReferences({
      messageId: '<new@x>',
      references: [long(1), long(2), long(3), long(4)],
    });
    expect(result.join(' ').length).toBeLessThanOrEqual(MAX_REFERENCES_CHARS);
    expect(result[0]).toBe(long(1));
    expect(result.at(-1)).toBe('<new@x>');
    expect(result.at(-2)).toBe(long(4));
  });
});

describe('message ids and addresses', () => {
  it.each([
    ['<a@b>', '<a@b>'],
    ['a@b', '<a@b>'],
    ['  <a@b>  ', '<a@b>'],
    ['<a@b', '<a@b>'],
    ['', undefined],
    [undefined, undefined],
  ])('normalizeMessageId(%j) → %j', (input, expected) => {
    expect(normalizeMessageId(input)).toBe(expected);
  });

  it.each([
    ['<a@x> <b@x>', ['<a@x>', '<b@x>']],
    ['<a@x>\r\n <b@x>', ['<a@x>', '<b@x>']],
    ['<a@x>,<b@x>', ['<a@x>', '<b@x>']],
    ['a@x b@x', ['<a@x>', '<b@x>']],
    [
      ['<a@x>', '<b@x>'],
      ['<a@x>', '<b@x>'],
    ],
    ['', []],
    [undefined, []],
  ])('messageIdList(%j) → %j', (input, expected) => {
    expect(messageIdList(input)).toEqual(expected);
  });

  it.each([
    ['ann@example.org', [{ address: 'ann@example.org' }]],
    ['Ann Lee <ann@example.org>', [{ address: 'ann@example.org', name: 'Ann Lee' }]],
    [
      '"Lee, Ann" <ann@example.org>, bob@example.org',
      [{ address: 'ann@example.org', name: 'Lee, Ann' }, { address: 'bob@example.org' }],
    ],
    [
      'Team: ann@example.org, bob@example.org;',
      [{ address: 'ann@example.org' }, { address: 'bob@example.org' }],
    ],
    ['nobody', []],
    ['', []],
  ])('parseAddressList(%j)', (input, expected) => {
    expect(parseAddressList(input)).toEqual(expected);
  });

  it.each([
    ['=?UTF-8?B?SsO2cmc=?=', 'Jörg'],
    ['=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=', 'Grüße aus Köln'],
    ['=?ISO-8859-1?Q?Caf=E9?=', 'Café'],
    ['=?UTF-8?B?SsO2?= =?UTF-8?B?cmc=?=', 'Jörg'],
    ['plain =?UTF-8?Q?=C3=A9?= text', 'plain é text'],
    ['=?x-no-such-charset?Q?abc?=', '=?x-no-such-charset?Q?abc?='],
    ['no encoding at all', 'no encoding at all'],
  ])('decodeEncodedWords(%j) → %j', (input, expected) => {
    expect(decodeEncodedWords(input)).toBe(expected);
  });
});

describe('parseRfc822', () => {
  it('reads the plain case: addresses, subject, text, threading headers, Message-ID with brackets', async () => {
    const raw = crlf(
      'From: Sam Sender <sam@example.org>',
      'To: Owner <owner@example.com>, "Lee, Ann" <ann@example.com>',
      'Subject: Re: Lunch',
      'Message-ID: <m2@example.org>',
      'In-Reply-To: <m1@example.com>',
      'References: <m0@example.org>',
      ' <m1@example.com>',
      'Date: Wed, 15 Jan 2025 09:00:00 +0000',
      '',
      'Sounds good.',
      '',
      '',
    );
    const email = await parseRfc822(raw, 'imap', at);
    expect(email).toEqual({
      messageId: '<m2@example.org>',
      from: { address: 'sam@example.org', name: 'Sam Sender' },
      to: [
        { address: 'owner@example.com', name: 'Owner' },
        { address: 'ann@example.com', name: 'Lee, Ann' },
      ],
      subject: 'Re: Lunch',
      text: 'Sounds good.',
      headers: {
        from: 'Sam Sender <sam@example.org>',
        to: 'Owner <owner@example.com>, "Lee, Ann" <ann@example.com>',
        subject: 'Re: Lunch',
        'message-id': '<m2@example.org>',
        'in-reply-to': '<m1@example.com>',
        references: '<m0@example.org> <m1@example.com>',
        date: 'Wed, 15 Jan 2025 09:00:00 +0000',
      },
      inReplyTo: '<m1@example.com>',
      references: ['<m0@example.org>', '<m1@example.com>'],
      receivedAt: at,
      source: 'imap',
    });
  });

  it('headers: names lower-cased, repeats joined with ", ", folds undone, encoded words and UTF-8 decoded', async () => {
    const raw = Buffer.concat([
      Buffer.from(
        crlf(
          'From: a@example.org',
          'X-Tag: one',
          'x-tag: two',
          'X-Folded: first part',
          '\tsecond part',
          'X-Encoded: =?UTF-8?B?SsO2cmc=?=',
          `${MARKER_HEADER}: yes`,
          'X-Raw: ',
        ),
      ),
      Buffer.from('caf\u00e9', 'utf8'),
      Buffer.from('\r\nMessage-ID: <h@x>\r\n\r\nbody\r\n'),
    ]);
    const email = await parseRfc822(raw, 'ingest', at);
    expect(email.headers).toMatchObject({
      'x-tag': 'one, two',
      'x-folded': 'first part second part',
      'x-encoded': 'Jörg',
      'x-raw': 'café',
      [MARKER_HEADER.toLowerCase()]: 'yes',
    });
    expect(isOwnReply(email)).toBe(true);
    expect(isOwnReply({ headers: {} })).toBe(false);
  });

  it('encodings: quoted-printable ISO-8859-1 and base64 UTF-8 bodies, encoded subject and name', async () => {
    const qp = await parseRfc822(
      crlf(
        'From: =?ISO-8859-1?Q?Ren=E9?= <rene@example.fr>',
        'Subject: =?ISO-8859-1?Q?R=E9union_demain?=',
        'Message-ID: <qp@example.fr>',
        'Content-Type: text/plain; charset=ISO-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '=C0 demain, caf=E9 =E0 10h. Une tr=E8s longue ligne qui est coup=E9e par un saut=',
        ' doux.',
      ),
      'imap',
      at,
    );
    expect(qp.from).toEqual({ address: 'rene@example.fr', name: 'René' });
    expect(qp.subject).toBe('Réunion demain');
    expect(qp.text).toBe('À demain, café à 10h. Une très longue ligne qui est coupée par un saut doux.');

    const b64 = await parseRfc822(
      crlf(
        'From: yuki@example.jp',
        'Subject: =?UTF-8?B?5Lya6K2w?=',
        'Message-ID: <b64@example.jp>',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('明日の会議は10時です。').toString('base64'),
      ),
      'imap',
      at,
    );
    expect(b64.subject).toBe('会議');
    expect(b64.text).toBe('明日の会議は10時です。');
  });

  it('multipart with an attachment: the text part only, the attachment left out', async () => {
    const raw = crlf(
      'From: sam@example.org',
      'Subject: Invoice',
      'Message-ID: <att@example.org>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: multipart/alternative; boundary="b2"',
      '',
      '--b2',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Please find the invoice attached.',
      '--b2',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Please find the <b>invoice</b> attached.</p>',
      '--b2--',
      '--b1',
      'Content-Type: application/pdf; name="invoice.pdf"',
      'Content-Disposition: attachment; filename="invoice.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 not really a pdf').toString('base64'),
      '--b1--',
      '',
    );
    const email = await parseRfc822(raw, 'imap', at);
    expect(email.text).toBe('Please find the invoice attached.');
    expect(email.text).not.toContain('PDF');
  });

  it('an HTML-only message gets its text from the HTML', async () => {
    const email = await parseRfc822(
      crlf(
        'From: news@example.org',
        'Message-ID: <html@example.org>',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<html><body><p>Hello <b>there</b></p><p>Second paragraph</p></body></html>',
      ),
      'imap',
      at,
    );
    expect(email.text).toContain('Hello there');
    expect(email.text).toContain('Second paragraph');
    expect(email.text).not.toContain('<');
  });

  it('without a Message-ID: a synthetic id from the raw bytes, stable and distinct', async () => {
    const raw = crlf('From: a@example.org', 'Subject: no id', '', 'hello');
    const first = await parseRfc822(raw, 'imap', at);
    const again = await parseRfc822(Buffer.from(raw), 'imap', new Date());
    const other = await parseRfc822(`${raw}!`, 'imap', at);
    expect(first.messageId).toMatch(/^<missing-id\.[0-9a-f]{40}@countersign\.invalid>$/);
    expect(again.messageId).toBe(first.messageId);
    expect(other.messageId).not.toBe(first.messageId);
    expect(first.messageId).toBe(syntheticMessageId(raw));
  });

  it('without From: the Sender, else an empty address (the ingest API refuses those)', async () => {
    const sender = await parseRfc822(
      crlf('Sender: list@example.org', 'Message-ID: <s@x>', '', 'x'),
      'imap',
      at,
    );
    expect(sender.from).toEqual({ address: 'list@example.org' });
    const none = await parseRfc822(crlf('Message-ID: <n@x>', '', 'x'), 'imap', at);
    expect(none.from).toEqual({ address: '' });
    expect(none.to).toEqual([]);
    expect(none.subject).toBe('');
    expect(none.references).toEqual([]);
    expect(none.inReplyTo).toBeUndefined();
  });

  it('group addresses are flattened', async () => {
    const email = await parseRfc822(
      crlf(
        'From: a@example.org',
        'To: Team: ann@example.org, bob@example.org;',
        'Message-ID: <g@x>',
        '',
        'x',
      ),
      'imap',
      at,
    );
    expect(email.to.map((a) => a.address)).toEqual(['ann@example.org', 'bob@example.org']);
  });
});

describe('fromIngestJson', () => {
  it.each([
    [
      'strings everywhere',
      {
        message_id: 'abc@mail.example.org',
        from: 'Sam <sam@example.org>',
        to: 'owner@example.com, Ann <ann@example.com>',
        subject: 'Hi',
        text: 'Hello',
        received_at: '2025-01-14T08:00:00+01:00',
      },
      {
        messageId: '<abc@mail.example.org>',
        from: { address: 'sam@example.org', name: 'Sam' },
        to: [{ address: 'owner@example.com' }, { address: 'ann@example.com', name: 'Ann' }],
        subject: 'Hi',
        text: 'Hello',
        receivedAt: new Date('2025-01-14T07:00:00Z'),
      },
    ],
    [
      'objects and a list',
      {
        message_id: '<x@y>',
        from: { address: 'sam@example.org', name: 'Sam' },
        to: [{ address: 'owner@example.com' }, 'ann@example.com'],
      },
      {
        messageId: '<x@y>',
        from: { address: 'sam@example.org', name: 'Sam' },
        to: [{ address: 'owner@example.com' }, { address: 'ann@example.com' }],
        subject: '',
        text: '',
        receivedAt: at,
      },
    ],
    [
      'threading from the headers, names lower-cased, lists joined',
      {
        message_id: '<r@y>',
        from: 'a@example.org',
        headers: {
          'In-Reply-To': '<p@y>',
          REFERENCES: '<root@y> <p@y>',
          'X-Tag': ['one', 'two'],
          Subject: 'From the headers',
        },
      },
      {
        headers: {
          'in-reply-to': '<p@y>',
          references: '<root@y> <p@y>',
          'x-tag': 'one, two',
          subject: 'From the headers',
        },
        inReplyTo: '<p@y>',
        references: ['<root@y>', '<p@y>'],
        subject: 'From the headers',
      },
    ],
  ])('%s', (_name, body, expected) => {
    const email = fromIngestJson(body, at);
    expect(email).toMatchObject({ ...expected, source: 'ingest' });
  });
});

describe('threadedReply', () => {
  const original: IncomingEmail = {
    messageId: '<q@example.org>',
    from: { address: 'sam@example.org', name: 'Sam' },
    to: [{ address: 'owner@example.com' }],
    subject: 'RE: Re: Question',
    text: '?',
    headers: {},
    inReplyTo: undefined,
    references: ['<root@example.org>'],
    receivedAt: at,
    source: 'imap',
  };

  it('answers the sender, threaded, with the marker', () => {
    const messageId = messageIdFor('wf-1:v2', 'Owner <owner@example.com>');
    expect(threadedReply(original, { text: 'Answer', messageId })).toEqual({
      to: { address: 'sam@example.org', name: 'Sam' },
      subject: 'Re: Question',
      text: 'Answer',
      messageId,
      inReplyTo: '<q@example.org>',
      references: ['<root@example.org>', '<q@example.org>'],
      headers: { [MARKER_HEADER]: 'yes' },
    });
  });

  it('answers the Reply-To when the original set one', () => {
    const reply = threadedReply(
      { ...original, headers: { 'reply-to': 'Support <support@example.org>' } },
      { text: 'x', messageId: '<r@x>' },
    );
    expect(reply.to).toEqual({ address: 'support@example.org', name: 'Support' });
  });

  it('messageIdFor: the same key gives the same id, on the sender’s domain', () => {
    const a = messageIdFor('wf-1:v1', 'owner@example.com');
    expect(messageIdFor('wf-1:v1', 'Owner <owner@example.com>')).toBe(a);
    expect(messageIdFor('wf-1:v2', 'owner@example.com')).not.toBe(a);
    expect(a).toMatch(/^<[0-9a-f]{32}\.countersign@example\.com>$/);
    expect(messageIdFor('k', 'not-an-address')).toMatch(/@countersign\.invalid>$/);
  });
});
