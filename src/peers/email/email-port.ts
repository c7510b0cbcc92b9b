/**
 * Email in (an IMAP mailbox, or POST /emails) and out (SMTP). Everything past the edge sees
 * these shapes, whichever source or sender is configured.
 */

export type EmailAddress = { address: string; name?: string | undefined };

export type IncomingEmail = {
  /** The Message-ID header, with angle brackets: the natural key that claims it once. */
  messageId: string;
  from: EmailAddress;
  to: EmailAddress[];
  subject: string;
  text: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  inReplyTo?: string | undefined;
  references: string[];
  receivedAt: Date;
  source: 'imap' | 'ingest';
  /** The configured mailbox it arrived in (docs/email-reply.md, "Several mailboxes"); unset: the default one. */
  mailbox?: string | undefined;
};

/** The mailbox the seed's environment variables describe, and the one meant when none is named. */
export const DEFAULT_MAILBOX = 'default';

/**
 * The inbound claim's source for a mailbox: the default one keeps the single-mailbox name, so that
 * one email in two mailboxes is two claims while nothing stored before several mailboxes moves.
 */
export function mailboxInboundSource(mailbox: string | undefined): string {
  return mailbox === undefined || mailbox === DEFAULT_MAILBOX ? 'email' : `email:${mailbox}`;
}

/** Called with each new email; resolves once it is stored (claimed), so the source may checkpoint. */
export type EmailSink = (email: IncomingEmail) => Promise<void>;

export interface EmailSource {
  /** imap | ingest */
  readonly name: string;
  start(sink: EmailSink): Promise<void>;
  stop(): Promise<void>;
  /** For /health/dependencies. */
  healthy(): boolean;
}

export type OutgoingEmail = {
  to: EmailAddress;
  subject: string;
  text: string;
  /** Stable per draft version, so a retried send is recognisably the same message. */
  messageId: string;
  inReplyTo?: string | undefined;
  references?: string[] | undefined;
  /** Extra headers, e.g. our marker header that stops reply loops. */
  headers?: Record<string, string> | undefined;
};

export interface EmailSender {
  readonly name: string;
  send(email: OutgoingEmail, signal: AbortSignal): Promise<{ providerId: string }>;
}

/** Set on every email we send, and checked on every email we read, so we never answer ourselves. */
export const MARKER_HEADER = 'X-Countersign-Reply';
