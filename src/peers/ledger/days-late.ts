/**
 * Days late are counted in calendar days in the tenant's own timezone, from the oldest unpaid due
 * date to "today" there. Comparing calendar dates (not elapsed hours) keeps the count whole across
 * daylight-saving changes, and a tenant in Honolulu is not a day late while it is still the due
 * date where they live.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/*
 * One formatter per timezone, built on first use: building an Intl.DateTimeFormat costs far more
 * than formatting with one (it was 3.4 % of the service's CPU, docs/performance.md). Only zones
 * Intl accepts are kept, and at most MAX_FORMATTERS of them (the oldest goes first), so a flood of
 * made-up or differently-cased zone names cannot grow the cache without limit.
 */
const MAX_FORMATTERS = 256;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The YYYY-MM-DD formatter for `timeZone`; throws RangeError for a zone Intl does not know. */
function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  const cached = formatters.get(timeZone);
  if (cached) return cached;
  const formatter = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value as string);
  formatters.set(timeZone, formatter);
  return formatter;
}

/** True for an IANA zone name Intl knows (America/New_York, UTC); false for offsets like "+02:00". */
export function isValidTimeZone(zone: string): boolean {
  if (zone.trim() === '' || /^[+-]/.test(zone)) return false;
  try {
    dateFormatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** A real calendar date written YYYY-MM-DD (2025-02-30 is not one). */
export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The calendar date (YYYY-MM-DD) at `now` in `timeZone`. */
export function localDate(now: Date, timeZone: string): string {
  const parts = dateFormatter(timeZone).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** Whole days from `from` to `to`, both YYYY-MM-DD (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** 0 when nothing is owed, no due date is known, or the due date has not passed where the tenant lives. */
export function daysLate(input: {
  dueDate: string | null | undefined;
  amountOwedCents: number;
  timeZone: string;
  now: Date;
}): number {
  if (input.amountOwedCents <= 0 || !input.dueDate || !isIsoDate(input.dueDate)) return 0;
  return Math.max(0, daysBetween(input.dueDate, localDate(input.now, input.timeZone)));
}
