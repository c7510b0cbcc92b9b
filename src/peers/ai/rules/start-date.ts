import {
  addDays,
  firstOfNextMonth,
  formatIsoDate,
  isValidDate,
  monthDayOnOrAfter,
  nextDayOfMonthAfter,
  nextWeekdayAfter,
  parseIsoDate,
  type CalendarDate,
} from './calendar.js';
import { parseNumberWords } from './numbers.js';
import { normalizeText, type Span } from './text.js';

/**
 * When a plan's first payment is due, read from the tenant's words and resolved against
 * `today` (the tenant's local date). The conventions, written down because people disagree:
 *
 * - "Friday", "on Friday", "this Friday", "next Friday", "starting Friday": the first Friday
 *   strictly after today (said on a Friday, it is the Friday a week later). "next" does not skip
 *   a week: "next Friday" on a Wednesday is two days away, as most tenants mean it.
 * - "today"/"tonight" is today; "tomorrow" is today + 1.
 * - "the 15th", "starting the 1st": the first such day strictly after today (on the 15th,
 *   "the 15th" is next month's), skipping months that lack the day.
 * - "2/1", "Feb 1st", "March 1": month/day (US order); this year's when today or later, else
 *   next year's. A year, when given, is used as is.
 * - "next week": the Monday after today; "next month"/"first of next month": its 1st.
 * - "starting in 2 weeks"/"in 3 days" (after a start word): today + that many days.
 *
 * A date after a start word ("starting", "beginning", "first payment", "from") wins over one
 * that merely appears; otherwise the first date in the text is taken. "last Friday" is the
 * past and never a start.
 */

const WEEKDAYS: readonly (readonly [RegExp, number])[] = [
  [/^sun(?:day)?s?$/, 0],
  [/^mon(?:day)?s?$/, 1],
  [/^tue(?:s|sday)?s?$/, 2],
  [/^wed(?:nesday)?s?$/, 3],
  [/^thu(?:r|rs|rsday)?s?$/, 4],
  [/^fri(?:day)?s?$/, 5],
  [/^sat(?:urday)?s?$/, 6],
];
const WEEKDAY_WORD =
  '(?:sundays?|mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sun|mon|tues?|wed|thu(?:rs?)?|fri|sat)';
/** Abbreviations double as words ("sat", "sun", "wed"), so they only count after a cue. */
const FULL_WEEKDAY = /^(?:sun|mon|tues|wednes|thurs|fri|satur)days?$/;

const MONTHS: readonly (readonly [RegExp, number])[] = [
  [/^jan/, 1],
  [/^feb/, 2],
  [/^mar/, 3],
  [/^apr/, 4],
  [/^may/, 5],
  [/^jun/, 6],
  [/^jul/, 7],
  [/^aug/, 8],
  [/^sep/, 9],
  [/^oct/, 10],
  [/^nov/, 11],
  [/^dec/, 12],
];
const MONTH_WORD =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const ORDINAL_WORDS: Readonly<Record<string, number>> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  fifteenth: 15,
  twentieth: 20,
  thirtieth: 30,
};
const ORDINAL = `(?:(\\d{1,2})(?:st|nd|rd|th)|(${Object.keys(ORDINAL_WORDS).join('|')}))`;

const START_CUE =
  /\b(?:start(?:ing|in|s)?|begin(?:ning|nin|s)?|first (?:payment|pmt|one|installment)(?: (?:on|will be|would be|is|by))?|from|empezando|a partir del?)\s+(?:on\s+|from\s+|this\s+|next\s+|nxt\s+|coming\s+)*$/;
const ANY_CUE = /\b(?:on|by|this|next|nxt|coming|every|each|until|til|till)\s+$/;

type Found = Span & { date: CalendarDate; cued: boolean };

function weekdayNumber(word: string): number | undefined {
  return WEEKDAYS.find(([re]) => re.test(word))?.[1];
}

function monthNumber(word: string): number | undefined {
  return MONTHS.find(([re]) => re.test(word))?.[1];
}

function ordinalValue(digits: string | undefined, word: string | undefined): number | undefined {
  if (digits) return Number(digits);
  return word ? ORDINAL_WORDS[word] : undefined;
}

function isCued(text: string, index: number): boolean {
  return START_CUE.test(text.slice(Math.max(0, index - 40), index));
}

function relativeDays(text: string, today: CalendarDate): Found[] {
  const found: Found[] = [];
  const re =
    /\b(?:(day after (?:tomorrow|tmrw))|(today|tonight|tonite|hoy)|(tomorrow|tomorow|tommorow|tommorrow|tmrw|tmr|tmw|2morrow|2mrw|mañana))\b/g;
  for (const m of text.matchAll(re)) {
    const days = m[1] ? 2 : m[2] ? 0 : 1;
    found.push({
      start: m.index,
      end: m.index + m[0].length,
      date: addDays(today, days),
      cued: isCued(text, m.index),
    });
  }
  return found;
}

function weekdays(text: string, today: CalendarDate): Found[] {
  const found: Found[] = [];
  const re = new RegExp(`\\b${WEEKDAY_WORD}\\b`, 'g');
  for (const m of text.matchAll(re)) {
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    if (/\b(?:last|past|since|yesterday)\s+$/.test(before)) continue;
    const cued = isCued(text, m.index);
    if (!FULL_WEEKDAY.test(m[0]) && !cued && !ANY_CUE.test(before)) continue;
    const weekday = weekdayNumber(m[0]);
    if (weekday === undefined) continue;
    found.push({ start: m.index, end: m.index + m[0].length, date: nextWeekdayAfter(today, weekday), cued });
  }
  return found;
}

function monthDays(text: string, today: CalendarDate): Found[] {
  const found: Found[] = [];
  const push = (m: RegExpMatchArray, month: number | undefined, day: number | undefined, year?: string) => {
    if (month === undefined || day === undefined || m.index === undefined) return;
    const date = year
      ? { year: year.length === 2 ? 2000 + Number(year) : Number(year), month, day }
      : monthDayOnOrAfter(today, month, day);
    if (!date || !isValidDate(date)) return;
    found.push({ start: m.index, end: m.index + m[0].length, date, cued: isCued(text, m.index) });
  };
  // "feb 1st", "March 1", "jan. 15, 2026"
  const named = new RegExp(`\\b(${MONTH_WORD})\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s+(\\d{4}))?`, 'g');
  for (const m of text.matchAll(named)) push(m, monthNumber(m[1] ?? ''), Number(m[2]), m[3]);
  // "the 1st of march", "15th of feb"
  const ofMonth = new RegExp(`\\b(?:the\\s+)?${ORDINAL}\\s+of\\s+(${MONTH_WORD})\\b`, 'g');
  for (const m of text.matchAll(ofMonth)) push(m, monthNumber(m[3] ?? ''), ordinalValue(m[1], m[2]));
  // "2/1", "1/20/25", "12/01/2025" (US month/day)
  for (const m of text.matchAll(/(?<![\d/])(\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))?(?![\d/])/g)) {
    push(m, Number(m[1]), Number(m[2]), m[3]);
  }
  return found;
}

function daysOfMonth(text: string, today: CalendarDate, taken: readonly Span[]): Found[] {
  const found: Found[] = [];
  const re = new RegExp(
    `\\bthe\\s+${ORDINAL}(?!\\s+(?:payment|one|time|installment|week|of\\s+(?:${MONTH_WORD})))`,
    'g',
  );
  for (const m of text.matchAll(re)) {
    if (taken.some((s) => s.start <= m.index && m.index < s.end)) continue;
    const day = ordinalValue(m[1], m[2]);
    const rest = text.slice(m.index + m[0].length);
    // "the 1st of next month" / "the first of the month"
    const date = /^\s+of\s+next\s+month\b/.test(rest)
      ? firstOfNextMonthWithDay(today, day)
      : day === undefined
        ? undefined
        : nextDayOfMonthAfter(today, day);
    if (date) found.push({ start: m.index, end: m.index + m[0].length, date, cued: isCued(text, m.index) });
  }
  return found;
}

function firstOfNextMonthWithDay(today: CalendarDate, day: number | undefined): CalendarDate | undefined {
  if (day === undefined) return undefined;
  const date = { ...firstOfNextMonth(today), day };
  return isValidDate(date) ? date : undefined;
}

function nextPeriods(text: string, today: CalendarDate): Found[] {
  const found: Found[] = [];
  const re = /\b(?:(?:the\s+)?(?:beginning|start)\s+of\s+)?(?:next|nxt)\s+(week|month)\b/g;
  for (const m of text.matchAll(re)) {
    // "for the next month" is how long, not when.
    if (/\b(?:for|over|during|within)\s+(?:the\s+)?$/.test(text.slice(Math.max(0, m.index - 20), m.index)))
      continue;
    const date = m[1] === 'week' ? nextWeekdayAfter(today, 1) : firstOfNextMonth(today);
    found.push({ start: m.index, end: m.index + m[0].length, date, cued: isCued(text, m.index) });
  }
  return found;
}

function inSomeDays(text: string, today: CalendarDate): Found[] {
  const found: Found[] = [];
  for (const m of text.matchAll(/\bin\s+(\d{1,2}|[a-z]+(?:[\s-][a-z]+)?|a|an)\s+(days?|weeks?)\b/g)) {
    if (!isCued(text, m.index)) continue;
    const raw = m[1] ?? '';
    const n = /^\d+$/.test(raw) ? Number(raw) : raw === 'a' || raw === 'an' ? 1 : parseNumberWords(raw);
    if (n === undefined) continue;
    const days = (m[2] ?? '').startsWith('week') ? n * 7 : n;
    found.push({ start: m.index, end: m.index + m[0].length, date: addDays(today, days), cued: true });
  }
  return found;
}

/** Every date expression found, in text order. */
function findDates(text: string, today: string): Found[] {
  const base = parseIsoDate(today);
  const t = normalizeText(text);
  const explicit = monthDays(t, base);
  return [
    ...relativeDays(t, base),
    ...weekdays(t, base),
    ...explicit,
    ...daysOfMonth(t, base, explicit),
    ...nextPeriods(t, base),
    ...inSomeDays(t, base),
  ].sort((a, b) => a.start - b.start);
}

/** The ISO date the first payment is due, or null when the text names none. */
export function findStartDate(text: string, today: string, ignore: readonly Span[] = []): string | null {
  const dates = findDates(text, today).filter((d) => !ignore.some((s) => d.start < s.end && s.start < d.end));
  const chosen = dates.find((d) => d.cued) ?? dates[0];
  return chosen ? formatIsoDate(chosen.date) : null;
}
