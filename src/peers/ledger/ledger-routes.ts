import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { HttpModule } from '../../app.js';
import type { Db } from '../../core/db/database.js';
import { NonRetriableError, RetryAfterError } from '../../core/retry-errors.js';
import type { Clock } from '../../core/runtime.js';
import type { AppEnv } from '../../http/app-env.js';
import { requireRole } from '../../http/auth.js';
import { HttpProblem, problemResponse } from '../../http/problem.js';
import { bearerSecurity, problemResponses } from '../../http/router.js';
import { PeerTimeoutError, PeerUnavailableError } from '../resilience.js';
import { tryNormalizePhone } from '../sms/phone.js';
import {
  importTenantsCsv,
  LedgerInputError,
  listTenants,
  PaymentReferenceConflictError,
  recordLedgerPayment,
  TenantNotFoundError,
  TenantPhoneTakenError,
  upsertTenant,
  type RecordedPayment,
  type TenantInput,
} from './builtin-ledger.js';
import { isIsoDate, isValidTimeZone } from './days-late.js';
import type { LedgerPort, Tenant } from './ledger-port.js';
import { MAX_DAYS_LATE } from './tenant-record.js';

/**
 * The tenant ledger over HTTP. Reads go through the configured LedgerPort (built-in tables or the
 * Collections Monitor); writes (PUT, CSV import, payments) change the built-in tables and answer
 * 409 when the ledger comes from the Collections Monitor, which we only read.
 *
 * Two sets of paths share every handler's logic: `/ledger/tenants/...` with our field names
 * (`phone`, `due_date`), and the seed-facing `/tenants/...` with the seed's (`phone_number`,
 * `days_late`; `phone` and `due_date` are accepted there too).
 */

export type LedgerRoutesDeps = {
  db: Db;
  clock: Clock;
  /** The configured ledger; writes are refused unless it is the built-in one. */
  ledger: LedgerPort;
  /** DEFAULT_PHONE_REGION, for numbers written without a country code. */
  defaultRegion: string;
};

const tags = ['ledger'];
const READ_ONLY = 'ledger is read-only here: it comes from the Collections Monitor';
const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'];

const TenantParams = z.object({ tenant_id: z.string().min(1).max(200) });

const Payment = z
  .object({ date: z.string(), amount: z.number(), method: z.string().nullable() })
  .openapi('LedgerPayment');

const tenantViewFields = {
  timezone: z.string(),
  amount_owed: z.number().openapi({ description: 'Dollars' }),
  tenant_portion: z.number().nullable(),
  days_late: z.number().int(),
  property_name: z.string().nullable(),
  unit: z.string().nullable(),
  payment_history: z.array(Payment),
};

const TenantView = z
  .object({
    tenant_id: z.string(),
    name: z.string(),
    phone: z.string().openapi({ description: 'E.164' }),
    ...tenantViewFields,
  })
  .openapi('LedgerTenant');

/** The same tenant under the seed's field names (GET/PUT /tenants/{tenant_id}). */
const SeedTenantView = z
  .object({
    tenant_id: z.string(),
    name: z.string(),
    phone_number: z.string().openapi({ description: 'E.164' }),
    ...tenantViewFields,
  })
  .openapi('SeedTenant');

const RecordedPaymentView = z
  .object({
    id: z.number().int(),
    tenant_id: z.string(),
    amount: z.number(),
    paid_on: z.string(),
    method: z.string().nullable(),
    reference: z.string().nullable(),
  })
  .openapi('LedgerRecordedPayment');

const PaymentResult = z
  .object({ payment: RecordedPaymentView, tenant: TenantView })
  .openapi('LedgerPaymentResult');

const PaymentInput = z
  .object({
    amount: z.number().positive().openapi({ description: 'Dollars, at most two decimals' }),
    paid_on: z.string().refine(isIsoDate, 'must be a calendar date written YYYY-MM-DD'),
    method: z.string().trim().min(1).max(50).optional(),
    reference: z.string().trim().min(1).max(200).optional().openapi({
      description: 'The bank or processor reference: a payment with a reference is recorded once',
    }),
  })
  .strict()
  .openapi('LedgerPaymentInput');

const ListQuery = z.object({
  delinquent: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'The last tenant_id of the previous page' }),
});

const ImportResult = z
  .object({
    imported: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), message: z.string() })),
  })
  .openapi('LedgerImportResult');

function phoneField(defaultRegion: string) {
  return z
    .string()
    .refine((v) => tryNormalizePhone(v, defaultRegion) !== undefined, 'not a valid phone number')
    .openapi({ description: `E.164, or a national number in ${defaultRegion}` });
}

/** What both PUT bodies share (the phone and the lateness are named differently). */
function tenantInputFields() {
  return {
    name: z.string().trim().min(1).max(200),
    timezone: z.string().refine(isValidTimeZone, 'not an IANA timezone such as America/New_York'),
    amount_owed: z.number().min(0).openapi({ description: 'Dollars, at most two decimals' }),
    tenant_portion: z.number().min(0).nullable().optional(),
    due_date: z
      .string()
      .refine(isIsoDate, 'must be a calendar date written YYYY-MM-DD')
      .nullable()
      .optional(),
    property_name: z.string().max(200).nullable().optional(),
    unit: z.string().max(200).nullable().optional(),
  };
}

function tenantInputSchema(defaultRegion: string) {
  return z
    .object({ ...tenantInputFields(), phone: phoneField(defaultRegion) })
    .strict()
    .openapi('LedgerTenantInput');
}

function seedTenantInputSchema(defaultRegion: string) {
  return z
    .object({
      ...tenantInputFields(),
      phone_number: phoneField(defaultRegion)
        .optional()
        .openapi({
          description: `Required unless phone is given. E.164, or a national number in ${defaultRegion}`,
        }),
      phone: phoneField(defaultRegion).optional().openapi({ description: 'Another name for phone_number' }),
      days_late: z
        .number()
        .int()
        .min(0)
        .max(MAX_DAYS_LATE)
        .nullable()
        .optional()
        .openapi({
          description:
            'Required unless due_date is given (not both). Stored as the due date that many days ' +
            "before today in the tenant's timezone, so it grows by one a day; null: no due date",
        }),
    })
    .strict()
    .openapi('SeedTenantInput');
}

export function ledgerRoutesModule(deps: LedgerRoutesDeps): HttpModule {
  return {
    name: 'ledger',
    register(app) {
      registerReads(app, deps);
      registerWrites(app, deps);
    },
  };
}

function registerReads(app: OpenAPIHono<AppEnv>, deps: LedgerRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/ledger/tenants/{tenant_id}',
      tags,
      summary: 'A tenant from the configured ledger, with days late and recent payments',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager')] as const,
      request: { params: TenantParams },
      responses: {
        200: { description: 'The tenant', content: { 'application/json': { schema: TenantView } } },
        ...problemResponses(400, 401, 403, 404, 502, 503),
      },
    }),
    async (c) => {
      const tenant = await findTenant(deps, c.req.valid('param').tenant_id, c.req.raw.signal);
      return c.json(tenantView(tenant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{tenant_id}',
      tags,
      summary: 'GET /ledger/tenants/{tenant_id} under the seed’s field names (phone_number)',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager')] as const,
      request: { params: TenantParams },
      responses: {
        200: { description: 'The tenant', content: { 'application/json': { schema: SeedTenantView } } },
        ...problemResponses(400, 401, 403, 404, 502, 503),
      },
    }),
    async (c) => {
      const tenant = await findTenant(deps, c.req.valid('param').tenant_id, c.req.raw.signal);
      return c.json(seedTenantView(tenant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/ledger/tenants',
      tags,
      summary:
        'Delinquent tenants (?delinquent=true), or every tenant of the built-in ledger a page at a time',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager')] as const,
      request: { query: ListQuery },
      responses: {
        200: {
          description: 'Tenants; next_after is the cursor of the next page (null on the last)',
          content: {
            'application/json': {
              schema: z.object({ tenants: z.array(TenantView), next_after: z.string().nullable() }),
            },
          },
        },
        ...problemResponses(400, 401, 403, 409, 502, 503),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      if (query.delinquent === 'true') {
        const tenants = await fromLedger(() => deps.ledger.listDelinquent(c.req.raw.signal));
        return c.json({ tenants: tenants.map(tenantView), next_after: null }, 200);
      }
      if (deps.ledger.name !== 'builtin') {
        throw new HttpProblem(
          409,
          'The Collections Monitor lists only delinquent tenants: ask with ?delinquent=true.',
        );
      }
      const tenants = await listTenants(deps.db, deps.clock.now(), {
        limit: query.limit,
        after: query.after,
      });
      const last = tenants.length === query.limit ? tenants.at(-1)?.tenantId : undefined;
      return c.json({ tenants: tenants.map(tenantView), next_after: last ?? null }, 200);
    },
  );
}

/** A tenant from the configured ledger, or a 404. */
async function findTenant(deps: LedgerRoutesDeps, tenantId: string, signal: AbortSignal): Promise<Tenant> {
  const tenant = await fromLedger(() => deps.ledger.getTenant(tenantId, signal));
  if (!tenant) throw new HttpProblem(404, `No tenant ${tenantId} in the ledger.`);
  return tenant;
}

function registerWrites(app: OpenAPIHono<AppEnv>, deps: LedgerRoutesDeps): void {
  registerPut(app, deps);
  registerSeedPut(app, deps);
  registerImport(app, deps, '/ledger/tenants/import');
  registerImport(app, deps, '/tenants/import');
  registerPayment(app, deps);
}

function registerPut(app: OpenAPIHono<AppEnv>, deps: LedgerRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'put',
      path: '/ledger/tenants/{tenant_id}',
      tags,
      summary: 'Create or replace a tenant in the built-in ledger',
      security: bearerSecurity,
      middleware: [requireRole('manager'), writableLedger(deps)] as const,
      request: {
        params: TenantParams,
        body: {
          required: true,
          content: { 'application/json': { schema: tenantInputSchema(deps.defaultRegion) } },
        },
      },
      responses: {
        200: { description: 'Replaced', content: { 'application/json': { schema: TenantView } } },
        201: { description: 'Created', content: { 'application/json': { schema: TenantView } } },
        ...problemResponses(400, 401, 403, 409, 415),
      },
    }),
    async (c) => {
      const { tenant_id: tenantId } = c.req.valid('param');
      const body = c.req.valid('json');
      const { tenant, created } = await putTenant(deps, {
        tenantId,
        name: body.name,
        phone: body.phone,
        timezone: body.timezone,
        amountOwed: body.amount_owed,
        tenantPortion: body.tenant_portion,
        dueDate: body.due_date,
        propertyName: body.property_name,
        unit: body.unit,
      });
      return created ? c.json(tenantView(tenant), 201) : c.json(tenantView(tenant), 200);
    },
  );
}

function registerSeedPut(app: OpenAPIHono<AppEnv>, deps: LedgerRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'put',
      path: '/tenants/{tenant_id}',
      tags,
      summary: 'PUT /ledger/tenants/{tenant_id} under the seed’s field names (phone_number, days_late)',
      description:
        'phone_number (or phone, not both) and days_late (or due_date, not both) are required; ' +
        "days_late is stored as the due date that many days before today in the tenant's timezone.",
      security: bearerSecurity,
      middleware: [requireRole('manager'), writableLedger(deps)] as const,
      request: {
        params: TenantParams,
        body: {
          required: true,
          content: { 'application/json': { schema: seedTenantInputSchema(deps.defaultRegion) } },
        },
      },
      responses: {
        200: { description: 'Replaced', content: { 'application/json': { schema: SeedTenantView } } },
        201: { description: 'Created', content: { 'application/json': { schema: SeedTenantView } } },
        ...problemResponses(400, 401, 403, 409, 415),
      },
    }),
    async (c) => {
      const { tenant_id: tenantId } = c.req.valid('param');
      const body = c.req.valid('json');
      if (body.phone_number !== undefined && body.phone !== undefined) {
        throw fieldProblem('phone', 'give phone_number or phone, not both');
      }
      const phone = body.phone_number ?? body.phone;
      if (phone === undefined) throw fieldProblem('phone_number', 'required (or phone)');
      if (body.days_late === undefined && body.due_date === undefined) {
        throw fieldProblem('days_late', 'required (or due_date)');
      }
      // days_late with due_date is refused by the shared record check, naming days_late.
      const input: TenantInput = {
        tenantId,
        name: body.name,
        phone,
        timezone: body.timezone,
        amountOwed: body.amount_owed,
        tenantPortion: body.tenant_portion,
        dueDate: body.due_date,
        daysLate: body.days_late,
        propertyName: body.property_name,
        unit: body.unit,
      };
      const { tenant, created } = await putTenant(deps, input, {
        phone: body.phone_number !== undefined ? 'phone_number' : 'phone',
      });
      return created ? c.json(seedTenantView(tenant), 201) : c.json(seedTenantView(tenant), 200);
    },
  );
}

/** Both PUTs: create or replace in the built-in ledger; `fieldNames` renames fields in errors. */
function putTenant(deps: LedgerRoutesDeps, input: TenantInput, fieldNames: FieldNames = {}) {
  return ledgerWrite(() => upsertTenant(deps.db, input, deps.clock.now(), deps.defaultRegion), fieldNames);
}

function registerImport(
  app: OpenAPIHono<AppEnv>,
  deps: LedgerRoutesDeps,
  path: '/ledger/tenants/import' | '/tenants/import',
): void {
  app.openapi(
    createRoute({
      method: 'post',
      path,
      tags,
      summary: 'Import tenants from CSV into the built-in ledger (all rows or none)',
      description:
        'Header row: tenant_id,name,phone,timezone,amount_owed,tenant_portion,due_date,property_name,unit ' +
        '(any order; the last four may be left out; phone_number may stand for phone, and a days_late ' +
        "column, whole days counted back from today in the tenant's timezone, may replace due_date). " +
        'RFC 4180 quoting. When any row is bad nothing is imported and the answer is a 422 problem ' +
        'listing every bad line.',
      security: bearerSecurity,
      middleware: [requireRole('manager'), writableLedger(deps)] as const,
      request: { body: { required: true, content: { 'text/csv': { schema: z.string() } } } },
      responses: {
        200: { description: 'Imported', content: { 'application/json': { schema: ImportResult } } },
        ...problemResponses(401, 403, 409, 413, 415, 422),
      },
    }),
    async (c) => {
      assertCsv(c);
      const result = await importTenantsCsv(
        deps.db,
        await c.req.text(),
        deps.clock.now(),
        deps.defaultRegion,
      );
      if (result.errors.length > 0) {
        throw new HttpProblem(422, `Nothing was imported: ${result.errors.length} line(s) are wrong.`, {
          type: 'https://countersign.dev/problems/csv-import',
          imported: 0,
          errors: result.errors,
        });
      }
      return c.json(result, 200);
    },
  );
}

function registerPayment(app: OpenAPIHono<AppEnv>, deps: LedgerRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/ledger/tenants/{tenant_id}/payments',
      tags,
      summary: 'Record a payment in the built-in ledger; lowers what the tenant owes',
      security: bearerSecurity,
      middleware: [requireRole('manager'), writableLedger(deps)] as const,
      request: {
        params: TenantParams,
        body: { required: true, content: { 'application/json': { schema: PaymentInput } } },
      },
      responses: {
        201: { description: 'Recorded', content: { 'application/json': { schema: PaymentResult } } },
        200: {
          description: 'Already recorded under this reference',
          content: { 'application/json': { schema: PaymentResult } },
        },
        ...problemResponses(400, 401, 403, 404, 409, 415),
      },
    }),
    async (c) => {
      const { tenant_id: tenantId } = c.req.valid('param');
      const body = c.req.valid('json');
      const input = {
        tenantId,
        amount: body.amount,
        paidOn: body.paid_on,
        method: body.method,
        reference: body.reference,
      };
      const { payment, created } = await ledgerWrite(() =>
        recordLedgerPayment(deps.db, input, deps.clock.now()),
      );
      const tenant = await deps.ledger.getTenant(tenantId, c.req.raw.signal);
      if (!tenant) throw new HttpProblem(404, `No tenant ${tenantId} in the ledger.`);
      const result = { payment: paymentView(payment), tenant: tenantView(tenant) };
      return created ? c.json(result, 201) : c.json(result, 200);
    },
  );
}

/** Before the body is validated: on a read-only ledger every write is a 409, whatever it sends. */
function writableLedger(deps: LedgerRoutesDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => (deps.ledger.name === 'builtin' ? next() : problemResponse(c, 409, READ_ONLY));
}

function assertCsv(c: Context<AppEnv>): void {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!CSV_TYPES.includes(type)) {
    throw new HttpProblem(415, `Content-Type ${type || '(none)'} is not accepted here; send text/csv.`);
  }
}

/** The request's name for a repository field, when it is not the repository's (phone_number). */
type FieldNames = Partial<Record<string, string>>;

/** Repository errors → problems naming the field as the request did; anything else is a 500. */
async function ledgerWrite<T>(write: () => Promise<T>, fieldNames: FieldNames = {}): Promise<T> {
  const named = (field: string) => fieldNames[field] ?? field;
  try {
    return await write();
  } catch (error) {
    if (error instanceof LedgerInputError) throw fieldProblem(named(error.field), error.detail);
    if (error instanceof TenantPhoneTakenError)
      throw fieldProblem(named('phone'), withoutField('phone', error.message), 409);
    if (error instanceof TenantNotFoundError)
      throw new HttpProblem(404, `No tenant ${error.tenantId} in the ledger.`);
    if (error instanceof PaymentReferenceConflictError)
      throw fieldProblem('reference', withoutField('reference', error.message), 409);
    throw error;
  }
}

function withoutField(field: string, message: string): string {
  return message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
}

/** A problem about one field; `detail` does not name it (the problem's detail does). */
function fieldProblem(field: string, detail: string, status: 400 | 409 = 400): HttpProblem {
  return new HttpProblem(status, `${field}: ${detail}`, {
    ...(status === 400 ? { type: 'https://countersign.dev/problems/validation' } : {}),
    errors: [{ pointer: `/${field}`, detail }],
  });
}

/** A peer ledger that failed: 503 when asking again later may work, 502 when its answer was unusable. */
export async function fromLedger<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof RetryAfterError) {
      const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      throw new HttpProblem(503, 'The ledger is not answering now; try again later.', {
        headers: { 'Retry-After': String(seconds) },
      });
    }
    if (error instanceof NonRetriableError) {
      throw new HttpProblem(502, 'The ledger gave an answer we cannot use.', { title: 'Bad Gateway' });
    }
    if (error instanceof PeerUnavailableError || error instanceof PeerTimeoutError) {
      throw new HttpProblem(503, 'The ledger is not answering now; try again later.');
    }
    throw error; // ours (a database error of the built-in ledger): a 500 with a correlation id
  }
}

function tenantView(t: Tenant) {
  return {
    tenant_id: t.tenantId,
    name: t.name,
    phone: t.phone,
    timezone: t.timezone,
    amount_owed: t.amountOwed,
    tenant_portion: t.tenantPortion ?? null,
    days_late: t.daysLate,
    property_name: t.propertyName ?? null,
    unit: t.unit ?? null,
    payment_history: t.paymentHistory.map((p) => ({
      date: p.date,
      amount: p.amount,
      method: p.method ?? null,
    })),
  };
}

function seedTenantView(t: Tenant) {
  const { tenant_id, name, phone, ...rest } = tenantView(t);
  return { tenant_id, name, phone_number: phone, ...rest };
}

function paymentView(p: RecordedPayment) {
  return {
    id: p.id,
    tenant_id: p.tenantId,
    amount: p.amount,
    paid_on: p.paidOn,
    method: p.method ?? null,
    reference: p.reference ?? null,
  };
}
