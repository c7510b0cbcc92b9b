import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Allowed hours: no collections text before `startHour` or from `endHour` on, in the tenant's
 * local time (issue 7: 08:00–21:00 by default, configurable). Pure: the clock is passed in.
 *
 * - Local time comes from `Intl.DateTimeFormat` with the IANA zone, so daylight-saving changes
 *   are the tz database's, not ours. The window is half-open: 08:00:00 is inside, 21:00:00 is
 *   not (the last allowed instant is 20:59:59.999), so "no text after 21:00" holds to the second.
 * - With the ledger's timezone, that zone alone decides. A timezone Intl does not know is treated
 *   as unknown (a typo must not open the window).
 * - Without it, every zone plausible for the number must be inside the window at once; `opensAt`
 *   is the earliest instant when they all are. Plausible zones come from the number's country
 *   (libphonenumber-js, which knows countries, not zones) and the small table below. Area codes
 *   are not used: mobile numbers move with their owners, so a 212 number says little about where
 *   its owner sleeps.
 * - A number whose country is not in the table, or that cannot be read, is held
 *   (`opensAt: null`, reason `timezone_unknown`) until a manager sets the tenant's timezone: with
 *   every zone on Earth plausible, no hour is inside everyone's window.
 */

export type SendWindowHours = {
  /** First allowed local hour, 0–23 (08 by default). */
  startHour: number;
  /** First local hour no longer allowed, 1–24, after startHour (21 by default). */
  endHour: number;
};

export const DEFAULT_SEND_WINDOW: SendWindowHours = { startHour: 8, endHour: 21 };

export type SendWindowInput = {
  now: Date;
  /** The ledger's IANA timezone for the tenant, when known. */
  timezone?: string | undefined;
  /** E.164; used only when the timezone is unknown. */
  phone: string;
  window: SendWindowHours;
};

export type SendWindowResult =
  | { allowed: true; zones: readonly string[] }
  | {
      allowed: false;
      /** Earliest instant when every zone is inside the window; null when none can be (hold for a person). */
      opensAt: Date | null;
      reason: 'outside_window' | 'timezone_unknown';
      /** The zones that were checked, for the audit log. */
      zones: readonly string[];
    };

/**
 * Zones by ISO country, for numbers without a ledger timezone. Each list holds the zones whose
 * offsets bound the country's range (the extremes are what matter, not every zone in between).
 * NANP territories have their own country codes in libphonenumber (PR, GU, VI, AS, MP, …).
 */
export const COUNTRY_ZONES: Readonly<Record<string, readonly string[]>> = {
  US: [
    'America/New_York',
    'America/Chicago',
    'America/Denver',
    'America/Phoenix',
    'America/Los_Angeles',
    'America/Anchorage',
    'Pacific/Honolulu',
  ],
  CA: [
    'America/St_Johns',
    'America/Halifax',
    'America/Toronto',
    'America/Winnipeg',
    'America/Regina',
    'America/Edmonton',
    'America/Vancouver',
  ],
  PR: ['America/Puerto_Rico'],
  VI: ['America/St_Thomas'],
  GU: ['Pacific/Guam'],
  MP: ['Pacific/Saipan'],
  AS: ['Pacific/Pago_Pago'],
  MX: ['America/Cancun', 'America/Mexico_City', 'America/Chihuahua', 'America/Hermosillo', 'America/Tijuana'],
  GB: ['Europe/London'],
  GG: ['Europe/Guernsey'],
  JE: ['Europe/Jersey'],
  IM: ['Europe/Isle_of_Man'],
  IE: ['Europe/Dublin'],
  FR: ['Europe/Paris'],
  DE: ['Europe/Berlin'],
  ES: ['Europe/Madrid', 'Atlantic/Canary'],
  IT: ['Europe/Rome'],
  IN: ['Asia/Kolkata'],
  AU: ['Australia/Perth', 'Australia/Adelaide', 'Australia/Brisbane', 'Australia/Sydney'],
};

/**
 * A +1 number libphonenumber cannot place (an unassigned or fictional area code): the US and
 * Canadian zones together, from Newfoundland to Hawaii. Caribbean and Pacific territories are left
 * out because with Guam in the set no hour would ever be inside everyone's window.
 */
const NANP_UNPLACED: readonly string[] = [
  ...new Set([...(COUNTRY_ZONES.CA ?? []), ...(COUNTRY_ZONES.US ?? [])]),
];

const MS_PER_DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Cached per zone: building a formatter costs far more than using one. */
function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

export function isKnownTimezone(zone: string): boolean {
  if (zone.trim() === '') return false;
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

type WallTime = { year: number; month: number; day: number; hour: number; minute: number; second: number };

export function wallTimeAt(instant: number, zone: string): WallTime {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    // Some ICU versions print midnight as 24 even with h23.
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The wall clock read as if it were UTC: comparable across instants of one zone. */
function wallAsUtc(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** `hour`:00:00 on the wall clock's local day, read as UTC. */
function wallHourOfDay(w: WallTime, hour: number): number {
  return Date.UTC(w.year, w.month - 1, w.day, hour);
}

/** UTC offset in ms; Intl shows whole seconds, so the instant is floored to a second first. */
function offsetAt(instant: number, zone: string): number {
  const second = Math.floor(instant / 1000) * 1000;
  return wallAsUtc(wallTimeAt(second, zone)) - second;
}

/**
 * The first instant whose local wall time in `zone` is at or after `target` (a wall time written
 * as UTC milliseconds). Usually the one instant showing that wall time; in a spring-forward gap it
 * is the moment of the jump; in a fall-back overlap, the earlier of the two.
 */
export function firstInstantAtOrAfter(target: number, zone: string): number {
  const before = target - offsetAt(target - MS_PER_DAY, zone);
  const after = target - offsetAt(target + MS_PER_DAY, zone);
  const exact = [before, after].filter((t) => wallAsUtc(wallTimeAt(t, zone)) === target);
  if (exact.length > 0) return Math.min(...exact);
  // A gap: the wall clock jumps over `target` somewhere between the two guesses.
  let lo = Math.min(before, after);
  let hi = Math.max(before, after);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (wallAsUtc(wallTimeAt(mid, zone)) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

function insideWindow(instant: number, zone: string, window: SendWindowHours): boolean {
  const { hour } = wallTimeAt(instant, zone);
  return hour >= window.startHour && hour < window.endHour;
}

function allInside(instant: number, zones: readonly string[], window: SendWindowHours): boolean {
  return zones.every((zone) => insideWindow(instant, zone, window));
}

/** Instants when some zone's window opens, on its local days from yesterday to two days ahead. */
function openingCandidates(now: number, zones: readonly string[], window: SendWindowHours): number[] {
  const candidates: number[] = [];
  for (const zone of zones) {
    const today = wallTimeAt(now, zone);
    for (let dayOffset = -1; dayOffset <= 2; dayOffset++) {
      const wallOpening = wallHourOfDay(today, window.startHour) + dayOffset * MS_PER_DAY;
      candidates.push(firstInstantAtOrAfter(wallOpening, zone));
    }
  }
  return candidates.sort((a, b) => a - b);
}

/**
 * The earliest instant ≥ now inside every zone's window. The common window can only begin when
 * one of the zones opens, so those openings are the only candidates; each is checked against every
 * zone, so the answer is right even if a daylight-saving jump moves a window.
 */
export function nextOpening(now: number, zones: readonly string[], window: SendWindowHours): number | null {
  if (allInside(now, zones, window)) return now;
  for (const candidate of openingCandidates(now, zones, window)) {
    if (candidate >= now && allInside(candidate, zones, window)) return candidate;
  }
  return null;
}

/** Zones plausible for a number with no ledger timezone; empty when we cannot tell. */
export function zonesForPhone(phone: string): readonly string[] {
  const parsed = parsePhoneNumberFromString(phone.trim());
  if (!parsed) return [];
  const country = parsed.country;
  if (country) return COUNTRY_ZONES[country] ?? [];
  return parsed.countryCallingCode === '1' ? NANP_UNPLACED : [];
}

function checkWindow(window: SendWindowHours): void {
  const { startHour, endHour } = window;
  const ok =
    Number.isInteger(startHour) &&
    Number.isInteger(endHour) &&
    startHour >= 0 &&
    endHour <= 24 &&
    startHour < endHour;
  // A window over midnight is not a collections window; refuse it rather than guess.
  if (!ok)
    throw new RangeError(
      `send window must be whole hours with 0 ≤ start < end ≤ 24: ${startHour}–${endHour}`,
    );
}

export function sendWindow(input: SendWindowInput): SendWindowResult {
  checkWindow(input.window);
  const zones =
    input.timezone !== undefined && isKnownTimezone(input.timezone)
      ? [input.timezone]
      : zonesForPhone(input.phone);
  const now = input.now.getTime();
  if (zones.length === 0) return { allowed: false, opensAt: null, reason: 'timezone_unknown', zones };
  const opening = nextOpening(now, zones, input.window);
  if (opening === now) return { allowed: true, zones };
  if (opening === null) return { allowed: false, opensAt: null, reason: 'timezone_unknown', zones };
  return { allowed: false, opensAt: new Date(opening), reason: 'outside_window', zones };
}
