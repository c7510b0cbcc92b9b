/**
 * The tenant ledger: who owes what. Adapters: built-in tables (default) and the collections
 * seed's Collections Monitor over HTTP. Money is in dollars with cents, as the seed's JSON has it.
 */

export type LedgerPayment = { date: string; amount: number; method?: string | undefined };

export type Tenant = {
  tenantId: string;
  name: string;
  /** E.164. */
  phone: string;
  /** IANA timezone for allowed hours, e.g. America/New_York. */
  timezone: string;
  amountOwed: number;
  /** The tenant's share when assistance pays part; undefined when they owe it all. */
  tenantPortion?: number | undefined;
  daysLate: number;
  propertyName?: string | undefined;
  unit?: string | undefined;
  paymentHistory: LedgerPayment[];
};

export interface LedgerPort {
  /** builtin | collections-monitor */
  readonly name: string;
  getTenant(tenantId: string, signal: AbortSignal): Promise<Tenant | undefined>;
  /**
   * Several tenants at once, keyed by id (an unknown id is absent), for a page that shows many.
   * Optional: a ledger without it is asked once per tenant.
   */
  getTenants?(tenantIds: readonly string[], signal: AbortSignal): Promise<Map<string, Tenant>>;
  findTenantByPhone(phone: string, signal: AbortSignal): Promise<Tenant | undefined>;
  listDelinquent(signal: AbortSignal): Promise<Tenant[]>;
}
