import { InvalidPhoneNumberError, normalizePhone } from '../sms/phone.js';
import { isIsoDate, isValidTimeZone } from './days-late.js';
import { centsFromDollars, InvalidAmountError } from './money.js';

/**
 * What the built-in ledger stores for a tenant, checked once before it is written, whether it
 * came from PUT /ledger/tenants/{id} (dollars as JSON numbers) or a CSV import (dollars as text).
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
  propertyName?: string | null | undefined;
  unit?: string | null | undefined;
};

export class LedgerInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'LedgerInputError';
  }
}

/** Safe in a URL path segment and in a CSV cell; the seed's ids look like tenant_12345. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export function tenantRecordFromInput(input: TenantInput, defaultRegion: string): TenantRecord {
  return checkTenantRecord(
    {
      tenantId: input.tenantId,
      name: input.name,
      phone: input.phone,
      timezone: input.timezone,
      amountOwedCents: cents('amount_owed', input.amountOwed),
      tenantPortionCents: input.tenantPortion == null ? null : cents('tenant_portion', input.tenantPortion),
      dueDate: input.dueDate ?? null,
      propertyName: input.propertyName ?? null,
      unit: input.unit ?? null,
    },
    defaultRegion,
  );
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
