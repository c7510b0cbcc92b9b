/**
 * One normalisation for every check that reads message text (opt-out words, injection, the draft
 * guard), so a trick that beats one check cannot beat another:
 *
 * - NFKC folds look-alike forms a phone keyboard or a copy-paste produces (full-width "ＳＴＯＰ",
 *   "＄50", ligatures) into their plain letters;
 * - zero-width and soft-hyphen characters are removed, because they are invisible on a phone yet
 *   split a word in two for a regular expression ("ST\u200BOP", "ign\u00ADore");
 * - curly quotes and dashes become straight ones, so "don’t" matches "don't";
 * - every run of white space (tabs, new lines, no-break spaces) becomes one space.
 *
 * Letter case is kept: callers that want it lower-case it, and the guard needs the case to tell
 * the weekday "Sun" from the word "sun".
 */

const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;

const STRAIGHT: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201A': "'",
  '\u201B': "'",
  '\u2032': "'",
  '\u02BC': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u201E': '"',
  '\u2033': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2212': '-',
};

export function normalizeMessage(text: string): string {
  return text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(
      /[\u2018\u2019\u201A\u201B\u2032\u02BC\u201C\u201D\u201E\u2033\u2010-\u2014\u2212]/g,
      (c) => STRAIGHT[c] ?? c,
    )
    .replace(/\s+/g, ' ')
    .trim();
}

/** The normalised text in lower case: what most patterns are written against. */
export function foldMessage(text: string): string {
  return normalizeMessage(text).toLowerCase();
}
