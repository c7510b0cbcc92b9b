import { describe, expect, it } from 'vitest';
import { InvalidPhoneNumberError, normalizePhone, tryNormalizePhone } from './phone.js';

describe('normalizePhone', () => {
  it.each([
    ['+14155550123', 'US', '+14155550123'],
    ['(415) 555-0123', 'US', '+14155550123'],
    ['415.555.0123', 'US', '+14155550123'],
    ['1 415 555 0123', 'US', '+14155550123'],
    [' +1 415-555-0123 ', 'US', '+14155550123'],
    ['+44 20 7183 8750', 'US', '+442071838750'],
    ['020 7183 8750', 'GB', '+442071838750'],
    ['+49 30 901820', 'US', '+4930901820'],
  ])('%j in %s → %s', (raw, region, e164) => {
    expect(normalizePhone(raw, region)).toBe(e164);
    expect(tryNormalizePhone(raw, region)).toBe(e164);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['not a phone', 'letters'],
    ['12345', 'too short'],
    ['+1 555 123 0001', 'no such area code'],
    ['+1 415 555 01234567', 'too long'],
  ])('%j is refused (%s)', (raw) => {
    expect(() => normalizePhone(raw)).toThrow(InvalidPhoneNumberError);
    expect(tryNormalizePhone(raw)).toBeUndefined();
  });

  it('reads a national number in the configured region, not always the US', () => {
    expect(tryNormalizePhone('020 7183 8750', 'US')).toBeUndefined();
    expect(tryNormalizePhone('020 7183 8750', 'GB')).toBe('+442071838750');
  });
});
