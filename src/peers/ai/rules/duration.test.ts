import { describe, expect, it } from 'vitest';
import { durationWeeks, findDurations } from './duration.js';

const weeksOf = (text: string, periodWeeks = 1) => durationWeeks(findDurations(text), periodWeeks, 4);

describe('durations', () => {
  it.each([
    ['for 6 weeks', 6],
    ['for 6 wks', 6],
    ['over 8 weeks', 8],
    ['for 3 months', 12],
    ['for 3 mos', 12],
    ['for three months', 12],
    ['for twelve weeks', 12],
    ['for a month', 4],
    ['for a week', 1],
    ['for a couple of months', 8],
    ['for the next 6 weeks', 6],
    ['for like 10 weeks', 10],
    ['for about 2 months', 8],
    ['over the next two months', 8],
    ['for the next month', 4],
    ['x 3 months', 12],
    ['for 2 and a half months', 10],
    ['for 1.5 months', 6],
    ['a 12 week plan', 12],
    ['a 3-month payment plan', 12],
    ['por 3 meses', 12],
    ['durante 6 semanas', 6],
    ['for twenty one weeks', 21],
  ])('%s → %i weeks', (text, weeks) => {
    expect(weeksOf(text)).toBe(weeks);
  });

  it.each([
    ['4 weekly payments', 1, 4],
    ['3 monthly payments', 4, 12],
    ['6 biweekly payments', 2, 12],
    ['4 payments', 2, 8],
  ])('%s at %i weeks a period → %i weeks', (text, periodWeeks, weeks) => {
    expect(weeksOf(text, periodWeeks)).toBe(weeks);
  });

  it.each([
    ['till its paid off'],
    ['for a few months'],
    ['for 1.5 weeks'],
    ['in 2 weeks'],
    ['every 2 weeks'],
  ])('%s gives no length', (text) => {
    expect(weeksOf(text)).toBeNull();
  });

  it('prefers a stated length to a count of payments', () => {
    expect(weeksOf('4 payments for 6 weeks')).toBe(6);
  });
});
