import type { IncomingEmail } from '../peers/email/email-port.js';
import { isOwnReply } from '../peers/email/parse-email.js';

/**
 * Which emails never get a draft: checked before any AI call, so a skipped email costs nothing and
 * texts nobody. RFC 3834 ("Recommendations for Automatic Responses to Electronic Mail") plus
 * common sense. A missed reply is cheap (the owner still has the email in their mailbox); a reply
 * loop with another robot, or an answer to a newsletter, is not. So when in doubt, skip.
 *
 * The rules run in a fixed order and the first that matches names the reason; the order only
 * decides which reason is recorded when several apply:
 *
 *  1. own_marker             — carries our X-Countersign-Reply header: one of our own replies.
 *  2. own_address            — sent from the owner's own address (a note to self, a Cc of our send).
 *  3. no_sender              — no usable From address: there is no one to answer.
 *  4. deny_list              — sender on the deny list (address or `@domain`).
 *  5. auto_submitted         — `Auto-Submitted` present with any value other than `no` (RFC 3834 §5).
 *  6. precedence_bulk        — `Precedence: bulk`, `junk` or `list` (RFC 3834 §2, de facto).
 *  7. mailing_list           — `List-Id` (RFC 2919) or `List-Unsubscribe` (RFC 2369).
 *  8. null_return_path       — `Return-Path: <>`: a bounce or other delivery notice (RFC 5321 §4.5.5).
 *  9. automated_sender       — From or Reply-To is MAILER-DAEMON, postmaster, no-reply, noreply,
 *                              do-not-reply, donotreply (as a whole part of the local part).
 * 10. auto_response_suppress — `X-Auto-Response-Suppress` asks for no auto-replies (see below).
 * 11. not_in_allow_list      — an allow list is configured and the sender is not on it.
 * 12. thread_replied_today   — we already replied in this thread within 24 hours.
 */

export const SKIP_REASONS = [
  'own_marker',
  'own_address',
  'no_sender',
  'deny_list',
  'auto_submitted',
  'precedence_bulk',
  'mailing_list',
  'null_return_path',
  'automated_sender',
  'auto_response_suppress',
  'not_in_allow_list',
  'thread_replied_today',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type SkipContext = {
  /** The mailbox owner's address; mail from it is never answered. */
  ownerAddress?: string | undefined;
  /** When non-empty, only these senders are answered. Entries: `ann@example.com` or `@example.com`. */
  allow: readonly string[];
  /** These senders are never answered. Same entry forms as allow. */
  deny: readonly string[];
  /** True when a reply went out in this email's thread in the last 24 hours (the caller looks it up). */
  repliedInThreadWithin24h: boolean;
};

type Rule = { reason: SkipReason; applies: (email: IncomingEmail, ctx: SkipContext) => boolean };

const RULES: readonly Rule[] = [
  { reason: 'own_marker', applies: (email) => isOwnReply(email) },
  {
    reason: 'own_address',
    applies: (email, ctx) =>
      ctx.ownerAddress !== undefined &&
      normalizeAddress(ctx.ownerAddress) !== '' &&
      normalizeAddress(email.from.address) === normalizeAddress(ctx.ownerAddress),
  },
  { reason: 'no_sender', applies: (email) => !normalizeAddress(email.from.address).includes('@') },
  { reason: 'deny_list', applies: (email, ctx) => matchesAddressList(email.from.address, ctx.deny) },
  { reason: 'auto_submitted', applies: (email) => isAutoSubmitted(email.headers['auto-submitted']) },
  { reason: 'precedence_bulk', applies: (email) => isBulkPrecedence(email.headers.precedence) },
  {
    reason: 'mailing_list',
    applies: (email) =>
      email.headers['list-id'] !== undefined || email.headers['list-unsubscribe'] !== undefined,
  },
  { reason: 'null_return_path', applies: (email) => isNullReturnPath(email.headers['return-path']) },
  {
    reason: 'automated_sender',
    applies: (email) =>
      isAutomatedAddress(email.from.address) || replyToAddresses(email).some(isAutomatedAddress),
  },
  {
    reason: 'auto_response_suppress',
    applies: (email) => suppressesAutoReplies(email.headers['x-auto-response-suppress']),
  },
  {
    reason: 'not_in_allow_list',
    applies: (email, ctx) => ctx.allow.length > 0 && !matchesAddressList(email.from.address, ctx.allow),
  },
  { reason: 'thread_replied_today', applies: (_email, ctx) => ctx.repliedInThreadWithin24h },
];

/** The reason this email gets no draft, or undefined when it should get one. */
export function skipReason(email: IncomingEmail, ctx: SkipContext): SkipReason | undefined {
  return RULES.find((rule) => rule.applies(email, ctx))?.reason;
}

export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/**
 * True when the address is on the list. An entry with a local part (`ann@example.com`) matches
 * that address; `@example.com` matches every address at exactly that domain (not its subdomains:
 * `@example.com` does not cover `mail.example.com`, list that separately). A bare `example.com`
 * is read as `@example.com`, since that is what someone typing it means. Case never matters.
 */
export function matchesAddressList(address: string, list: readonly string[]): boolean {
  const normalized = normalizeAddress(address);
  const domain = normalized.slice(normalized.lastIndexOf('@') + 1);
  return list.some((raw) => {
    const entry = normalizeAddress(raw);
    if (entry === '' || entry === '@') return false;
    if (entry.startsWith('@')) return domain === entry.slice(1);
    if (!entry.includes('@')) return domain === entry;
    return normalized === entry;
  });
}

/** The value's first token: `auto-replied; owner-email="x"` → `auto-replied`. */
function headerToken(value: string): string {
  return value.split(';')[0]!.trim().toLowerCase();
}

/**
 * RFC 3834 §5: `no` means a person sent it; every other value (auto-generated, auto-replied,
 * auto-notified, extensions) means a program did. An empty or garbled value is treated as
 * automatic too: a header that is there at all was put there by software.
 */
function isAutoSubmitted(value: string | undefined): boolean {
  return value !== undefined && headerToken(value) !== 'no';
}

function isBulkPrecedence(value: string | undefined): boolean {
  return value !== undefined && ['bulk', 'junk', 'list'].includes(headerToken(value));
}

/** `<>` (with or without inner spaces), or an empty value: the null reverse-path of a bounce. */
function isNullReturnPath(value: string | undefined): boolean {
  return value !== undefined && /^<?\s*>?$/.test(value.trim());
}

/**
 * The local part names a robot when one of its dot/plus/dash/underscore-separated parts is one of
 * the well-known names, so `noreply@`, `billing-noreply@`, `no_reply+123@`, `MAILER-DAEMON@` match
 * and `snoreply@` or `noreplyhelp@` (a name that merely contains the letters) does not.
 */
const AUTOMATED_LOCAL_PART =
  /(?:^|[.+_-])(?:no[._-]?reply|do[._-]?not[._-]?reply|mailer[._-]?daemon|postmaster)(?:$|[.+_-])/i;

export function isAutomatedAddress(address: string): boolean {
  const normalized = normalizeAddress(address);
  const at = normalized.lastIndexOf('@');
  const local = at < 0 ? normalized : normalized.slice(0, at);
  return AUTOMATED_LOCAL_PART.test(local);
}

/** A reply goes to Reply-To when set; a noreply there is as final as a noreply in From. */
function replyToAddresses(email: IncomingEmail): string[] {
  const value = email.headers['reply-to'];
  if (value === undefined) return [];
  return (value.match(/[^\s<>,;"]+@[^\s<>,;"]+/g) ?? []).map(normalizeAddress);
}

/**
 * X-Auto-Response-Suppress (Microsoft, MS-OXCMAIL §2.2.3.2.20) lists the kinds of automatic
 * response the sender does not want: None, All, DR, NDR, RN, NRN, OOF, AutoReply. Ours is drafted
 * automatically, so All, OOF and AutoReply cover it, and so does a token we do not know (when in
 * doubt, skip). DR, NDR, RN and NRN are delivery and read receipts, which we never send, and None
 * (or an empty value) suppresses nothing.
 */
const RECEIPT_ONLY = new Set(['none', 'dr', 'ndr', 'rn', 'nrn']);

function suppressesAutoReplies(value: string | undefined): boolean {
  if (value === undefined) return false;
  const tokens = value
    .split(/[,;\s]+/)
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
  return tokens.some((token) => !RECEIPT_ONLY.has(token));
}
