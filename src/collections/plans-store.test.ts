import { describe, expect, it } from 'vitest';
import { counterOffer, validatePlan, type PlanProposal } from './payment-plan.js';
import { planSummary, planView, storedTerms, type PlanPaymentRow, type PlanRow } from './plans-store.js';

const TODAY = '2025-01-15';
const seedProposal: PlanProposal = {
  weeklyAmount: 50,
  weeks: 12,
  startDate: '2025-01-22',
  amountOwed: 600,
  today: TODAY,
};

function row(proposal: PlanProposal, status = 'active'): PlanRow {
  const validation = validatePlan(proposal);
  const counter = validation.is_valid ? undefined : counterOffer(proposal);
  return {
    id: 'pp_456ghi',
    conversationId: 'conv_abc123',
    tenantId: 'tenant_12345',
    workflowId: null,
    ...storedTerms(proposal, counter),
    status,
    amountOwedCents: Math.round(proposal.amountOwed * 100),
    validation: { ...validation },
    counterOffer: counter ? { ...counter } : null,
    messageContent: 'I can pay $50 per week for 3 months',
    aiResponse: null,
    confidence: 0.92,
    sourceKey: 'test',
    createdAt: new Date('2025-01-15T10:32:00Z'),
    updatedAt: new Date('2025-02-05T10:30:00Z'),
  };
}

const payment = (id: number, paidOn: string, amountCents = 5000): PlanPaymentRow => ({
  id,
  planId: 'pp_456ghi',
  amountCents,
  paidOn,
  method: 'auto_draft',
  reference: null,
  createdAt: new Date(`${paidOn}T10:30:00Z`),
});

describe('planView', () => {
  it("gives the seed's plan-by-id example", () => {
    const payments = [payment(1, '2025-01-22'), payment(2, '2025-01-29'), payment(3, '2025-02-05')];
    expect(planView(row(seedProposal), payments, '2025-02-05')).toEqual({
      payment_plan_id: 'pp_456ghi',
      conversation_id: 'conv_abc123',
      tenant_id: 'tenant_12345',
      weekly_amount: 50,
      weeks: 12,
      start_date: '2025-01-22T00:00:00Z',
      end_date: '2025-04-16T00:00:00Z',
      status: 'active',
      total_amount: 600,
      amount_paid: 150,
      amount_remaining: 450,
      payment_history: [
        { payment_date: '2025-01-22T00:00:00Z', amount: 50, status: 'paid', payment_method: 'auto_draft' },
        { payment_date: '2025-01-29T00:00:00Z', amount: 50, status: 'paid', payment_method: 'auto_draft' },
        { payment_date: '2025-02-05T00:00:00Z', amount: 50, status: 'paid', payment_method: 'auto_draft' },
      ],
      created_at: '2025-01-15T10:32:00.000Z',
      updated_at: '2025-02-05T10:30:00.000Z',
      validation_details: {
        is_valid: true,
        issues: [],
        auto_approvable: true,
        total_amount: 600,
        covers_debt: true,
      },
    });
  });

  it('counts only payments dated up to today', () => {
    const view = planView(
      row(seedProposal),
      [payment(1, '2025-01-22'), payment(2, '2025-01-29')],
      '2025-01-22',
    );
    expect(view.amount_paid).toBe(50);
    expect(view.payment_history).toHaveLength(2);
  });

  it('stops the schedule once the debt is covered: $50 a week towards $520 ends after 11 weeks', () => {
    const view = planView(row({ ...seedProposal, amountOwed: 520 }), [], TODAY);
    expect(view.total_amount).toBe(520);
    expect(view.end_date).toBe('2025-04-09T00:00:00Z');
  });

  it('shows a counter-offer that passes the rules for an invalid plan', () => {
    const view = planView(row({ ...seedProposal, weeklyAmount: 10 }, 'pending_approval'), [], TODAY);
    expect(view.validation_details.is_valid).toBe(false);
    expect(view.validation_details.issues).toContain('weekly_amount_below_minimum');
    const offer = view.counter_offer!;
    expect(offer.start_date).toBe('2025-01-22T00:00:00Z');
    const again = validatePlan({
      weeklyAmount: offer.weekly_amount,
      weeks: offer.weeks,
      startDate: offer.start_date,
      amountOwed: 600,
      today: TODAY,
    });
    expect(again.is_valid).toBe(true);
    expect(offer.total_amount).toBe(600);
  });
});

describe('planSummary', () => {
  it("gives the seed's by-conversation entry", () => {
    expect(planSummary(row(seedProposal))).toEqual({
      payment_plan_id: 'pp_456ghi',
      weekly_amount: 50,
      weeks: 12,
      start_date: '2025-01-22T00:00:00Z',
      status: 'active',
      total_amount: 600,
      created_at: '2025-01-15T10:32:00.000Z',
      validation_details: { is_valid: true, auto_approvable: true, covers_debt: true },
    });
  });
});

describe('storedTerms', () => {
  it('keeps stated terms', () => {
    expect(storedTerms(seedProposal, undefined)).toEqual({
      weeklyAmountCents: 5000,
      weeks: 12,
      startDate: '2025-01-22',
    });
  });

  it('fills in what the tenant left out: weeks the debt needs, a start a week out', () => {
    expect(
      storedTerms({ ...seedProposal, weeks: null, startDate: null, amountOwed: 275 }, undefined),
    ).toEqual({
      weeklyAmountCents: 5000,
      weeks: 6,
      startDate: '2025-01-22',
    });
  });

  it("takes the counter-offer's start for a start date that is not a date", () => {
    const proposal = { ...seedProposal, startDate: 'someday' };
    const counter = counterOffer(proposal);
    expect(storedTerms(proposal, counter).startDate).toBe(counter!.startDate);
  });

  it('stores the date part of a date-time as written', () => {
    expect(storedTerms({ ...seedProposal, startDate: '2025-01-22T00:00:00Z' }, undefined).startDate).toBe(
      '2025-01-22',
    );
  });
});
