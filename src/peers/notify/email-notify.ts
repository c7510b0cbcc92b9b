import { createHash } from 'node:crypto';
import { MARKER_HEADER, type EmailSender, type OutgoingEmail } from '../email/email-port.js';
import type { Notice, NotifyChannel } from './notify-port.js';

/**
 * Notices by email (NOTIFY_EMAIL_TO), through whichever EmailSender is configured (SMTP).
 *
 * The Message-ID is derived from the idempotency key, so a retried send is recognisably the same
 * message (mail clients and many servers drop duplicates by Message-ID). The marker header stops
 * our own mailbox reader from drafting a reply when NOTIFY_EMAIL_TO is the mailbox it reads.
 * A notice addressed to someone with an email address goes to them; otherwise to NOTIFY_EMAIL_TO.
 */

export type EmailNotifyOptions = {
  sender: EmailSender;
  /** NOTIFY_EMAIL_TO. */
  to: string;
  /** The right-hand side of Message-IDs. */
  messageIdDomain?: string;
};

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function createEmailNotifyChannel(options: EmailNotifyOptions): NotifyChannel {
  return {
    name: 'email',
    async send(notice, idempotencyKey, signal) {
      return options.sender.send(noticeEmail(notice, idempotencyKey, options), signal);
    },
  };
}

export function noticeEmail(
  notice: Notice,
  idempotencyKey: string,
  options: Omit<EmailNotifyOptions, 'sender'>,
): OutgoingEmail {
  const to = notice.recipient && EMAIL.test(notice.recipient) ? notice.recipient : options.to;
  return {
    to: { address: to },
    subject: notice.priority === 'urgent' ? `[urgent] ${notice.subject}` : notice.subject,
    text: emailText(notice),
    messageId: noticeMessageId(idempotencyKey, options.messageIdDomain ?? 'countersign.invalid'),
    headers: { [MARKER_HEADER]: 'notice', 'X-Countersign-Notice-Kind': notice.kind },
  };
}

/** Keys hold characters a Message-ID may not (":" and more): the id is a hash of the key. */
export function noticeMessageId(idempotencyKey: string, domain: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<notice.${digest}@${domain}>`;
}

function emailText(notice: Notice): string {
  const details = Object.entries(notice.metadata).map(([key, value]) => `${key}: ${String(value)}`);
  return details.length === 0 ? notice.body : `${notice.body}\n\n${details.join('\n')}`;
}
