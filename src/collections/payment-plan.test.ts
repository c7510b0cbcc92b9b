import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  counterOffer,
  DEFAULT_PLAN_RULES,
  describeIssue,
  missedInstalments,
  PLAN_ISSUES,
  planProgress,
  schedule,
  validatePlan,
  type PlanIssue,
  type PlanProposal,
  type ValidationDetails,
} from './payment-plan.js';

const TODAY = '2025-01-15';

function proposal(overrides: Partial<PlanProposal>): PlanProposal {
  return {
    weeklyAmount: 50,
    weeks: 12,
    startDate: '2025-01-22',
    amountOwed: 600,
    today: TODAY,
    ...overrides,
  };
}

const valid = (total: number, auto = true): ValidationDetails => ({
  is_valid: true,
  issues: [],
  auto_approvable: auto,
  total_amount: total,
  covers_debt: true,
});
const invalid = (issues: PlanIssue[], total: number, covers: boolean): ValidationDetails => ({
  is_valid: false,
  issues,
  auto_approvable: false,
  total_amount: total,
  covers_debt: covers,
});

describe('validatePlan', () => {
  const CASES: readonly (readonly [string, Partial<PlanProposal>, ValidationDetails])[] = [
    ["the seed's example: $50 × 12 = $600 from Jan 22", {}, valid(600)],
    ['the seed example when less is owed: the plan collects what is owed', { amountOwed: 550 }, valid(550)],
    ['does not cover the debt', { amountOwed: 1250 }, invalid(['does_not_cover_debt'], 600, false)],
    [
      'below the $25 weekly minimum',
      { weeklyAmount: 20, amountOwed: 200 },
      invalid(['weekly_amount_below_minimum'], 200, true),
    ],
    [
      'below the minimum but the whole balance at once',
      { weeklyAmount: 20, weeks: 1, amountOwed: 20 },
      valid(20),
    ],
    ['exactly the minimum', { weeklyAmount: 25, weeks: 12, amountOwed: 300 }, valid(300)],
    ['more than 12 weeks', { weeks: 16, amountOwed: 800 }, invalid(['too_many_weeks'], 800, true)],
    ['exactly 12 weeks', { weeks: 12 }, valid(600)],
    ['starts in the past', { startDate: '2025-01-14' }, invalid(['start_date_in_past'], 600, true)],
    ['starts today', { startDate: TODAY }, valid(600)],
    ['starts on the 30th day', { startDate: '2025-02-14' }, valid(600)],
    ['starts on the 31st day', { startDate: '2025-02-15' }, invalid(['start_date_too_late'], 600, true)],
    ['start date in words', { startDate: 'next friday' }, invalid(['start_date_invalid'], 600, true)],
    [
      'start date that does not exist',
      { startDate: '2025-02-30' },
      invalid(['start_date_invalid'], 600, true),
    ],
    ["the seed's date-time start_date", { startDate: '2025-01-22T00:00:00Z' }, valid(600)],
    [
      'no weeks: runs until paid (6 weeks), a person confirms',
      { weeklyAmount: 100, weeks: null },
      valid(600, false),
    ],
    [
      'no weeks and too small to finish in 12 weeks',
      { weeklyAmount: 40, weeks: null },
      invalid(['too_many_weeks'], 600, true),
    ],
    ['no start date: valid, a person confirms', { startDate: null }, valid(600, false)],
    ['weekly amount zero', { weeklyAmount: 0 }, invalid(['weekly_amount_invalid'], 0, false)],
    ['weekly amount negative', { weeklyAmount: -50 }, invalid(['weekly_amount_invalid'], 0, false)],
    [
      'weekly amount not a number',
      { weeklyAmount: Number.NaN },
      invalid(['weekly_amount_invalid'], 0, false),
    ],
    ['weeks zero', { weeks: 0 }, invalid(['weeks_invalid'], 0, false)],
    ['weeks fractional', { weeks: 2.5 }, invalid(['weeks_invalid'], 0, false)],
    ['nothing owed', { amountOwed: 0 }, invalid(['nothing_owed'], 0, false)],
    [
      'rounded up to the cent covers: $104.17 × 12 ≥ $1,250',
      { weeklyAmount: 104.17, amountOwed: 1250 },
      valid(1250),
    ],
    [
      'a cent short: $104.16 × 12 < $1,250',
      { weeklyAmount: 104.16, amountOwed: 1250 },
      invalid(['does_not_cover_debt'], 1249.92, false),
    ],
    [
      'float noise: $19.99 × 3 covers $59.97',
      { weeklyAmount: 19.99, weeks: 3, amountOwed: 59.97 },
      invalid(['weekly_amount_below_minimum'], 59.97, true),
    ],
    [
      'every problem at once, in a stable order',
      { weeklyAmount: 10, weeks: 20, startDate: '2025-01-01', amountOwed: 1000 },
      invalid(
        ['weekly_amount_below_minimum', 'too_many_weeks', 'does_not_cover_debt', 'start_date_in_past'],
        200,
        false,
      ),
    ],
  ];

  it.each(CASES)('%s', (_name, overrides, expected) => {
    expect(validatePlan(proposal(overrides))).toEqual(expected);
  });

  it('takes other rules', () => {
    const rules = { maxWeeks: 8, minWeekly: 50, maxStartDays: 14 };
    expect(validatePlan(proposal({ weeks: 12 }), rules).issues).toEqual(['too_many_weeks']);
    expect(validatePlan(proposal({ weeklyAmount: 45, weeks: 8, amountOwed: 300 }), rules).issues).toEqual([
      'weekly_amount_below_minimum',
    ]);
    expect(
      validatePlan(proposal({ weeks: 8, amountOwed: 400, startDate: '2025-01-30' }), rules).issues,
    ).toEqual(['start_date_too_late']);
  });

  it('refuses a malformed today or malformed rules', () => {
    expect(() => validatePlan(proposal({ today: '15/01/2025' }))).toThrow(RangeError);
    expect(() => validatePlan(proposal({}), { maxWeeks: 0, minWeekly: 25, maxStartDays: 30 })).toThrow(
      RangeError,
    );
  });

  it('describes every issue for a manager', () => {
    for (const issue of PLAN_ISSUES) expect(describeIssue(issue)).toMatch(/\.$/);
    expect(describeIssue('weekly_amount_below_minimum')).toBe('The weekly amount is below the $25 minimum.');
    expect(describeIssue('too_many_weeks', { ...DEFAULT_PLAN_RULES, maxWeeks: 8 })).toBe(
      'The plan runs longer than 8 weeks.',
    );
  });
});

describe('counterOffer', () => {
  const CASES: readonly (readonly [
    string,
    Partial<PlanProposal>,
    {
      weeklyAmount: number;
      weeks: number;
      startDate: string;
      total_amount: number;
      changes: string[];
      auto: boolean;
    },
  ])[] = [
    [
      '$50 × 12 against $1,250: raise to $105 (whole dollars), same 12 weeks',
      { amountOwed: 1250, startDate: null },
      {
        weeklyAmount: 105,
        weeks: 12,
        startDate: '2025-01-22',
        total_amount: 1250,
        changes: ['weekly_amount_raised', 'start_date_set'],
        auto: false,
      },
    ],
    [
      '$40 a week with no end against $600: $50 for 12 weeks',
      { weeklyAmount: 40, weeks: null, startDate: null },
      {
        weeklyAmount: 50,
        weeks: 12,
        startDate: '2025-01-22',
        total_amount: 600,
        changes: ['weekly_amount_raised', 'weeks_set', 'start_date_set'],
        auto: false,
      },
    ],
    [
      '$200 × 3 against $1,250: keep $200, 7 weeks',
      { weeklyAmount: 200, weeks: 3, startDate: '2025-01-17', amountOwed: 1250 },
      {
        weeklyAmount: 200,
        weeks: 7,
        startDate: '2025-01-17',
        total_amount: 1250,
        changes: ['weeks_changed'],
        auto: true,
      },
    ],
    [
      '$20 × 12 against $200: the $25 minimum, 8 weeks',
      { weeklyAmount: 20, amountOwed: 200 },
      {
        weeklyAmount: 25,
        weeks: 8,
        startDate: '2025-01-22',
        total_amount: 200,
        changes: ['weekly_amount_raised', 'weeks_changed'],
        auto: false,
      },
    ],
    [
      'start too late: the latest allowed day',
      { startDate: '2025-03-15' },
      {
        weeklyAmount: 50,
        weeks: 12,
        startDate: '2025-02-14',
        total_amount: 600,
        changes: ['start_date_moved'],
        auto: true,
      },
    ],
    [
      'start in the past: a week from today',
      { startDate: '2025-01-10' },
      {
        weeklyAmount: 50,
        weeks: 12,
        startDate: '2025-01-22',
        total_amount: 600,
        changes: ['start_date_moved'],
        auto: true,
      },
    ],
    [
      '$250 a month (62.50 a week) with no end against $600: 10 weeks',
      { weeklyAmount: 62.5, weeks: null, startDate: '2025-02-01' },
      {
        weeklyAmount: 62.5,
        weeks: 10,
        startDate: '2025-02-01',
        total_amount: 600,
        changes: ['weeks_set'],
        auto: true,
      },
    ],
    [
      '$5 a week against $10: the whole balance at once',
      { weeklyAmount: 5, weeks: 2, amountOwed: 10 },
      {
        weeklyAmount: 10,
        weeks: 1,
        startDate: '2025-01-22',
        total_amount: 10,
        changes: ['weekly_amount_raised', 'weeks_changed'],
        auto: false,
      },
    ],
    [
      'no usable amount: the smallest plan that passes',
      { weeklyAmount: 0, weeks: null, startDate: null, amountOwed: 1000 },
      {
        weeklyAmount: 84,
        weeks: 12,
        startDate: '2025-01-22',
        total_amount: 1000,
        changes: ['weekly_amount_raised', 'weeks_set', 'start_date_set'],
        auto: false,
      },
    ],
  ];

  it.each(CASES)('%s', (_name, overrides, expected) => {
    const offer = counterOffer(proposal(overrides));
    expect(offer).toMatchObject({
      weeklyAmount: expected.weeklyAmount,
      weeks: expected.weeks,
      startDate: expected.startDate,
      total_amount: expected.total_amount,
      changes: expected.changes,
    });
    expect(offer?.validation_details).toEqual({
      ...valid(expected.total_amount),
      auto_approvable: expected.auto,
    });
  });

  it('has nothing to offer when nothing is owed', () => {
    expect(counterOffer(proposal({ amountOwed: 0 }))).toBeUndefined();
  });

  it('starts today when the rules allow no delay', () => {
    expect(
      counterOffer(proposal({ startDate: null }), { ...DEFAULT_PLAN_RULES, maxStartDays: 0 })?.startDate,
    ).toBe(TODAY);
  });

  it('always passes the rules, never asks less than offered, and its schedule pays exactly what is owed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 500_000 }),
        fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
        fc.option(fc.integer({ min: -40, max: 90 }), { nil: null }),
        fc.record({
          maxWeeks: fc.integer({ min: 1, max: 52 }),
          minWeekly: fc.integer({ min: 0, max: 200 }),
          maxStartDays: fc.integer({ min: 0, max: 60 }),
        }),
        (owedCents, offeredCents, weeks, startOffset, rules) => {
          const startDate =
            startOffset === null
              ? null
              : new Date(Date.UTC(2025, 0, 15 + startOffset)).toISOString().slice(0, 10);
          const p = proposal({
            amountOwed: owedCents / 100,
            weeklyAmount: offeredCents / 100,
            weeks,
            startDate,
          });
          const offer = counterOffer(p, rules);
          if (!offer) return false;
          const check = validatePlan({ ...offer, amountOwed: p.amountOwed, today: TODAY }, rules);
          const plan = schedule({ ...offer, amountOwed: p.amountOwed });
          const paid = plan.reduce((sum, i) => sum + i.amount_cents, 0);
          return (
            check.is_valid &&
            offer.validation_details.is_valid &&
            offer.weeks <= rules.maxWeeks &&
            Math.round(offer.weeklyAmount * 100) >= offeredCents &&
            paid === owedCents &&
            plan.every((i) => i.amount_cents > 0)
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('schedule', () => {
  const dates = (start: string, n: number) =>
    Array.from({ length: n }, (_, i) =>
      new Date(Date.parse(`${start}T00:00:00Z`) + i * 7 * 86_400_000).toISOString().slice(0, 10),
    );

  it("the seed's $50 × 12 from Jan 22: twelve equal weekly instalments", () => {
    const plan = schedule({ weeklyAmount: 50, weeks: 12, startDate: '2025-01-22', amountOwed: 600 });
    expect(plan.map((i) => i.amount)).toEqual(Array(12).fill(50));
    expect(plan.map((i) => i.due_date)).toEqual(dates('2025-01-22', 12));
    expect(plan.at(-1)).toEqual({ number: 12, due_date: '2025-04-09', amount: 50, amount_cents: 5000 });
  });

  it.each([
    ['a whole-dollar counter-offer: the last is smaller', 105, 12, 1250, [...Array(11).fill(105), 95]],
    [
      'rounded up to the cent: the last absorbs the rounding',
      104.17,
      12,
      1250,
      [...Array(11).fill(104.17), 104.13],
    ],
    ['offering more weeks than needed: stops when paid', 50, 12, 550, Array(11).fill(50)],
    ['the last week pays the remainder', 50, 12, 575, [...Array(11).fill(50), 25]],
    ['a plan short of the debt is scheduled as agreed', 50, 12, 1000, Array(12).fill(50)],
    ['one payment of everything', 600, 1, 600, [600]],
    ['a weekly amount above the debt: one payment of the debt', 1000, 3, 600, [600]],
    ['nothing owed: nothing to schedule', 50, 12, 0, []],
  ])('%s', (_name, weeklyAmount, weeks, amountOwed, amounts) => {
    const plan = schedule({ weeklyAmount, weeks, startDate: '2025-01-22', amountOwed });
    expect(plan.map((i) => i.amount)).toEqual(amounts);
    expect(plan.reduce((s, i) => s + i.amount_cents, 0)).toBe(
      Math.min(Math.round(weeklyAmount * 100) * weeks, amountOwed * 100),
    );
  });

  it('walks the calendar across a leap day and month ends', () => {
    const plan = schedule({ weeklyAmount: 25, weeks: 3, startDate: '2028-02-23', amountOwed: 75 });
    expect(plan.map((i) => i.due_date)).toEqual(['2028-02-23', '2028-03-01', '2028-03-08']);
  });

  it.each([
    { weeklyAmount: 0, weeks: 12, startDate: '2025-01-22', amountOwed: 600 },
    { weeklyAmount: 50, weeks: 0, startDate: '2025-01-22', amountOwed: 600 },
    { weeklyAmount: 50, weeks: 1.5, startDate: '2025-01-22', amountOwed: 600 },
    { weeklyAmount: 50, weeks: 12, startDate: 'soon', amountOwed: 600 },
  ])('refuses %o', (plan) => {
    expect(() => schedule(plan)).toThrow(RangeError);
  });
});

describe('missedInstalments', () => {
  const plan = schedule({ weeklyAmount: 50, weeks: 4, startDate: '2025-01-22', amountOwed: 200 });
  const CASES: readonly (readonly [
    string,
    { date: string; amount: number }[],
    string,
    number,
    { number: number; outstanding: number; days_overdue: number }[],
  ])[] = [
    ['due today is not missed yet', [], '2025-01-22', 0, []],
    ['the day after, without grace', [], '2025-01-23', 0, [{ number: 1, outstanding: 50, days_overdue: 1 }]],
    ['inside the grace period', [], '2025-01-25', 3, []],
    [
      'the day the grace period is over',
      [],
      '2025-01-26',
      3,
      [{ number: 1, outstanding: 50, days_overdue: 4 }],
    ],
    [
      'first paid, second missed',
      [{ date: '2025-01-22', amount: 50 }],
      '2025-02-01',
      0,
      [{ number: 2, outstanding: 50, days_overdue: 3 }],
    ],
    [
      'a partial payment leaves the rest outstanding',
      [{ date: '2025-01-22', amount: 30 }],
      '2025-01-24',
      0,
      [{ number: 1, outstanding: 20, days_overdue: 2 }],
    ],
    ['a late payment cures the instalment', [{ date: '2025-01-27', amount: 50 }], '2025-01-28', 3, []],
    [
      'a prepayment covers the oldest instalments first',
      [{ date: '2025-01-20', amount: 100 }],
      '2025-02-01',
      0,
      [],
    ],
    [
      'a payment dated after today is not counted yet',
      [{ date: '2025-02-10', amount: 100 }],
      '2025-02-01',
      0,
      [
        { number: 1, outstanding: 50, days_overdue: 10 },
        { number: 2, outstanding: 50, days_overdue: 3 },
      ],
    ],
    [
      'payments with a date-time count on their date; junk entries are ignored',
      [
        { date: '2025-01-22T18:00:00Z', amount: 50 },
        { date: 'yesterday', amount: 50 },
        { date: '2025-01-23', amount: -50 },
      ],
      '2025-01-30',
      0,
      [{ number: 2, outstanding: 50, days_overdue: 1 }],
    ],
    ['everything paid', [{ date: '2025-02-12', amount: 200 }], '2025-03-01', 7, []],
  ];

  it.each(CASES)('%s', (_name, payments, today, grace, expected) => {
    expect(
      missedInstalments(plan, payments, today, grace).map(({ number, outstanding, days_overdue }) => ({
        number,
        outstanding,
        days_overdue,
      })),
    ).toEqual(expected);
  });

  it('refuses a negative grace period', () => {
    expect(() => missedInstalments(plan, [], '2025-02-01', -1)).toThrow(RangeError);
  });
});

describe('planProgress', () => {
  it("the seed's plan after three $50 payments: $150 paid, $450 left", () => {
    const plan = schedule({ weeklyAmount: 50, weeks: 12, startDate: '2025-01-22', amountOwed: 600 });
    const payments = ['2025-01-22', '2025-01-29', '2025-02-05'].map((date) => ({ date, amount: 50 }));
    expect(planProgress(plan, payments, '2025-02-05')).toEqual({ amount_paid: 150, amount_remaining: 450 });
  });

  it('never shows a negative remainder', () => {
    const plan = schedule({ weeklyAmount: 50, weeks: 2, startDate: '2025-01-22', amountOwed: 100 });
    expect(planProgress(plan, [{ date: '2025-01-22', amount: 150 }], '2025-02-01')).toEqual({
      amount_paid: 150,
      amount_remaining: 0,
    });
  });
});
