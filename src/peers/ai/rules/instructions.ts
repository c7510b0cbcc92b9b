import { normalizeText } from './text.js';

/**
 * What a deterministic engine can honestly do with an edit request ("2 shorter", "2 mention I'm
 * away until Monday"). It recognises a few kinds of instruction and rebuilds the draft from its
 * template with all of them applied, oldest first, so a redraft never loses an earlier edit:
 *
 * - shorter / brief / concise → keep only the essential sentences;
 * - more formal / professional, or casual / friendlier → change greeting, wording and closing;
 * - mention / add / include / say / tell them / let them know [that] X → add "X." (see asSentence);
 * - ask [them] if/whether X → add "Could you let me know if X?";
 * - decline / reject / turn down [the] X [with|for Y reason | because Y | due to Y] → a decline
 *   sentence (email only); accept / confirm [the] X → a confirmation (email only);
 * - sign [as|with] X → X under the closing (email only).
 *
 * Anything else is not applied: it is kept, as typed, in square brackets at the end of the
 * draft, so the person approving sees what the engine could not do, and the draft's
 * confidence drops. Typed words are copied, never re-cased: instructions are data.
 */

export type Tone = 'neutral' | 'formal' | 'casual';

export type EditStyle = {
  short: boolean;
  tone: Tone;
  /** Sentences to add, in order, built from the instructions' own words. */
  additions: string[];
  decline: { object: string; reason: string } | undefined;
  accept: { object: string } | undefined;
  signature: string | undefined;
  /** Instructions the engine could not apply, as typed. */
  unapplied: string[];
};

export const PLAIN_STYLE: EditStyle = Object.freeze({
  short: false,
  tone: 'neutral',
  additions: [],
  decline: undefined,
  accept: undefined,
  signature: undefined,
  unapplied: [],
}) as EditStyle;

const VERBS =
  '(?:make|be|mention|add|include|say|tell|ask|decline|reject|refuse|accept|confirm|sign|shorter|shorten|more|less|keep|use|note|let)';

/** "shorter and mention the report" is two instructions; "mention that Tom and Ann will come" is one. */
export function splitInstructions(instruction: string): string[] {
  const t = normalizeText(instruction);
  const re = new RegExp(
    `[;\\n]+|[,.]?\\s+(?:and|also|then|plus)\\s+(?=${VERBS}\\b)|[,.]\\s+(?=${VERBS}\\b)`,
    'g',
  );
  const parts: string[] = [];
  let from = 0;
  for (const m of t.matchAll(re)) {
    parts.push(instruction.slice(from, m.index));
    from = m.index + m[0].length;
  }
  parts.push(instruction.slice(from));
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * A sentence from typed words: the first letter capitalised and a full stop added when none
 * ends it. Nothing else changes — "I am OUT until Monday" keeps its capitals (the seed's own
 * implementation lower-cased instructions; we do not).
 */
export function asSentence(text: string): string {
  const trimmed = text.trim().replace(/^[a-z]/, (c) => c.toUpperCase());
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

type Applied = Partial<EditStyle> & { applied: boolean };

function readOne(raw: string): Applied {
  // Polite openers carry no instruction; strip them from both copies at the same length.
  const lead =
    /^(?:(?:please|pls|plz|can\s+you|could\s+you|just|and|also)\s+)*/.exec(normalizeText(raw))?.[0].length ??
    0;
  const text = raw.slice(lead).trim();
  const t = normalizeText(text);
  const rest = (m: RegExpExecArray) => text.slice(m[0].length).trim();

  // Decline and accept first: "say no" is a decline, not something to say.
  let m = /^(?:politely\s+)?(?:decline|reject|refuse|turn\s+down|say\s+no(?:\s+to)?)\b\s*/.exec(t);
  if (m) return { applied: true, decline: parseDecline(rest(m)) };

  m = /^(?:accept|confirm|agree(?:\s+to)?|say\s+yes(?:\s+to)?)\b\s*/.exec(t);
  if (m) return { applied: true, accept: { object: rest(m).replace(/[.!]+$/, '') } };

  m =
    /^(?:mention|add|include|say|note|tell\s+(?:them|him|her)|let\s+(?:them|him|her)\s+know)(?:\s*:\s*|\s+)(?:that\s+)?/.exec(
      t,
    );
  if (m && rest(m)) return { applied: true, additions: [asSentence(rest(m))] };

  m = /^ask\s+(?:them\s+|him\s+|her\s+)?(?:if|whether)\s+/.exec(t);
  if (m && rest(m))
    return { applied: true, additions: [`Could you let me know if ${rest(m).replace(/[?.!\s]+$/, '')}?`] };

  m = /^sign\s+(?:it\s+|off\s+)?(?:as\s+|with\s+)?/.exec(t);
  if (m && rest(m)) return { applied: true, signature: rest(m) };

  if (
    /^(?:make\s+it\s+|be\s+|keep\s+it\s+)?(?:a\s+(?:bit|little)\s+)?(?:shorter|short|brief(?:er)?|more\s+concise|concise|less\s+wordy)\b|^(?:shorten|trim)\b/.test(
      t,
    )
  ) {
    return { applied: true, short: true };
  }
  const tone =
    /^(?:make\s+it\s+|be\s+|sound\s+|use\s+a\s+)?(?:a\s+(?:bit|little)\s+)?(?:(less\s+formal|more\s+casual|casual|informal|friendlier|more\s+friendly|friendly|relaxed|warmer)|(more\s+formal|formal|more\s+professional|professional|more\s+polite|polite))(?:\s+tone)?(?:\s+please)?[.!]?$/.exec(
      t,
    );
  if (tone) return { applied: true, tone: tone[1] ? 'casual' : 'formal' };
  return { applied: false };
}

/**
 * " the meeting" for "meeting", " the invitation" for "the invitation", " that I'll attend" for
 * "that I'll attend": the object as typed, with "the" only where no determiner is there.
 */
export function withArticle(object: string): string {
  const typed = object.trim();
  if (!typed) return '';
  return /^(?:the|this|that|these|those|my|your|our|their|his|her|its|a|an)\b/i.test(typed)
    ? ` ${typed}`
    : ` the ${typed}`;
}

/** "meeting with health reason" → object "meeting", reason " for health reasons"; words kept as typed. */
function parseDecline(text: string): { object: string; reason: string } {
  const t = normalizeText(text);
  const typed = (range: readonly [number, number] | undefined) =>
    range ? text.slice(range[0], range[1]) : '';
  let m = /\s*\b(?:with|for|giving|citing)\s+(?:a\s+|an\s+|my\s+)?(.+?)\s+reasons?[.!]?\s*$/d.exec(t);
  if (m) return { object: text.slice(0, m.index).trim(), reason: ` for ${typed(m.indices?.[1])} reasons` };
  m = /\s*\b(because(?:\s+of)?|due\s+to|since)\s+(.+?)[.!]*\s*$/d.exec(t);
  if (m) return { object: text.slice(0, m.index).trim(), reason: ` ${m[1] ?? ''} ${typed(m.indices?.[2])}` };
  return { object: text.replace(/[.!]+$/, '').trim(), reason: '' };
}

/** Every instruction so far, oldest first, folded into one style. Later tone and length win. */
export function readInstructions(instructions: readonly string[]): EditStyle {
  const style: EditStyle = { ...PLAIN_STYLE, additions: [], unapplied: [] };
  for (const instruction of instructions) {
    for (const piece of splitInstructions(instruction)) {
      const r = readOne(piece);
      if (!r.applied) {
        style.unapplied.push(piece);
        continue;
      }
      if (r.short) style.short = true;
      if (r.tone) style.tone = r.tone;
      if (r.additions) style.additions.push(...r.additions);
      if (r.decline) style.decline = r.decline;
      if (r.accept) style.accept = r.accept;
      if (r.signature) style.signature = r.signature;
    }
  }
  return style;
}
