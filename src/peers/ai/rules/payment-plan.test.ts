import { describe, expect, it } from 'vitest';
import { ExtractedPlan, WEEKS_PER_MONTH } from '../ai-port.js';
import { extractPaymentPlan, findPaymentRate } from './payment-plan.js';

const TODAY = '2025-01-15'; // a Wednesday

type Row = [
  text: string,
  weeklyAmount: number,
  weeks: number | null,
  frequency: ExtractedPlan['frequency'],
  start?: string | null,
];

function check([text, weeklyAmount, weeks, frequency, start]: Row) {
  const plan = extractPaymentPlan(text, TODAY);
  expect(plan, text).toBeDefined();
  expect(ExtractedPlan.parse(plan)).toEqual(plan);
  expect({ weeklyAmount: plan?.weeklyAmount, weeks: plan?.weeks, frequency: plan?.frequency }).toEqual({
    weeklyAmount,
    weeks,
    frequency,
  });
  if (start !== undefined) expect(plan?.startDate).toBe(start);
}

describe('extractPaymentPlan', () => {
  it('reads the seed example as 12 weeks at $50, a month being WEEKS_PER_MONTH = 4 weeks', () => {
    expect(WEEKS_PER_MONTH).toBe(4);
    expect(extractPaymentPlan('I can pay $50 per week for 3 months', TODAY)).toEqual({
      weeklyAmount: 50,
      weeks: 12,
      startDate: null,
      frequency: 'weekly',
      amountPerPeriod: 50,
    });
  });

  describe('amount forms', () => {
    it.each<Row>([
      ['$50 a week', 50, null, 'weekly'],
      ['$ 50 a week', 50, null, 'weekly'],
      ['50$ a week', 50, null, 'weekly'],
      ['50 a week', 50, null, 'weekly'],
      ['$1,250.50 a week', 1250.5, null, 'weekly'],
      ['$62.50 weekly', 62.5, null, 'weekly'],
      ['50 dollars a week', 50, null, 'weekly'],
      ['50 bucks a week', 50, null, 'weekly'],
      ['fifty a week', 50, null, 'weekly'],
      ['fifty dollars a week', 50, null, 'weekly'],
      ['seventy-five bucks a week', 75, null, 'weekly'],
      ['two hundred fifty a month', 62.5, null, 'monthly'],
      ['a hundred every other week', 50, null, 'biweekly'],
      ['a hundred and fifty every two weeks', 75, null, 'biweekly'],
      ['2 hundred a month', 50, null, 'monthly'],
      ['1k a month', 250, null, 'monthly'],
      ['two fifty a month', 62.5, null, 'monthly'],
    ])('%s', (...row) => check(row));
  });

  describe('frequencies, converted to a weekly amount', () => {
    it.each<Row>([
      ['$50 per week', 50, null, 'weekly'],
      ['$50 weekly', 50, null, 'weekly'],
      ['$50 each week', 50, null, 'weekly'],
      ['$50 a week', 50, null, 'weekly'],
      ['$50 every week', 50, null, 'weekly'],
      ['$50/wk', 50, null, 'weekly'],
      ['$50/week', 50, null, 'weekly'],
      ['$50 every friday', 50, null, 'weekly', '2025-01-17'],
      ['$100 every two weeks', 50, null, 'biweekly'],
      ['$100 every 2 weeks', 50, null, 'biweekly'],
      ['$100 biweekly', 50, null, 'biweekly'],
      ['$100 bi-weekly', 50, null, 'biweekly'],
      ['$100 every other week', 50, null, 'biweekly'],
      ['$100 twice a month', 50, null, 'biweekly'],
      ['$200 per month', 50, null, 'monthly'],
      ['$200 monthly', 50, null, 'monthly'],
      ['$200 a month', 50, null, 'monthly'],
      ['$200/mo', 50, null, 'monthly'],
      ['$250 a month', 62.5, null, 'monthly'],
      ['$333 a month', 83.25, null, 'monthly'],
      ['$125 biweekly', 62.5, null, 'biweekly'],
      ['$1,250.50 a month', 312.63, null, 'monthly'],
      ['weekly payments of $50', 50, null, 'weekly'],
      ['monthly payments of $400', 100, null, 'monthly'],
    ])('%s', (...row) => check(row));

    it('keeps the amount as said in amountPerPeriod', () => {
      expect(extractPaymentPlan('$100 every two weeks', TODAY)?.amountPerPeriod).toBe(100);
      expect(extractPaymentPlan('$1,250.50 a month', TODAY)?.amountPerPeriod).toBe(1250.5);
    });
  });

  describe('durations', () => {
    it.each<Row>([
      ['$50 a week for 6 weeks', 50, 6, 'weekly'],
      ['$50 a week over 8 weeks', 50, 8, 'weekly'],
      ['$50 a week for 3 months', 50, 12, 'weekly'],
      ['$50 a week for three months', 50, 12, 'weekly'],
      ['$50 a week for a month', 50, 4, 'weekly'],
      ['$50 a week for the next 6 weeks', 50, 6, 'weekly'],
      ['$200 a month for 6 months', 50, 24, 'monthly'],
      ['$100 every two weeks for 12 weeks', 50, 12, 'biweekly'],
      ['$100 every two weeks for 2 months', 50, 8, 'biweekly'],
      ['4 weekly payments of $150', 150, 4, 'weekly'],
      ['6 biweekly payments of $100', 50, 12, 'biweekly'],
      ['the $1,200 in 3 monthly payments', 100, 12, 'monthly'],
      ['for 3 months I can pay $50 a week', 50, 12, 'weekly'],
      ['$50 a week till its paid off', 50, null, 'weekly'],
    ])('%s', (...row) => check(row));
  });

  describe('start days (today is Wednesday 2025-01-15)', () => {
    it.each<Row>([
      ['$50 a week starting Friday', 50, null, 'weekly', '2025-01-17'],
      ['$50 a week starting next Monday', 50, null, 'weekly', '2025-01-20'],
      ['$50 a week on Friday', 50, null, 'weekly', '2025-01-17'],
      ['$50 a week starting tomorrow', 50, null, 'weekly', '2025-01-16'],
      ['$50 a week starting today', 50, null, 'weekly', '2025-01-15'],
      ['$50 a week starting the 15th', 50, null, 'weekly', '2025-02-15'],
      ['$50 a week starting 2/1', 50, null, 'weekly', '2025-02-01'],
      ['$50 a week, first payment this friday', 50, null, 'weekly', '2025-01-17'],
      ['$50 a week for 12 weeks starting next Friday.', 50, 12, 'weekly', '2025-01-17'],
      ['$50 a week', 50, null, 'weekly', null],
    ])('%s', (...row) => check(row));
  });

  describe('which offer counts', () => {
    it.each<Row>([
      ["I can't pay $200 a week, that's too much. I can do $100 a week", 100, null, 'weekly'],
      ['my rent is $800 a month and I can pay $100 a week', 100, null, 'weekly'],
      ['I get paid 400 a week so I could do 100 a week', 100, null, 'weekly'],
      ['my check is $600 every two weeks. could I do $150 every two weeks?', 75, null, 'biweekly'],
      ['I could pay 50 or 60 a week', 50, null, 'weekly'],
      ['Can I make payments of $150 monthly', 37.5, null, 'monthly'],
      ["I can't do more than $50 a week", 50, null, 'weekly'],
      ['i cant afford more then 40 a week for now', 40, null, 'weekly'],
    ])('%s', (...row) => check(row));
  });

  it.each([
    ['I can pay $600 over 12 weeks'], // no frequency: no plan
    ['2 payments of $400 this month and next'],
    ['I will pay $200 friday and $200 next friday'],
    ['I was in the hospital for 2 weeks'],
    ["I can't pay $50 a week"],
    ['my rent is $800 a month'],
    ['I paid $300 in a week'],
    ['How much do I owe?'],
    ['call me at 6pm on 2/1'],
    [''],
  ])('no plan in %s', (text) => {
    expect(extractPaymentPlan(text, TODAY)).toBeUndefined();
  });

  it('findPaymentRate gives the amount and frequency with their places', () => {
    const text = 'ok so I can do $75 every other week';
    const rate = findPaymentRate(text);
    expect(rate && { amount: rate.amount, frequency: rate.frequency }).toEqual({
      amount: 75,
      frequency: 'biweekly',
    });
    expect(rate && text.slice(rate.amountSpan.start, rate.amountSpan.end)).toBe('$75');
    expect(rate && text.slice(rate.frequencySpan.start, rate.frequencySpan.end)).toBe('every other week');
  });

  it('is deterministic and does not depend on the clock', () => {
    const a = extractPaymentPlan('$50 a week starting friday', TODAY);
    const b = extractPaymentPlan('$50 a week starting friday', TODAY);
    expect(a).toEqual(b);
  });
});
