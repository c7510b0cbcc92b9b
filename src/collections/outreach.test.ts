import { describe, expect, it } from 'vitest';
import type { Tenant } from '../peers/ledger/ledger-port.js';
import { countSegments } from '../peers/sms/segments.js';
import { guardDraft } from './guard.js';
import {
  DEFAULT_RECENT_CONTACT_HOURS,
  outreachFacts,
  outreachText,
  planOutreach,
  type OutreachCandidate,
  type OutreachPolicy,
} from './outreach.js';

const NOW = new Date('2025-01-15T15:30:00Z'); // 10:30 in New York
const HOUR = 3_600_000;

const TENANT: Tenant = {
  tenantId: 't1',
  name: 'Maria Lopez',
  phone: '+12125550101',
  timezone: 'America/New_York',
  amountOwed: 600,
  daysLate: 12,
  propertyName: 'Oak Court',
  paymentHistory: [{ date: '2025-01-03', amount: 300 }],
};

const POLICY: OutreachPolicy = {
  optOutLine: 'Reply STOP to opt out',
  maxSegments: 3,
  sendWindow: { startHour: 8, endHour: 21 },
  recentContactHours: DEFAULT_RECENT_CONTACT_HOURS,
};

function candidate(overrides: Partial<OutreachCandidate> = {}): OutreachCandidate {
  return { tenantId: 't1', tenant: TENANT, delinquent: true, optedOut: false, ...overrides };
}

const conversation = (overrides: Partial<NonNullable<OutreachCandidate['conversation']>> = {}) => ({
  state: 'open' as const,
  lastOutboundAt: null,
  lastInboundAt: null,
  ...overrides,
});

describe('outreachText', () => {
  it('states the name, the balance and the days late, politely, with the opt-out line', () => {
    const text = outreachText(TENANT, outreachFacts(TENANT), 'Reply STOP to opt out');
    expect(text).toBe(
      'Hi Maria, this is a reminder about your rent. Your balance at Oak Court is $600. ' +
        'Your payment is 12 days late. Reply here if you have any questions.\nReply STOP to opt out',
    );
    expect(countSegments(text).segments).toBe(2);
  });

  it("states the tenant's portion when assistance pays part", () => {
    const tenant = { ...TENANT, amountOwed: 1200, tenantPortion: 350.5, propertyName: undefined };
    const text = outreachText(tenant, outreachFacts(tenant), 'Reply STOP to opt out');
    expect(text).toContain('Your portion of the $1,200 balance is $350.50.');
  });

  it('leaves out the days late when the ledger has none, and the greeting name when there is none', () => {
    const tenant = { ...TENANT, name: ' ', daysLate: 0, propertyName: undefined };
    const text = outreachText(tenant, outreachFacts(tenant), 'Text STOP to end');
    expect(text).toBe(
      'Hello. This is a reminder about your rent. Your balance is $600. Reply here if you have any questions.\nText STOP to end',
    );
    expect(outreachText(TENANT, { ...outreachFacts(TENANT), daysLate: 1 }, 'x')).toContain('is 1 day late.');
  });

  it('passes the draft guard for ordinary ledgers, names that look like threats included', () => {
    for (const tenant of [
      TENANT,
      { ...TENANT, name: 'Justice Court', propertyName: 'Police Plaza Lofts' },
      { ...TENANT, amountOwed: 1234.56, tenantPortion: 99.99, daysLate: 400 },
    ]) {
      const ledger = outreachFacts(tenant);
      const result = guardDraft({
        draft: outreachText(tenant, ledger, POLICY.optOutLine),
        ledger,
        tenantText: '',
        maxSegments: 3,
        optOutLine: POLICY.optOutLine,
        intent: 'other',
        thirdPartySuspected: false,
      });
      expect(result, tenant.name).toMatchObject({ verdict: 'pass', flags: [] });
    }
  });
});

describe('planOutreach', () => {
  it('sends now inside the window, with the guard passed', () => {
    const plan = planOutreach(candidate(), POLICY, NOW);
    expect(plan).toMatchObject({ action: 'send', tenantId: 't1', held: false, sendAt: NOW });
    if (plan.action !== 'send') throw new Error('expected send');
    expect(plan.guard.verdict).toBe('pass');
    expect(plan.text.endsWith('\nReply STOP to opt out')).toBe(true);
  });

  it('holds the text until the window opens where it is night', () => {
    // 00:30 in Tokyo; 08:00 there is 23:00 UTC.
    const plan = planOutreach(candidate({ tenant: { ...TENANT, timezone: 'Asia/Tokyo' } }), POLICY, NOW);
    expect(plan).toMatchObject({ action: 'send', held: true, sendAt: new Date('2025-01-15T23:00:00Z') });
  });

  it.each<[string, Partial<OutreachCandidate>, string]>([
    ['unknown tenant', { tenant: undefined }, 'unknown_tenant'],
    ['opted out (before anything else)', { optedOut: true, delinquent: false }, 'opted_out'],
    ['not listed as delinquent', { delinquent: false }, 'not_delinquent'],
    ['owes nothing', { tenant: { ...TENANT, amountOwed: 0 } }, 'not_delinquent'],
    ['assistance pays everything', { tenant: { ...TENANT, tenantPortion: 0 } }, 'not_delinquent'],
    [
      'escalated conversation',
      { conversation: conversation({ state: 'escalated' }) },
      'conversation_escalated',
    ],
    ['escalated workflow', { latestWorkflowState: 'escalated' }, 'conversation_escalated'],
    ['outreach 71 h ago', { lastOutreachAt: new Date(NOW.getTime() - 71 * HOUR) }, 'recently_contacted'],
    [
      'our text 2 h ago',
      { conversation: conversation({ lastOutboundAt: new Date(NOW.getTime() - 2 * HOUR) }) },
      'recently_contacted',
    ],
    [
      'their text 2 h ago',
      { conversation: conversation({ lastInboundAt: new Date(NOW.getTime() - 2 * HOUR) }) },
      'recently_contacted',
    ],
    [
      'a scheduled outreach (recent wins over open)',
      { latestWorkflowState: 'scheduled', lastOutreachAt: new Date(NOW.getTime() - HOUR) },
      'recently_contacted',
    ],
    [
      'a draft waiting for a manager',
      { conversation: conversation({ state: 'awaiting_approval' }) },
      'open_workflow',
    ],
    ['a turn being drafted', { latestWorkflowState: 'processing' }, 'open_workflow'],
    ['a held reply', { latestWorkflowState: 'scheduled' }, 'open_workflow'],
    ['a failed turn waiting for a retry', { latestWorkflowState: 'failed' }, 'open_workflow'],
    [
      'a number with no hour inside the window everywhere',
      { tenant: { ...TENANT, timezone: 'Not/AZone', phone: '+99912345' } },
      'no_send_window',
    ],
  ])('skips: %s', (_name, overrides, reason) => {
    expect(planOutreach(candidate(overrides), POLICY, NOW)).toEqual({
      action: 'skip',
      tenantId: 't1',
      reason,
    });
  });

  it('sends again once the last contact is older than the window', () => {
    const old = new Date(NOW.getTime() - 73 * HOUR);
    const plan = planOutreach(
      candidate({
        lastOutreachAt: old,
        latestWorkflowState: 'completed',
        conversation: conversation({ lastOutboundAt: old, lastInboundAt: old }),
      }),
      POLICY,
      NOW,
    );
    expect(plan.action).toBe('send');
    expect(
      planOutreach(candidate({ lastOutreachAt: old }), { ...POLICY, recentContactHours: 74 }, NOW),
    ).toMatchObject({ action: 'skip', reason: 'recently_contacted' });
  });

  it('skips with the guard flags when the text fails the guard, never sends it', () => {
    const plan = planOutreach(candidate(), { ...POLICY, maxSegments: 1 }, NOW);
    expect(plan).toEqual({
      action: 'skip',
      tenantId: 't1',
      reason: 'guard_failed',
      flags: ['over_segment_budget'],
    });
    // Counted on the text as sent: a name outside GSM-7 makes the whole text UCS-2 (70 a segment).
    const budget = { ...POLICY, maxSegments: 2 };
    expect(planOutreach(candidate(), budget, NOW).action).toBe('send');
    expect(planOutreach(candidate({ tenant: { ...TENANT, name: 'Zoë Lopez' } }), budget, NOW)).toMatchObject({
      action: 'skip',
      reason: 'guard_failed',
      flags: ['over_segment_budget'],
    });
  });
});
