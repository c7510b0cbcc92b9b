/**
 * Calendar arithmetic on ISO dates (YYYY-MM-DD) with no time zone: "today" already is the
 * tenant's local date, so every computation stays in UTC to keep a date a date.
 */

const MS_PER_DAY = 86_400_000;

export type CalendarDate = { year: number; month: number; day: number };

/** Throws on anything that is not a real calendar date, because a wrong "today" would move every start date. */
export function parseIsoDate(iso: string): CalendarDate {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const date = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
  if (!date || !isValidDate(date))
    throw new RangeError(`not an ISO date (YYYY-MM-DD): ${JSON.stringify(iso)}`);
  return date;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isValidDate({ year, month, day }: CalendarDate): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

export function formatIsoDate({ year, month, day }: CalendarDate): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function toEpochDay({ year, month, day }: CalendarDate): number {
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

function fromEpochDay(epochDay: number): CalendarDate {
  const d = new Date(epochDay * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function addDays(date: CalendarDate, days: number): CalendarDate {
  return fromEpochDay(toEpochDay(date) + days);
}

export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return toEpochDay(a) - toEpochDay(b);
}

/** 0 = Sunday … 6 = Saturday, as Date#getUTCDay. */
export function weekdayOf(date: CalendarDate): number {
  return new Date(toEpochDay(date) * MS_PER_DAY).getUTCDay();
}

/** The first `weekday` strictly after `today` (1 to 7 days ahead): "Friday" said on a Friday means next week's. */
export function nextWeekdayAfter(today: CalendarDate, weekday: number): CalendarDate {
  const ahead = (weekday - weekdayOf(today) + 7) % 7 || 7;
  return addDays(today, ahead);
}

/** The first date strictly after `today` whose day of month is `day`, skipping months too short for it. */
export function nextDayOfMonthAfter(today: CalendarDate, day: number): CalendarDate | undefined {
  if (day < 1 || day > 31) return undefined;
  for (let i = 0; i < 13; i++) {
    const monthIndex = today.month - 1 + i;
    const candidate = { year: today.year + Math.floor(monthIndex / 12), month: (monthIndex % 12) + 1, day };
    if (isValidDate(candidate) && compareDates(candidate, today) > 0) return candidate;
  }
  return undefined;
}

/** A month and day with no year: this year's if it is today or later, else next year's. */
export function monthDayOnOrAfter(today: CalendarDate, month: number, day: number): CalendarDate | undefined {
  for (const year of [today.year, today.year + 1]) {
    const candidate = { year, month, day };
    if (isValidDate(candidate) && compareDates(candidate, today) >= 0) return candidate;
  }
  return undefined;
}

export function firstOfNextMonth(today: CalendarDate): CalendarDate {
  return today.month === 12
    ? { year: today.year + 1, month: 1, day: 1 }
    : { year: today.year, month: today.month + 1, day: 1 };
}
