/**
 * What the mailbox owner texts back about the draft they were shown: `1` (send), `2 <instructions>`
 * (redraft), `3` (ignore). Pure: the text in, a command out; which draft it applies to is the
 * presentation policy's business (presentation.ts), whether it is allowed now is decide()'s.
 *
 * The parser is strict on purpose. A send cannot be taken back, so only a bare `1`, `send` or
 * `approve` sends; anything with words after it ("1 thanks", "send it now?") is unknown and gets
 * the help text, and the owner answers again. Edits are the one command that takes text, and that
 * text is kept exactly as typed: case, inner spacing, newlines and punctuation reach the AI as the
 * owner wrote them.
 *
 * YES, STOP, START, HELP (and the other carrier keywords) are never commands: SMS providers act on
 * them themselves (opt-out, opt-in, their own help reply), so giving them a meaning here would
 * have one text do two things. They parse as unknown; isCarrierKeyword() lets the caller stay
 * silent on them instead of answering with our help text.
 */

export type OwnerCommand =
  | { kind: 'send' }
  | { kind: 'edit'; instructions: string }
  | { kind: 'edit_missing_instructions' }
  | { kind: 'ignore' }
  | { kind: 'unknown' };

/** Sent when a text is not a command; plain GSM-7 and one segment. */
export const HELP_TEXT =
  'Reply 1 to send the draft, 2 and what to change to redraft (e.g. 2 make it shorter), 3 to ignore.';

/** Sent for a bare `2` / `edit`: the redraft needs to know what to change. */
export const ASK_FOR_INSTRUCTIONS_TEXT =
  'What should change? Reply 2 and your instructions, e.g. 2 make it shorter.';

/** Sent for a command when no draft is waiting for the owner. */
export const NOTHING_WAITING_TEXT = 'No draft is waiting for you right now.';

/**
 * Sent for a command that arrives while the draft it would apply to is being rewritten or is
 * still on its way: acting on it would act on a draft the owner has not read.
 */
export const DRAFT_ON_ITS_WAY_TEXT = 'A new draft is on its way. Reply to it once it arrives.';

/**
 * Keywords carriers and SMS providers handle themselves (CTIA / Twilio opt-out, opt-in and help
 * keywords), matched on the whole text. The same list as the SMS peers' opt-out handling, plus
 * HELP and INFO.
 */
export const CARRIER_KEYWORDS: readonly string[] = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'REVOKE',
  'START',
  'UNSTOP',
  'YES',
  'HELP',
  'INFO',
];

/** True for a text the SMS provider acts on itself; the caller should not answer it. */
export function isCarrierKeyword(text: string): boolean {
  return CARRIER_KEYWORDS.includes(text.trim().toUpperCase());
}

// A bare command may end with a full stop or an exclamation mark ("1.", "Send!"), which phones and
// people add out of habit; a question mark is a question, not an order, so it is not tolerated.
const SEND = /^(?:1|send|approve)[.!]*$/i;
const IGNORE = /^(?:3|ignore)[.!]*$/i;
// The edit token, then either the end or a separator: whitespace and/or `:` `,` `-` `.` `;` `)`
// and dashes. A separator is required so that "2nd", "20" and "editor" are not edits.
const EDIT = /^(?:2|edit)(?=$|[\s:,;.)\-–—])[\s:,;.)\-–—]*/i;

export function parseOwnerCommand(text: string): OwnerCommand {
  const trimmed = text.trim();
  if (SEND.test(trimmed)) return { kind: 'send' };
  if (IGNORE.test(trimmed)) return { kind: 'ignore' };
  const edit = EDIT.exec(trimmed);
  if (edit) {
    // Only the token and its separator go; the rest is the owner's own words, kept as typed.
    const instructions = trimmed.slice(edit[0].length).trim();
    return instructions === '' ? { kind: 'edit_missing_instructions' } : { kind: 'edit', instructions };
  }
  return { kind: 'unknown' };
}
