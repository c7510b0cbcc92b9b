import { describe, expect, it } from 'vitest';
import { tenantsFromCsv } from './tenants-csv.js';

/** 10:30 in UTC: 05:30 the same day in New York, 00:30 in Honolulu. */
const NOW = new Date('2025-01-15T10:30:00Z');
const HEADER = 'tenant_id,name,phone,timezone,amount_owed,tenant_portion,due_date,property_name,unit';

describe('tenantsFromCsv', () => {
  it('reads every column, normalizing phones and money', () => {
    const csv = [
      HEADER,
      't1,"Doe, Jane",(415) 555-0100,America/Los_Angeles,"1,200.50",600,2025-01-01,"Maple Court",4B',
      't2,Sam Roe,+14155550101,America/New_York,$75,,,,',
    ].join('\r\n');
    const { rows, errors } = tenantsFromCsv(csv, 'US', NOW);
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      {
        line: 2,
        record: {
          tenantId: 't1',
          name: 'Doe, Jane',
          phone: '+14155550100',
          timezone: 'America/Los_Angeles',
          amountOwedCents: 120_050,
          tenantPortionCents: 60_000,
          dueDate: '2025-01-01',
          propertyName: 'Maple Court',
          unit: '4B',
        },
      },
      {
        line: 3,
        record: {
          tenantId: 't2',
          name: 'Sam Roe',
          phone: '+14155550101',
          timezone: 'America/New_York',
          amountOwedCents: 7500,
          tenantPortionCents: null,
          dueDate: null,
          propertyName: null,
          unit: null,
        },
      },
    ]);
  });

  it('takes the columns in any order and case, and the optional ones may be left out', () => {
    const { rows, errors } = tenantsFromCsv(
      'Phone,TENANT_ID,name,timezone,amount_owed\n+14155550100,t1,Jane,UTC,10\n',
      'US',
      NOW,
    );
    expect(errors).toEqual([]);
    expect(rows[0]?.record).toMatchObject({ tenantId: 't1', phone: '+14155550100', amountOwedCents: 1000 });
  });

  it('reads national numbers in the default region', () => {
    const { rows } = tenantsFromCsv(
      'tenant_id,name,phone,timezone,amount_owed\nt1,Jo,020 7946 0958,Europe/London,1\n',
      'GB',
      NOW,
    );
    expect(rows[0]?.record.phone).toBe('+442079460958');
  });

  it.each([
    ['an unknown phone', 't1,Jo,12,UTC,1', 'phone: not a valid phone number'],
    [
      'an unknown timezone',
      't1,Jo,+14155550100,Moon/Base,1',
      'timezone: "Moon/Base" is not an IANA timezone',
    ],
    ['a bad amount', 't1,Jo,+14155550100,UTC,12.345', 'amount_owed: not a valid amount'],
    ['a negative amount', 't1,Jo,+14155550100,UTC,-5', 'amount_owed: not a valid amount'],
    ['a bad tenant id', 't 1,Jo,+14155550100,UTC,1', 'tenant_id:'],
    ['an empty name', 't1,,+14155550100,UTC,1', 'name: must be 1 to 200 characters'],
    ['too few fields', 't1,Jo,+14155550100,UTC', 'row: has 4 fields; the header has 5'],
    ['too many fields', 't1,Jo,+14155550100,UTC,1,2', 'row: has 6 fields; the header has 5'],
  ])('reports %s with its line', (_name, row, message) => {
    const { errors } = tenantsFromCsv(
      `tenant_id,name,phone,timezone,amount_owed\nt0,Ok,+14155550199,UTC,1\n${row}\n`,
      'US',
      NOW,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]?.line).toBe(3);
    expect(errors[0]?.message).toContain(message);
  });

  it('reports bad dates and a portion above the amount owed', () => {
    const csv = [HEADER, 't1,A,+14155550100,UTC,10,20,,,', 't2,B,+14155550101,UTC,10,,2025-02-30,,'].join(
      '\n',
    );
    expect(tenantsFromCsv(csv, 'US', NOW).errors).toEqual([
      { line: 2, message: 'tenant_portion: cannot be more than amount_owed' },
      { line: 3, message: 'due_date: must be a calendar date written YYYY-MM-DD' },
    ]);
  });

  it('reports every bad line, in line order, including duplicates within the file', () => {
    const csv = [
      HEADER,
      't1,A,+14155550100,UTC,1,,,,',
      't2,B,bad,UTC,1,,,,',
      't1,C,+14155550102,UTC,1,,,,',
      't3,D,(415) 555-0100,UTC,1,,,,',
    ].join('\n');
    expect(tenantsFromCsv(csv, 'US', NOW).errors).toEqual([
      { line: 3, message: expect.stringContaining('phone:') as unknown as string },
      { line: 4, message: 'tenant_id: the same as on line 2' },
      { line: 5, message: 'phone: the same as on line 2' },
    ]);
  });

  it.each([
    ['an empty file', '', 1, 'the file is empty'],
    ['an unknown column', 'tenant_id,name,phone,timezone,amount_owed,balance', 1, 'unknown column "balance"'],
    [
      'a repeated column',
      'tenant_id,name,phone,phone,timezone,amount_owed',
      1,
      'column "phone" appears twice',
    ],
    ['missing columns', 'tenant_id,name,phone', 1, 'missing columns: timezone, amount_owed'],
    ['a syntax error', 'tenant_id,name,phone,timezone,amount_owed\nt1,"Jo,x,y,z', 2, 'never closed'],
  ])('refuses %s', (_name, csv, line, message) => {
    const { rows, errors } = tenantsFromCsv(csv, 'US', NOW);
    expect(rows).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.line).toBe(line);
    expect(errors[0]?.message).toContain(message);
  });

  it('takes the seed’s names: phone_number for phone, days_late counted back in each tenant’s timezone', () => {
    const csv = [
      'tenant_id,name,phone_number,timezone,amount_owed,days_late',
      't1,A,(415) 555-0100,America/New_York,10,5',
      // 10:30 UTC is already the 16th at Kiritimati (UTC+14): one day late there is due the 15th.
      't2,B,+14155550101,Pacific/Kiritimati,10,1',
      't3,C,+14155550102,UTC,10,0',
      't4,D,+14155550103,UTC,10,',
    ].join('\n');
    const { rows, errors } = tenantsFromCsv(csv, 'US', NOW);
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.record.tenantId, r.record.phone, r.record.dueDate])).toEqual([
      ['t1', '+14155550100', '2025-01-10'],
      ['t2', '+14155550101', '2025-01-15'],
      ['t3', '+14155550102', '2025-01-15'],
      ['t4', '+14155550103', null],
    ]);
  });

  it('names a column as the header wrote it in errors', () => {
    const csv = [
      'tenant_id,name,phone_number,timezone,amount_owed',
      't1,A,+14155550100,UTC,1',
      't2,B,12,UTC,1',
      't3,C,+14155550100,UTC,1',
    ].join('\n');
    expect(tenantsFromCsv(csv, 'US', NOW).errors).toEqual([
      {
        line: 3,
        message: expect.stringMatching(/^phone_number: not a valid phone number/) as unknown as string,
      },
      { line: 4, message: 'phone_number: the same as on line 2' },
    ]);
  });

  it.each(['-1', '1.5', 'ten', '36501', '9999999'])('refuses days_late %s', (days) => {
    const { errors } = tenantsFromCsv(
      `tenant_id,name,phone,timezone,amount_owed,days_late\nt1,A,+14155550100,UTC,1,${days}\n`,
      'US',
      NOW,
    );
    expect(errors).toEqual([
      { line: 2, message: 'days_late: must be a whole number of days from 0 to 36500' },
    ]);
  });

  it('a bad timezone with days_late is reported as the timezone', () => {
    const { errors } = tenantsFromCsv(
      'tenant_id,name,phone,timezone,amount_owed,days_late\nt1,A,+14155550100,Eastern,1,3\n',
      'US',
      NOW,
    );
    expect(errors).toEqual([{ line: 2, message: expect.stringContaining('timezone:') as unknown as string }]);
  });

  it.each([
    [
      'phone and phone_number',
      'tenant_id,name,phone,phone_number,timezone,amount_owed',
      'columns "phone" and "phone_number" are the same; keep one',
    ],
    [
      'due_date and days_late',
      'tenant_id,name,phone,timezone,amount_owed,due_date,days_late',
      'give a due_date or a days_late column, not both',
    ],
    [
      'an unknown column',
      'tenant_id,name,phone,timezone,amount_owed,balance',
      'phone_number may stand for phone, days_late for due_date',
    ],
  ])('refuses a header with %s', (_name, header, message) => {
    const { rows, errors } = tenantsFromCsv(`${header}\n`, 'US', NOW);
    expect(rows).toEqual([]);
    expect(errors).toEqual([{ line: 1, message: expect.stringContaining(message) as unknown as string }]);
  });

  it('a header alone is an empty import, not an error', () => {
    expect(tenantsFromCsv(`${HEADER}\n`, 'US', NOW)).toEqual({ rows: [], errors: [] });
  });
});
