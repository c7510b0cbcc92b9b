import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinLedger } from '../../../src/peers/ledger/builtin-ledger.js';
import { createCollectionsMonitorLedger } from '../../../src/peers/ledger/collections-monitor.js';
import { ledgerRoutesModule } from '../../../src/peers/ledger/ledger-routes.js';
import { createPeerGuard } from '../../../src/peers/resilience.js';
import { CollectionsMonitorFake, monitorTenant } from '../../fakes/collections-monitor-fake.js';
import { readProblem, useTestApp, type TestRequestInit } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

/** The clock of every test app: 2025-01-15T10:30:00Z. */

type TenantBody = {
  tenant_id: string;
  phone: string;
  amount_owed: number;
  tenant_portion: number | null;
  days_late: number;
  payment_history: { date: string; amount: number; method: string | null }[];
};

let phoneSeq = 100;
/** A fresh valid US number per tenant: phone numbers are unique in the ledger. */
const nextPhone = () => `+1415555${String(phoneSeq++).padStart(4, '0')}`;

const tenantInput = (overrides: Record<string, unknown> = {}) => ({
  name: 'Jane Doe',
  phone: nextPhone(),
  timezone: 'America/New_York',
  amount_owed: 1200,
  tenant_portion: 600,
  due_date: '2025-01-01',
  property_name: 'Maple Court',
  unit: '4B',
  ...overrides,
});

describe(`ledger routes on the built-in ledger (${databaseKind})`, () => {
  const t = useTestApp({
    modules: ({ database, clock }) => [
      ledgerRoutesModule({
        db: database.db,
        clock,
        ledger: createBuiltinLedger(database.db, clock),
        defaultRegion: 'US',
      }),
    ],
  });
  const request = (path: string, init?: TestRequestInit) => t.current.request(path, init);
  const put = (id: string, json: unknown, as: TestRequestInit['as'] = 'manager') =>
    request(`/ledger/tenants/${id}`, { method: 'PUT', as, json });
  const getTenant = async (id: string) =>
    (await (await request(`/ledger/tenants/${id}`, { as: 'viewer' })).json()) as TenantBody;
  const csv = (body: string, as: TestRequestInit['as'] = 'manager', type = 'text/csv; charset=utf-8') =>
    request('/ledger/tenants/import', { as, body, headers: { 'content-type': type } });
  const pay = (id: string, json: unknown, headers: Record<string, string> = {}) =>
    request(`/ledger/tenants/${id}/payments`, { as: 'manager', json, headers });

  it('PUT creates (201) then replaces (200); GET shows dollars, E.164 and days late', async () => {
    const id = `t-${randomUUID()}`;
    const created = await put(id, tenantInput({ phone: '(415) 555-0999' }));
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({
      tenant_id: id,
      name: 'Jane Doe',
      phone: '+14155550999',
      timezone: 'America/New_York',
      amount_owed: 1200,
      tenant_portion: 600,
      days_late: 14,
      property_name: 'Maple Court',
      unit: '4B',
      payment_history: [],
    });
    const replaced = await put(
      id,
      tenantInput({
        phone: '+14155550999',
        amount_owed: 99.99,
        tenant_portion: null,
        due_date: null,
        unit: null,
      }),
    );
    expect(replaced.status).toBe(200);
    expect(await getTenant(id)).toMatchObject({
      amount_owed: 99.99,
      tenant_portion: null,
      days_late: 0,
      unit: null,
    });
  });

  it.each([
    ['phone', { phone: '555-01' }],
    ['timezone', { timezone: 'Eastern' }],
    ['due_date', { due_date: '2025-02-30' }],
    ['amount_owed', { amount_owed: 10.005 }],
    ['amount_owed', { amount_owed: -1 }],
    ['tenant_portion', { amount_owed: 10, tenant_portion: 20 }],
    ['name', { name: '' }],
  ])('PUT with a bad %s is a 400 naming the field', async (field, overrides) => {
    const res = await put(`t-${randomUUID()}`, tenantInput(overrides));
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: `/${field}` })]);
  });

  it('PUT with an unusable tenant id is a 400 naming it', async () => {
    const res = await put('bad%20id', tenantInput());
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors).toEqual([expect.objectContaining({ pointer: '/tenant_id' })]);
  });

  it('PUT with another tenant’s phone number is a 409 naming the phone', async () => {
    const phone = nextPhone();
    const first = `t-${randomUUID()}`;
    expect((await put(first, tenantInput({ phone }))).status).toBe(201);
    const res = await put(`t-${randomUUID()}`, tenantInput({ phone }));
    expect(res.status).toBe(409);
    const problem = await readProblem(res);
    expect(problem.detail).toContain(first);
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/phone' })]);
  });

  it('roles: viewers read, managers write, others are refused', async () => {
    const id = `t-${randomUUID()}`;
    expect((await put(id, tenantInput(), 'viewer')).status).toBe(403);
    expect((await put(id, tenantInput(), 'service')).status).toBe(403);
    expect((await request(`/ledger/tenants/${id}`, { method: 'PUT', json: tenantInput() })).status).toBe(401);
    expect((await put(id, tenantInput(), 'admin')).status).toBe(201);
    expect((await request(`/ledger/tenants/${id}`, { as: 'viewer' })).status).toBe(200);
    expect((await request(`/ledger/tenants/${id}`, { as: 'service' })).status).toBe(403);
    expect((await csv('tenant_id,name,phone,timezone,amount_owed\n', 'viewer')).status).toBe(403);
    expect((await request(`/ledger/tenants/${id}/payments`, { as: 'viewer', json: {} })).status).toBe(403);
  });

  it('GET of an unknown tenant is a 404 problem', async () => {
    const res = await request('/ledger/tenants/nobody-here', { as: 'viewer' });
    expect(res.status).toBe(404);
    await readProblem(res);
  });

  it('lists delinquent tenants, most days late first, and every tenant a page at a time', async () => {
    const late = `late-${randomUUID()}`;
    const later = `later-${randomUUID()}`;
    const paid = `paid-${randomUUID()}`;
    const notDue = `notdue-${randomUUID()}`;
    await put(late, tenantInput({ due_date: '2025-01-10' }));
    await put(later, tenantInput({ due_date: '2024-12-01' }));
    await put(paid, tenantInput({ amount_owed: 0, tenant_portion: null }));
    await put(notDue, tenantInput({ due_date: '2025-02-01' }));
    const res = await request('/ledger/tenants?delinquent=true', { as: 'viewer' });
    expect(res.status).toBe(200);
    const { tenants } = (await res.json()) as { tenants: TenantBody[] };
    const ids = tenants.map((x) => x.tenant_id);
    expect(ids.indexOf(later)).toBeLessThan(ids.indexOf(late));
    expect(ids.indexOf(late)).toBeGreaterThanOrEqual(0);
    expect(ids).not.toContain(paid);
    expect(ids).not.toContain(notDue);

    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await request(`/ledger/tenants?limit=2${after ? `&after=${after}` : ''}`, {
        as: 'viewer',
      });
      const body = (await page.json()) as { tenants: TenantBody[]; next_after: string | null };
      expect(body.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...body.tenants.map((x) => x.tenant_id));
      after = body.next_after;
    } while (after);
    for (const id of [late, later, paid, notDue]) expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('imports a CSV file, creating and replacing tenants', async () => {
    const a = `csv-${randomUUID()}`;
    const b = `csv-${randomUUID()}`;
    const phoneB = nextPhone();
    await put(b, tenantInput({ phone: phoneB, amount_owed: 1 }));
    const file = [
      'tenant_id,name,phone,timezone,amount_owed,tenant_portion,due_date,property_name,unit',
      `${a},"Doe, Jane",${nextPhone()},America/Chicago,"1,250.00",,2025-01-05,"Maple Court",1A`,
      `${b},Sam Roe,${phoneB},America/Denver,80.5,,,,`,
    ].join('\r\n');
    const res = await csv(file);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ imported: 2, errors: [] });
    expect(await getTenant(a)).toMatchObject({ amount_owed: 1250, days_late: 10 });
    expect(await getTenant(b)).toMatchObject({ amount_owed: 80.5, days_late: 0 });
  });

  it('a CSV file with a bad row imports nothing and lists every bad line (422)', async () => {
    const good = `csv-${randomUUID()}`;
    const taken = nextPhone();
    await put(`holder-${randomUUID()}`, tenantInput({ phone: taken }));
    const file = [
      'tenant_id,name,phone,timezone,amount_owed',
      `${good},Ok,${nextPhone()},UTC,10`,
      `csv-${randomUUID()},Bad Phone,12345,UTC,10`,
      `csv-${randomUUID()},Bad Zone,${nextPhone()},Eastern,10`,
    ].join('\n');
    const res = await csv(file);
    expect(res.status).toBe(422);
    const problem = await readProblem(res);
    expect(problem.imported).toBe(0);
    expect(problem.errors).toEqual([
      { line: 3, message: expect.stringContaining('phone:') as unknown },
      { line: 4, message: expect.stringContaining('timezone:') as unknown },
    ]);
    expect((await request(`/ledger/tenants/${good}`, { as: 'viewer' })).status).toBe(404);

    const clash = await csv(`tenant_id,name,phone,timezone,amount_owed\n${good},Ok,${taken},UTC,10\n`);
    expect(clash.status).toBe(422);
    expect((await readProblem(clash)).errors).toEqual([
      { line: 2, message: expect.stringContaining('already belongs to tenant holder-') as unknown },
    ]);
    expect((await request(`/ledger/tenants/${good}`, { as: 'viewer' })).status).toBe(404);
  });

  it('the import wants text/csv', async () => {
    const res = await request('/ledger/tenants/import', { as: 'manager', json: { tenants: [] } });
    expect(res.status).toBe(415);
    await readProblem(res);
    expect((await csv('tenant_id,name,phone,timezone,amount_owed\n', 'manager', 'text/plain')).status).toBe(
      200,
    );
  });

  it('records payments: lowers what is owed, once per reference', async () => {
    const id = `pay-${randomUUID()}`;
    await put(id, tenantInput());
    const first = await pay(id, { amount: 200.5, paid_on: '2025-01-10', method: 'ach', reference: 'ACH-1' });
    expect(first.status).toBe(201);
    const body = (await first.json()) as { payment: Record<string, unknown>; tenant: TenantBody };
    expect(body.payment).toMatchObject({
      tenant_id: id,
      amount: 200.5,
      paid_on: '2025-01-10',
      reference: 'ACH-1',
    });
    expect(body.tenant).toMatchObject({
      amount_owed: 999.5,
      tenant_portion: 399.5,
      days_late: 14,
      payment_history: [{ date: '2025-01-10', amount: 200.5, method: 'ach' }],
    });

    const repeat = await pay(id, { amount: 200.5, paid_on: '2025-01-10', method: 'ach', reference: 'ACH-1' });
    expect(repeat.status).toBe(200);
    expect(((await repeat.json()) as { tenant: TenantBody }).tenant.amount_owed).toBe(999.5);

    const conflict = await pay(id, { amount: 20, paid_on: '2025-01-10', reference: 'ACH-1' });
    expect(conflict.status).toBe(409);
    expect((await readProblem(conflict)).errors).toEqual([
      expect.objectContaining({ pointer: '/reference' }),
    ]);

    const rest = await pay(id, { amount: 1000, paid_on: '2025-01-15', reference: 'ACH-2' });
    expect(((await rest.json()) as { tenant: TenantBody }).tenant).toMatchObject({
      amount_owed: 0,
      tenant_portion: 0,
      days_late: 0,
    });
    const delinquent = (await (
      await request('/ledger/tenants?delinquent=true', { as: 'viewer' })
    ).json()) as {
      tenants: TenantBody[];
    };
    expect(delinquent.tenants.map((x) => x.tenant_id)).not.toContain(id);
  });

  it('an Idempotency-Key makes a payment without a reference safe to retry', async () => {
    const id = `pay-${randomUUID()}`;
    await put(id, tenantInput({ amount_owed: 100, tenant_portion: null }));
    const headers = { 'idempotency-key': `pay-${randomUUID()}` };
    const first = await pay(id, { amount: 10, paid_on: '2025-01-14' }, headers);
    const again = await pay(id, { amount: 10, paid_on: '2025-01-14' }, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await getTenant(id)).amount_owed).toBe(90);
  });

  it.each([
    ['a zero amount', { amount: 0, paid_on: '2025-01-10' }, 'amount'],
    ['three decimals', { amount: 1.005, paid_on: '2025-01-10' }, 'amount'],
    ['a bad date', { amount: 5, paid_on: '10/01/2025' }, 'paid_on'],
  ])('a payment with %s is a 400 naming the field', async (_name, json, field) => {
    const id = `pay-${randomUUID()}`;
    await put(id, tenantInput());
    const res = await pay(id, json);
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors).toEqual([expect.objectContaining({ pointer: `/${field}` })]);
  });

  it('a payment for an unknown tenant is a 404', async () => {
    const res = await pay('nobody-here', { amount: 5, paid_on: '2025-01-10' });
    expect(res.status).toBe(404);
    await readProblem(res);
  });
});

describe(`ledger routes on the Collections Monitor (${databaseKind})`, () => {
  const fake = new CollectionsMonitorFake();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  const t = useTestApp({
    modules: ({ database, clock }) => [
      ledgerRoutesModule({
        db: database.db,
        clock,
        ledger: createCollectionsMonitorLedger({
          baseUrl: fake.url,
          guard: createPeerGuard({
            name: 'collections_monitor',
            timeoutMs: 10_000,
            maxConcurrency: 4,
            breakerThreshold: 100,
            breakerResetMs: 1000,
          }),
        }),
        defaultRegion: 'US',
      }),
    ],
  });
  const request = (path: string, init?: TestRequestInit) => t.current.request(path, init);

  beforeAll(() => {
    fake.setTenant(monitorTenant({ tenant_id: 'tenant_12345' }));
  });

  it('reads tenants from the monitor', async () => {
    const res = await request('/ledger/tenants/tenant_12345', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ tenant_id: 'tenant_12345', amount_owed: 1200, days_late: 15 });
    const list = await request('/ledger/tenants?delinquent=true', { as: 'viewer' });
    expect(((await list.json()) as { tenants: TenantBody[] }).tenants.map((x) => x.tenant_id)).toEqual([
      'tenant_12345',
    ]);
  });

  it('refuses every write with 409: the ledger is read-only here', async () => {
    const writes = [
      request('/ledger/tenants/tenant_12345', { method: 'PUT', as: 'manager', json: tenantInput() }),
      request('/ledger/tenants/import', {
        as: 'manager',
        body: 'tenant_id,name,phone,timezone,amount_owed\n',
        headers: { 'content-type': 'text/csv' },
      }),
      request('/ledger/tenants/tenant_12345/payments', {
        as: 'manager',
        json: { amount: 5, paid_on: '2025-01-10' },
      }),
    ];
    for (const res of await Promise.all(writes)) {
      expect(res.status).toBe(409);
      expect((await readProblem(res)).detail).toBe(
        'ledger is read-only here: it comes from the Collections Monitor',
      );
    }
  });

  it('asks for ?delinquent=true: the monitor has no full list', async () => {
    const res = await request('/ledger/tenants', { as: 'viewer' });
    expect(res.status).toBe(409);
    await readProblem(res);
  });

  it('answers 503 when the monitor fails, with Retry-After when it said so, and 502 for an unusable answer', async () => {
    fake.failNext({ kind: 'status', status: 500 });
    const down = await request('/ledger/tenants/tenant_12345', { as: 'viewer' });
    expect(down.status).toBe(503);
    await readProblem(down);

    fake.failNext({ kind: 'retry_after', seconds: 30 });
    const limited = await request('/ledger/tenants/tenant_12345', { as: 'viewer' });
    expect(limited.status).toBe(503);
    expect(limited.headers.get('retry-after')).toBe('30');

    fake.setTenant({ tenant_id: 'broken', tenant_name: 'B' });
    const broken = await request('/ledger/tenants/broken', { as: 'viewer' });
    expect(broken.status).toBe(502);
    expect((await readProblem(broken)).detail).not.toContain('amount_owed'); // no peer detail leaks
  });
});
