import type { ExtractedPlan } from '../ai-port.js';
import { normalizeText, overlaps, type Span } from './text.js';

/**
 * How often a tenant offers to pay. "Twice a month" and "the 1st and 15th" count as biweekly:
 * with a month of WEEKS_PER_MONTH = 4 weeks, two payments a month is one every two weeks.
 */

export type Frequency = ExtractedPlan['frequency'];

export type FrequencyMatch = Span & {
  frequency: Frequency;
  /** An adjective ("weekly") that can qualify "payments": "4 weekly payments of $150". */
  adjective: boolean;
};

const WEEK = '(?:week|weak|wk|wek)';
const MONTH = '(?:month|mo|mnth|mth)';
/** Tenants type "evry" and "everey"; they mean every. */
const EVERY = '(?:every|evry|everey|evey)';
const DAY_NAME = '(?:(?:sun|mon|tues|wednes|thurs|fri|satur)day|sun|mon|tues?|wed|thu(?:rs?)?|fri|sat)';

/** Longest patterns first only matters for readability: overlaps are resolved by length below. */
const PATTERNS: readonly (readonly [RegExp, Frequency, boolean])[] = [
  // biweekly
  [new RegExp(`\\b${EVERY}\\s+(?:two|2|other|second)\\s+${WEEK}s?\\b`, 'g'), 'biweekly', false],
  [new RegExp(`\\b${EVERY}\\s+other\\s+${DAY_NAME}\\b`, 'g'), 'biweekly', false],
  [/\bbi-?\s?weekly\b/g, 'biweekly', true],
  [/\b(?:every|each|a|per)\s+fortnight\b|\bfortnightly\b|\bevery\s+14\s+days\b/g, 'biweekly', false],
  [
    new RegExp(`\\b(?:twice|2x|two\\s+times|2\\s+times)\\s+(?:a|per|each|every)\\s+${MONTH}\\b`, 'g'),
    'biweekly',
    false,
  ],
  [/\bsemi-?\s?monthly\b/g, 'biweekly', true],
  [
    /\b(?:on\s+)?(?:the\s+)?(?:1st|first)\s+and\s+(?:the\s+)?(?:15th|fifteenth)(?:\s+of\s+(?:every|each|the)\s+month)?\b/g,
    'biweekly',
    false,
  ],
  [/\bcada\s+(?:dos|2)\s+semanas\b|\bquincenal(?:es|mente)?\b/g, 'biweekly', true],
  // weekly
  [new RegExp(`\\b(?:per|a|an|each|${EVERY}|once\\s+a|1x\\s+a|x)\\s+${WEEK}\\b`, 'g'), 'weekly', false],
  [new RegExp(`\\/\\s?(?:${WEEK}|w)\\b`, 'g'), 'weekly', false],
  [/\b(?:weekly|weakly|wkly)\b/g, 'weekly', true],
  [new RegExp(`\\b(?:${EVERY}|each)\\s+${DAY_NAME}\\b|\\bon\\s+${DAY_NAME}s\\b`, 'g'), 'weekly', false],
  [/\b(?:por|a\s+la|cada|x)\s+semana\b|\bsemanal(?:es|mente)?\b/g, 'weekly', false],
  // monthly
  [new RegExp(`\\b(?:per|a|an|each|${EVERY}|once\\s+a|1x\\s+a|x)\\s+${MONTH}\\b`, 'g'), 'monthly', false],
  // "on the 1st of every month", "the 3rd of each month"
  [
    new RegExp(
      `\\b(?:on\\s+)?(?:the\\s+)?(?:\\d{1,2}(?:st|nd|rd|th)|first|last\\s+day)\\s+of\\s+(?:${EVERY}|each|the)\\s+month\\b`,
      'g',
    ),
    'monthly',
    false,
  ],
  [new RegExp(`\\/\\s?(?:${MONTH}|m)\\b`, 'g'), 'monthly', false],
  [/\b(?:monthly|mnthly|mthly)\b/g, 'monthly', true],
  [/\b(?:al|por|cada)\s+mes\b|\bmensual(?:es|mente)?\b/g, 'monthly', false],
];

/**
 * "a week"/"a month" after these words is a length or a delay ("for a month", "in a week"),
 * not a rate.
 */
const NOT_A_RATE_BEFORE = /\b(?:for|in|within|over|than|after|about|nearly|almost|past|last|like|only)\s+$/;

export function findFrequencies(text: string): FrequencyMatch[] {
  const t = normalizeText(text);
  const all: FrequencyMatch[] = [];
  for (const [re, frequency, adjective] of PATTERNS) {
    for (const m of t.matchAll(re)) {
      if (/^(?:a|an)\s/.test(m[0]) && NOT_A_RATE_BEFORE.test(t.slice(Math.max(0, m.index - 20), m.index))) {
        continue;
      }
      all.push({ start: m.index, end: m.index + m[0].length, frequency, adjective });
    }
  }
  // "bi-weekly" also contains "weekly", "twice a month" contains "a month": keep the longer.
  const kept: FrequencyMatch[] = [];
  for (const f of [...all].sort((a, b) => b.end - b.start - (a.end - a.start))) {
    if (!kept.some((k) => overlaps(k, f))) kept.push(f);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** Weeks in one period of the frequency, with a month counted as WEEKS_PER_MONTH weeks. */
export function weeksPerPeriod(frequency: Frequency, weeksPerMonth: number): number {
  return frequency === 'weekly' ? 1 : frequency === 'biweekly' ? 2 : weeksPerMonth;
}
