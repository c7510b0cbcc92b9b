import { describe, expect, it } from 'vitest';
import { daysBetween, daysLate, isIsoDate, isValidTimeZone, localDate } from './days-late.js';

describe('days late', () => {
  it.each([
    // now (UTC), timezone, local date there
    ['2025-01-15T03:00:00Z', 'UTC', '2025-01-15'],
    ['2025-01-15T03:00:00Z', 'America/New_York', '2025-01-14'],
    ['2025-01-15T03:00:00Z', 'America/Los_Angeles', '2025-01-14'],
    ['2025-01-15T10:30:00Z', 'Pacific/Honolulu', '2025-01-15'],
    ['2025-01-15T09:59:59Z', 'Pacific/Honolulu', '2025-01-14'],
    ['2025-01-15T23:30:00Z', 'Asia/Tokyo', '2025-01-16'],
    ['2025-01-15T23:30:00Z', 'Asia/Kolkata', '2025-01-16'],
    ['2024-12-31T23:00:00Z', 'Europe/Berlin', '2025-01-01'],
  ])('at %s the date in %s is %s', (now, zone, date) => {
    expect(localDate(new Date(now), zone)).toBe(date);
  });

  it.each([
    // due date, amount owed (cents), timezone, now (UTC), days late
    ['2025-01-01', 120_000, 'America/New_York', '2025-01-15T10:30:00Z', 14],
    ['2025-01-15', 120_000, 'America/New_York', '2025-01-15T10:30:00Z', 0],
    ['2025-01-14', 120_000, 'America/New_York', '2025-01-15T10:30:00Z', 1],
    // 03:00 UTC on the 15th is still the 14th in New York: not yet a day late there
    ['2025-01-14', 120_000, 'America/New_York', '2025-01-15T03:00:00Z', 0],
    ['2025-01-14', 120_000, 'UTC', '2025-01-15T03:00:00Z', 1],
    ['2025-01-14', 120_000, 'Asia/Tokyo', '2025-01-14T16:00:00Z', 1],
    ['2025-02-01', 120_000, 'America/New_York', '2025-01-15T10:30:00Z', 0],
    ['2025-01-01', 0, 'America/New_York', '2025-01-15T10:30:00Z', 0],
    ['2025-01-01', -500, 'America/New_York', '2025-01-15T10:30:00Z', 0],
    [null, 120_000, 'America/New_York', '2025-01-15T10:30:00Z', 0],
    ['2024-01-01', 1, 'UTC', '2025-01-01T00:00:00Z', 366],
  ])('due %s, owing %i cents in %s, at %s: %i days late', (dueDate, cents, zone, now, expected) => {
    expect(daysLate({ dueDate, amountOwedCents: cents, timeZone: zone, now: new Date(now) })).toBe(expected);
  });

  it('stays whole across daylight saving changes (spring forward and fall back)', () => {
    // US clocks go forward on 2025-03-09 and back on 2025-11-02.
    const spring = (hourUtc: string) =>
      daysLate({
        dueDate: '2025-03-01',
        amountOwedCents: 100,
        timeZone: 'America/New_York',
        now: new Date(`2025-03-10T${hourUtc}Z`),
      });
    expect(spring('04:30:00')).toBe(9); // 00:30 EDT on the 10th
    expect(spring('03:30:00')).toBe(8); // 23:30 EDT on the 9th
    const fall = (at: string) =>
      daysLate({
        dueDate: '2025-11-01',
        amountOwedCents: 100,
        timeZone: 'America/New_York',
        now: new Date(at),
      });
    expect(fall('2025-11-03T04:59:00Z')).toBe(1); // 23:59 EST on the 2nd
    expect(fall('2025-11-03T05:00:00Z')).toBe(2); // midnight EST on the 3rd
    expect(daysBetween('2025-03-01', '2025-04-01')).toBe(31);
    expect(daysBetween('2025-10-01', '2025-11-30')).toBe(60);
  });

  it.each([
    ['America/New_York', true],
    ['UTC', true],
    ['Europe/London', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
    ['+02:00', false],
    ['EST5EDT', true],
  ])('timezone %j valid: %s', (zone, valid) => {
    expect(isValidTimeZone(zone)).toBe(valid);
  });

  it.each([
    ['2025-01-15', true],
    ['2024-02-29', true],
    ['2025-02-29', false],
    ['2025-13-01', false],
    ['2025-1-5', false],
    ['2025-01-15T00:00:00Z', false],
    ['', false],
  ])('date %j valid: %s', (value, valid) => {
    expect(isIsoDate(value)).toBe(valid);
  });

  it('gives the same dates after its formatter cache has been flooded (differently-cased and made-up zones)', () => {
    // Intl accepts any casing of a zone name, so there are far more valid names than zones.
    const casings = Array.from({ length: 600 }, (_, n) =>
      [...'america/new_york'].map((c, i) => ((n >> i) & 1 ? c.toUpperCase() : c)).join(''),
    );
    const at = new Date('2025-01-15T03:00:00Z');
    for (const zone of casings) {
      expect(isValidTimeZone(zone)).toBe(true);
      expect(localDate(at, zone)).toBe('2025-01-14');
    }
    for (let n = 0; n < 600; n += 1) expect(isValidTimeZone(`Nowhere/Zone_${n}`)).toBe(false);
    expect(() => localDate(at, 'Nowhere/Zone_1')).toThrow(RangeError);
    expect(localDate(at, 'Asia/Tokyo')).toBe('2025-01-15');
    expect(localDate(at, 'America/New_York')).toBe('2025-01-14');
  });
});
