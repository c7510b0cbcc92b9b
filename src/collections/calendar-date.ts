/**
 * Calendar dates as whole days since 1970-01-01 ("epoch days"). A plan's dates are the tenant's
 * local dates with no time of day, so arithmetic stays in UTC where a day is always 24 hours.
 */

const MS_PER_DAY = 86_400_000;

/**
 * "2025-01-22", or the date part of an ISO date-time ("2025-01-22T00:00:00Z", as the seed sends
 * start_date): the date as written, not converted to UTC, because that is the day the tenant means.
 * Undefined for anything that is not a real calendar date.
 */
export function parseIsoDate(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  // Date.UTC rolls 2025-02-30 over to March 2; a date that does not round-trip does not exist.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) {
    return undefined;
  }
  return ms / MS_PER_DAY;
}

/** Like parseIsoDate, for inputs that were validated at the edge: a bad one is a programming error. */
export function requireIsoDate(text: string, what: string): number {
  const day = parseIsoDate(text);
  if (day === undefined)
    throw new RangeError(`${what} is not an ISO date (YYYY-MM-DD): ${JSON.stringify(text)}`);
  return day;
}

export function formatIsoDate(epochDay: number): string {
  return new Date(epochDay * MS_PER_DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(epochDay: number): number {
  return new Date(epochDay * MS_PER_DAY).getUTCDay();
}

export function monthDayOf(epochDay: number): { year: number; month: number; day: number } {
  const d = new Date(epochDay * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
