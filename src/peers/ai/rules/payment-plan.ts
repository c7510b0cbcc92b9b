import { WEEKS_PER_MONTH, type ExtractedPlan } from '../ai-port.js';
import { durationWeeks, findDurations, type Duration } from './duration.js';
import { findFrequencies, weeksPerPeriod, type Frequency, type FrequencyMatch } from './frequency.js';
import { findAmounts, roundCents, type AmountMatch } from './numbers.js';
import { findStartDate } from './start-date.js';
import { clauseStart, normalizeText, overlaps, type Span } from './text.js';

/**
 * Payment plans in tenant texts: an amount tied to a frequency ("$50 per week", "weekly
 * payments of $50", "$1,200 in 3 monthly payments"), an optional length and an optional start.
 * No frequency, no plan: "$600 over 12 weeks" says nothing about how often, and guessing would
 * put words in the tenant's mouth.
 */

export type PaymentRate = {
  /** Dollars per period, as the tenant means it. */
  amount: number;
  frequency: Frequency;
  amountSpan: Span;
  frequencySpan: Span;
};

/** Between an amount and the frequency after it: "$50 per week", "$50 - weekly", "$50 in payments each week". */
const GAP_BEFORE_FREQUENCY = /^[\s,-]*(?:(?:in\s+)?(?:payments?|installments?|instalments?|pmts?)\s+)?$/;
/** Between a frequency and the amount after it: "weekly payments of $50", "monthly $400". */
const GAP_AFTER_FREQUENCY = /^\s*(?:(?:payments?|installments?|instalments?|pmts?)\s+)?(?:of\s+|at\s+)?$/;
/** Between a total and its count: "$1,200 in 3 monthly payments". */
const GAP_BEFORE_COUNT = /^\s+(?:total\s+)?(?:in|over|as|into|with|across)\s+$/;

/** An offer the tenant turns down in the same clause: "I can't pay $200 a week". */
const NEGATED = /\b(?:can'?t|cannot|can\s+not|cant|won'?t|wont|unable|not|no\s+way|never)\b/;
/** Facts about money rather than offers: "my rent is $800 a month", "I get paid 400 a week". */
const DESCRIPTIVE =
  /\b(?:rent(?:'s|\s+is|\s+was)|(?:check|checks|pay|ssi|benefits?|unemployment)\s+(?:is|are|was|comes?)\b|(?:get|got|gets|getting)\s+paid|(?:i|we|he|she)\s+(?:only\s+)?(?:make|earn|bring\s+home|receive|get)(?!\s+(?:a\s+|the\s+|my\s+)?(?:payments?|pmts?|installments?|plan))|income|paycheck|salary|wages?|(?:was|were|been|used\s+to)\s+pay(?:ing)?|charg(?:e|es|ed|ing))\b/;

const MAX_PLAUSIBLE_AMOUNT = 100_000;

/** "I can't do more than $50 a week" caps an offer rather than refusing one. */
const CAPPED = /\b(?:more|higher|over|above)\s+(?:than|then)?\s*$/;

function isOffer(text: string, start: number): boolean {
  const clause = text.slice(clauseStart(text, start), start);
  const refused = NEGATED.test(clause) && !CAPPED.test(clause);
  return !refused && !DESCRIPTIVE.test(clause);
}

/** "50 or 60 a week", "$50 to $60 a week": the lower figure is what the tenant commits to. */
function lowerAlternative(
  text: string,
  amount: AmountMatch | undefined,
  amounts: readonly AmountMatch[],
): AmountMatch | undefined {
  if (!amount) return undefined;
  const alternative = amounts.find(
    (a) => a.end <= amount.start && /^\s*(?:or|to)\s*$/.test(text.slice(a.end, amount.start)),
  );
  return alternative && alternative.value < amount.value ? alternative : amount;
}

function totalOverCount(
  text: string,
  f: FrequencyMatch,
  amounts: readonly AmountMatch[],
  durations: readonly Duration[],
): { perPeriod: number; total: AmountMatch } | undefined {
  const count = durations.find((d) => d.unit === 'payment' && d.start <= f.start && f.end <= d.end);
  if (!count || count.count <= 0) return undefined;
  const total = amounts.find(
    (a) => a.end <= count.start && GAP_BEFORE_COUNT.test(text.slice(a.end, count.start)),
  );
  return total ? { perPeriod: total.value / count.count, total } : undefined;
}

function rateFor(
  text: string,
  f: FrequencyMatch,
  amounts: readonly AmountMatch[],
  durations: readonly Duration[],
): PaymentRate | undefined {
  const split = totalOverCount(text, f, amounts, durations);
  if (split && isOffer(text, split.total.start)) {
    return { amount: split.perPeriod, frequency: f.frequency, amountSpan: split.total, frequencySpan: f };
  }
  // "4 weekly payments": a bare number right before "<frequency> payments" is a count, not dollars.
  const countFollows = /^\s+(?:payments|installments|instalments|pmts)\b/.test(text.slice(f.end));
  const before = amounts
    .filter((a) => a.end <= f.start && GAP_BEFORE_FREQUENCY.test(text.slice(a.end, f.start)))
    .filter((a) => a.currency || !countFollows)
    .at(-1);
  const after = amounts.find((a) => a.start >= f.end && GAP_AFTER_FREQUENCY.test(text.slice(f.end, a.start)));
  const amount = lowerAlternative(text, before, amounts) ?? after;
  if (!amount || amount.value <= 0 || amount.value > MAX_PLAUSIBLE_AMOUNT) return undefined;
  if (!isOffer(text, Math.min(amount.start, f.start))) return undefined;
  return { amount: amount.value, frequency: f.frequency, amountSpan: amount, frequencySpan: f };
}

/** The first amount-and-frequency offer in the text, or undefined. Used by the intent classifier too. */
export function findPaymentRate(text: string): PaymentRate | undefined {
  const t = normalizeText(text);
  const frequencies = findFrequencies(t);
  if (frequencies.length === 0) return undefined;
  const durations = findDurations(t);
  // Numbers inside "every 2 weeks" or "for 3 months" are not amounts.
  const amounts = findAmounts(t).filter(
    (a) =>
      !frequencies.some((f) => overlaps(f, a)) &&
      !durations.some((d) => d.unit !== 'payment' && overlaps(d, a)),
  );
  for (const f of frequencies) {
    const rate = rateFor(t, f, amounts, durations);
    if (rate) return rate;
  }
  return undefined;
}

/** The length that belongs to the offer: the first after its amount, else the last before it. */
function planDurations(text: string, rate: PaymentRate): Duration[] {
  const all = findDurations(text).filter((d) => !overlaps(d, rate.amountSpan));
  const after = all.filter((d) => d.start >= rate.amountSpan.start);
  const before = all.filter((d) => d.start < rate.amountSpan.start);
  return after.length > 0 ? after : before.slice(-1);
}

/**
 * Reads a payment plan. `today` (YYYY-MM-DD, the tenant's local date) resolves start days; see
 * start-date.ts for the conventions. Weekly amounts are rounded to the cent.
 */
export function extractPaymentPlan(text: string, today: string): ExtractedPlan | undefined {
  const t = normalizeText(text);
  const rate = findPaymentRate(t);
  if (!rate) return undefined;
  const periodWeeks = weeksPerPeriod(rate.frequency, WEEKS_PER_MONTH);
  const weeklyAmount = roundCents(rate.amount / periodWeeks);
  if (weeklyAmount <= 0) return undefined;
  return {
    weeklyAmount,
    weeks: durationWeeks(planDurations(t, rate), periodWeeks, WEEKS_PER_MONTH),
    startDate: findStartDate(t, today),
    frequency: rate.frequency,
    amountPerPeriod: roundCents(rate.amount),
  };
}
