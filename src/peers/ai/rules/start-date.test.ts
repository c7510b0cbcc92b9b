import { describe, expect, it } from 'vitest';
import { findStartDate } from './start-date.js';

/** 2025-01-15 is a Wednesday; 2025-03-07 is a Friday. */
const WED = '2025-01-15';
const FRI = '2025-03-07';

describe('findStartDate', () => {
  it.each([
    // text, today, expected
    ['starting Friday', WED, '2025-01-17'],
    ['starting friday', FRI, '2025-03-14'], // "Friday" said on a Friday is next week's
    ['next Friday', WED, '2025-01-17'], // "next" does not skip a week
    ['next friday', FRI, '2025-03-14'],
    ['this friday', WED, '2025-01-17'],
    ['on Friday', WED, '2025-01-17'],
    ['friday', WED, '2025-01-17'],
    ['fridays', WED, '2025-01-17'],
    ['starting next Monday', WED, '2025-01-20'],
    ['next monday', FRI, '2025-03-10'],
    ['starting on wednesday', WED, '2025-01-22'],
    ['start thursday', WED, '2025-01-16'],
    ['starting nxt mon', WED, '2025-01-20'],
    ['startin sat', WED, '2025-01-18'],
    ['beginning tues', WED, '2025-01-21'],
    ['tomorrow', WED, '2025-01-16'],
    ['starting tmrw', WED, '2025-01-16'],
    ['2morrow', WED, '2025-01-16'],
    ['day after tomorrow', WED, '2025-01-17'],
    ['today', WED, '2025-01-15'],
    ['starting tonight', FRI, '2025-03-07'],
    ['starting the 15th', WED, '2025-02-15'], // today is the 15th: next month's
    ['starting the 16th', WED, '2025-01-16'],
    ['on the 1st', WED, '2025-02-01'],
    ['the first of the month', WED, '2025-02-01'],
    ['the 1st of next month', WED, '2025-02-01'],
    ['starting the 31st', '2025-01-31', '2025-03-31'],
    ['starting 2/1', WED, '2025-02-01'],
    ['starting 1/15', WED, '2025-01-15'], // an explicit date may be today
    ['starting 1/10', WED, '2026-01-10'], // a past month/day is next year's
    ['starting 2/1/2026', WED, '2026-02-01'],
    ['on 3/4/25', WED, '2025-03-04'],
    ['starting feb 1st', WED, '2025-02-01'],
    ['starting February 1', WED, '2025-02-01'],
    ['March 1?', WED, '2025-03-01'],
    ['the 1st of march', WED, '2025-03-01'],
    ['jan. 20, 2026', WED, '2026-01-20'],
    ['starting next week', WED, '2025-01-20'], // the Monday after today
    ['starting next month', WED, '2025-02-01'],
    ['beginning of next month', '2025-12-10', '2026-01-01'],
    ['starting in 2 weeks', WED, '2025-01-29'],
    ['starting in three days', WED, '2025-01-18'],
    ['first payment this friday', WED, '2025-01-17'],
    ['first payment on the 24th', WED, '2025-01-24'],
    ['empezando 2/1', WED, '2025-02-01'],
    ['a partir del 2/1', WED, '2025-02-01'],
  ])('%s (today %s) → %s', (text, today, expected) => {
    expect(findStartDate(text, today)).toBe(expected);
  });

  it.each([
    ['I can pay $50 a week'],
    ['I paid last friday'],
    ['for the next month'],
    ['in 2 weeks'], // a delay without a start word is not a start
    ['maybe sixty after march'],
    ['I can do it sat'], // "sat" is only a day after a cue
    ['2 and a half months'],
  ])('%s has no start date', (text) => {
    expect(findStartDate(text, WED)).toBeNull();
  });

  it('prefers a date after a start word to one that merely appears', () => {
    expect(findStartDate('I get paid on the 20th, can I start on the 24th', WED)).toBe('2025-01-24');
    expect(findStartDate('I get paid friday so starting monday', WED)).toBe('2025-01-20');
  });

  it('rejects an invalid today', () => {
    expect(() => findStartDate('tomorrow', '2025-02-30')).toThrow(RangeError);
  });
});
