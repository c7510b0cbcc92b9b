import { describe, expect, it } from 'vitest';
import {
  centsFromDollars,
  centsFromText,
  dollarsFromCents,
  InvalidAmountError,
  roundToCents,
} from './money.js';

describe('money', () => {
  it.each([
    [0, 0],
    [1200, 120_000],
    [19.99, 1999],
    [0.1 + 0.2, 30],
    [1.1, 110],
    [4.35, 435],
    [1_234_567.89, 123_456_789],
    [0.01, 1],
  ])('%d dollars are %i cents', (dollars, cents) => {
    expect(centsFromDollars(dollars)).toBe(cents);
  });

  it.each([
    [1.005, 'more than two decimals'],
    [0.001, 'more than two decimals'],
    [-1, 'negative'],
    [Number.NaN, 'not a number'],
    [Number.POSITIVE_INFINITY, 'not a number'],
    [20_000_000, 'too large'],
  ])('%d dollars are refused (%s)', (dollars, reason) => {
    expect(() => centsFromDollars(dollars)).toThrow(new InvalidAmountError(dollars, reason));
  });

  it.each([
    ['1200', 120_000],
    ['1200.5', 120_050],
    ['1200.50', 120_050],
    ['$75.05', 7505],
    ['1,200.99', 120_099],
    ['1,234,567', 123_456_700],
    [' 0.07 ', 7],
    ['0', 0],
  ])('text %j is %i cents', (text, cents) => {
    expect(centsFromText(text)).toBe(cents);
  });

  it.each(['', 'abc', '1.234', '-5', '1,20', '12,34.00', '1e3', '$', '1.', '.5', '20000000'])(
    'text %j is refused',
    (text) => {
      expect(() => centsFromText(text)).toThrow(InvalidAmountError);
    },
  );

  it.each([
    [1999, 19.99],
    [1, 0.01],
    [120_000, 1200],
    [0, 0],
  ])('%i cents are %d dollars', (cents, dollars) => {
    expect(dollarsFromCents(cents)).toBe(dollars);
  });

  it.each([
    [1.005, 1.01],
    [2.675, 2.68],
    [1.004, 1],
    [0.1 + 0.2, 0.3],
    [-1.005, -1.01],
    [1200, 1200],
    [99.999, 100],
  ])('a peer figure %d is kept as %d', (dollars, rounded) => {
    expect(roundToCents(dollars)).toBe(rounded);
  });
});
