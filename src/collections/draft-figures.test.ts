import { describe, expect, it } from 'vitest';
import { dateFigures, moneyFigures, parseNumberWords, percentFigures } from './draft-figures.js';

describe('moneyFigures', () => {
  it.each<[string, number[]]>([
    ['Your balance is $1,250.00.', [125_000]],
    ['Your balance is $ 50', [5000]],
    ['about $1.2k', [120_000]],
    ['USD 50 or 50 USD', [5000, 5000]],
    ['50 dollars, 75 bucks', [5000, 7500]],
    ['fifty dollars', [5000]],
    ['twelve hundred and fifty dollars', [125_000]],
    ['a hundred bucks', [10_000]],
    ['seventy-five a week', [7500]],
    ['could you do 75 a week or 300 per month?', [7500, 30_000]],
    ['50/week', [5000]],
    ['the balance is 600.00', [60_000]],
    ['12 weeks, 12 days late, 3 months, 12 weekly payments', []],
    ['Call us at 555-0123 before 9', []],
    ['$50 a week', [5000]],
  ])('%j', (text, cents) => {
    expect(moneyFigures(text).map((m) => m.cents)).toEqual(cents);
  });
});

describe('percentFigures', () => {
  it.each<[string, string[]]>([
    ['a 10% discount', ['10%']],
    ['5 percent off', ['5 percent']],
    ['100 dollars', []],
  ])('%j', (text, found) => {
    expect(percentFigures(text)).toEqual(found);
  });
});

describe('parseNumberWords', () => {
  it.each<[string, number | undefined]>([
    ['fifty', 50],
    ['seventy-five', 75],
    ['two hundred fifty', 250],
    ['a hundred and fifty', 150],
    ['twelve hundred', 1200],
    ['one thousand two hundred', 1200],
    ['two thousand', 2000],
    ['a', undefined],
    ['fifty apples', undefined],
    // As the rules engine reads a tenant's "two fifty": the guard and the drafter agree.
    ['two fifty', 250],
  ])('%j → %s', (phrase, value) => {
    expect(parseNumberWords(phrase)).toBe(value);
  });
});

describe('dateFigures', () => {
  it.each<[string, unknown[]]>([
    ['due Jan 22', [{ kind: 'month_day', month: 1, day: 22 }]],
    ['due January 22nd, 2025', [{ kind: 'full', year: 2025, month: 1, day: 22 }]],
    ['due Jan. 3', [{ kind: 'month_day', month: 1, day: 3 }]],
    ['due 22 January', [{ kind: 'month_day', month: 1, day: 22 }]],
    ['due the 22nd of March', [{ kind: 'month_day', month: 3, day: 22 }]],
    ['due 1/22', [{ kind: 'month_day', month: 1, day: 22 }]],
    ['due 01/22/25', [{ kind: 'full', year: 2025, month: 1, day: 22 }]],
    ['due 2025-01-22', [{ kind: 'full', year: 2025, month: 1, day: 22 }]],
    ['due Friday', [{ kind: 'weekday', weekday: 5 }]],
    [
      'due Fri, Jan 17',
      [
        { kind: 'month_day', month: 1, day: 17 },
        { kind: 'weekday', weekday: 5 },
      ],
    ],
    ['on Fridays', [{ kind: 'weekday', weekday: 5 }]],
    ['due the 15th', [{ kind: 'day_of_month', day: 15 }]],
    ['tomorrow', [{ kind: 'relative' }]],
    ['by the end of the month', [{ kind: 'relative' }]],
    ['within 3 business days', [{ kind: 'relative' }]],
    ['in a few days', [{ kind: 'relative' }]],
    ['enjoy the sun, you may pay online, 24/7', []],
    ['today', []],
  ])('%j', (text, expected) => {
    expect(dateFigures(text).map(({ text: _t, ...rest }) => rest)).toEqual(expected);
  });
});
