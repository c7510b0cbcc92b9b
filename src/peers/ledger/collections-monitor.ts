import { z } from 'zod';
import { NonRetriableError } from '../../core/retry-errors.js';
import { PeerHttpError, requestJson } from '../http-peer.js';
import { nonRetriable, type PeerGuard } from '../resilience.js';
import { tryNormalizePhone } from '../sms/phone.js';
import { daysLate, isValidTimeZone } from './days-late.js';
import type { LedgerPayment, LedgerPort, Tenant } from './ledger-port.js';
import { roundToCents } from './money.js';

/**
 * The collections seed's Collections Monitor over HTTP (used when COLLECTIONS_MONITOR_URL is set).
 * The seed names two endpoints and shows no response body, so this is the shape we expect
 * (docs: "Collections Monitor JSON"), read tolerantly — a field missing or spelled as the seed's
 * other services spell it is accepted; money may be a number or a decimal string (Pydantic writes
 * Decimal as a string):
 *
 *   GET /monitor/tenant/{tenant_id} → 200
 *     { "tenant_id": "tenant_12345", "tenant_name": "Jane Doe" (or "name"),
 *       "phone_number": "+15551234567" (or "phone"), "timezone": "America/New_York" (optional),
 *       "amount_owed": 1200.0, "tenant_portion": 600.0 (optional, null),
 *       "days_late": 15 (optional: else counted from "due_date": "2025-01-01", else 0),
 *       "property_name": "Maple Court" (optional), "unit": "4B" (optional),
 *       "payment_history": [ { "payment_date": "2025-01-02T00:00:00Z" (or "date"), "amount": 50.0,
 *                              "status": "paid", "payment_method": "ach" (or "method") } ] (optional) }
 *     (also accepted wrapped as {"tenant": {...}}); 404 (or a 200 with null or nothing) → no such tenant.
 *   GET /monitor/delinquent → 200 { "tenants": [ <tenant>, ... ], "total": 1 }
 *     (also accepted: a bare array, or the list under "delinquent_tenants" or "data").
 *
 * Payment history keeps only entries whose status says the money arrived (or that carry no
 * status): a failed or pending draft is not a payment we may tell a tenant about.
 *
 * A malformed answer (valid JSON, wrong shape) is NonRetriableError: asking again gets the same
 * record, and one tenant's bad record must not open the breaker for every tenant. An answer that is
 * not JSON at all stays retriable (http-peer: usually a proxy's error page). In the delinquent list a
 * malformed record is skipped and reported through onInvalidRecord, so one bad row does not hide
 * the others.
 *
 * findTenantByPhone: the seed offers no lookup by phone, so it reads the whole delinquent list
 * (one request, O(tenants)) and then the match's own record (a second request, since list entries
 * may be summaries). A tenant who is not delinquent cannot be found by phone this way.
 */

export type CollectionsMonitorOptions = {
  baseUrl: string;
  guard: PeerGuard;
  /** For numbers the monitor writes without a country code (DEFAULT_PHONE_REGION). */
  defaultRegion?: string;
  /** When the monitor gives no (or no valid) timezone. */
  defaultTimezone?: string;
  /** A record skipped from the delinquent list; the composition root logs it. */
  onInvalidRecord?: (problem: { tenantId: string | undefined; reason: string }) => void;
  now?: () => Date;
};

const money = z.union([
  z.number().finite(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);
const text = z.string().nullish();
const id = z.union([z.string().trim().min(1), z.number().int().transform(String)]);

const MonitorPayment = z.object({
  payment_date: text,
  date: text,
  amount: money,
  status: text,
  payment_method: text,
  method: text,
});

const MonitorTenant = z.object({
  tenant_id: id,
  tenant_name: text,
  name: text,
  phone_number: text,
  phone: text,
  timezone: text,
  amount_owed: money,
  tenant_portion: money.nullish(),
  days_late: z.number().nullish(),
  due_date: text,
  property_name: text,
  unit: id.nullish(),
  payment_history: z.array(z.unknown()).nullish(),
});
type MonitorTenant = z.infer<typeof MonitorTenant>;

const DelinquentList = z.union([
  z.array(z.unknown()),
  z.object({ tenants: z.array(z.unknown()) }),
  z.object({ delinquent_tenants: z.array(z.unknown()) }),
  z.object({ data: z.array(z.unknown()) }),
]);

const PAID_STATUSES = new Set([
  'paid',
  'completed',
  'complete',
  'succeeded',
  'success',
  'cleared',
  'posted',
  'settled',
]);

/** A record the monitor sent that we cannot use; message says which field. */
export class MalformedTenantError extends Error {
  constructor(
    readonly tenantId: string | undefined,
    reason: string,
  ) {
    super(reason);
    this.name = 'MalformedTenantError';
  }
}

export function createCollectionsMonitorLedger(options: CollectionsMonitorOptions): LedgerPort {
  const base = options.baseUrl.replace(/\/+$/, '');
  const region = options.defaultRegion ?? 'US';
  const defaults = {
    region,
    timezone: options.defaultTimezone ?? 'America/New_York',
    now: options.now ?? (() => new Date()),
  };
  const peer = options.guard.name;

  async function getTenant(tenantId: string, signal: AbortSignal): Promise<Tenant | undefined> {
    let body: unknown;
    try {
      body = await requestJson(
        options.guard,
        { url: `${base}/monitor/tenant/${encodeURIComponent(tenantId)}` },
        signal,
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    if (body === undefined || body === null) return undefined;
    try {
      return tenantFromMonitorRecord(unwrapTenant(body), defaults);
    } catch (error) {
      throw malformed(peer, `tenant ${tenantId}`, error);
    }
  }

  async function listDelinquent(signal: AbortSignal): Promise<Tenant[]> {
    const body = await requestJson(options.guard, { url: `${base}/monitor/delinquent` }, signal);
    const parsed = DelinquentList.safeParse(body);
    if (!parsed.success)
      throw nonRetriable(`${peer}: /monitor/delinquent answered an unexpected shape`, parsed.error);
    const tenants: Tenant[] = [];
    for (const record of listOf(parsed.data)) {
      try {
        tenants.push(tenantFromMonitorRecord(record, defaults));
      } catch (error) {
        if (!(error instanceof MalformedTenantError)) throw error;
        options.onInvalidRecord?.({ tenantId: error.tenantId, reason: error.message });
      }
    }
    return tenants;
  }

  return {
    name: 'collections-monitor',
    getTenant,
    listDelinquent,
    async findTenantByPhone(phone, signal) {
      const e164 = tryNormalizePhone(phone, region);
      if (e164 === undefined) return undefined; // no tenant can hold an invalid number
      const match = (await listDelinquent(signal)).find((t) => t.phone === e164);
      if (!match) return undefined;
      return (await getTenant(match.tenantId, signal)) ?? match;
    },
  };
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof NonRetriableError && error.cause instanceof PeerHttpError && error.cause.status === 404
  );
}

function malformed(peer: string, what: string, error: unknown): NonRetriableError {
  const reason = error instanceof Error ? error.message : String(error);
  return nonRetriable(`${peer}: ${what} is malformed (${reason})`, error);
}

function listOf(data: z.infer<typeof DelinquentList>): unknown[] {
  if (Array.isArray(data)) return data;
  if ('tenants' in data) return data.tenants;
  if ('delinquent_tenants' in data) return data.delinquent_tenants;
  return data.data;
}

/** {"tenant": {...}} and {"data": {...}} wrappers are unwrapped; a bare record is taken as is. */
function unwrapTenant(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || 'tenant_id' in body) return body;
  const wrapped = body as { tenant?: unknown; data?: unknown };
  return wrapped.tenant ?? wrapped.data ?? body;
}

export type MonitorDefaults = { region: string; timezone: string; now: () => Date };

/** One monitor record → a Tenant; throws MalformedTenantError naming what is wrong. */
export function tenantFromMonitorRecord(record: unknown, defaults: MonitorDefaults): Tenant {
  const parsed = MonitorTenant.safeParse(record);
  const rawId =
    typeof record === 'object' && record !== null ? (record as { tenant_id?: unknown }).tenant_id : undefined;
  const tenantId = typeof rawId === 'string' ? rawId : undefined;
  if (!parsed.success) throw new MalformedTenantError(tenantId, describeIssues(parsed.error));
  const r = parsed.data;
  const name = (r.tenant_name ?? r.name ?? '').trim();
  if (name === '') throw new MalformedTenantError(r.tenant_id, 'tenant_name: missing');
  const phone = tryNormalizePhone(r.phone_number ?? r.phone ?? '', defaults.region);
  if (phone === undefined)
    throw new MalformedTenantError(r.tenant_id, 'phone_number: missing or not a valid number');
  const timezone = r.timezone && isValidTimeZone(r.timezone) ? r.timezone : defaults.timezone;
  const amountOwed = roundToCents(r.amount_owed);
  return {
    tenantId: r.tenant_id,
    name,
    phone,
    timezone,
    amountOwed,
    tenantPortion: r.tenant_portion == null ? undefined : roundToCents(r.tenant_portion),
    daysLate: monitorDaysLate(r, amountOwed, timezone, defaults.now()),
    propertyName: r.property_name ?? undefined,
    unit: r.unit ?? undefined,
    paymentHistory: paymentsOf(r.payment_history ?? []),
  };
}

function monitorDaysLate(r: MonitorTenant, amountOwed: number, timeZone: string, now: Date): number {
  if (typeof r.days_late === 'number' && r.days_late >= 0) return Math.floor(r.days_late);
  return daysLate({
    dueDate: r.due_date?.slice(0, 10),
    amountOwedCents: Math.round(amountOwed * 100),
    timeZone,
    now,
  });
}

/** Entries we cannot read, or that are not money received, are left out rather than failing the tenant. */
function paymentsOf(entries: unknown[]): LedgerPayment[] {
  const payments: LedgerPayment[] = [];
  for (const entry of entries) {
    const parsed = MonitorPayment.safeParse(entry);
    if (!parsed.success) continue;
    const p = parsed.data;
    const date = (p.payment_date ?? p.date ?? '').slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) continue;
    if (p.status && !PAID_STATUSES.has(p.status.toLowerCase())) continue;
    payments.push({
      date,
      amount: roundToCents(p.amount),
      method: p.payment_method ?? p.method ?? undefined,
    });
  }
  return payments;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`)
    .join('; ');
}
