import { describe, expect, it } from 'vitest';
import { findFrequencies, weeksPerPeriod } from './frequency.js';

describe('findFrequencies', () => {
  it.each([
    ['per week', 'weekly'],
    ['a week', 'weekly'],
    ['an week', 'weekly'],
    ['each week', 'weekly'],
    ['every week', 'weekly'],
    ['evry week', 'weekly'],
    ['once a week', 'weekly'],
    ['weekly', 'weekly'],
    ['wkly', 'weekly'],
    ['per wk', 'weekly'],
    ['a wk', 'weekly'],
    ['per weak', 'weekly'],
    ['/wk', 'weekly'],
    ['/week', 'weekly'],
    ['/ week', 'weekly'],
    ['every friday', 'weekly'],
    ['each monday', 'weekly'],
    ['on fridays', 'weekly'],
    ['por semana', 'weekly'],
    ['cada semana', 'weekly'],
    ['every two weeks', 'biweekly'],
    ['every 2 weeks', 'biweekly'],
    ['every 2 wks', 'biweekly'],
    ['every other week', 'biweekly'],
    ['every second week', 'biweekly'],
    ['biweekly', 'biweekly'],
    ['bi-weekly', 'biweekly'],
    ['bi weekly', 'biweekly'],
    ['every other friday', 'biweekly'],
    ['fortnightly', 'biweekly'],
    ['every fortnight', 'biweekly'],
    ['twice a month', 'biweekly'],
    ['2x a month', 'biweekly'],
    ['semi-monthly', 'biweekly'],
    ['on the 1st and 15th of every month', 'biweekly'],
    ['cada dos semanas', 'biweekly'],
    ['per month', 'monthly'],
    ['a month', 'monthly'],
    ['each month', 'monthly'],
    ['every month', 'monthly'],
    ['once a month', 'monthly'],
    ['monthly', 'monthly'],
    ['a mo', 'monthly'],
    ['/mo', 'monthly'],
    ['/month', 'monthly'],
    ['on the 1st of every month', 'monthly'],
    ['the 3rd of each month', 'monthly'],
    ['al mes', 'monthly'],
    ['mensual', 'monthly'],
  ])('%s → %s, one match covering it all', (text, frequency) => {
    const found = findFrequencies(text);
    expect(found.map((f) => f.frequency)).toEqual([frequency]);
    expect([found[0]?.start, found[0]?.end]).toEqual([0, text.length]);
  });

  it.each([
    ['for a week'],
    ['in a week'],
    ['for a month'],
    ['within a month'],
    ['over a month'],
    ['for like a month'],
    ['3 months'],
    ['6 weeks'],
    ['next week'],
    ['last month'],
    ['every day'],
  ])('%s is not a rate', (text) => {
    expect(findFrequencies(text)).toEqual([]);
  });

  it('counts weeks per period with a 4-week month', () => {
    expect([
      weeksPerPeriod('weekly', 4),
      weeksPerPeriod('biweekly', 4),
      weeksPerPeriod('monthly', 4),
    ]).toEqual([1, 2, 4]);
  });
});
