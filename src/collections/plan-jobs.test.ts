import { describe, expect, it } from 'vitest';
import { countSegments } from '../peers/sms/segments.js';
import { COUNTRY_ZONES } from './allowed-hours.js';
import { parseIsoDate } from './calendar-date.js';
import { schedule, type PlanPayment } from './payment-plan.js';
import { decidePlanCheck, reminderText, tenantToday } from './plan-jobs.js';

const seedPlan = schedule({ weeklyAmount: 50, weeks: 12, startDate: '2025-01-22', amountOwed: 600 });
const day = (iso: string) => parseIsoDate(iso) as number;

function check(today: string, payments: PlanPayment[] = [], remindedBefore = false, instalments = seedPlan) {
  return decidePlanCheck({ instalments, payments, today, graceDays: 3, remindedBefore });
}

describe('decidePlanCheck', () => {
  it('on the first due date: nothing missed yet; next look the day after the grace period', () => {
    expect(check('2025-01-22')).toEqual({
      missed: [],
      action: 'none',
      completed: false,
      nextCheckDay: day('2025-01-26'),
    });
  });

  it('within the grace period nothing is missed', () => {
    expect(check('2025-01-25').action).toBe('none');
  });

  it('the first miss gets a reminder; the next look is after the next grace period', () => {
    const decision = check('2025-01-26');
    expect(decision.action).toBe('remind');
    expect(decision.missed.map((m) => m.number)).toEqual([1]);
    expect(decision.nextCheckDay).toBe(day('2025-02-02'));
  });

  it('two misses escalate, and the plan is no longer watched', () => {
    const decision = check('2025-02-02');
    expect(decision.action).toBe('escalate');
    expect(decision.missed.map((m) => m.number)).toEqual([1, 2]);
    expect(decision.nextCheckDay).toBeUndefined();
  });

  it('a miss after a reminder escalates; the same miss with no reminder before is reminded', () => {
    const lateFirst = [{ date: '2025-01-27', amount: 50 }];
    expect(check('2025-02-02', lateFirst, true).action).toBe('escalate');
    expect(check('2025-02-02', lateFirst, false)).toMatchObject({
      action: 'remind',
      missed: [{ number: 2 }],
    });
  });

  it('paid up: nothing to do; a payment dated later than today does not count yet', () => {
    expect(check('2025-02-02', [{ date: '2025-01-29', amount: 100 }]).action).toBe('none');
    expect(check('2025-02-02', [{ date: '2025-02-03', amount: 100 }]).action).toBe('escalate');
  });

  it('paid in full: completed', () => {
    expect(check('2025-02-02', [{ date: '2025-02-01', amount: 600 }])).toEqual({
      missed: [],
      action: 'none',
      completed: true,
      nextCheckDay: undefined,
    });
  });

  it('after the last instalment, an unpaid one is looked at again a week on, then escalated', () => {
    const short = schedule({ weeklyAmount: 50, weeks: 2, startDate: '2025-01-22', amountOwed: 100 });
    const paidFirst = [{ date: '2025-01-22', amount: 50 }];
    const first = check('2025-02-02', paidFirst, false, short);
    expect(first).toMatchObject({ action: 'remind', nextCheckDay: day('2025-02-09') });
    expect(check('2025-02-09', paidFirst, true, short).action).toBe('escalate');
  });

  it('a repeated check on the same day decides the same', () => {
    expect(check('2025-01-26')).toEqual(check('2025-01-26'));
  });
});

describe('tenantToday', () => {
  it('is the earliest local date among the plausible zones (Hawaii for a US number)', () => {
    const now = new Date('2025-01-26T05:00:00Z');
    expect(tenantToday(now, COUNTRY_ZONES.US ?? [])).toBe('2025-01-25');
    expect(tenantToday(now, ['Europe/Paris'])).toBe('2025-01-26');
  });

  it('is the UTC date when no zone is plausible', () => {
    expect(tenantToday(new Date('2025-01-26T23:30:00Z'), [])).toBe('2025-01-26');
  });
});

describe('reminderText', () => {
  it('names the amount and the due date, ends with the opt-out line and fits in one GSM-7 segment', () => {
    const [missed] = decidePlanCheck({
      instalments: seedPlan,
      payments: [{ date: '2025-01-22', amount: 20 }],
      today: '2025-01-26',
      graceDays: 3,
      remindedBefore: false,
    }).missed;
    const text = reminderText(missed!, 'Reply STOP to opt out');
    expect(text).toContain('$30.00');
    expect(text).toContain('Jan 22');
    expect(text.endsWith('\nReply STOP to opt out')).toBe(true);
    const count = countSegments(text);
    expect(count.encoding).toBe('gsm7');
    expect(count.segments).toBe(1);
    const large = reminderText(
      { ...missed!, outstanding: 123456.78, due_date: '2025-12-31' },
      'Reply STOP to opt out',
    );
    expect(countSegments(large).segments).toBe(1);
  });
});
