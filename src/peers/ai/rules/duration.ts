import { parseNumberWords } from './numbers.js';
import { normalizeText, type Span } from './text.js';

/**
 * How long a plan runs: "for 3 months", "over 8 weeks", "for the next 6 weeks", "x 3 months",
 * "for a month", "a 12 week plan", "por 3 meses", "2 and a half months", and counts of
 * payments ("4 weekly payments"). Months are turned into weeks by the caller.
 */

export type Duration = Span &
  ({ unit: 'week' | 'month'; count: number } | { unit: 'payment'; count: number });

const NUM =
  '(\\d+(?:\\.\\d+)?|(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|twenty|thirty|forty|fifty|couple(?:\\s+of)?)(?:[\\s-](?:one|two|three|four|five|six|seven|eight|nine))?)';
const FILLER =
  '(?:(?:a|about|around|like|roughly|maybe|approx(?:imately)?|the\\s+next|the\\s+following|next|another|the|of)\\s+)*';
const UNIT = '(weeks?|wks?|weaks?|months?|mos?|mths?|mnths?|semanas?|meses|mes)';
const HALF = '(\\s+and\\s+a\\s+half)?';

const LENGTH_AFTER_PREPOSITION = new RegExp(
  `\\b(?:for|over|during|across|within|x|×|por|durante)\\s+${FILLER}${NUM}${HALF}\\s*-?\\s*${UNIT}\\b`,
  'g',
);
const PLAN_OF_LENGTH = new RegExp(
  `\\b${NUM}[\\s-]+(week|month)s?[\\s-]+(?:payment\\s+)?(?:plan|arrangement)\\b`,
  'g',
);
const NEXT_UNIT = /\b(?:for|over|during|within)\s+(?:the\s+)?next\s+(week|month)\b/g;
const PAYMENT_COUNT = new RegExp(
  `\\b${NUM}\\s+(?:(?:weekly|bi-?\\s?weekly|monthly|equal|more|separate)\\s+)?(?:payments|installments|instalments|pmts|pagos)\\b`,
  'g',
);

function countOf(raw: string): number | undefined {
  if (/^\d/.test(raw)) return Number(raw);
  if (raw === 'a' || raw === 'an') return 1;
  if (raw.startsWith('couple')) return 2;
  return parseNumberWords(raw);
}

function unitOf(raw: string): 'week' | 'month' {
  return /^(?:w|semana)/.test(raw) ? 'week' : 'month';
}

/** Every duration found, in text order. */
export function findDurations(text: string): Duration[] {
  const t = normalizeText(text);
  const found: Duration[] = [];
  for (const m of t.matchAll(LENGTH_AFTER_PREPOSITION)) {
    const n = countOf(m[1] ?? '');
    if (n === undefined) continue;
    const count = n + (m[2] ? 0.5 : 0);
    found.push({ start: m.index, end: m.index + m[0].length, unit: unitOf(m[3] ?? ''), count });
  }
  for (const m of t.matchAll(PLAN_OF_LENGTH)) {
    const n = countOf(m[1] ?? '');
    if (n !== undefined)
      found.push({ start: m.index, end: m.index + m[0].length, unit: unitOf(m[2] ?? ''), count: n });
  }
  for (const m of t.matchAll(NEXT_UNIT)) {
    found.push({ start: m.index, end: m.index + m[0].length, unit: unitOf(m[1] ?? ''), count: 1 });
  }
  for (const m of t.matchAll(PAYMENT_COUNT)) {
    const n = countOf(m[1] ?? '');
    if (n !== undefined)
      found.push({ start: m.index, end: m.index + m[0].length, unit: 'payment', count: n });
  }
  return found.sort((a, b) => a.start - b.start);
}

/**
 * The plan's length in whole weeks, or null when the text gives none or a length that is not a
 * whole number of weeks ("1.5 weeks"). A stated length wins over a count of payments.
 */
export function durationWeeks(
  durations: readonly Duration[],
  weeksPerPeriod: number,
  weeksPerMonth: number,
): number | null {
  const length = durations.find((d) => d.unit !== 'payment') ?? durations[0];
  if (!length) return null;
  const weeks =
    length.unit === 'week'
      ? length.count
      : length.unit === 'month'
        ? length.count * weeksPerMonth
        : length.count * weeksPerPeriod;
  return Number.isInteger(weeks) && weeks > 0 ? weeks : null;
}
