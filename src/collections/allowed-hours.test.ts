import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUNTRY_ZONES,
  DEFAULT_SEND_WINDOW,
  firstInstantAtOrAfter,
  isKnownTimezone,
  sendWindow,
  wallTimeAt,
  zonesForPhone,
} from './allowed-hours.js';

const NY_PHONE = '+12125550123';
const US_ZONES = COUNTRY_ZONES.US ?? [];

type Case = {
  name: string;
  now: string;
  timezone?: string;
  phone?: string;
  window?: { startHour: number; endHour: number };
  /** undefined: allowed now; null: held with no opening; a string: the instant it opens. */
  opensAt: string | undefined | null;
};

const CASES: readonly Case[] = [
  // One known zone, winter (EST, UTC−5).
  {
    name: 'NY 08:00 EST opens the window',
    now: '2025-01-15T13:00:00Z',
    timezone: 'America/New_York',
    opensAt: undefined,
  },
  {
    name: 'NY 07:59:59 EST is too early',
    now: '2025-01-15T12:59:59Z',
    timezone: 'America/New_York',
    opensAt: '2025-01-15T13:00:00Z',
  },
  {
    name: 'NY 20:59:59 EST is the last allowed second',
    now: '2025-01-16T01:59:59Z',
    timezone: 'America/New_York',
    opensAt: undefined,
  },
  {
    name: 'NY 21:00 EST is closed until tomorrow 08:00',
    now: '2025-01-16T02:00:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-01-16T13:00:00Z',
  },
  {
    name: 'NY 03:00 EST waits for 08:00 the same day',
    now: '2025-01-15T08:00:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-01-15T13:00:00Z',
  },
  // Summer (EDT, UTC−4).
  { name: 'NY 08:00 EDT', now: '2025-07-01T12:00:00Z', timezone: 'America/New_York', opensAt: undefined },
  {
    name: 'NY 07:59 EDT',
    now: '2025-07-01T11:59:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-07-01T12:00:00Z',
  },
  // US spring forward, 2025-03-09 02:00 EST → 03:00 EDT.
  {
    name: 'NY night before spring forward opens at 08:00 EDT (12:00Z, not 13:00Z)',
    now: '2025-03-09T06:00:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-03-09T12:00:00Z',
  },
  {
    name: 'NY 21:30 EST on the eve of spring forward',
    now: '2025-03-09T02:30:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-03-09T12:00:00Z',
  },
  {
    name: 'NY 20:30 EDT on spring-forward day is allowed',
    now: '2025-03-10T00:30:00Z',
    timezone: 'America/New_York',
    opensAt: undefined,
  },
  // US fall back, 2025-11-02 02:00 EDT → 01:00 EST.
  {
    name: 'NY 01:00 EDT on fall-back night opens at 08:00 EST (13:00Z)',
    now: '2025-11-02T05:00:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-11-02T13:00:00Z',
  },
  {
    name: 'NY repeated 01:30 EST on fall-back night',
    now: '2025-11-02T06:30:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-11-02T13:00:00Z',
  },
  {
    name: 'NY 20:59 EST on fall-back day is allowed',
    now: '2025-11-03T01:59:00Z',
    timezone: 'America/New_York',
    opensAt: undefined,
  },
  {
    name: 'NY 21:00 EST on fall-back day closes',
    now: '2025-11-03T02:00:00Z',
    timezone: 'America/New_York',
    opensAt: '2025-11-03T13:00:00Z',
  },
  // Europe/London, 2025-03-30 01:00 GMT → 02:00 BST, and 2025-10-26 02:00 BST → 01:00 GMT.
  {
    name: 'London spring forward opens at 08:00 BST (07:00Z)',
    now: '2025-03-30T00:30:00Z',
    timezone: 'Europe/London',
    opensAt: '2025-03-30T07:00:00Z',
  },
  {
    name: 'London fall back opens at 08:00 GMT (08:00Z)',
    now: '2025-10-26T07:30:00Z',
    timezone: 'Europe/London',
    opensAt: '2025-10-26T08:00:00Z',
  },
  // Southern hemisphere: Sydney leaves daylight time on 2025-04-06 03:00 AEDT → 02:00 AEST.
  {
    name: 'Sydney 07:00 AEST after DST ends opens at 22:00Z',
    now: '2025-04-05T20:00:00Z',
    timezone: 'Australia/Sydney',
    opensAt: '2025-04-05T22:00:00Z',
  },
  {
    name: 'Sydney 08:00 AEDT in summer is 21:00Z',
    now: '2025-01-14T21:00:00Z',
    timezone: 'Australia/Sydney',
    opensAt: undefined,
  },
  // Zones without DST and with half-hour offsets.
  {
    name: 'Phoenix has no DST: 07:59 MST in July',
    now: '2025-07-01T14:59:00Z',
    timezone: 'America/Phoenix',
    opensAt: '2025-07-01T15:00:00Z',
  },
  {
    name: 'Kolkata is UTC+05:30',
    now: '2025-01-15T02:29:00Z',
    timezone: 'Asia/Kolkata',
    opensAt: '2025-01-15T02:30:00Z',
  },
  {
    name: 'Honolulu 20:00 HST',
    now: '2025-01-16T06:00:00Z',
    timezone: 'Pacific/Honolulu',
    opensAt: undefined,
  },
  // Unknown timezone, US number: every US zone, New York to Honolulu, must be inside.
  {
    name: 'US number, winter: 20:30 in New York, 15:30 in Honolulu',
    now: '2025-01-15T01:30:00Z',
    phone: NY_PHONE,
    opensAt: undefined,
  },
  {
    name: 'US number, summer: 21:30 EDT in New York closes until 08:00 in Honolulu',
    now: '2025-07-01T01:30:00Z',
    phone: NY_PHONE,
    opensAt: '2025-07-01T18:00:00Z',
  },
  {
    name: 'US number: 07:59 in Honolulu',
    now: '2025-01-15T17:59:00Z',
    phone: NY_PHONE,
    opensAt: '2025-01-15T18:00:00Z',
  },
  {
    name: 'US number: 21:00 EST in New York',
    now: '2025-01-15T02:00:00Z',
    phone: NY_PHONE,
    opensAt: '2025-01-15T18:00:00Z',
  },
  {
    name: 'US number, US spring-forward evening: 21:30 EDT',
    now: '2025-03-10T01:30:00Z',
    phone: NY_PHONE,
    opensAt: '2025-03-10T18:00:00Z',
  },
  {
    name: 'US number, the evening before: 20:30 EST',
    now: '2025-03-09T01:30:00Z',
    phone: NY_PHONE,
    opensAt: undefined,
  },
  {
    name: 'an unknown timezone name is treated as no timezone',
    now: '2025-07-01T01:30:00Z',
    timezone: 'America/Nowhere',
    phone: NY_PHONE,
    opensAt: '2025-07-01T18:00:00Z',
  },
  {
    name: 'an empty timezone is treated as no timezone',
    now: '2025-07-01T01:30:00Z',
    timezone: '',
    phone: NY_PHONE,
    opensAt: '2025-07-01T18:00:00Z',
  },
  // Canada: Newfoundland (UTC−03:30) to Vancouver (UTC−08:00).
  {
    name: 'Canadian number: 21:00 NST in St. John’s',
    now: '2025-01-16T00:30:00Z',
    phone: '+14165550123',
    opensAt: '2025-01-16T16:00:00Z',
  },
  {
    name: 'Canadian number: 20:15 NST, 15:45 PST',
    now: '2025-01-15T23:45:00Z',
    phone: '+14165550123',
    opensAt: undefined,
  },
  // A +1 area code libphonenumber cannot place: US and Canadian zones together.
  {
    name: 'unplaced +1 number',
    now: '2025-01-15T12:00:00Z',
    phone: '+15555550123',
    opensAt: '2025-01-15T18:00:00Z',
  },
  // Territories with their own country codes.
  { name: 'Guam number: 08:00 ChST', now: '2025-01-15T22:00:00Z', phone: '+16715550123', opensAt: undefined },
  { name: 'UK number', now: '2025-07-01T06:59:00Z', phone: '+447400123456', opensAt: '2025-07-01T07:00:00Z' },
  // Countries outside the table, and unreadable numbers: hold for a manager.
  {
    name: 'Japanese number, no table entry',
    now: '2025-01-15T03:00:00Z',
    phone: '+81312345678',
    opensAt: null,
  },
  { name: 'unreadable number', now: '2025-01-15T15:00:00Z', phone: 'not a phone', opensAt: null },
  {
    name: 'the known timezone wins over an unreadable number',
    now: '2025-01-15T15:00:00Z',
    timezone: 'America/New_York',
    phone: 'not a phone',
    opensAt: undefined,
  },
  // Configurable window.
  {
    name: '09:00–17:00 window, 17:00 is closed',
    now: '2025-01-15T22:00:00Z',
    timezone: 'America/New_York',
    window: { startHour: 9, endHour: 17 },
    opensAt: '2025-01-16T14:00:00Z',
  },
  {
    name: 'a window opening inside the spring-forward gap opens at the jump',
    now: '2025-03-09T06:00:00Z',
    timezone: 'America/New_York',
    window: { startHour: 2, endHour: 21 },
    opensAt: '2025-03-09T07:00:00Z',
  },
];

describe('sendWindow', () => {
  it.each(CASES)('$name', (c) => {
    const result = sendWindow({
      now: new Date(c.now),
      timezone: c.timezone,
      phone: c.phone ?? '',
      window: c.window ?? DEFAULT_SEND_WINDOW,
    });
    if (c.opensAt === undefined) {
      expect(result.allowed).toBe(true);
    } else if (c.opensAt === null) {
      expect(result).toMatchObject({ allowed: false, opensAt: null, reason: 'timezone_unknown' });
    } else {
      expect(result).toMatchObject({ allowed: false, reason: 'outside_window' });
      expect(result.allowed === false && result.opensAt?.toISOString()).toBe(
        new Date(c.opensAt).toISOString(),
      );
    }
  });

  it('reports the zones it checked', () => {
    expect(
      sendWindow({ now: new Date('2025-01-15T15:00:00Z'), phone: NY_PHONE, window: DEFAULT_SEND_WINDOW })
        .zones,
    ).toEqual(US_ZONES);
    expect(
      sendWindow({
        now: new Date('2025-01-15T15:00:00Z'),
        timezone: 'Europe/Paris',
        phone: NY_PHONE,
        window: DEFAULT_SEND_WINDOW,
      }).zones,
    ).toEqual(['Europe/Paris']);
  });

  it.each([
    { startHour: 21, endHour: 8 },
    { startHour: 8, endHour: 8 },
    { startHour: -1, endHour: 21 },
    { startHour: 8, endHour: 25 },
    { startHour: 8.5, endHour: 21 },
  ])('refuses the window %o', (window) => {
    expect(() => sendWindow({ now: new Date(), timezone: 'UTC', phone: '', window })).toThrow(RangeError);
  });

  it('is right for any instant of 2025 and the US zones: allowed means all inside, opensAt is the first instant that is', () => {
    const inside = (t: number) =>
      US_ZONES.every((zone) => {
        const { hour } = wallTimeAt(t, zone);
        return hour >= 8 && hour < 21;
      });
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2026, 0, 1) }), (ms) => {
        const now = Math.floor(ms / 1000) * 1000;
        const result = sendWindow({ now: new Date(now), phone: NY_PHONE, window: DEFAULT_SEND_WINDOW });
        if (result.allowed) return inside(now);
        const opens = result.opensAt?.getTime();
        if (opens === undefined) return false;
        if (!(opens > now) || !inside(opens) || inside(opens - 1000)) return false;
        // No earlier opening: sample every 10 minutes between now and opensAt.
        for (let t = now; t < opens; t += 600_000) if (inside(t)) return false;
        return true;
      }),
      { numRuns: 300 },
    );
  });
});

describe('zonesForPhone', () => {
  it.each([
    ['+12125550123', 'America/New_York'],
    ['+14165550123', 'America/St_Johns'],
    ['+17875550123', 'America/Puerto_Rico'],
    ['+16715550123', 'Pacific/Guam'],
    ['+525512345678', 'America/Mexico_City'],
    ['+33612345678', 'Europe/Paris'],
  ])('%s includes %s', (phone, zone) => {
    expect(zonesForPhone(phone)).toContain(zone);
  });

  it.each(['+81312345678', '', 'garbage', '+999'])('%j has no plausible zones', (phone) => {
    expect(zonesForPhone(phone)).toEqual([]);
  });
});

describe('isKnownTimezone', () => {
  it.each([
    ['America/New_York', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
  ])('%j → %s', (zone, known) => {
    expect(isKnownTimezone(zone)).toBe(known);
  });
});

describe('firstInstantAtOrAfter', () => {
  const wall = (iso: string) => Date.parse(`${iso}Z`);
  it.each([
    ['an ordinary wall time', '2025-01-15T08:00:00', 'America/New_York', '2025-01-15T13:00:00Z'],
    [
      'inside the spring-forward gap: the jump',
      '2025-03-09T02:30:00',
      'America/New_York',
      '2025-03-09T07:00:00Z',
    ],
    [
      'in the fall-back overlap: the earlier instant',
      '2025-11-02T01:30:00',
      'America/New_York',
      '2025-11-02T05:30:00Z',
    ],
    ['a zone ahead of UTC', '2025-01-15T08:00:00', 'Asia/Kolkata', '2025-01-15T02:30:00Z'],
  ])('%s', (_name, wallTime, zone, expected) => {
    expect(new Date(firstInstantAtOrAfter(wall(wallTime), zone)).toISOString()).toBe(
      new Date(expected).toISOString(),
    );
  });
});
