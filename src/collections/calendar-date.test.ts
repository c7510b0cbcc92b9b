import { describe, expect, it } from 'vitest';
import { formatIsoDate, parseIsoDate, requireIsoDate, weekdayOf } from './calendar-date.js';
import { foldMessage, normalizeMessage } from './message-text.js';

describe('parseIsoDate', () => {
  it.each<[string, string | undefined]>([
    ['2025-01-22', '2025-01-22'],
    [' 2025-01-22 ', '2025-01-22'],
    ['2025-01-22T00:00:00Z', '2025-01-22'],
    // The date as written, not moved to UTC: the tenant means the 22nd.
    ['2025-01-22T23:30:00-05:00', '2025-01-22'],
    ['2024-02-29', '2024-02-29'],
    ['2025-02-29', undefined],
    ['2025-02-30', undefined],
    ['2025-13-01', undefined],
    ['2025-1-22', undefined],
    ['22/01/2025', undefined],
    ['next friday', undefined],
    ['', undefined],
  ])('%j → %s', (text, expected) => {
    const day = parseIsoDate(text);
    expect(day === undefined ? undefined : formatIsoDate(day)).toBe(expected);
  });

  it('knows the weekday', () => {
    expect(weekdayOf(requireIsoDate('2025-01-15', 'today'))).toBe(3);
    expect(weekdayOf(requireIsoDate('2025-01-17', 'today'))).toBe(5);
  });

  it('refuses a bad date where one is required', () => {
    expect(() => requireIsoDate('soon', 'today')).toThrow(/today is not an ISO date/);
  });
});

describe('normalizeMessage', () => {
  it.each([
    ['  Don\u2019t   text\tme \n', "Don't text me"],
    ['ＳＴＯＰ', 'STOP'],
    ['ST\u200BOP', 'STOP'],
    ['ign\u00ADore', 'ignore'],
    ['\u201Cpaid\u201D \u2014 done', '"paid" - done'],
    ['\uFF04 50', '$ 50'],
  ])('%j → %j', (text, expected) => {
    expect(normalizeMessage(text)).toBe(expected);
  });

  it('folds case for pattern matching', () => {
    expect(foldMessage('STOP Texting ME')).toBe('stop texting me');
  });
});
