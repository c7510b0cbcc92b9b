import { formatIsoDate, parseIsoDate, requireIsoDate } from './calendar-date.js';
import { toCents, toDollars } from './cents.js';

/**
 * Payment-plan policy (issue 7; the seed's MAX_PAYMENT_WEEKS, MIN_WEEKLY_PAYMENT and
 * `validation_details`). Pure: amounts in dollars at the edges, whole cents inside; dates are the
 * tenant's local ISO dates.
 *
 * - validatePlan: the seed's `{is_valid, issues, auto_approvable, total_amount, covers_debt}`.
 * - counterOffer: a plan computed by code that passes the rules, for a proposal that does not.
 * - schedule: the instalments, weekly from the start date; the last takes the remainder.
 * - missedInstalments / planProgress: what is overdue and what is left, from recorded payments.
 *
 * A plan never collects more than is owed: once the instalments cover the debt the schedule stops,
 * so `total_amount` is what the plan will collect (the seed's $50 × 12 = $600 when $600 or more is
 * owed).
 */

export type PlanRules = {
  /** MAX_PAYMENT_WEEKS. */
  maxWeeks: number;
  /** MIN_WEEKLY_PAYMENT, dollars. */
  minWeekly: number;
  /** The first payment must be due within this many days of today. */
  maxStartDays: number;
};

export const DEFAULT_PLAN_RULES: PlanRules = { maxWeeks: 12, minWeekly: 25, maxStartDays: 30 };

export type PlanProposal = {
  /** Dollars per week (an ExtractedPlan's weekly equivalent). */
  weeklyAmount: number;
  /** Null when the tenant did not say for how long: the plan then runs until the debt is paid. */
  weeks: number | null;
  /** ISO date of the first payment; null when the tenant did not say when. */
  startDate: string | null;
  /** Dollars the plan must cover: the tenant's portion when assistance pays the rest. */
  amountOwed: number;
  /** The tenant's local date. */
  today: string;
};

export const PLAN_ISSUES = [
  'nothing_owed',
  'weekly_amount_invalid',
  'weekly_amount_below_minimum',
  'weeks_invalid',
  'too_many_weeks',
  'does_not_cover_debt',
  'start_date_invalid',
  'start_date_in_past',
  'start_date_too_late',
] as const;
export type PlanIssue = (typeof PLAN_ISSUES)[number];

/** The seed's `validation_details`, field for field. */
export type ValidationDetails = {
  is_valid: boolean;
  /** Stable codes (PlanIssue); describeIssue gives the sentence a manager reads. */
  issues: PlanIssue[];
  /** Valid, and every term was stated (no weeks or start date filled in by us). */
  auto_approvable: boolean;
  /** Dollars the plan will collect: weekly × weeks, capped at the amount owed. */
  total_amount: number;
  covers_debt: boolean;
};

function checkRules(rules: PlanRules): void {
  const ok =
    Number.isInteger(rules.maxWeeks) &&
    rules.maxWeeks >= 1 &&
    Number.isFinite(rules.minWeekly) &&
    rules.minWeekly >= 0 &&
    Number.isInteger(rules.maxStartDays) &&
    rules.maxStartDays >= 0;
  if (!ok) throw new RangeError(`invalid plan rules: ${JSON.stringify(rules)}`);
}

/**
 * The weekly minimum, unless the balance is smaller: paying off $20 in one go is not "below the
 * $25 minimum".
 */
function minimumWeeklyCents(owedCents: number, rules: PlanRules): number {
  return Math.min(toCents(rules.minWeekly), owedCents);
}

function isPositiveAmount(dollars: number): boolean {
  return Number.isFinite(dollars) && toCents(dollars) > 0;
}

function startIssues(startDate: string | null, today: number, rules: PlanRules): PlanIssue[] {
  if (startDate === null) return [];
  const start = parseIsoDate(startDate);
  if (start === undefined) return ['start_date_invalid'];
  if (start < today) return ['start_date_in_past'];
  if (start > today + rules.maxStartDays) return ['start_date_too_late'];
  return [];
}

/** Weeks as stated, or (when unstated) as many as the weekly amount needs to cover the debt. */
function effectiveWeeks(proposal: PlanProposal, weeklyCents: number, owedCents: number): number {
  if (proposal.weeks !== null) return proposal.weeks;
  return weeklyCents > 0 ? Math.max(1, Math.ceil(owedCents / weeklyCents)) : 0;
}

export function validatePlan(
  proposal: PlanProposal,
  rules: PlanRules = DEFAULT_PLAN_RULES,
): ValidationDetails {
  checkRules(rules);
  const today = requireIsoDate(proposal.today, 'today');
  const owedCents = Number.isFinite(proposal.amountOwed) ? Math.max(0, toCents(proposal.amountOwed)) : 0;
  const amountOk = isPositiveAmount(proposal.weeklyAmount);
  const weeklyCents = amountOk ? toCents(proposal.weeklyAmount) : 0;
  const weeks = effectiveWeeks(proposal, weeklyCents, owedCents);
  const weeksOk = Number.isInteger(weeks) && weeks >= 1;

  const offeredCents = amountOk && weeksOk ? weeklyCents * weeks : 0;
  const coversDebt = owedCents > 0 && offeredCents >= owedCents;
  const issues: PlanIssue[] = [
    ...(owedCents === 0 ? (['nothing_owed'] as const) : []),
    ...(!amountOk ? (['weekly_amount_invalid'] as const) : []),
    ...(amountOk && owedCents > 0 && weeklyCents < minimumWeeklyCents(owedCents, rules)
      ? (['weekly_amount_below_minimum'] as const)
      : []),
    // Unstated weeks are inferred from the amount; only weeks the tenant stated can be malformed.
    ...(!weeksOk && proposal.weeks !== null ? (['weeks_invalid'] as const) : []),
    ...(weeksOk && weeks > rules.maxWeeks ? (['too_many_weeks'] as const) : []),
    ...(owedCents > 0 && amountOk && weeksOk && !coversDebt ? (['does_not_cover_debt'] as const) : []),
    ...startIssues(proposal.startDate, today, rules),
  ];
  const isValid = issues.length === 0;
  return {
    is_valid: isValid,
    issues,
    auto_approvable: isValid && proposal.weeks !== null && proposal.startDate !== null,
    total_amount: toDollars(Math.min(offeredCents, owedCents)),
    covers_debt: coversDebt,
  };
}

const ISSUE_TEXT: Readonly<Record<PlanIssue, (rules: PlanRules) => string>> = {
  nothing_owed: () => 'Nothing is owed, so there is nothing to plan.',
  weekly_amount_invalid: () => 'The weekly amount is not a positive amount of money.',
  weekly_amount_below_minimum: (r) => `The weekly amount is below the $${r.minWeekly} minimum.`,
  weeks_invalid: () => 'The number of weeks is not a whole number of at least one.',
  too_many_weeks: (r) => `The plan runs longer than ${r.maxWeeks} weeks.`,
  does_not_cover_debt: () => 'The payments do not add up to the amount owed.',
  start_date_invalid: () => 'The start date is not a date.',
  start_date_in_past: () => 'The start date is in the past.',
  start_date_too_late: (r) => `The first payment is more than ${r.maxStartDays} days away.`,
};

/** The sentence a manager reads for an issue code. */
export function describeIssue(issue: PlanIssue, rules: PlanRules = DEFAULT_PLAN_RULES): string {
  return ISSUE_TEXT[issue](rules);
}

// ---------------------------------------------------------------------------------------------
// Counter-offer.

export type CounterChange =
  'weekly_amount_raised' | 'weeks_set' | 'weeks_changed' | 'start_date_set' | 'start_date_moved';

export type CounterOffer = {
  /** Dollars per week. */
  weeklyAmount: number;
  weeks: number;
  startDate: string;
  /** Dollars the counter-offer collects: exactly the amount owed. */
  total_amount: number;
  /** How it differs from what the tenant offered. */
  changes: CounterChange[];
  /**
   * validatePlan on the counter-offer (always valid). auto_approvable is false when it asks more
   * per week than the tenant offered: they told us what they can afford, so a person decides.
   */
  validation_details: ValidationDetails;
};

/** A start date a week out gives the tenant time to arrange the first payment. */
const DEFAULT_START_DAYS = 7;

function counterStart(
  proposal: PlanProposal,
  today: number,
  rules: PlanRules,
): { start: number; change?: CounterChange } {
  const fallback = today + Math.min(DEFAULT_START_DAYS, rules.maxStartDays);
  if (proposal.startDate === null) return { start: fallback, change: 'start_date_set' };
  const asked = parseIsoDate(proposal.startDate);
  if (asked === undefined) return { start: fallback, change: 'start_date_set' };
  if (asked < today) return { start: fallback, change: 'start_date_moved' };
  // Later than allowed: the latest allowed day is the closest to what the tenant asked for.
  if (asked > today + rules.maxStartDays)
    return { start: today + rules.maxStartDays, change: 'start_date_moved' };
  return { start: asked };
}

/**
 * The smallest weekly amount that passes the rules, but never less than the tenant offered:
 * at least the minimum (or the whole balance, when smaller), and enough to cover the debt within
 * maxWeeks, rounded up to whole dollars ("$105 a week" is easier to keep to than "$104.17"; the
 * last instalment is smaller by the difference).
 */
function counterWeeklyCents(proposal: PlanProposal, owedCents: number, rules: PlanRules): number {
  const minimum = minimumWeeklyCents(owedCents, rules);
  const coverInTime = Math.ceil(owedCents / rules.maxWeeks / 100) * 100;
  const offered = isPositiveAmount(proposal.weeklyAmount) ? toCents(proposal.weeklyAmount) : 0;
  return Math.max(offered, minimum, Math.min(coverInTime, owedCents));
}

/**
 * A plan that passes the rules, as close to the proposal as the rules allow; undefined when
 * nothing is owed. Call it for a proposal validatePlan rejected; for a valid one it returns the
 * same plan, its weeks trimmed to what the debt needs.
 */
export function counterOffer(
  proposal: PlanProposal,
  rules: PlanRules = DEFAULT_PLAN_RULES,
): CounterOffer | undefined {
  checkRules(rules);
  const today = requireIsoDate(proposal.today, 'today');
  const owedCents = Number.isFinite(proposal.amountOwed) ? Math.max(0, toCents(proposal.amountOwed)) : 0;
  if (owedCents === 0) return undefined;

  const weeklyCents = counterWeeklyCents(proposal, owedCents, rules);
  const weeks = Math.ceil(owedCents / weeklyCents);
  const { start, change: startChange } = counterStart(proposal, today, rules);
  const offered = isPositiveAmount(proposal.weeklyAmount) ? toCents(proposal.weeklyAmount) : 0;
  const changes: CounterChange[] = [
    ...(weeklyCents > offered ? (['weekly_amount_raised'] as const) : []),
    ...(proposal.weeks === null
      ? (['weeks_set'] as const)
      : proposal.weeks !== weeks
        ? (['weeks_changed'] as const)
        : []),
    ...(startChange ? [startChange] : []),
  ];
  const startDate = formatIsoDate(start);
  const weeklyAmount = toDollars(weeklyCents);
  const validation = validatePlan(
    { weeklyAmount, weeks, startDate, amountOwed: proposal.amountOwed, today: proposal.today },
    rules,
  );
  return {
    weeklyAmount,
    weeks,
    startDate,
    total_amount: validation.total_amount,
    changes,
    validation_details: {
      ...validation,
      auto_approvable: validation.auto_approvable && !changes.includes('weekly_amount_raised'),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Schedule and payments.

export type PlanTerms = {
  /** Dollars per week. */
  weeklyAmount: number;
  weeks: number;
  /** ISO date of the first instalment. */
  startDate: string;
  /** Dollars owed when the plan was agreed: the schedule stops once it is covered. */
  amountOwed: number;
};

export type Instalment = {
  /** 1-based. */
  number: number;
  due_date: string;
  /** Dollars, for the seed-shaped JSON. */
  amount: number;
  amount_cents: number;
};

/**
 * One instalment a week from the start date. Each is the weekly amount, except the last, which
 * takes whatever is left (smaller when the weekly amount was rounded up or the tenant offered more
 * than needed). A plan that does not cover the debt is scheduled as agreed: weeks × weekly.
 */
export function schedule(plan: PlanTerms): Instalment[] {
  const start = requireIsoDate(plan.startDate, 'startDate');
  if (!isPositiveAmount(plan.weeklyAmount) || !Number.isInteger(plan.weeks) || plan.weeks < 1) {
    throw new RangeError(`not a schedulable plan: ${JSON.stringify(plan)}`);
  }
  const weeklyCents = toCents(plan.weeklyAmount);
  const owedCents = Math.max(0, toCents(plan.amountOwed));
  if (owedCents === 0) return [];
  const count = Math.min(plan.weeks, Math.ceil(owedCents / weeklyCents));
  const totalCents = Math.min(weeklyCents * plan.weeks, owedCents);
  return Array.from({ length: count }, (_, i) => {
    const cents = i === count - 1 ? totalCents - weeklyCents * (count - 1) : weeklyCents;
    return {
      number: i + 1,
      due_date: formatIsoDate(start + 7 * i),
      amount: toDollars(cents),
      amount_cents: cents,
    };
  });
}

export type PlanPayment = {
  /** ISO date (or date-time; the date part counts). */
  date: string;
  /** Dollars. */
  amount: number;
};

export type MissedInstalment = {
  number: number;
  due_date: string;
  amount_cents: number;
  /** What is still unpaid of this instalment, in cents and dollars. */
  outstanding_cents: number;
  outstanding: number;
  days_overdue: number;
};

/** Payments made up to and including `today`, in cents; later-dated ones are not money yet. */
function paidCentsBy(payments: readonly PlanPayment[], today: number): number {
  return payments
    .filter((p) => {
      const day = parseIsoDate(p.date);
      return day !== undefined && day <= today && Number.isFinite(p.amount) && p.amount > 0;
    })
    .reduce((sum, p) => sum + toCents(p.amount), 0);
}

/**
 * Instalments still not fully paid once their grace period is over: due + graceDays < today.
 * Payments pay the oldest instalment first, whenever they were made, so a late payment cures the
 * instalment it covers: what is returned is what a reminder or an escalation should be about now.
 * Pass only payments recorded against this plan.
 */
export function missedInstalments(
  instalments: readonly Instalment[],
  payments: readonly PlanPayment[],
  today: string,
  graceDays: number,
): MissedInstalment[] {
  const day = requireIsoDate(today, 'today');
  if (!Number.isInteger(graceDays) || graceDays < 0)
    throw new RangeError(`graceDays must be a whole number ≥ 0: ${graceDays}`);
  let unapplied = paidCentsBy(payments, day);
  const missed: MissedInstalment[] = [];
  for (const instalment of instalments) {
    const covered = Math.min(instalment.amount_cents, unapplied);
    unapplied -= covered;
    const outstanding = instalment.amount_cents - covered;
    const due = requireIsoDate(instalment.due_date, 'due_date');
    if (outstanding > 0 && due + graceDays < day) {
      missed.push({
        number: instalment.number,
        due_date: instalment.due_date,
        amount_cents: instalment.amount_cents,
        outstanding_cents: outstanding,
        outstanding: toDollars(outstanding),
        days_overdue: day - due,
      });
    }
  }
  return missed;
}

/** The plan-by-id figures: `amount_paid` and `amount_remaining`, in dollars. */
export function planProgress(
  instalments: readonly Instalment[],
  payments: readonly PlanPayment[],
  today: string,
): { amount_paid: number; amount_remaining: number } {
  const paid = paidCentsBy(payments, requireIsoDate(today, 'today'));
  const total = instalments.reduce((sum, i) => sum + i.amount_cents, 0);
  return { amount_paid: toDollars(paid), amount_remaining: toDollars(Math.max(0, total - paid)) };
}
