import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { Executor } from '../../core/db/database.js';
import { ledgerPayments, ledgerTenants } from '../../core/db/peer-tables.js';
import type { Clock } from '../../core/runtime.js';
import { tryNormalizePhone } from '../sms/phone.js';
import { daysLate, isIsoDate } from './days-late.js';
import type { LedgerPayment, LedgerPort, Tenant } from './ledger-port.js';
import { centsFromDollars, dollarsFromCents, InvalidAmountError } from './money.js';
import {
  LedgerInputError,
  tenantRecordFromInput,
  type TenantInput,
  type TenantRecord,
} from './tenant-record.js';
import { tenantsFromCsv, type CsvLineError } from './tenants-csv.js';

/**
 * The built-in ledger (the default when no Collections Monitor is configured): tenants and their
 * payments in our own tables, money in cents there and in dollars on the way out. This file is the
 * only one that knows those tables.
 *
 * Days late are not stored: they are counted from the oldest unpaid due date to today in the
 * tenant's timezone, so they grow with the calendar without a nightly job.
 */

export { LedgerInputError, type TenantInput } from './tenant-record.js';

/** The payment history a Tenant carries: the most recent payments, oldest first. */
export const PAYMENT_HISTORY_LIMIT = 50;

export class TenantNotFoundError extends Error {
  constructor(readonly tenantId: string) {
    super(`no tenant ${tenantId} in the ledger`);
    this.name = 'TenantNotFoundError';
  }
}

/** Phone numbers are unique: an inbound text must resolve to exactly one tenant. */
export class TenantPhoneTakenError extends Error {
  constructor(readonly otherTenantId: string | undefined) {
    super(
      `phone: the number already belongs to ${otherTenantId ? `tenant ${otherTenantId}` : 'another tenant'}`,
    );
    this.name = 'TenantPhoneTakenError';
  }
}

/** A payment reference recorded once already, with another amount or date. */
export class PaymentReferenceConflictError extends Error {
  constructor(readonly reference: string) {
    super(`reference: payment ${reference} is already recorded with another amount or date`);
    this.name = 'PaymentReferenceConflictError';
  }
}

type TenantRow = typeof ledgerTenants.$inferSelect;
type PaymentRow = typeof ledgerPayments.$inferSelect;

export function createBuiltinLedger(db: Executor, clock: Clock): LedgerPort {
  return {
    name: 'builtin',
    async getTenant(tenantId) {
      const [row] = await db.select().from(ledgerTenants).where(eq(ledgerTenants.tenantId, tenantId));
      return row ? (await withHistory(db, [row], clock.now()))[0] : undefined;
    },
    async getTenants(tenantIds) {
      if (tenantIds.length === 0) return new Map();
      const rows = await db
        .select()
        .from(ledgerTenants)
        .where(inArray(ledgerTenants.tenantId, [...tenantIds]));
      const tenants = await withHistory(db, rows, clock.now());
      return new Map(tenants.map((tenant) => [tenant.tenantId, tenant]));
    },
    async findTenantByPhone(phone) {
      const e164 = tryNormalizePhone(phone) ?? phone;
      const [row] = await db.select().from(ledgerTenants).where(eq(ledgerTenants.phone, e164));
      return row ? (await withHistory(db, [row], clock.now()))[0] : undefined;
    },
    async listDelinquent() {
      return listDelinquentTenants(db, clock.now());
    },
  };
}

/**
 * Tenants who owe money and are past due where they live, most days late first. A balance with no
 * due date counts as delinquent too (an import from a system that only knows balances), with 0 days.
 */
async function listDelinquentTenants(db: Executor, now: Date): Promise<Tenant[]> {
  // Every timezone's today is within a day of UTC's: the SQL takes a superset, daysLate decides.
  const tomorrowUtc = new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10);
  const rows = await db
    .select()
    .from(ledgerTenants)
    .where(
      and(
        gt(ledgerTenants.amountOwedCents, 0),
        or(isNull(ledgerTenants.dueDate), lt(ledgerTenants.dueDate, tomorrowUtc)),
      ),
    );
  const tenants = await withHistory(db, rows, now);
  return tenants
    .filter((t, i) => t.daysLate > 0 || rows[i]?.dueDate === null)
    .sort(
      (a, b) =>
        b.daysLate - a.daysLate || b.amountOwed - a.amountOwed || a.tenantId.localeCompare(b.tenantId),
    );
}

/** Every tenant, by id, a page at a time (GET /ledger/tenants without ?delinquent=true). */
export async function listTenants(
  db: Executor,
  now: Date,
  page: { limit: number; after?: string | undefined },
): Promise<Tenant[]> {
  const rows = await db
    .select()
    .from(ledgerTenants)
    .where(page.after === undefined ? undefined : gt(ledgerTenants.tenantId, page.after))
    .orderBy(asc(ledgerTenants.tenantId))
    .limit(page.limit);
  return withHistory(db, rows, now);
}

/** Tenants with their recent payments, in one query for all of them. */
async function withHistory(db: Executor, rows: TenantRow[], now: Date): Promise<Tenant[]> {
  if (rows.length === 0) return [];
  const payments = await db
    .select()
    .from(ledgerPayments)
    .where(
      inArray(
        ledgerPayments.tenantId,
        rows.map((r) => r.tenantId),
      ),
    )
    .orderBy(desc(ledgerPayments.paidOn), desc(ledgerPayments.id));
  const byTenant = new Map<string, LedgerPayment[]>();
  for (const payment of payments) {
    const list = byTenant.get(payment.tenantId) ?? [];
    if (list.length < PAYMENT_HISTORY_LIMIT) list.push(toLedgerPayment(payment));
    byTenant.set(payment.tenantId, list);
  }
  return rows.map((row) => toTenant(row, (byTenant.get(row.tenantId) ?? []).reverse(), now));
}

function toLedgerPayment(row: PaymentRow): LedgerPayment {
  return { date: row.paidOn, amount: dollarsFromCents(row.amountCents), method: row.method ?? undefined };
}

function toTenant(row: TenantRow, paymentHistory: LedgerPayment[], now: Date): Tenant {
  return {
    tenantId: row.tenantId,
    name: row.name,
    phone: row.phone,
    timezone: row.timezone,
    amountOwed: dollarsFromCents(row.amountOwedCents),
    tenantPortion: row.tenantPortionCents === null ? undefined : dollarsFromCents(row.tenantPortionCents),
    daysLate: daysLate({
      dueDate: row.dueDate,
      amountOwedCents: row.amountOwedCents,
      timeZone: row.timezone,
      now,
    }),
    propertyName: row.propertyName ?? undefined,
    unit: row.unit ?? undefined,
    paymentHistory,
  };
}

/**
 * Creates or replaces a tenant (PUT semantics: every field is as given). A daysLate is stored as
 * the due date that many days before `now` in the tenant's timezone. Throws LedgerInputError
 * naming a bad field, TenantPhoneTakenError when another tenant has the number.
 */
export async function upsertTenant(
  db: Executor,
  input: TenantInput,
  now: Date,
  defaultRegion = 'US',
): Promise<{ tenant: Tenant; created: boolean }> {
  const record = tenantRecordFromInput(input, defaultRegion, now);
  return db.transaction(async (tx) => {
    await assertPhonesFree(tx, [record]);
    const [existing] = await tx
      .select({ tenantId: ledgerTenants.tenantId })
      .from(ledgerTenants)
      .where(eq(ledgerTenants.tenantId, record.tenantId));
    const [row] = await writeTenants(tx, [record], now);
    if (!row) throw new Error('upsert returned no row');
    const [tenant] = await withHistory(tx, [row], now);
    return { tenant: tenant ?? toTenant(row, [], now), created: !existing };
  });
}

/** Another tenant already holding one of these numbers is an error; the unique index is the backstop. */
async function assertPhonesFree(db: Executor, records: TenantRecord[]): Promise<void> {
  const owners = await db
    .select({ tenantId: ledgerTenants.tenantId, phone: ledgerTenants.phone })
    .from(ledgerTenants)
    .where(
      inArray(
        ledgerTenants.phone,
        records.map((r) => r.phone),
      ),
    );
  const wanted = new Map(records.map((r) => [r.phone, r.tenantId]));
  const taken = owners.find((o) => wanted.get(o.phone) !== o.tenantId);
  if (taken) throw new TenantPhoneTakenError(taken.tenantId);
}

async function writeTenants(db: Executor, records: TenantRecord[], now: Date): Promise<TenantRow[]> {
  const values = records.map((r) => ({ ...r, updatedAt: now }));
  try {
    return await db
      .insert(ledgerTenants)
      .values(values)
      .onConflictDoUpdate({
        target: ledgerTenants.tenantId,
        set: {
          name: sql`excluded.name`,
          phone: sql`excluded.phone`,
          timezone: sql`excluded.timezone`,
          amountOwedCents: sql`excluded.amount_owed_cents`,
          tenantPortionCents: sql`excluded.tenant_portion_cents`,
          dueDate: sql`excluded.due_date`,
          propertyName: sql`excluded.property_name`,
          unit: sql`excluded.unit`,
          updatedAt: sql`excluded.updated_at`,
        },
      })
      .returning();
  } catch (error) {
    if (isUniqueViolation(error, 'ledger_tenants_phone_idx')) throw new TenantPhoneTakenError(undefined);
    throw error;
  }
}

/** Drizzle wraps the driver's error; pg and PGlite both carry SQLSTATE in `code`. */
function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const { code, constraint: name } = e as { code?: string; constraint?: string };
    if (code === '23505') return name === undefined || name === constraint;
  }
  return false;
}

export type PaymentInput = {
  tenantId: string;
  /** Dollars, more than zero, at most two decimals. */
  amount: number;
  /** YYYY-MM-DD. */
  paidOn: string;
  method?: string | undefined;
  /** The bank's or processor's reference: the same reference is recorded once. */
  reference?: string | undefined;
};

export type RecordedPayment = {
  id: number;
  tenantId: string;
  amount: number;
  paidOn: string;
  method: string | undefined;
  reference: string | undefined;
};

/**
 * Records a payment and lowers what the tenant owes (and their portion) by it, never below zero;
 * paying everything clears the due date. Idempotent by reference: a repeat returns the payment
 * already recorded (created: false) and changes nothing; a repeat with another amount or date is a
 * PaymentReferenceConflictError. Without a reference every call is a new payment.
 */
export async function recordLedgerPayment(
  db: Executor,
  input: PaymentInput,
  now: Date,
): Promise<{ payment: RecordedPayment; created: boolean }> {
  const amountCents = paymentCents(input.amount);
  if (!isIsoDate(input.paidOn))
    throw new LedgerInputError('paid_on', 'must be a calendar date written YYYY-MM-DD');
  return db.transaction(async (tx) => {
    const [tenant] = await tx
      .select({ tenantId: ledgerTenants.tenantId })
      .from(ledgerTenants)
      .where(eq(ledgerTenants.tenantId, input.tenantId))
      .for('update');
    if (!tenant) throw new TenantNotFoundError(input.tenantId);
    const [inserted] = await tx
      .insert(ledgerPayments)
      .values({
        tenantId: input.tenantId,
        amountCents,
        paidOn: input.paidOn,
        method: input.method ?? null,
        reference: input.reference ?? null,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted) return { payment: await existingPayment(tx, input, amountCents), created: false };
    await applyPayment(tx, input.tenantId, amountCents, now);
    return { payment: toRecordedPayment(inserted), created: true };
  });
}

function paymentCents(amount: number): number {
  let cents: number;
  try {
    cents = centsFromDollars(amount);
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new LedgerInputError('amount', error.message);
    throw error;
  }
  if (cents === 0) throw new LedgerInputError('amount', 'must be more than zero');
  return cents;
}

async function existingPayment(
  db: Executor,
  input: PaymentInput,
  amountCents: number,
): Promise<RecordedPayment> {
  const reference = input.reference ?? '';
  const [row] = await db
    .select()
    .from(ledgerPayments)
    .where(
      and(
        eq(ledgerPayments.tenantId, input.tenantId),
        isNotNull(ledgerPayments.reference),
        eq(ledgerPayments.reference, reference),
      ),
    );
  if (!row) throw new Error('payment vanished after a conflicting insert');
  if (row.amountCents !== amountCents || row.paidOn !== input.paidOn)
    throw new PaymentReferenceConflictError(reference);
  return toRecordedPayment(row);
}

async function applyPayment(db: Executor, tenantId: string, amountCents: number, now: Date): Promise<void> {
  await db
    .update(ledgerTenants)
    .set({
      amountOwedCents: sql`greatest(${ledgerTenants.amountOwedCents} - ${amountCents}, 0)`,
      tenantPortionCents: sql`case when ${ledgerTenants.tenantPortionCents} is null then null
        else greatest(${ledgerTenants.tenantPortionCents} - ${amountCents}, 0) end`,
      dueDate: sql`case when ${ledgerTenants.amountOwedCents} <= ${amountCents} then null else ${ledgerTenants.dueDate} end`,
      updatedAt: now,
    })
    .where(eq(ledgerTenants.tenantId, tenantId));
}

function toRecordedPayment(row: PaymentRow): RecordedPayment {
  return {
    id: row.id,
    tenantId: row.tenantId,
    amount: dollarsFromCents(row.amountCents),
    paidOn: row.paidOn,
    method: row.method ?? undefined,
    reference: row.reference ?? undefined,
  };
}

export type ImportResult = { imported: number; errors: CsvLineError[] };

const IMPORT_CHUNK = 500;

/**
 * Imports (creates or replaces) every tenant in a CSV file, in one transaction. When any row is bad
 * (syntax, a field, a duplicate, a number another tenant already has) nothing is imported and
 * every bad line is reported.
 */
export async function importTenantsCsv(
  db: Executor,
  csvText: string,
  now: Date,
  defaultRegion: string,
): Promise<ImportResult> {
  const { rows, errors } = tenantsFromCsv(csvText, defaultRegion, now);
  if (errors.length > 0) return { imported: 0, errors };
  if (rows.length === 0) return { imported: 0, errors: [] };
  return db.transaction(async (tx) => {
    const phoneErrors = await phonesTakenByOthers(tx, rows);
    if (phoneErrors.length > 0) return { imported: 0, errors: phoneErrors };
    for (let i = 0; i < rows.length; i += IMPORT_CHUNK) {
      await writeTenants(
        tx,
        rows.slice(i, i + IMPORT_CHUNK).map((r) => r.record),
        now,
      );
    }
    return { imported: rows.length, errors: [] };
  });
}

/**
 * A number another tenant holds now is an error on that line, even when the same file gives that
 * tenant a new number: rows are written in file order against a unique index, so moving a number
 * between tenants takes two steps (change the old holder first).
 */
async function phonesTakenByOthers(
  db: Executor,
  rows: { line: number; record: TenantRecord }[],
): Promise<CsvLineError[]> {
  const errors: CsvLineError[] = [];
  for (let i = 0; i < rows.length; i += IMPORT_CHUNK) {
    const chunk = rows.slice(i, i + IMPORT_CHUNK);
    const owners = await db
      .select({ tenantId: ledgerTenants.tenantId, phone: ledgerTenants.phone })
      .from(ledgerTenants)
      .where(
        inArray(
          ledgerTenants.phone,
          chunk.map((r) => r.record.phone),
        ),
      );
    const ownerOf = new Map(owners.map((o) => [o.phone, o.tenantId]));
    for (const { line, record } of chunk) {
      const owner = ownerOf.get(record.phone);
      if (owner !== undefined && owner !== record.tenantId) {
        errors.push({ line, message: `phone: the number already belongs to tenant ${owner}` });
      }
    }
  }
  return errors;
}
