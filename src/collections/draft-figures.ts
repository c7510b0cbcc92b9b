import { NUMBER_WORDS, parseNumberWords as parseRulesNumberWords } from '../peers/ai/rules/numbers.js';

/**
 * The figures a draft states: money amounts and dates. The guard compares them with the ledger
 * and the validated plan; anything else is a figure the drafter made up.
 *
 * Money: "$1,250.00", "$ 50", "$1.2k", "USD 50", "50 dollars", "75 bucks", "fifty dollars",
 * "twelve hundred and fifty dollars", "50 a week", "fifty per month", "1250.00" (two decimals);
 * percentages ("10%", "5 percent") are reported apart, as no ledger fact is a percentage. A bare
 * number ("12 weeks", "12 days late", "3 months") is a count, not money.
 *
 * Dates: "Jan 22", "January 22nd, 2025", "22 January", "1/22", "01/22/2025", "2025-01-22",
 * weekdays ("Friday", "Fri"), "the 15th", and relative ones ("tomorrow", "next week", "in 3
 * days", "end of the month"), which can never be checked against a ledger and so are never
 * supported. "Today" is left out: "we got your message today" promises nothing.
 */

export type MoneyFigure = { text: string; cents: number };

export type DateFigure =
  | { text: string; kind: 'full'; year: number; month: number; day: number }
  | { text: string; kind: 'month_day'; month: number; day: number }
  | { text: string; kind: 'weekday'; weekday: number }
  | { text: string; kind: 'day_of_month'; day: number }
  | { text: string; kind: 'relative' };

type Span = { start: number; end: number };

const NUMBER = '(\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.(\\d{1,2}))?';
/** "a week", "per month", "/wk"; not the adjective "weekly", because "12 weekly payments" is a count. */
const PERIOD =
  '(?:a|per|each|every|/)\\s*(?:week|wk|month|mo|two weeks|2 weeks|other week|payday|paycheck)\\b';

const MONEY_PATTERNS: readonly RegExp[] = [
  new RegExp(`(?:\\$|\\busd\\s?)\\s?${NUMBER}(\\s?k\\b)?`, 'gi'),
  new RegExp(`\\b${NUMBER}\\s?(?:dollars?|bucks?|usd)\\b`, 'gi'),
  new RegExp(`\\b${NUMBER}\\s*(?:${PERIOD})`, 'gi'),
  /\b(\d{1,3}(?:,\d{3})+|\d+)\.(\d{2})\b/g,
];

const PERCENT = /\b\d+(?:\.\d+)?\s?(?:%|percent\b)/gi;

const NUMBER_WORD = `(?:${NUMBER_WORDS.join('|')})`;
const WORD_MONEY = new RegExp(
  `\\b((?:a\\s+)?${NUMBER_WORD}(?:(?:\\s+|-|\\s+and\\s+)${NUMBER_WORD})*)\\s+(?:dollars?|bucks?|${PERIOD})`,
  'gi',
);

/**
 * A phrase of number words as a number, read exactly as the rules engine reads tenants' texts
 * ("two fifty" → 250, "twelve hundred and fifty" → 1250): the guard and the drafter must agree
 * on what an amount is.
 */
export function parseNumberWords(phrase: string): number | undefined {
  return parseRulesNumberWords(phrase.replace(/^a\s+/i, 'one ').replace(/\band\b/gi, ' '));
}

function centsOf(whole: string | undefined, fraction: string | undefined, thousands = false): number {
  const dollars = Number((whole ?? '0').replaceAll(',', ''));
  const cents = Number((fraction ?? '').padEnd(2, '0'));
  // "$1.2k": the fraction belongs to the thousands.
  if (thousands) return Math.round(Number(`${dollars}.${fraction ?? '0'}`) * 100_000);
  return dollars * 100 + cents;
}

function overlapsAny(span: Span, taken: readonly Span[]): boolean {
  return taken.some((t) => span.start < t.end && t.start < span.end);
}

/** Money amounts in the text, each once (the first pattern to claim a span wins). */
export function moneyFigures(text: string): MoneyFigure[] {
  const taken: Span[] = [];
  const found: MoneyFigure[] = [];
  const claim = (match: RegExpMatchArray, cents: number | undefined) => {
    const span = { start: match.index ?? 0, end: (match.index ?? 0) + match[0].length };
    if (cents === undefined || overlapsAny(span, taken)) return;
    taken.push(span);
    found.push({ text: match[0].trim(), cents });
  };
  for (const pattern of MONEY_PATTERNS) {
    for (const match of text.matchAll(pattern))
      claim(match, centsOf(match[1], match[2], match[3] !== undefined));
  }
  for (const match of text.matchAll(WORD_MONEY)) {
    const value = parseNumberWords(match[1] ?? '');
    claim(match, value === undefined ? undefined : value * 100);
  }
  return found;
}

export function percentFigures(text: string): string[] {
  return [...text.matchAll(PERCENT)].map((m) => m[0]);
}

// ---------------------------------------------------------------------------------------------
// Dates.

const MONTHS: readonly (readonly [number, string])[] = [
  [1, 'jan(?:uary)?'],
  [2, 'feb(?:ruary)?'],
  [3, 'mar(?:ch)?'],
  [4, 'apr(?:il)?'],
  [5, 'may'],
  [6, 'june?'],
  [7, 'july?'],
  [8, 'aug(?:ust)?'],
  [9, 'sep(?:t(?:ember)?)?'],
  [10, 'oct(?:ober)?'],
  [11, 'nov(?:ember)?'],
  [12, 'dec(?:ember)?'],
];
const MONTH = `(${MONTHS.map(([, re]) => re).join('|')})`;
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '(?:,?\\s*(\\d{4}))?';

function monthNumber(name: string): number {
  const lower = name.toLowerCase();
  return MONTHS.find(([, re]) => new RegExp(`^${re}$`).test(lower))?.[0] ?? 0;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
/** Short forms are matched capitalised only: "Sun" is a day, "sun" is the sun. */
const WEEKDAY_SHORT: Readonly<Record<string, number>> = {
  Sun: 0,
  Mon: 1,
  Tue: 2,
  Tues: 2,
  Wed: 3,
  Thu: 4,
  Thur: 4,
  Thurs: 4,
  Fri: 5,
  Sat: 6,
};

const SMALL_COUNT = '(?:\\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a few|a couple of)';
const RELATIVE = new RegExp(
  [
    '\\btomorrow\\b',
    '\\btonight\\b',
    '\\bnext (?:week|month|weekend)\\b',
    '\\bthis (?:weekend|coming week)\\b',
    '\\b(?:end|first|start|beginning) of (?:the |this |next )?(?:month|week)\\b',
    `\\b(?:in|within) (?:the next )?${SMALL_COUNT} (?:business |working )?(?:days?|hours?|weeks?)\\b`,
    '\\b(?:by )?(?:eod|end of (?:the )?day)\\b',
  ].join('|'),
  'gi',
);

function isRealMonthDay(month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** Dates the text states; relative ones are returned as `relative`. */
export function dateFigures(text: string): DateFigure[] {
  const taken: Span[] = [];
  const found: DateFigure[] = [];
  const claim = (match: RegExpMatchArray, figure: DateFigure | undefined) => {
    const span = { start: match.index ?? 0, end: (match.index ?? 0) + match[0].length };
    if (!figure || overlapsAny(span, taken)) return;
    taken.push(span);
    found.push(figure);
  };
  const dated = (t: string, month: number, day: number, year: string | undefined): DateFigure | undefined => {
    if (!isRealMonthDay(month, day)) return undefined;
    return year === undefined
      ? { text: t, kind: 'month_day', month, day }
      : { text: t, kind: 'full', year: Number(year), month, day };
  };

  for (const m of text.matchAll(/\b(\d{4})-(\d{2})-(\d{2})\b/g)) {
    claim(m, dated(m[0], Number(m[2]), Number(m[3]), m[1]));
  }
  for (const m of text.matchAll(new RegExp(`\\b${MONTH}\\.?\\s+${DAY}\\b${YEAR}`, 'gi'))) {
    claim(m, dated(m[0], monthNumber(m[1] ?? ''), Number(m[2]), m[3]));
  }
  for (const m of text.matchAll(new RegExp(`\\b${DAY}\\s+(?:of\\s+)?${MONTH}\\b${YEAR}`, 'gi'))) {
    claim(m, dated(m[0], monthNumber(m[2] ?? ''), Number(m[1]), m[3]));
  }
  for (const m of text.matchAll(/\b(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?\b/g)) {
    const year = m[3] === undefined ? undefined : m[3].length === 2 ? `20${m[3]}` : m[3];
    claim(m, dated(m[0], Number(m[1]), Number(m[2]), year));
  }
  for (const m of text.matchAll(/\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b/gi)) {
    const day = Number(m[1]);
    claim(m, day >= 1 && day <= 31 ? { text: m[0], kind: 'day_of_month', day } : undefined);
  }
  for (const m of text.matchAll(new RegExp(`\\b(${WEEKDAYS.join('|')})s?\\b`, 'gi'))) {
    claim(m, { text: m[0], kind: 'weekday', weekday: WEEKDAYS.indexOf((m[1] ?? '').toLowerCase()) });
  }
  for (const m of text.matchAll(new RegExp(`\\b(${Object.keys(WEEKDAY_SHORT).join('|')})\\b\\.?`, 'g'))) {
    claim(m, { text: m[0], kind: 'weekday', weekday: WEEKDAY_SHORT[m[1] ?? ''] ?? 0 });
  }
  for (const m of text.matchAll(RELATIVE)) claim(m, { text: m[0], kind: 'relative' });
  return found;
}
