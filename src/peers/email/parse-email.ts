import { createHash } from 'node:crypto';
import { simpleParser, type AddressObject, type EmailAddress as ParsedAddress } from 'mailparser';
import addressparser from 'nodemailer/lib/addressparser';
import type { EmailAddress, IncomingEmail, OutgoingEmail } from './email-port.js';
import { MARKER_HEADER } from './email-port.js';

/**
 * Email in, whichever way it came (an IMAP mailbox, POST /emails as raw RFC 822 or as JSON), becomes
 * one IncomingEmail; and the threading rules of a reply (subject, In-Reply-To, References). Pure
 * apart from mailparser's own work: no I/O, no clock.
 */

/**
 * A message without a Message-ID still needs a natural key, so that reading it twice (a restart, an
 * IMAP resync) claims it once. It is derived from a hash of the raw bytes: the same message always
 * gets the same id, two different messages get different ones. The `.invalid` domain (RFC 2606)
 * makes it plain that we made it up, and it can never collide with a real one.
 */
export function syntheticMessageId(raw: Buffer | string): string {
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 40);
  return `<missing-id.${hash}@countersign.invalid>`;
}

/** Parses a raw RFC 822 message (as read from IMAP or posted as message/rfc822). */
export async function parseRfc822(
  raw: Buffer | string,
  source: IncomingEmail['source'],
  receivedAt: Date,
): Promise<IncomingEmail> {
  const mail = await simpleParser(raw, {
    // We keep plain text only; the HTML view of the text and its links are never used.
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  const headers = headersOf(mail.headerLines);
  const from = firstAddress(mail.from) ?? firstAddress(mail.headers.get('sender')) ?? { address: '' };
  return {
    messageId: normalizeMessageId(mail.messageId) ?? syntheticMessageId(raw),
    from,
    to: addressesOf(mail.to),
    subject: mail.subject ?? '',
    // mailparser derives the text from the HTML part when a message has no text part. Trailing
    // blank lines are transport noise (the body's final CRLF), not what the sender wrote.
    text: (mail.text ?? '').trimEnd(),
    headers,
    inReplyTo: normalizeMessageId(mail.inReplyTo),
    references: messageIdList(mail.references),
    receivedAt,
    source,
  };
}

/** The JSON shape of POST /emails (the seed's Email Monitor fields). */
export type IngestEmailJson = {
  message_id: string;
  from: string | EmailAddress;
  to?: string | EmailAddress | (string | EmailAddress)[] | undefined;
  subject?: string | undefined;
  text?: string | undefined;
  headers?: Record<string, string | string[]> | undefined;
  /** ISO 8601; when absent, the time the service received it. */
  received_at?: string | undefined;
};

/**
 * An already validated ingest body → IncomingEmail. Message ids get their angle brackets, header
 * names are lower-cased, and In-Reply-To / References are read from the headers, as they would be
 * from a raw message.
 */
export function fromIngestJson(body: IngestEmailJson, now: Date): IncomingEmail {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(body.headers ?? {})) {
    addHeader(headers, name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  }
  const from =
    typeof body.from === 'string'
      ? (parseAddressList(body.from)[0] ?? { address: body.from.trim() })
      : body.from;
  const toList = body.to === undefined ? [] : Array.isArray(body.to) ? body.to : [body.to];
  const to = toList.flatMap((entry) => (typeof entry === 'string' ? parseAddressList(entry) : [entry]));
  const inReplyTo = headers['in-reply-to'];
  return {
    messageId: normalizeMessageId(body.message_id) ?? body.message_id,
    from: cleanAddress(from),
    to: to.map(cleanAddress),
    subject: body.subject ?? headers.subject ?? '',
    text: body.text ?? '',
    headers,
    inReplyTo:
      inReplyTo === undefined ? undefined : (messageIdList(inReplyTo)[0] ?? normalizeMessageId(inReplyTo)),
    references: messageIdList(headers.references),
    receivedAt: body.received_at === undefined ? now : new Date(body.received_at),
    source: 'ingest',
  };
}

/** "Ann <ann@example.com>, bob@example.com" → addresses (groups flattened); [] when none parse. */
export function parseAddressList(input: string): EmailAddress[] {
  return addressparser(input, { flatten: true })
    .filter((a) => a.address !== '' && a.address.includes('@'))
    .map((a) => cleanAddress({ address: a.address, name: a.name }));
}

/** `<id@host>` for "id@host" or "<id@host>"; undefined for an empty value. */
export function normalizeMessageId(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (trimmed.startsWith('<') && trimmed.endsWith('>')) return trimmed;
  return `<${trimmed.replace(/^<|>$/g, '')}>`;
}

/** The message ids in a References / In-Reply-To value (or mailparser's array), in order. */
export function messageIdList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(' ') : value;
  const bracketed = text.match(/<[^<>\s]+>/g);
  if (bracketed) return bracketed;
  // Some senders leave the brackets off; whitespace then separates the ids.
  return text
    .split(/[\s,]+/)
    .filter((id) => id.includes('@'))
    .map((id) => `<${id}>`);
}

/**
 * Exactly one "Re: " in front, whatever prefixes the subject already carries: "RE: Re: x",
 * "re:x" and "Re[2]: x" all become "Re: x". Other prefixes ("Fwd:", "AW:") are part of the subject.
 */
export function replySubject(subject: string): string {
  const rest = subject
    .replace(/\s+/g, ' ')
    .replace(/^\s*(?:re(?:\[\d+\])?\s*:\s*)+/i, '')
    .trim();
  return rest === '' ? 'Re:' : `Re: ${rest}`;
}

/** Past this, a References header is trimmed: long threads make headers some servers refuse. */
export const MAX_REFERENCES = 20;
export const MAX_REFERENCES_CHARS = 1900;

/**
 * References of a reply (RFC 5322 §3.6.4): the original's References, then its Message-ID.
 * Trimmed, when long, by dropping ids from the middle: the first (the thread's root, which
 * clients thread by) and the last (the closest parents) are kept.
 */
export function replyReferences(original: Pick<IncomingEmail, 'messageId' | 'references'>): string[] {
  const ids: string[] = [];
  for (const id of [...original.references, original.messageId]) {
    if (!ids.includes(id)) ids.push(id);
  }
  while (ids.length > 2 && (ids.length > MAX_REFERENCES || ids.join(' ').length > MAX_REFERENCES_CHARS)) {
    ids.splice(1, 1);
  }
  return ids;
}

/**
 * The reply to an email, threaded: to the original sender (its Reply-To when it set one), one
 * "Re: ", In-Reply-To and References, and our marker header. `messageId` must be stable per draft
 * version (see messageIdFor in smtp-sender.ts), so a retried send is the same message.
 */
export function threadedReply(
  original: IncomingEmail,
  reply: { text: string; messageId: string },
): OutgoingEmail {
  const replyTo = original.headers['reply-to'];
  const to = (replyTo === undefined ? undefined : parseAddressList(replyTo)[0]) ?? original.from;
  return {
    to,
    subject: replySubject(original.subject),
    text: reply.text,
    messageId: reply.messageId,
    inReplyTo: original.messageId,
    references: replyReferences(original),
    headers: { [MARKER_HEADER]: 'yes' },
  };
}

/** True when an email carries our marker: one of our own replies, never to be answered. */
export function isOwnReply(email: Pick<IncomingEmail, 'headers'>): boolean {
  return email.headers[MARKER_HEADER.toLowerCase()] !== undefined;
}

function headersOf(lines: ReadonlyArray<{ key: string; line: string }>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of lines) {
    // mailparser hands header lines over as binary strings: 8-bit (UTF-8) headers need re-decoding.
    const text = Buffer.from(line, 'binary').toString('utf8');
    const colon = text.indexOf(':');
    const value = text
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    addHeader(headers, key.toLowerCase(), decodeEncodedWords(value));
  }
  return headers;
}

function addHeader(headers: Record<string, string>, name: string, value: string): void {
  const existing = headers[name];
  headers[name] = existing === undefined ? value : `${existing}, ${value}`;
}

/**
 * RFC 2047 encoded words (=?charset?B|Q?text?=) in header values. mailparser decodes the headers
 * it knows (Subject, addresses) but hands the rest over raw; we decode them the same way so that
 * every header value is readable text. An unknown charset leaves the word as it was.
 */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1')
    .replace(
      /=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g,
      (word, charset: string, encoding: string, text: string) => {
        try {
          const bytes =
            encoding.toUpperCase() === 'B'
              ? Buffer.from(text, 'base64')
              : Buffer.from(
                  text
                    .replace(/_/g, ' ')
                    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
                      String.fromCharCode(parseInt(hex, 16)),
                    ),
                  'binary',
                );
          return new TextDecoder(charset.trim().toLowerCase()).decode(bytes);
        } catch {
          return word;
        }
      },
    );
}

function cleanAddress(address: { address: string; name?: string | undefined }): EmailAddress {
  const name = address.name?.trim();
  return name ? { address: address.address.trim(), name } : { address: address.address.trim() };
}

function flatten(addresses: ParsedAddress[]): ParsedAddress[] {
  return addresses.flatMap((a) => (a.group ? flatten(a.group) : [a]));
}

function addressesOf(value: AddressObject | AddressObject[] | unknown): EmailAddress[] {
  const objects = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return objects
    .filter((o): o is AddressObject => typeof o === 'object' && o !== null && 'value' in o)
    .flatMap((o) => flatten(o.value))
    .filter((a): a is ParsedAddress & { address: string } => Boolean(a.address))
    .map((a) => cleanAddress({ address: a.address, name: a.name }));
}

function firstAddress(value: unknown): EmailAddress | undefined {
  return addressesOf(value)[0];
}
