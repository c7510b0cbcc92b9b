import { describe, expect, it } from 'vitest';
import type { CollectionsDraftRequest, EmailDraftRequest, ExtractedPlan, Intent } from './ai-port.js';
import { combineConfidence, CONFIDENCE_CAPS, moneyAmounts, type ConfidenceInput } from './confidence.js';

const collections: CollectionsDraftRequest = {
  kind: 'collections_reply',
  today: '2025-03-03',
  ledger: {
    tenantName: 'Maria',
    amountOwed: 1200,
    tenantPortion: 800,
    daysLate: 12,
    lastPayment: { amount: 300, date: '2025-02-01' },
  },
  conversation: [
    { role: 'agent', text: 'Hi Maria, your balance of $1,200.00 is 12 days late.' },
    { role: 'tenant', text: 'I can pay 50 a week for 3 months starting Friday' },
  ],
};

const email: EmailDraftRequest = {
  kind: 'email_reply',
  email: {
    from: 'pat@example.com',
    subject: 'Quote',
    text: 'Is the $450 quote still valid?',
    receivedAt: '2025-03-03T09:00:00Z',
  },
  instructions: ['tell him my lawyer reviewed the contract'],
};

const plan: ExtractedPlan = {
  weeklyAmount: 50,
  weeks: 12,
  startDate: '2025-03-07',
  frequency: 'weekly',
  amountPerPeriod: 50,
};
const OK = 'Thanks Maria. We will review $50 a week for 12 weeks and confirm.';

type Row = {
  name: string;
  input: Partial<ConfidenceInput> & { text?: string; intent?: Intent; plan?: ExtractedPlan | undefined };
  confidence: number;
  flags: string[];
};

const run = (row: Row['input']) =>
  combineConfidence({
    selfReported: row.selfReported ?? 0.9,
    request: row.request ?? collections,
    draft: {
      text: row.text ?? OK,
      intent: row.intent ?? 'payment_plan',
      plan: 'plan' in row ? row.plan : plan,
    },
    crossCheck: row.crossCheck,
    maxChars: row.maxChars,
  });

const { review, escalate } = CONFIDENCE_CAPS;

const rows: Row[] = [
  {
    name: 'a clean plan reply keeps its self-report',
    input: {},
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'self-report is clamped to 0..1',
    input: { selfReported: 1.7 },
    confidence: 1,
    flags: ['llm_self_report:1'],
  },
  {
    name: 'a NaN self-report counts as 0',
    input: { selfReported: Number.NaN },
    confidence: 0,
    flags: ['llm_self_report:0'],
  },
  {
    name: 'a low self-report stays low',
    input: { selfReported: 0.2 },
    confidence: 0.2,
    flags: ['llm_self_report:0.2'],
  },
  // amounts
  {
    name: 'ledger amount owed',
    input: { text: 'Your balance is $1,200.00.' },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'tenant portion and last payment',
    input: { text: 'Your share is $800; we got $300.00 last month.' },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'plan total (weekly × weeks)',
    input: { text: 'That is $600 over 12 weeks.' },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'an invented amount',
    input: { text: 'Please pay $250 today.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'unsupported_amount'],
  },
  {
    name: 'an invented amount in words',
    input: { text: 'A late fee of 75 dollars applies.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'unsupported_amount'],
  },
  {
    name: 'an amount the tenant said',
    input: { text: 'We can note 50 dollars.' },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'an amount from a manager instruction',
    input: {
      request: { ...collections, instructions: ['offer $100 a week instead'] },
      text: 'Could you do $100 a week?',
    },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'email: amount from the email',
    input: { request: email, intent: 'other', plan: undefined, text: 'Yes, the $450 quote is valid.' },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'email: invented amount',
    input: { request: email, intent: 'other', plan: undefined, text: 'The quote is now $500.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'unsupported_amount'],
  },
  // wording
  {
    name: 'threat',
    input: { text: 'Pay now or else.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:threat'],
  },
  {
    name: 'legal action',
    input: { text: 'We may take legal action.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:legal_action'],
  },
  {
    name: 'eviction',
    input: { text: 'Late rent can lead to eviction.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:legal_action'],
  },
  {
    name: 'arrest',
    input: { text: 'You could be arrested.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:arrest'],
  },
  {
    name: 'credit report',
    input: { text: 'This will go on your credit report.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:credit_report'],
  },
  {
    name: 'harassment',
    input: { text: 'Stop being a deadbeat.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:harassment'],
  },
  {
    name: 'forgiveness',
    input: { text: 'We can waive the late fee.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:forgiveness'],
  },
  {
    name: 'forgiveness, other phrasing',
    input: { text: "You won't have to pay the rest." },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:forgiveness'],
  },
  {
    name: 'two categories, both named',
    input: { text: 'Pay or we report you to the credit bureaus and sue you.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:legal_action', 'forbidden_wording:credit_report'],
  },
  {
    name: 'a name that looks like a word ("Sue") is not a lawsuit',
    input: { text: 'Thanks, Sue will call.' },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'email: wording the owner asked for is theirs',
    input: { request: email, intent: 'other', plan: undefined, text: 'My lawyer reviewed the contract.' },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'email: wording the owner did not ask for',
    input: {
      request: email,
      intent: 'other',
      plan: undefined,
      text: 'We will report you to the credit bureau.',
    },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'forbidden_wording:credit_report'],
  },
  // shape
  { name: 'empty text', input: { text: '   ' }, confidence: 0, flags: ['llm_self_report:0.9', 'empty_text'] },
  {
    name: 'too long for the SMS budget',
    input: { text: `${OK} ${'x'.repeat(500)}` },
    confidence: review,
    flags: ['llm_self_report:0.9', 'too_long'],
  },
  {
    name: 'a custom budget',
    input: { text: OK, maxChars: 20 },
    confidence: review,
    flags: ['llm_self_report:0.9', 'too_long'],
  },
  {
    name: 'an unfilled placeholder',
    input: { text: 'Hi [Tenant Name], thanks.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'placeholder_text'],
  },
  // intent
  {
    name: 'sensitive intent in collections',
    input: { intent: 'legal', plan: undefined, text: 'Noted; a team member will follow up.' },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'sensitive_intent:legal'],
  },
  {
    name: 'rules agree',
    input: { crossCheck: { intent: 'payment_plan', plan } },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'rules disagree (not sensitive)',
    input: {
      intent: 'balance_question',
      plan: undefined,
      text: 'Your balance is $1,200.00.',
      crossCheck: { intent: 'promise_to_pay' },
    },
    confidence: review,
    flags: ['llm_self_report:0.9', 'intent_disagreement', 'rules_intent:promise_to_pay'],
  },
  {
    name: 'rules see a sensitive intent the model missed',
    input: {
      intent: 'balance_question',
      plan: undefined,
      text: 'Your balance is $1,200.00.',
      crossCheck: { intent: 'bankruptcy' },
    },
    confidence: escalate,
    flags: ['llm_self_report:0.9', 'intent_disagreement', 'rules_intent:bankruptcy'],
  },
  {
    name: 'rules found nothing they know: noted, not penalised',
    input: {
      intent: 'balance_question',
      plan: undefined,
      text: 'Your balance is $1,200.00.',
      crossCheck: { intent: 'other' },
    },
    confidence: 0.9,
    flags: ['llm_self_report:0.9', 'intent_unconfirmed'],
  },
  // plan
  {
    name: 'plan disagreement with the rules engine',
    input: {
      crossCheck: { intent: 'payment_plan', plan: { ...plan, weeklyAmount: 40, amountPerPeriod: 40 } },
    },
    confidence: review,
    flags: ['llm_self_report:0.9', 'plan_disagreement'],
  },
  {
    name: 'only the model found a plan',
    input: { crossCheck: { intent: 'payment_plan' } },
    confidence: review,
    flags: ['llm_self_report:0.9', 'plan_disagreement'],
  },
  {
    name: 'start date unknown to one side is not a disagreement',
    input: { crossCheck: { intent: 'payment_plan', plan: { ...plan, startDate: null } } },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'payment_plan intent without a plan',
    input: { plan: undefined },
    confidence: review,
    flags: ['llm_self_report:0.9', 'plan_missing'],
  },
  {
    name: 'a plan under an unrelated intent',
    input: { intent: 'complaint' },
    confidence: review,
    flags: ['llm_self_report:0.9', 'plan_intent_mismatch'],
  },
  {
    name: 'a plan amount the tenant never said',
    input: { plan: { ...plan, weeklyAmount: 75, amountPerPeriod: 75 }, text: 'We will review your offer.' },
    confidence: review,
    flags: ['llm_self_report:0.9', 'plan_amount_unconfirmed'],
  },
  {
    name: 'a plan amount in words, confirmed by the rules engine',
    input: {
      request: { ...collections, conversation: [{ role: 'tenant', text: 'seventy five bucks a week?' }] },
      plan: { ...plan, weeklyAmount: 75, amountPerPeriod: 75, weeks: null, startDate: null },
      crossCheck: {
        intent: 'payment_plan',
        plan: { ...plan, weeklyAmount: 75, amountPerPeriod: 75, weeks: null, startDate: null },
      },
      text: 'We will review $75 a week and confirm.',
    },
    confidence: 0.9,
    flags: ['llm_self_report:0.9'],
  },
  {
    name: 'caps combine: the lowest wins, every flag named',
    input: { selfReported: 0.95, text: `Pay $999 or we take legal action ${'!'.repeat(500)}` },
    confidence: escalate,
    flags: ['llm_self_report:0.95', 'too_long', 'unsupported_amount', 'forbidden_wording:legal_action'],
  },
];

describe('combineConfidence', () => {
  it.each(rows)('$name', ({ input, confidence, flags }) => {
    expect(run(input)).toEqual({ confidence, flags });
  });

  it('never raises the self-report', () => {
    for (const row of rows) {
      const selfReported = row.input.selfReported ?? 0.9;
      expect(run(row.input).confidence).toBeLessThanOrEqual(Math.max(0, Math.min(1, selfReported || 0)));
    }
  });
});

describe('moneyAmounts', () => {
  it.each([
    ['$1,200.50 owed', [1200.5]],
    ['$ 50 a week', [50]],
    ['75 dollars, 20 bucks and 10 USD', [75, 20, 10]],
    ['on the 15th at 3pm, unit 12', []],
    ['$5.5 or $0.99', [5.5, 0.99]],
  ])('%s', (text, expected) => {
    expect(moneyAmounts(text)).toEqual(expected);
  });
});
