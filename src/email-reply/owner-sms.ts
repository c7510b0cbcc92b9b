import { fitsBudget } from '../peers/sms/segments.js';

/**
 * The texts the mailbox owner gets. The draft text keeps the seed's condensed format:
 *
 *     📧 John: Meeting tomorrow at 2pm?
 *     Draft: Yes, 2pm works. See you then!
 *     1=Send 2=Edit 3=Ignore
 *
 * The 📧 makes every such text UCS-2 (70 units in one segment, 67 per part), so three segments
 * hold about 200 characters. When the whole draft does not fit in the budget the owner must
 * still be able to read all of it before answering `1`: the text then carries a link to the
 * draft page and as much of the draft's beginning as fits (the "link form"). The draft is never
 * cut silently: without a link to give, the cut is marked in the text ("Draft (cut): …") and
 * reported as `truncated`, so the caller knows the owner cannot see the whole draft.
 */

export const DRAFT_ICON = '📧';
export const COMMAND_LINE = '1=Send 2=Edit 3=Ignore';

/** A subject is shortened to this before the draft is given up for a link. */
const SHORT_TOPIC = 40;
/** The last resort for a budget too small for a link and a full header. */
const TINY = 20;
/** A preview shorter than this tells the owner nothing; the link alone is clearer. */
const MIN_PREVIEW = 20;

export type OwnerSmsInput = {
  senderName?: string | undefined;
  senderAddress: string;
  subject: string;
  /** A gist of the email's text, shown when the subject is empty. */
  gist?: string | undefined;
  draft: string;
  /** SMS_MAX_SEGMENTS. */
  maxSegments: number;
  /** `${PUBLIC_BASE_URL}/drafts/{token}`, when a draft page can be offered. */
  draftUrl?: string | undefined;
};

export type OwnerSms = {
  text: string;
  /** The text shows only part of the draft and has no link to the rest (no draftUrl was given). */
  truncated: boolean;
  /** The whole draft did not fit in maxSegments in the seed format. */
  needsLink: boolean;
};

export function formatOwnerSms(input: OwnerSmsInput): OwnerSms {
  const sender = senderLabel(input.senderName, input.senderAddress);
  const topic = topicOf(input.subject, input.gist);
  const draft = input.draft.trim();
  const fits = (text: string) => fitsBudget(text, input.maxSegments);

  // The seed format with the whole draft, shortening a long subject before giving up on it.
  for (const topicMax of [Infinity, SHORT_TOPIC]) {
    const text = lines(header(DRAFT_ICON, sender, gistOf(topic, topicMax)), `Draft: ${draft}`);
    if (fits(text)) return { text, truncated: false, needsLink: false };
  }

  if (input.draftUrl === undefined) {
    return { text: cutForm(sender, topic, draft, input.maxSegments), truncated: true, needsLink: true };
  }
  return {
    text: linkForm(sender, topic, draft, input.draftUrl, input.maxSegments),
    truncated: false,
    needsLink: true,
  };
}

/**
 * Header, link, then as much of the draft as fits. A full subject is given up before the preview,
 * the preview before the icon: the icon alone costs the GSM-7 encoding (160 per segment instead
 * of 70), so only a budget too small for the link in UCS-2 loses it, and then the cuts are marked
 * with "..." rather than "…", which is not GSM-7 either. With a budget too small even for the
 * link itself (well under one GSM-7 segment) the result is over budget; the SMS channel refuses
 * it and the workflow fails visibly rather than sending a text without the draft.
 */
function linkForm(sender: string, topic: string, draft: string, url: string, maxSegments: number): string {
  const fits = (text: string) => fitsBudget(text, maxSegments);
  let last = '';
  for (const icon of [DRAFT_ICON, '']) {
    const ellipsis = icon === '' ? '...' : '…';
    const gist = (text: string, max: number) => gistOf(text, max, ellipsis);
    const build = (from: string, about: string, preview: string | undefined) =>
      lines(header(icon, from, about), `Draft: ${url}`, ...(preview === undefined ? [] : [preview]));

    for (const topicMax of [Infinity, SHORT_TOPIC, TINY]) {
      const about = gist(topic, topicMax);
      const preview = longestFitting(draft, maxSegments, ellipsis, (p) => build(sender, about, p));
      if (preview !== undefined && [...preview].length >= MIN_PREVIEW) return build(sender, about, preview);
    }
    for (const topicMax of [Infinity, SHORT_TOPIC, TINY]) {
      const text = build(sender, gist(topic, topicMax), undefined);
      if (fits(text)) return text;
    }
    last = build(gist(sender, TINY), gist(topic, TINY), undefined);
    if (fits(last)) return last;
  }
  return last;
}

/** Without a link: the seed format with the draft's beginning, the cut said out loud. */
function cutForm(sender: string, topic: string, draft: string, maxSegments: number): string {
  const build = (about: string, preview: string) =>
    lines(header(DRAFT_ICON, sender, about), `Draft (cut): ${preview}`);
  for (const topicMax of [Infinity, SHORT_TOPIC, TINY]) {
    const about = gistOf(topic, topicMax);
    const preview = longestFitting(draft, maxSegments, '…', (p) => build(about, p));
    if (preview !== undefined && [...preview].length >= MIN_PREVIEW) return build(about, preview);
  }
  const about = gistOf(topic, TINY);
  return build(about, longestFitting(draft, maxSegments, '…', (p) => build(about, p)) ?? '…');
}

/**
 * The longest gist of text whose rendering fits the budget, or undefined when none does. Linear
 * from the top: gists cut at word boundaries, so fitting is not strictly monotone in the length,
 * and no budget holds more than 160 characters a segment, so the scan is short.
 */
function longestFitting(
  text: string,
  maxSegments: number,
  ellipsis: string,
  render: (preview: string) => string,
): string | undefined {
  const upper = Math.min([...text].length, 160 * Math.max(1, maxSegments));
  for (let chars = upper; chars >= 1; chars -= 1) {
    const preview = gistOf(text, chars, ellipsis);
    if (preview !== '' && fitsBudget(render(preview), maxSegments)) return preview;
  }
  return undefined;
}

function header(icon: string, sender: string, topic: string): string {
  return `${icon === '' ? '' : `${icon} `}${sender}: ${topic}`;
}

function lines(...parts: string[]): string {
  return [...parts, COMMAND_LINE].join('\n');
}

/** The subject, or a gist of the email when it has none, or a placeholder. */
function topicOf(subject: string, gist: string | undefined): string {
  return collapse(subject) || collapse(gist ?? '') || '(no subject)';
}

/**
 * How the owner knows the sender: the display name as the email gave it, else the address.
 * Used in the draft text and in the confirmations ("✅ Reply sent to John").
 */
export function senderLabel(name: string | undefined, address: string): string {
  const cleaned = collapse((name ?? '').replace(/^["']+|["']+$/g, ''));
  return cleaned || collapse(address) || 'unknown sender';
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * A one-line gist of text in at most maxChars characters (code points, so an emoji is never cut
 * in two): whitespace collapsed; when shortened, cut at a word boundary if one is close (within
 * the last 40%), trailing punctuation dropped, and the ellipsis appended, so a cut is always
 * visible. The ellipsis counts toward maxChars.
 */
export function gistOf(text: string, maxChars: number, ellipsis = '…'): string {
  const collapsed = collapse(text);
  const chars = [...collapsed];
  if (chars.length <= maxChars) return collapsed;
  const mark = [...ellipsis];
  if (maxChars <= mark.length) return mark.slice(0, Math.max(0, maxChars)).join('');
  const keep = maxChars - mark.length;
  let cut = chars.slice(0, keep).join('');
  const midWord = chars[keep] !== ' ';
  const lastSpace = cut.lastIndexOf(' ');
  if (midWord && lastSpace > 0 && [...cut.slice(0, lastSpace)].length >= keep * 0.6) {
    cut = cut.slice(0, lastSpace);
  }
  return `${cut.replace(/[\s,;:.\-–—]+$/, '')}${ellipsis}`;
}

export type ConfirmationKind = 'sent' | 'ignored' | 'timeout' | 'failed' | 'max_edits';

/** The short texts that close (or refuse) a step; the first two are the seed's own. */
export function formatConfirmation(kind: ConfirmationKind, name?: string): string {
  const who = name === undefined ? undefined : collapse(name) || undefined;
  switch (kind) {
    case 'sent':
      return who ? `✅ Reply sent to ${who}` : '✅ Reply sent';
    case 'ignored':
      return '✓ Email ignored';
    case 'timeout':
      return who ? `⏱ No answer in time: nothing sent to ${who}` : '⏱ No answer in time: nothing sent';
    case 'failed':
      return who
        ? `⚠️ Reply to ${who} failed and is on hold. Retry it from the dashboard.`
        : '⚠️ A reply failed and is on hold. Retry it from the dashboard.';
    case 'max_edits':
      return 'No more edits for this email. Reply 1 to send the last draft or 3 to ignore.';
  }
}
