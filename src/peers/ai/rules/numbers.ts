import { normalizeText, type Span } from './text.js';

/**
 * Money amounts in tenant texts: "$50", "$1,250.50", "50$", "50 dollars", "50 bucks",
 * "2 hundred", "1.2k", and number words ("fifty", "two hundred fifty", "a hundred and fifty",
 * "seventy-five", and the spoken "two fifty" = 250).
 */

export type AmountMatch = Span & {
  value: number;
  /** A "$" or a currency word was attached, so this is money and not a count. */
  currency: boolean;
};

const UNITS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};
const TEENS: Readonly<Record<string, number>> = {
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
/** Common misspellings ("fourty", "ninty") are in because tenants type them. */
const TENS: Readonly<Record<string, number>> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fourty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  ninty: 90,
};
const SCALES: Readonly<Record<string, number>> = { hundred: 100, thousand: 1000 };

/** Every word that can be part of a number ("two", "fifty", "hundred"…), for patterns elsewhere. */
export const NUMBER_WORDS: readonly string[] = [UNITS, TEENS, TENS, SCALES].flatMap((t) => Object.keys(t));

export const CURRENCY_WORDS = [
  'dollars',
  'dollar',
  'dollers',
  'doller',
  'dollas',
  'bucks',
  'buck',
  'usd',
  'dlls',
  'dls',
  'dólares',
  'dolares',
];
const CURRENCY_AFTER = new RegExp(`^(?:\\s?\\$|\\s+(?:${CURRENCY_WORDS.join('|')})\\b)`);

export function isNumberWord(word: string): boolean {
  return word in UNITS || word in TEENS || word in TENS || word in SCALES;
}

type WordToken = Span & { word: string };

function wordTokens(text: string): WordToken[] {
  const tokens: WordToken[] = [];
  for (const m of text.matchAll(/[a-zñáéíóú]+/g)) {
    tokens.push({ word: m[0], start: m.index, end: m.index + m[0].length });
  }
  return tokens;
}

type Kind = 'none' | 'a' | 'unit' | 'teen' | 'tens' | 'spoken' | 'hundred' | 'thousand' | 'and';

/**
 * Reads number words from `tokens[from]` on, as far as they form one number. Returns the value
 * and how many tokens it used. A state machine rather than a regex, because "fifty and sixty"
 * must stop at 50 while "a hundred and fifty" goes on to 150.
 */
export function readNumberWords(
  words: readonly string[],
  from = 0,
): { value: number; used: number } | undefined {
  let total = 0;
  let current = 0;
  let kind: Kind = 'none';
  let used = 0;
  let lastGood: { value: number; used: number } | undefined;
  for (let i = from; i < words.length; i++) {
    const w = words[i] ?? '';
    const next = words[i + 1] ?? '';
    if ((w === 'a' || w === 'an') && kind === 'none' && next in SCALES) {
      current = 1;
      kind = 'a';
    } else if (w === 'and' && (kind === 'hundred' || kind === 'thousand') && isNumberWord(next)) {
      kind = 'and';
    } else if (w in UNITS) {
      const v = UNITS[w] ?? 0;
      if (kind === 'tens' || kind === 'spoken') {
        if (current % 10 !== 0) break;
        current += v;
      } else if (kind === 'none' || kind === 'hundred' || kind === 'thousand' || kind === 'and') {
        current += v;
      } else break;
      kind = 'unit';
    } else if (w in TEENS) {
      if (kind !== 'none' && kind !== 'hundred' && kind !== 'thousand' && kind !== 'and') break;
      current += TEENS[w] ?? 0;
      kind = 'teen';
    } else if (w in TENS) {
      const v = TENS[w] ?? 0;
      if (kind === 'none' || kind === 'hundred' || kind === 'thousand' || kind === 'and') {
        current += v;
        kind = 'tens';
      } else if (kind === 'unit' && current < 10) {
        // Spoken prices: "two fifty" is 250, "one seventy five" is 175.
        current = current * 100 + v;
        kind = 'spoken';
      } else break;
    } else if (w === 'hundred') {
      if (kind !== 'a' && kind !== 'unit' && kind !== 'teen') break;
      current *= 100;
      kind = 'hundred';
    } else if (w === 'thousand') {
      if (kind === 'none' || kind === 'and' || kind === 'thousand') break;
      total += current * 1000;
      current = 0;
      kind = 'thousand';
    } else break;
    used = i - from + 1;
    if (kind !== 'a' && kind !== 'and') lastGood = { value: total + current, used };
  }
  return lastGood && lastGood.value > 0 ? lastGood : undefined;
}

/** A whole phrase as a number: "two hundred fifty" → 250; undefined when it is not one number. */
export function parseNumberWords(phrase: string): number | undefined {
  const words = normalizeText(phrase)
    .split(/[\s-]+/)
    .filter((w) => w.length > 0);
  const read = readNumberWords(words);
  return read && read.used === words.length ? read.value : undefined;
}

/**
 * Digits not part of a date ("2/1"), a time ("6am", "2:30"), an ordinal ("15th"), a range or
 * case number ("24-10234") or a percentage.
 */
const NUMERIC =
  /(?<![\w.,/:#-])(\$\s?)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?(k\b)?(?!\d|[:%]|\/\d|\.\d|,\d{3}|-\d|\s?(?:am|pm|a\.m|p\.m)\b|(?:st|nd|rd|th)\b)/g;

function numericAmounts(text: string): AmountMatch[] {
  const found: AmountMatch[] = [];
  for (const m of text.matchAll(NUMERIC)) {
    let value = Number((m[2] ?? '').replace(/,/g, '') + (m[3] ?? ''));
    if (m[4]) value *= 1000;
    let end = m.index + m[0].length;
    // "2 hundred", "3 thousand": digits with a scale word, as people type them.
    const scale = /^\s+(hundred|thousand)\b/.exec(text.slice(end));
    if (scale && !m[3] && !m[4]) {
      value *= SCALES[scale[1] ?? ''] ?? 1;
      end += scale[0].length;
    }
    const after = CURRENCY_AFTER.exec(text.slice(end));
    if (after) end += after[0].length;
    found.push({ value, start: m.index, end, currency: Boolean(m[1]) || after !== null });
  }
  return found;
}

function wordAmounts(text: string): AmountMatch[] {
  const tokens = wordTokens(text);
  const found: AmountMatch[] = [];
  let i = 0;
  while (i < tokens.length) {
    // Only tokens separated by spaces or hyphens belong to one number ("fifty, sixty" is two).
    let j = i + 1;
    while (j < tokens.length && /^[\s-]+$/.test(text.slice(tokens[j - 1]?.end, tokens[j]?.start))) j++;
    const run = tokens.slice(i, j);
    const read = readNumberWords(run.map((t) => t.word));
    if (!read) {
      i++;
      continue;
    }
    const first = run[0];
    const last = run[read.used - 1];
    if (!first || !last) break;
    let end = last.end;
    const after = CURRENCY_AFTER.exec(text.slice(end));
    if (after) end += after[0].length;
    const dollarBefore = /\$\s?$/.test(text.slice(0, first.start));
    found.push({
      value: read.value,
      start: dollarBefore ? text.slice(0, first.start).lastIndexOf('$') : first.start,
      end,
      currency: after !== null || dollarBefore,
    });
    i += read.used;
  }
  return found;
}

/** Every number in the text that could be an amount or a count, in order of position. */
export function findAmounts(text: string): AmountMatch[] {
  const normalized = normalizeText(text);
  return [...numericAmounts(normalized), ...wordAmounts(normalized)].sort((a, b) => a.start - b.start);
}

/** Rounds dollars to cents, half away from zero, working in integer cents to avoid 0.1+0.2 drift. */
export function roundCents(dollars: number): number {
  const cents = Math.round(Math.abs(dollars) * 1000) / 10;
  return (Math.sign(dollars) * Math.round(cents)) / 100;
}

/** "$50", "$62.50", "$1,250.50": whole dollars without cents, otherwise two decimals. */
export function formatMoney(dollars: number): string {
  const rounded = roundCents(dollars);
  const whole = Math.trunc(rounded);
  const cents = Math.round((rounded - whole) * 100);
  const grouped = String(Math.abs(whole)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = rounded < 0 ? '-' : '';
  return cents === 0
    ? `${sign}$${grouped}`
    : `${sign}$${grouped}.${String(Math.abs(cents)).padStart(2, '0')}`;
}
