import { describe, expect, it } from 'vitest';
import { redactText, redactValue } from './redact.js';

describe('redactText', () => {
  it.each([
    ['E.164', 'reply to +15551234567 now', 'reply to [phone] now'],
    ['E.164, UK', 'call +442079460958', 'call [phone]'],
    ['international with spaces', 'call +44 20 7946 0958 today', 'call [phone] today'],
    ['international with dashes', 'tel +49-30-1234-5678.', 'tel [phone].'],
    ['NANP with +1 and parentheses', 'from +1 (555) 123-4567', 'from [phone]'],
    ['NANP parentheses', 'from (555) 123-4567', 'from [phone]'],
    ['NANP parentheses, no space', 'from (555)123-4567', 'from [phone]'],
    ['NANP dashes', 'from 555-123-4567', 'from [phone]'],
    ['NANP dots', 'from 555.123.4567', 'from [phone]'],
    ['NANP spaces', 'from 555 123 4567', 'from [phone]'],
    ['bare ten digits', 'from 5551234567', 'from [phone]'],
    ['bare eleven digits', 'from 15551234567', 'from [phone]'],
    ['two numbers', '5551234567 to +15559876543', '[phone] to [phone]'],
    ['email', 'mail jane.doe@example.com', 'mail [email]'],
    ['email with plus and subdomain', '<rent+unit-4B@mail.example.co.uk>', '<[email]>'],
    ['phone and email', 'tenant +15551234567 / jane@example.org', 'tenant [phone] / [email]'],
  ])('redacts %s', (_label, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it.each([
    ['an ISO date', 'due 2025-01-15'],
    ['an ISO timestamp', 'at 2025-01-15T10:30:00Z'],
    ['an ISO timestamp with milliseconds and offset', 'at 2025-01-15T10:30:00.123+05:30'],
    ['a time', 'at 10:30:00'],
    ['a short time', 'at 9:05'],
    ['a date range', '2025-01-15 to 2025-02-15'],
    ['a US date', '01/15/2025'],
    ['a UUID', 'workflow 123e4567-e89b-12d3-a456-426614174000'],
    ['a UUID of digits', 'job 12345678-1234-4234-8234-123456789012'],
    ['an amount', 'owes 1250'],
    ['an amount with cents', 'owes $1,250.00 (1250.50)'],
    ['a large amount', 'portfolio 125000000'],
    ['a percentage and a count', '95% of 300 drafts'],
    ['a unit number', 'Unit 4B, 221 Baker St'],
    ['an epoch in milliseconds', 'ts 1736937000000'],
    ['a Twilio SID', 'SM0123456789abcdef0123456789abcdef'],
    ['a version', 'v1.2.3'],
  ])('leaves %s alone', (_label, input) => {
    expect(redactText(input)).toBe(input);
  });
});

describe('redactValue', () => {
  it('redacts strings at any depth, in objects and arrays', () => {
    const input = {
      phone: '+15551234567',
      tenant: { contact: { email: 'jane@example.com', phones: ['555-123-4567', '(555) 987-6543'] } },
      note: 'call 5551234567 about 1250 due 2025-01-15',
      amount: 1250,
      ok: true,
      none: null,
    };
    expect(redactValue(input)).toEqual({
      phone: '[phone]',
      tenant: { contact: { email: '[email]', phones: ['[phone]', '[phone]'] } },
      note: 'call [phone] about 1250 due 2025-01-15',
      amount: 1250,
      ok: true,
      none: null,
    });
  });

  it('redacts Error messages and stacks, in place and nested', () => {
    const error = new TypeError('SMS to +15551234567 failed for jane@example.com');
    const redacted = redactValue(error) as { type: string; message: string; stack: string };
    expect(redacted).toMatchObject({ type: 'TypeError', message: 'SMS to [phone] failed for [email]' });
    expect(redacted.stack).toContain('TypeError: SMS to [phone] failed for [email]');
    expect(redacted.stack).toContain('redact.test.ts');
    const nested = redactValue({ job: { err: error, id: '123e4567-e89b-12d3-a456-426614174000' } });
    expect(nested).toMatchObject({
      job: {
        err: { type: 'TypeError', message: 'SMS to [phone] failed for [email]' },
        id: '123e4567-e89b-12d3-a456-426614174000',
      },
    });
    expect(JSON.stringify(nested)).not.toContain('5551234567');
    expect(JSON.stringify(nested)).not.toContain('jane@');
  });

  it('keeps dates and does not change the input', () => {
    const at = new Date('2025-01-15T10:30:00Z');
    const input = { at, to: '+15551234567' };
    expect(redactValue(input)).toEqual({ at, to: '[phone]' });
    expect(input.to).toBe('+15551234567');
  });
});
