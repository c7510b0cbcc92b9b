import { describe, expect, it } from 'vitest';
import {
  addDays,
  firstOfNextMonth,
  formatIsoDate,
  monthDayOnOrAfter,
  nextDayOfMonthAfter,
  nextWeekdayAfter,
  parseIsoDate,
  weekdayOf,
} from './calendar.js';

const d = parseIsoDate;
const iso = (x: ReturnType<typeof parseIsoDate> | undefined) => (x ? formatIsoDate(x) : undefined);

describe('calendar', () => {
  it('rejects dates that do not exist', () => {
    for (const bad of ['2025-02-29', '2025-13-01', '2025-1-5', 'tomorrow', ''])
      expect(() => parseIsoDate(bad)).toThrow(RangeError);
    expect(iso(parseIsoDate('2024-02-29'))).toBe('2024-02-29');
  });

  it('knows the weekday', () => {
    expect(weekdayOf(d('2025-01-15'))).toBe(3); // Wednesday
    expect(weekdayOf(d('2025-03-07'))).toBe(5); // Friday
  });

  it.each([
    // today, weekday, expected: strictly after today
    ['2025-01-15', 5, '2025-01-17'], // Wed → Fri
    ['2025-01-15', 3, '2025-01-22'], // Wed → next Wed, never today
    ['2025-01-15', 1, '2025-01-20'],
    ['2025-03-07', 5, '2025-03-14'], // Fri → the next Fri
    ['2025-12-31', 4, '2026-01-01'],
  ])('the first weekday after %s (%i) is %s', (today, weekday, expected) => {
    expect(iso(nextWeekdayAfter(d(today), weekday))).toBe(expected);
  });

  it.each([
    ['2025-01-15', 15, '2025-02-15'],
    ['2025-01-15', 16, '2025-01-16'],
    ['2025-01-15', 1, '2025-02-01'],
    ['2025-01-31', 30, '2025-03-30'], // February has no 30th
    ['2025-12-20', 5, '2026-01-05'],
  ])('the next day-of-month after %s (%i) is %s', (today, day, expected) => {
    expect(iso(nextDayOfMonthAfter(d(today), day))).toBe(expected);
  });

  it.each([
    ['2025-01-15', 1, 15, '2025-01-15'], // today counts for an explicit date
    ['2025-01-15', 1, 14, '2026-01-14'],
    ['2025-01-15', 2, 1, '2025-02-01'],
    ['2025-03-01', 2, 29, undefined], // no Feb 29 in 2025 or 2026
    ['2027-03-01', 2, 29, '2028-02-29'],
  ])('month/day on or after %s: %i/%i → %s', (today, month, day, expected) => {
    expect(iso(monthDayOnOrAfter(d(today), month, day))).toBe(expected);
  });

  it('adds days across months and years', () => {
    expect(iso(addDays(d('2025-01-31'), 1))).toBe('2025-02-01');
    expect(iso(addDays(d('2024-12-31'), 1))).toBe('2025-01-01');
    expect(iso(firstOfNextMonth(d('2025-12-15')))).toBe('2026-01-01');
  });
});
