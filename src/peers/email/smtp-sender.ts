import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { z } from 'zod';
import type { OutboundChannel } from '../../core/outbox/outbox.js';
import { NonRetriableError, RetryAfterError } from '../../core/retry-errors.js';
import { PeerUnavailableError, type PeerGuard } from '../resilience.js';
import { DEFAULT_MAILBOX, MARKER_HEADER, type EmailSender, type OutgoingEmail } from './email-port.js';

/**
 * Replies out by SMTP (Gmail: smtp.gmail.com 465 with implicit TLS, or 587 with STARTTLS).
 *
 * One connection per message, driven with nodemailer's SMTPConnection rather than a transport, so
 * that a time limit or a cancelled job closes the socket at once instead of leaving a send running
 * in the background. TLS: implicit on port 465, otherwise STARTTLS whenever the server offers it
 * (nodemailer's opportunistic upgrade); SMTP_SECURE overrides the port rule. Login only when a
 * user is configured and the server offers AUTH.
 *
 * SMTP has no idempotency key. A retry after an unknown outcome (a timeout after DATA) sends the
 * message again with the same Message-ID, which receiving clients (Gmail among them) collapse into
 * one; that is as close to exactly-once as SMTP allows.
 */

export type SmtpSenderOptions = {
  host: string;
  port: number;
  /** Implicit TLS; default: port 465 only (SMTP_SECURE). */
  secure?: boolean | undefined;
  user?: string | undefined;
  password?: string | undefined;
  /** The From of every message (EMAIL_ADDRESS), e.g. "owner@example.com" or "Ann <ann@example.com>". */
  from: string;
  timeoutMs: number;
  /** False only for test servers with self-signed certificates. */
  tlsRejectUnauthorized: boolean;
  guard: PeerGuard;
  /** The name this client gives in EHLO (default: the machine's host name, as nodemailer picks). */
  clientName?: string | undefined;
};

/** Implicit TLS on 465, unless SMTP_SECURE says otherwise. */
export function usesImplicitTls(port: number, secure: boolean | undefined): boolean {
  return secure ?? port === 465;
}

export function createSmtpSender(options: SmtpSenderOptions): EmailSender {
  const secure = usesImplicitTls(options.port, options.secure);
  return {
    name: 'smtp',
    async send(email, signal) {
      const raw = await composeMessage(email, options.from);
      return options.guard.call(async (inner) => {
        try {
          await deliver(raw.message, raw.envelope, inner);
        } catch (error) {
          throw classifySmtpError(error);
        }
        return { providerId: email.messageId };
      }, signal);
    },
  };

  function deliver(
    message: Buffer,
    envelope: { from: string; to: string[] },
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const connection = new SMTPConnection({
        host: options.host,
        port: options.port,
        secure,
        connectionTimeout: options.timeoutMs,
        greetingTimeout: options.timeoutMs,
        socketTimeout: options.timeoutMs,
        // SNI takes host names only (RFC 6066), never an IP address.
        tls: {
          rejectUnauthorized: options.tlsRejectUnauthorized,
          ...(isIP(options.host) ? {} : { servername: options.host }),
        },
        ...(options.clientName ? { name: options.clientName } : {}),
        logger: false,
      });
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) {
          connection.quit();
          resolve();
        } else {
          connection.close();
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
      const onAbort = () => finish(signal.reason ?? new Error('SMTP send aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      // 'on', not 'once': a failing TLS handshake can emit more than one error, and an unheard
      // 'error' event would end the process.
      connection.on('error', (error) => finish(error));
      // A server that hangs up mid-transaction may end the socket without an error of its own.
      connection.once('end', () => finish(new PeerUnavailableError('SMTP server closed the connection')));
      connection.connect((error) => {
        if (error) return finish(error);
        const send = () =>
          connection.send(envelope, message, (sendError) => (sendError ? finish(sendError) : finish()));
        if (options.user && connection.allowsAuth) {
          connection.login(
            { credentials: { user: options.user, pass: options.password ?? '' } },
            (loginError) => (loginError ? finish(loginError) : send()),
          );
        } else {
          send();
        }
      });
    });
  }
}

async function composeMessage(
  email: OutgoingEmail,
  from: string,
): Promise<{ message: Buffer; envelope: { from: string; to: string[] } }> {
  const node = new MailComposer({
    from,
    to: email.to.name ? { name: email.to.name, address: email.to.address } : email.to.address,
    subject: email.subject,
    text: email.text,
    messageId: email.messageId,
    ...(email.inReplyTo ? { inReplyTo: email.inReplyTo } : {}),
    ...(email.references && email.references.length > 0 ? { references: email.references } : {}),
    headers: withMarker(email.headers ?? {}),
    xMailer: false,
  }).compile();
  const envelope = node.getEnvelope();
  const envelopeFrom = typeof envelope.from === 'string' ? envelope.from : '';
  const to = (envelope.to ?? []).filter((address): address is string => typeof address === 'string');
  if (!envelopeFrom || to.length === 0) {
    throw new NonRetriableError('An email needs a sender and a recipient address');
  }
  return { message: await node.build(), envelope: { from: envelopeFrom, to } };
}

/**
 * Our marker is always set: it is what stops us from answering our own replies. A caller's own
 * value (under any spelling of the name) is kept, and the header is never written twice.
 */
function withMarker(headers: Record<string, string>): Record<string, string> {
  const marker = MARKER_HEADER.toLowerCase();
  const given = Object.entries(headers).find(([name]) => name.toLowerCase() === marker)?.[1];
  const rest = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== marker));
  return { ...rest, [MARKER_HEADER]: given ?? 'yes' };
}

type SmtpFailure = Error & { code?: string; responseCode?: number; response?: string };

/**
 * SMTP answers carry their retry meaning in the first digit (RFC 5321 §4.2.1): 4xx is transient,
 * 5xx permanent (550 no such mailbox, 535 bad credentials, 552 too large). Without an answer
 * (refused, reset, timed out, TLS failed) it is retriable: the server may be back later. A missing
 * credential or an envelope nodemailer refuses to send is permanent.
 */
export function classifySmtpError(error: unknown): Error {
  if (error instanceof NonRetriableError || error instanceof RetryAfterError) return error;
  if (error instanceof PeerUnavailableError) return error;
  const failure: SmtpFailure = error instanceof Error ? error : new Error(String(error));
  const code = failure.responseCode;
  const said = (failure.response ?? failure.message).slice(0, 300);
  if (typeof code === 'number' && code >= 500) {
    return new NonRetriableError(`SMTP server refused the message (${code}): ${said}`, { cause: error });
  }
  if (typeof code === 'number' && code >= 400) {
    return new PeerUnavailableError(`SMTP server deferred the message (${code}): ${said}`, { cause: error });
  }
  if (
    failure.code === 'EAUTH' ||
    failure.code === 'ENOAUTH' ||
    failure.code === 'EENVELOPE' ||
    failure.code === 'ECONFIG'
  ) {
    return new NonRetriableError(`SMTP: ${failure.message}`, { cause: error });
  }
  return new PeerUnavailableError(`SMTP server unavailable: ${failure.message}`, { cause: error });
}

/**
 * A Message-ID that is the same for every attempt to send one draft version: derived from the
 * outbox idempotency key, on the sender's domain (RFC 5322 wants a domain the sender controls).
 */
export function messageIdFor(idempotencyKey: string, fromAddress: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(fromAddress)?.[1] ?? 'countersign.invalid';
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<${hash}.countersign@${domain}>`;
}

const addressSchema = z.object({ address: z.string().min(3), name: z.string().optional() });

/** What an outbox row of the 'email' channel holds: an OutgoingEmail, as JSON. */
export const outgoingEmailSchema = z.object({
  to: addressSchema,
  subject: z.string(),
  text: z.string(),
  messageId: z.string().min(3),
  inReplyTo: z.string().optional(),
  references: z.array(z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

/** OutgoingEmail → a JSON-safe outbox payload (no undefined fields). */
export function outgoingEmailPayload(email: OutgoingEmail): Record<string, unknown> {
  return JSON.parse(JSON.stringify(email)) as Record<string, unknown>;
}

export const EMAIL_CHANNEL = 'email';

/** A mailbox's outbox channel: `email` for the default mailbox, `email:<name>` for another. */
export function mailboxChannel(mailbox: string | undefined): string {
  return mailbox === undefined || mailbox === DEFAULT_MAILBOX ? EMAIL_CHANNEL : `${EMAIL_CHANNEL}:${mailbox}`;
}

/** The outbox channel that sends OutgoingEmail payloads through an EmailSender. */
export function emailOutboundChannel(sender: EmailSender, name: string = EMAIL_CHANNEL): OutboundChannel {
  return {
    name,
    async send(message, signal) {
      const parsed = outgoingEmailSchema.safeParse(message.payload);
      if (!parsed.success) {
        throw new NonRetriableError(`The outbox row is not an email: ${parsed.error.message}`);
      }
      // A resend after an unknown outcome (maybeSent) keeps the payload's Message-ID: see above.
      return sender.send(parsed.data, signal);
    },
  };
}
