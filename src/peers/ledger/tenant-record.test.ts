import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { daysLate } from './days-late.js';
import {
  dueDateForDaysLate,
  LedgerInputError,
  MAX_DAYS_LATE,
  tenantRecordFromInput,
  type TenantInput,
} from './tenant-record.js';

const NOW = new Date('2025-01-15T10:30:00Z');

const input = (overrides: Partial<TenantInput> = {}): TenantInput => ({
  tenantId: 't1',
  name: 'Jane',
  phone: '(415) 555-0100',
  timezone: 'America/New_York',
  amountOwed: 100,
  ...overrides,
});

function inputError(run: () => unknown): LedgerInputError {
  try {
    run();
  } catch (error) {
    if (error instanceof LedgerInputError) return error;
    throw error;
  }
  throw new Error('expected a LedgerInputError');
}

describe('dueDateForDaysLate', () => {
  it.each([
    // days late, timezone, now (UTC), due date
    [0, 'America/New_York', '2025-01-15T10:30:00Z', '2025-01-15'],
    [5, 'America/New_York', '2025-01-15T10:30:00Z', '2025-01-10'],
    // 03:00 UTC on the 15th is still the 14th in New York
    [1, 'America/New_York', '2025-01-15T03:00:00Z', '2025-01-13'],
    [1, 'UTC', '2025-01-15T03:00:00Z', '2025-01-14'],
    [1, 'Asia/Tokyo', '2025-01-14T16:00:00Z', '2025-01-14'],
    [15, 'UTC', '2024-03-10T12:00:00Z', '2024-02-24'], // across a leap day
    [3, 'America/New_York', '2025-03-10T12:00:00Z', '2025-03-07'], // across the DST change
  ])('%i days late in %s at %s is due %s', (days, zone, now, due) => {
    expect(dueDateForDaysLate(days, zone, new Date(now))).toBe(due);
  });

  it('is the inverse of daysLate, whatever the zone and time', () => {
    const zones = ['UTC', 'America/New_York', 'Pacific/Honolulu', 'Asia/Kolkata', 'Pacific/Kiritimati'];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX_DAYS_LATE }),
        fc.constantFrom(...zones),
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2100-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        (days, timeZone, now) => {
          const dueDate = dueDateForDaysLate(days, timeZone, now);
          expect(daysLate({ dueDate, amountOwedCents: 1, timeZone, now })).toBe(days);
          // and the count grows by one a day later
          const tomorrow = new Date(now.getTime() + 86_400_000);
          expect(daysLate({ dueDate, amountOwedCents: 1, timeZone, now: tomorrow })).toBe(days + 1);
        },
      ),
    );
  });

  it.each([-1, 1.5, MAX_DAYS_LATE + 1, Number.NaN])('refuses %s days', (days) => {
    expect(inputError(() => dueDateForDaysLate(days, 'UTC', NOW)).field).toBe('days_late');
  });
});

describe('tenantRecordFromInput', () => {
  it('stores days_late as the due date counted back from today where the tenant lives', () => {
    expect(tenantRecordFromInput(input({ daysLate: 14 }), 'US', NOW)).toMatchObject({
      phone: '+14155550100',
      dueDate: '2025-01-01',
    });
  });

  it('days_late null means no due date, like due_date null', () => {
    expect(tenantRecordFromInput(input({ daysLate: null }), 'US', NOW).dueDate).toBeNull();
  });

  it('keeps a due date as given', () => {
    expect(tenantRecordFromInput(input({ dueDate: '2024-12-01' }), 'US').dueDate).toBe('2024-12-01');
  });

  it('refuses due_date and days_late together, even when one is null', () => {
    for (const both of [
      { dueDate: '2025-01-01', daysLate: 14 },
      { dueDate: null, daysLate: 3 },
    ]) {
      const error = inputError(() => tenantRecordFromInput(input(both), 'US', NOW));
      expect(error.field).toBe('days_late');
      expect(error.detail).toBe('give due_date or days_late, not both');
    }
  });

  it('a bad timezone is reported as the timezone, not as a crash computing the due date', () => {
    const error = inputError(() =>
      tenantRecordFromInput(input({ timezone: 'Eastern', daysLate: 2 }), 'US', NOW),
    );
    expect(error.field).toBe('timezone');
  });

  it('names the phone when it is not a number', () => {
    const error = inputError(() => tenantRecordFromInput(input({ phone: '555-01' }), 'US'));
    expect(error.field).toBe('phone');
    expect(error.message).toBe(`phone: ${error.detail}`);
  });
});
