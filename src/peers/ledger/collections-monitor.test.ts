import { describe, expect, it } from 'vitest';
import {
  MalformedTenantError,
  tenantFromMonitorRecord,
  type MonitorDefaults,
} from './collections-monitor.js';

const defaults: MonitorDefaults = {
  region: 'US',
  timezone: 'America/New_York',
  now: () => new Date('2025-01-15T10:30:00Z'),
};

describe('reading a Collections Monitor tenant record', () => {
  it('maps the full shape', () => {
    const tenant = tenantFromMonitorRecord(
      {
        tenant_id: 'tenant_12345',
        tenant_name: 'Jane Doe',
        phone_number: '+14155550100',
        timezone: 'America/Los_Angeles',
        amount_owed: 1200.0,
        tenant_portion: 600.0,
        days_late: 15,
        property_name: 'Maple Court',
        unit: '4B',
        payment_history: [
          { payment_date: '2025-01-02T00:00:00Z', amount: 50.0, status: 'paid', payment_method: 'ach' },
          { payment_date: '2025-01-09T00:00:00Z', amount: 50.0, status: 'failed', payment_method: 'ach' },
        ],
        unknown_extra: { ignored: true },
      },
      defaults,
    );
    expect(tenant).toEqual({
      tenantId: 'tenant_12345',
      name: 'Jane Doe',
      phone: '+14155550100',
      timezone: 'America/Los_Angeles',
      amountOwed: 1200,
      tenantPortion: 600,
      daysLate: 15,
      propertyName: 'Maple Court',
      unit: '4B',
      paymentHistory: [{ date: '2025-01-02', amount: 50, method: 'ach' }],
    });
  });

  it('tolerates the minimum: other spellings, strings for money, no optional fields', () => {
    const tenant = tenantFromMonitorRecord(
      {
        tenant_id: 42,
        name: 'Sam',
        phone: '(415) 555-0101',
        amount_owed: '75.50',
        tenant_portion: null,
        unit: 7,
      },
      defaults,
    );
    expect(tenant).toEqual({
      tenantId: '42',
      name: 'Sam',
      phone: '+14155550101',
      timezone: 'America/New_York',
      amountOwed: 75.5,
      tenantPortion: undefined,
      daysLate: 0,
      propertyName: undefined,
      unit: '7',
      paymentHistory: [],
    });
  });

  it('counts days late from due_date when days_late is missing, and replaces an unknown timezone', () => {
    const tenant = tenantFromMonitorRecord(
      {
        tenant_id: 't',
        name: 'A',
        phone_number: '+14155550100',
        amount_owed: 10,
        due_date: '2025-01-05',
        timezone: 'Nowhere/Land',
      },
      defaults,
    );
    expect(tenant.daysLate).toBe(10);
    expect(tenant.timezone).toBe('America/New_York');
  });

  it('keeps money to whole cents and skips payment entries it cannot read', () => {
    const tenant = tenantFromMonitorRecord(
      {
        tenant_id: 't',
        name: 'A',
        phone_number: '+14155550100',
        amount_owed: 10.005,
        payment_history: [
          { date: '2025-01-02', amount: '25.00', method: 'card' },
          { payment_date: 'yesterday', amount: 5 },
          { payment_date: '2025-01-03', amount: 'five' },
          'not an object',
          { payment_date: '2025-01-04', amount: 1, status: 'PENDING' },
        ],
      },
      defaults,
    );
    expect(tenant.amountOwed).toBe(10.01);
    expect(tenant.paymentHistory).toEqual([{ date: '2025-01-02', amount: 25, method: 'card' }]);
  });

  it.each([
    ['no tenant_id', { name: 'A', phone_number: '+14155550100', amount_owed: 1 }, 'tenant_id'],
    ['no name', { tenant_id: 't', phone_number: '+14155550100', amount_owed: 1 }, 'tenant_name: missing'],
    ['no phone', { tenant_id: 't', name: 'A', amount_owed: 1 }, 'phone_number'],
    ['an invalid phone', { tenant_id: 't', name: 'A', phone_number: '12', amount_owed: 1 }, 'phone_number'],
    ['no amount', { tenant_id: 't', name: 'A', phone_number: '+14155550100' }, 'amount_owed'],
    [
      'money as words',
      { tenant_id: 't', name: 'A', phone_number: '+14155550100', amount_owed: 'lots' },
      'amount_owed',
    ],
    ['not an object', 'tenant', '(record)'],
  ])('refuses a record with %s', (_name, record, message) => {
    expect(() => tenantFromMonitorRecord(record, defaults)).toThrow(MalformedTenantError);
    expect(() => tenantFromMonitorRecord(record, defaults)).toThrow(message);
  });
});
