import { InvalidPhoneNumberError, normalizePhone } from '../sms/phone.js';
import { isIsoDate, isValidTimeZone, localDate } from './days-late.js';
import { centsFromDollars, InvalidAmountError } from './money.js';

/**
 * What the built-in ledger stores for a tenant, checked once before it is written, whether it
 * came from PUT /ledger/tenants/{id} or PUT /tenants/{id} (dollars as JSON numbers) or a CSV import
 * (dollars as text).
 * Field names in errors are the API's and the CSV header's (snake_case), so the edge can name them.
 */

export type TenantRecord = {
  tenantId: string;
  name: string;
  /** E.164. */
  phone: string;
  timezone: string;
  amountOwedCents: number;
  tenantPortionCents: number | null;
  /** YYYY-MM-DD, the oldest unpaid due date. */
  dueDate: string | null;
  propertyName: string | null;
  unit: string | null;
};

/** A tenant as the API takes it: money in dollars. */
export type TenantInput = {
  tenantId: string;
  name: string;
  phone: string;
  timezone: string;
  amountOwed: number;
  tenantPortion?: number | null | undefined;
  dueDate?: string | null | undefined;
  /**
   * Instead of dueDate: stored as the due date that many days before today in the tenant's
   * timezone, so the count keeps growing with the calendar. Giving both is a LedgerInputError.
   */
  daysLate?: number | null | undefined;
  propertyName?: string | null | undefined;
  unit?: string | null | undefined;
};

/** About a century: enough for any real arrears, and keeps the derived due date a plain year. */
export const MAX_DAYS_LATE = 36_500;
const DAY_MS = 86_400_000;

export class LedgerInputError extends Error {
  constructor(
    readonly field: string,
    /** The message without the field's name. */
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'LedgerInputError';
  }
}

/** Safe in a URL path segment and in a CSV cell; the seed's ids look like tenant_12345. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/**
 * `now` is needed only for daysLate (today is the tenant's today); a caller giving daysLate
 * without it is a programming error.
 */
export function tenantRecordFromInput(input: TenantInput, defaultRegion: string, now?: Date): TenantRecord {
  return checkTenantRecord(
    {
      tenantId: input.tenantId,
      name: input.name,
      phone: input.phone,
      timezone: input.timezone,
      amountOwedCents: cents('amount_owed', input.amountOwed),
      tenantPortionCents: input.tenantPortion == null ? null : cents('tenant_portion', input.tenantPortion),
      dueDate: dueDateFromInput(input, now),
      propertyName: input.propertyName ?? null,
      unit: input.unit ?? null,
    },
    defaultRegion,
  );
}

/** The due date to store: as given, or counted back from today when daysLate is given instead. */
export function dueDateFromInput(
  input: Pick<TenantInput, 'dueDate' | 'daysLate' | 'timezone'>,
  now: Date | undefined,
): string | null {
  if (input.daysLate === undefined) return input.dueDate ?? null;
  if (input.dueDate !== undefined)
    throw new LedgerInputError('days_late', 'give due_date or days_late, not both');
  if (input.daysLate === null) return null;
  checkDaysLate(input.daysLate);
  // A bad timezone is reported by checkTenantRecord; the due date does not matter then.
  if (!isValidTimeZone(input.timezone)) return null;
  if (!now) throw new Error('days_late needs the current time');
  return dueDateForDaysLate(input.daysLate, input.timezone, now);
}

export function checkDaysLate(days: number): void {
  if (!Number.isInteger(days) || days < 0 || days > MAX_DAYS_LATE) {
    throw new LedgerInputError('days_late', `must be a whole number of days from 0 to ${MAX_DAYS_LATE}`);
  }
}

/**
 * The due date (YYYY-MM-DD) that makes a tenant `days` days late today in `timeZone`: the inverse
 * of daysLate in days-late.ts, so storing it keeps the count growing a day per calendar day there.
 */
export function dueDateForDaysLate(days: number, timeZone: string, now: Date): string {
  checkDaysLate(days);
  const today = Date.parse(`${localDate(now, timeZone)}T00:00:00Z`);
  return new Date(today - days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Checks fields not yet checked (money already in cents) and normalizes the phone number; throws
 * LedgerInputError naming the first bad field.
 */
export function checkTenantRecord(raw: TenantRecord, defaultRegion: string): TenantRecord {
  if (!TENANT_ID_PATTERN.test(raw.tenantId)) {
    throw new LedgerInputError('tenant_id', 'use 1 to 100 letters, digits, ".", "_", ":" or "-"');
  }
  const name = raw.name.trim();
  if (name === '' || name.length > 200) throw new LedgerInputError('name', 'must be 1 to 200 characters');
  if (!isValidTimeZone(raw.timezone)) {
    throw new LedgerInputError(
      'timezone',
      `"${raw.timezone}" is not an IANA timezone such as America/New_York`,
    );
  }
  if (raw.dueDate !== null && !isIsoDate(raw.dueDate)) {
    throw new LedgerInputError('due_date', 'must be a calendar date written YYYY-MM-DD');
  }
  if (raw.tenantPortionCents !== null && raw.tenantPortionCents > raw.amountOwedCents) {
    throw new LedgerInputError('tenant_portion', 'cannot be more than amount_owed');
  }
  return {
    ...raw,
    name,
    phone: phone(raw.phone, defaultRegion),
    propertyName: optionalText('property_name', raw.propertyName),
    unit: optionalText('unit', raw.unit),
  };
}

function phone(raw: string, defaultRegion: string): string {
  try {
    return normalizePhone(raw, defaultRegion);
  } catch (error) {
    if (error instanceof InvalidPhoneNumberError) throw new LedgerInputError('phone', error.message);
    throw error;
  }
}

function cents(field: string, dollars: number): number {
  try {
    return centsFromDollars(dollars);
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new LedgerInputError(field, error.message);
    throw error;
  }
}

function optionalText(field: string, value: string | null): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed.length > 200) throw new LedgerInputError(field, 'must be at most 200 characters');
  return trimmed === '' ? null : trimmed;
}
