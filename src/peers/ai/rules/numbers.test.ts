import { describe, expect, it } from 'vitest';
import { findAmounts, formatMoney, parseNumberWords, readNumberWords, roundCents } from './numbers.js';

describe('findAmounts', () => {
  it.each([
    // text, [value, currency][]
    ['$50', [[50, true]]],
    ['$ 50', [[50, true]]],
    ['50$', [[50, true]]],
    ['$1,250.50', [[1250.5, true]]],
    ['1,250', [[1250, false]]],
    ['$62.50', [[62.5, true]]],
    ['$50.5', [[50.5, true]]],
    ['$50.', [[50, true]]],
    ['50 dollars', [[50, true]]],
    ['50 dollar', [[50, true]]],
    ['50 dollers', [[50, true]]],
    ['50 bucks', [[50, true]]],
    ['50 usd', [[50, true]]],
    ['50 dolares', [[50, true]]],
    ['2 hundred', [[200, false]]],
    ['3 thousand dollars', [[3000, true]]],
    ['1k', [[1000, false]]],
    ['$1.2k', [[1200, true]]],
    ['fifty', [[50, false]]],
    ['fifty dollars', [[50, true]]],
    ['Fifty Bucks', [[50, true]]],
    ['seventy-five', [[75, false]]],
    ['seventy five dollars', [[75, true]]],
    ['two hundred fifty', [[250, false]]],
    ['two hundred and fifty', [[250, false]]],
    ['a hundred', [[100, false]]],
    ['a hundred and fifty', [[150, false]]],
    ['one hundred dollars', [[100, true]]],
    ['a thousand', [[1000, false]]],
    ['twelve hundred', [[1200, false]]],
    ['two fifty', [[250, false]]],
    ['one seventy five', [[175, false]]],
    ['fourty', [[40, false]]],
    [
      '$50 or $60',
      [
        [50, true],
        [60, true],
      ],
    ],
    [
      'fifty, sixty',
      [
        [50, false],
        [60, false],
      ],
    ],
    ['for 3 months', [[3, false]]],
  ])('%s', (text, expected) => {
    expect(findAmounts(text).map((a) => [a.value, a.currency])).toEqual(expected);
  });

  it.each([
    ['starting 2/1'],
    ['on 1/20/2025'],
    ['at 6am'],
    ['at 6 pm'],
    ['at 2:30'],
    ['the 15th'],
    ['the 1st and 3rd'],
    ['case # 24-10234'],
    ['50%'],
    ['a'],
    ['and'],
    ['no numbers here'],
  ])('finds no amount in %s', (text) => {
    expect(findAmounts(text)).toEqual([]);
  });

  it('gives offsets into the original text, currency words included', () => {
    const text = 'I can pay $50 per week, or fifty bucks';
    const found = findAmounts(text);
    expect(found.map((a) => text.slice(a.start, a.end))).toEqual(['$50', 'fifty bucks']);
  });
});

describe('parseNumberWords', () => {
  it.each([
    ['one', 1],
    ['nine', 9],
    ['ten', 10],
    ['nineteen', 19],
    ['twenty', 20],
    ['twenty five', 25],
    ['twenty-five', 25],
    ['ninety nine', 99],
    ['a hundred', 100],
    ['one hundred', 100],
    ['one hundred and five', 105],
    ['two hundred fifty', 250],
    ['a thousand', 1000],
    ['two thousand five hundred', 2500],
    ['three thousand two hundred and ten', 3210],
    ['two fifty', 250],
    ['two fifty five', 255],
  ])('%s = %i', (phrase, value) => {
    expect(parseNumberWords(phrase)).toBe(value);
  });

  it.each([
    ['a'],
    ['and'],
    ['fifty and sixty'],
    ['twenty twenty'],
    ['hundred'],
    ['five four'],
    [''],
    ['dollars'],
  ])('%s is not one number', (phrase) => {
    expect(parseNumberWords(phrase)).toBeUndefined();
  });

  it('stops where the number stops', () => {
    expect(readNumberWords(['fifty', 'and', 'sixty'])).toEqual({ value: 50, used: 1 });
    expect(readNumberWords(['a', 'hundred', 'and', 'fifty', 'every'])).toEqual({ value: 150, used: 4 });
  });
});

describe('money', () => {
  it.each([
    [50, '$50'],
    [62.5, '$62.50'],
    [1250.5, '$1,250.50'],
    [1234567.891, '$1,234,567.89'],
    [0, '$0'],
    [0.05, '$0.05'],
    [312.625, '$312.63'],
  ])('formatMoney(%f) = %s', (dollars, text) => {
    expect(formatMoney(dollars)).toBe(text);
  });

  it.each([
    [312.625, 312.63],
    [1.005, 1.01],
    [37.5, 37.5],
    [100 / 3, 33.33],
    [0.1 + 0.2, 0.3],
  ])('roundCents(%f) = %f', (dollars, rounded) => {
    expect(roundCents(dollars)).toBe(rounded);
  });
});
