import { describe, expect, it } from 'vitest';
import { INTENTS, type ExtractedPlan, type LedgerFacts } from '../ai-port.js';
import { PLAIN_STYLE, readInstructions } from './instructions.js';
import { formatMoney } from './numbers.js';
import { collectionsTemplate, formatDay, rateText, renderSms } from './templates.js';

const LEDGERS: LedgerFacts[] = [
  { tenantName: 'Maria Lopez', amountOwed: 1200, daysLate: 12 },
  {
    tenantName: 'Maria Lopez',
    amountOwed: 1250.5,
    tenantPortion: 312.25,
    daysLate: 1,
    propertyName: 'Unit 4B, 120 Oak St',
  },
  {
    tenantName: 'Dwayne Jackson-Smith',
    amountOwed: 987.65,
    tenantPortion: 987.65,
    daysLate: 45,
    propertyName: 'Riverside Gardens Apartments Building C',
    lastPayment: { amount: 250, date: '2025-01-03' },
  },
  { tenantName: 'Al', amountOwed: 0, daysLate: 0 },
];

const PLANS: (ExtractedPlan | undefined)[] = [
  undefined,
  { weeklyAmount: 50, weeks: 12, startDate: null, frequency: 'weekly', amountPerPeriod: 50 },
  { weeklyAmount: 62.5, weeks: null, startDate: '2025-01-17', frequency: 'biweekly', amountPerPeriod: 125 },
  { weeklyAmount: 312.63, weeks: 24, startDate: '2025-03-01', frequency: 'monthly', amountPerPeriod: 1250.5 },
];

/** Every number a reply may contain: the ledger's, the plan's, and the digits in names. */
function allowedNumbers(ledger: LedgerFacts, plan: ExtractedPlan | undefined): Set<string> {
  const money = (x: number) => formatMoney(x).slice(1);
  const allowed = new Set<string>([money(ledger.amountOwed), String(ledger.daysLate)]);
  if (ledger.tenantPortion !== undefined) allowed.add(money(ledger.tenantPortion));
  if (ledger.lastPayment) {
    allowed.add(money(ledger.lastPayment.amount));
    allowed.add(String(Number(ledger.lastPayment.date.slice(8))));
  }
  for (const name of [ledger.tenantName, ledger.propertyName ?? ''])
    for (const n of name.match(/\d+/g) ?? []) allowed.add(n);
  if (plan) {
    allowed.add(money(plan.weeklyAmount));
    allowed.add(money(plan.amountPerPeriod));
    if (plan.weeks !== null) allowed.add(String(plan.weeks));
    if (plan.startDate) allowed.add(String(Number(plan.startDate.slice(8))));
  }
  return allowed;
}

const numbersIn = (text: string) => text.match(/\d+(?:[.,]\d+)*/g) ?? [];

describe('collections templates', () => {
  const cases = INTENTS.flatMap((intent) =>
    LEDGERS.flatMap((ledger) => PLANS.map((plan) => ({ intent, ledger, plan }))),
  );

  it.each(cases)('$intent states only ledger and plan facts', ({ intent, ledger, plan }) => {
    for (const style of [PLAIN_STYLE, readInstructions(['shorter']), readInstructions(['more formal'])]) {
      const text = renderSms(collectionsTemplate(intent, ledger, plan), style);
      const allowed = allowedNumbers(ledger, plan);
      for (const n of numbersIn(text)) expect(allowed, `${n} in ${JSON.stringify(text)}`).toContain(n);
      // SMS-short: two GSM-7 segments at most, before the workflow's opt-out line.
      expect(text.length).toBeLessThanOrEqual(306);
      expect(text).not.toMatch(/undefined|NaN|null|\[object/);
    }
  });

  it('never promises, waives or threatens', () => {
    for (const { intent, ledger, plan } of cases) {
      const text = renderSms(collectionsTemplate(intent, ledger, plan), PLAIN_STYLE).toLowerCase();
      expect(text).not.toMatch(
        /waive|forgive|discount|settle|evict|court|police|arrest|garnish|credit (?:report|bureau)|approved|accepted|guarantee/,
      );
    }
  });

  it('gives a possible third party neither the name nor the debt', () => {
    for (const ledger of LEDGERS) {
      for (const intent of ['wrong_number', 'opt_out'] as const) {
        const text = renderSms(collectionsTemplate(intent, ledger, undefined), PLAIN_STYLE);
        expect(text).not.toContain('Maria');
        expect(text).not.toContain('$');
      }
    }
  });

  it('does not restate the debt to a tenant who disputes it or brings in a lawyer', () => {
    for (const intent of [
      'dispute',
      'legal',
      'bankruptcy',
      'abuse_or_threat',
      'complaint',
      'human_request',
    ] as const) {
      expect(
        renderSms(collectionsTemplate(intent, LEDGERS[0] as LedgerFacts, undefined), PLAIN_STYLE),
      ).not.toContain('$');
    }
  });

  it.each([
    [
      'payment_plan',
      1,
      "Hi Maria, thanks for your offer of $50 a week for 12 weeks. We'll review it and get back to you. Your balance is $1,200.",
    ],
    [
      'payment_plan',
      2,
      'Hi Maria, thanks for your offer of $125 every two weeks, starting Fri, Jan 17. For how many weeks could you pay that? Your balance is $1,200.',
    ],
    [
      'payment_plan',
      0,
      'Hi Maria, we can look at a payment plan. How much could you pay each week, and from when? Your balance is $1,200.',
    ],
    ['balance_question', 0, 'Hi Maria, your balance is $1,200. It is 12 days late.'],
    ['promise_to_pay', 0, 'Hi Maria, thanks for letting us know. Your balance is $1,200.'],
    ['wrong_number', 0, "Sorry for the trouble. We'll update our records."],
  ] as const)('%s (plan %i) reads as expected', (intent, planIndex, expected) => {
    expect(
      renderSms(collectionsTemplate(intent, LEDGERS[0] as LedgerFacts, PLANS[planIndex]), PLAIN_STYLE),
    ).toBe(expected);
  });

  it('names the tenant portion when assistance pays part', () => {
    const text = renderSms(
      collectionsTemplate('balance_question', LEDGERS[1] as LedgerFacts, undefined),
      PLAIN_STYLE,
    );
    expect(text).toBe(
      'Hi Maria, your portion of the $1,250.50 balance at Unit 4B, 120 Oak St is $312.25. It is 1 day late.',
    );
  });

  it('mentions the last payment when the ledger has one', () => {
    const text = renderSms(
      collectionsTemplate('balance_question', LEDGERS[2] as LedgerFacts, undefined),
      PLAIN_STYLE,
    );
    expect(text).toContain('Your last payment was $250 on Jan 3.');
  });

  it('applies edit styles', () => {
    const reply = collectionsTemplate('payment_plan', LEDGERS[0] as LedgerFacts, PLANS[1]);
    expect(renderSms(reply, readInstructions(['shorter']))).toBe(
      "Hi Maria, thanks for your offer of $50 a week for 12 weeks. We'll review it and get back to you.",
    );
    expect(renderSms(reply, readInstructions(['more formal']))).toBe(
      'Hello Maria Lopez, thank you for your offer of $50 a week for 12 weeks. We will review it and get back to you. Your balance is $1,200.',
    );
    expect(renderSms(reply, readInstructions(['mention the office opens at 9 on Saturday']))).toMatch(
      /Your balance is \$1,200\. The office opens at 9 on Saturday\.$/,
    );
  });

  it('formats days and rates', () => {
    expect(formatDay('2025-01-17')).toBe('Fri, Jan 17');
    expect(rateText(PLANS[3] as ExtractedPlan)).toBe('$1,250.50 a month');
  });
});
