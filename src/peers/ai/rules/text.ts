/**
 * Text normalisation shared by the rules engine. Every function here keeps the string's length,
 * so an offset found in the normalised text is also an offset in the original: captured
 * fragments (a manager's "mention …") can then be copied from the original, case included.
 */

const STRAIGHTENED: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201B': "'",
  '\u2032': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u2013': '-',
  '\u2014': '-',
  '\u00A0': ' ',
  '\u202F': ' ',
};

/** ASCII lower case, straight quotes and plain dashes; same length as the input. */
export function normalizeText(text: string): string {
  return text.replace(/[A-Z\u2018\u2019\u201B\u2032\u201C\u201D\u2013\u2014\u00A0\u202F]/g, (c) =>
    c.length === 1 && c >= 'A' && c <= 'Z' ? c.toLowerCase() : (STRAIGHTENED[c] ?? c),
  );
}

/** Straight quotes and plain dashes, case kept; same length as the input. */
export function straightenText(text: string): string {
  return text.replace(
    /[\u2018\u2019\u201B\u2032\u201C\u201D\u2013\u2014\u00A0\u202F]/g,
    (c) => STRAIGHTENED[c] ?? c,
  );
}

export type Span = { start: number; end: number };

export function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}

/**
 * Where the clause holding `index` begins: after the last sentence mark, comma or joining word
 * ("but", "so", "and") before it. Cues such as "can't" or "rent is" only count inside one clause,
 * so "I can't pay $200 a week. I can do $100 a week" keeps the second offer.
 */
export function clauseStart(text: string, index: number): number {
  const before = text.slice(0, index);
  const re = /[.!?;,\n]|\b(?:but|so|and|though|although|however|then)\b/g;
  let start = 0;
  for (let m = re.exec(before); m !== null; m = re.exec(before)) start = m.index + m[0].length;
  return start;
}
