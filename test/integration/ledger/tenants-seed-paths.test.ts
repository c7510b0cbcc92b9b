import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/runtime.js';
import { CollectionsMonitorFake, monitorTenant } from '../../fakes/collections-monitor-fake.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../../helpers/service-under-test.js';
import { readProblem } from '../../helpers/test-app.js';
import { databaseKind } from '../../helpers/test-database.js';

/**
 * The built-in ledger at the seed-facing paths (GET/PUT /tenants/{tenant_id}, POST /tenants/import),
 * with the seed's field names, on the whole service over HTTP with an injected clock. The same
 * tables answer at /ledger/tenants/..., which ledger-routes.test.ts covers.
 */

/** 10:30 UTC is 05:30 the same day in New York. */
const START = '2025-01-15T10:30:00Z';

type SeedTenant = {
  tenant_id: string;
  name: string;
  phone_number: string;
  timezone: string;
  amount_owed: number;
  tenant_portion: number | null;
  days_late: number;
  property_name: string | null;
  unit: string | null;
  payment_history: { date: string; amount: number; method: string | null }[];
};

let phoneSeq = 200;
/** A fresh valid US number per tenant: phone numbers are unique in the ledger. */
const nextPhone = () => `+1415555${String(phoneSeq++).padStart(4, '0')}`;
const newId = () => `tenant_${randomUUID().slice(0, 8)}`;

const seedInput = (overrides: Record<string, unknown> = {}) => ({
  name: 'Jane Doe',
  phone_number: nextPhone(),
  timezone: 'America/New_York',
  amount_owed: 1200,
  tenant_portion: 600,
  days_late: 5,
  property_name: 'Maple Court',
  unit: '4B',
  ...overrides,
});

describe(`the built-in ledger at the seed's paths (${databaseKind})`, () => {
  const clock = new ManualClock(START);
  let sut: ServiceUnderTest;
  let manager: string;
  let viewer: string;

  beforeAll(async () => {
    sut = await startServiceUnderTest({ env: {}, clock });
    const token = async (role: string) => {
      const created = await sut.call('POST', '/admin/tokens', { name: `ledger-${role}`, role });
      expect(created.status).toBe(201);
      return created.body.token as string;
    };
    manager = await token('manager');
    viewer = await token('viewer');
  });
  afterAll(async () => {
    await sut.stop();
  });
  beforeEach(() => clock.set(START));

  async function request(
    method: string,
    path: string,
    options: { token?: string | undefined; json?: unknown; csv?: string; raw?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.csv !== undefined) {
      headers['content-type'] = 'text/csv; charset=utf-8';
      body = options.csv;
    } else if (options.raw !== undefined) {
      headers['content-type'] = 'application/json';
      body = options.raw;
    }
    return fetch(`${sut.service.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  }
  const put = (id: string, json: unknown, token = manager) =>
    request('PUT', `/tenants/${id}`, { token, json });
  const get = async (id: string) => {
    const res = await request('GET', `/tenants/${id}`, { token: viewer });
    expect(res.status).toBe(200);
    return (await res.json()) as SeedTenant;
  };
  const importCsv = (csv: string) => request('POST', '/tenants/import', { token: manager, csv });
  /** A 400 (or other) problem naming exactly one field. */
  async function expectFieldProblem(res: Response, status: number, pointer: string) {
    expect(res.status).toBe(status);
    const problem = await readProblem(res);
    expect(problem.errors).toEqual([expect.objectContaining({ pointer })]);
    return problem;
  }

  it('PUT then GET round-trips the seed shape; days_late is stored as a date and grows with the calendar', async () => {
    const id = newId();
    const created = await put(id, seedInput({ phone_number: '(415) 555-0142', days_late: 5 }));
    expect(created.status).toBe(201);
    const expected: SeedTenant = {
      tenant_id: id,
      name: 'Jane Doe',
      phone_number: '+14155550142',
      timezone: 'America/New_York',
      amount_owed: 1200,
      tenant_portion: 600,
      days_late: 5,
      property_name: 'Maple Court',
      unit: '4B',
      payment_history: [],
    };
    expect(await created.json()).toEqual(expected);
    expect(await get(id)).toEqual(expected);

    clock.advance(86_400_000);
    expect((await get(id)).days_late).toBe(6);

    // Days turn at midnight where the tenant lives (New York, UTC-5), not at midnight UTC.
    clock.set('2025-01-17T04:59:00Z');
    expect((await get(id)).days_late).toBe(6);
    clock.set('2025-01-17T05:00:00Z');
    expect((await get(id)).days_late).toBe(7);
  });

  it('PUT replaces (200); due_date may stand for days_late and phone for phone_number', async () => {
    const id = newId();
    expect((await put(id, seedInput())).status).toBe(201);
    const phone = nextPhone();
    const { days_late: _d, phone_number: _p, ...rest } = seedInput();
    const replaced = await put(id, {
      ...rest,
      phone,
      due_date: '2025-01-01',
      amount_owed: 99.99,
      tenant_portion: null,
      unit: null,
    });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({
      tenant_id: id,
      phone_number: phone,
      days_late: 14,
      amount_owed: 99.99,
      tenant_portion: null,
      unit: null,
    });
    expect(await get(id)).toMatchObject({ phone_number: phone, days_late: 14 });
    const none = await put(id, seedInput({ phone_number: phone, days_late: null }));
    expect(none.status).toBe(200);
    expect(((await none.json()) as SeedTenant).days_late).toBe(0);
  });

  it('the same tenant answers at /ledger/tenants/{id} under our field names, and back', async () => {
    const id = newId();
    const phone = nextPhone();
    await put(id, seedInput({ phone_number: phone, days_late: 3 }));
    const ledger = await request('GET', `/ledger/tenants/${id}`, { token: viewer });
    expect(await ledger.json()).toMatchObject({ tenant_id: id, phone, days_late: 3 });

    const other = newId();
    const otherPhone = nextPhone();
    const res = await request('PUT', `/ledger/tenants/${other}`, {
      token: manager,
      json: {
        name: 'Sam Roe',
        phone: otherPhone,
        timezone: 'UTC',
        amount_owed: 10,
        due_date: '2025-01-05',
      },
    });
    expect(res.status).toBe(201);
    expect(await get(other)).toMatchObject({ phone_number: otherPhone, days_late: 10 });
  });

  it.each([
    ['an invalid phone_number', { phone_number: '555-01' }, '/phone_number'],
    ['an invalid phone', { phone_number: undefined, phone: '12345' }, '/phone'],
    ['no phone at all', { phone_number: undefined }, '/phone_number'],
    ['phone and phone_number', { phone: '+14155550999' }, '/phone'],
    ['due_date and days_late', { due_date: '2025-01-01', days_late: 14 }, '/days_late'],
    ['due_date null and days_late', { due_date: null, days_late: 14 }, '/days_late'],
    ['neither due_date nor days_late', { days_late: undefined }, '/days_late'],
    ['negative days_late', { days_late: -1 }, '/days_late'],
    ['fractional days_late', { days_late: 1.5 }, '/days_late'],
    ['a bad due_date', { days_late: undefined, due_date: '2025-02-30' }, '/due_date'],
    ['a bad timezone', { timezone: 'Eastern' }, '/timezone'],
    ['a portion above the amount owed', { amount_owed: 10, tenant_portion: 20 }, '/tenant_portion'],
    ['an unknown field', { balance: 5 }, ''], // the body itself
  ])('PUT with %s is a 400 problem naming the field', async (_name, overrides, pointer) => {
    const id = newId();
    const res = await put(id, seedInput(overrides));
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    const errors = problem.errors as { pointer: string }[];
    expect(errors.map((e) => e.pointer)).toContain(pointer);
    expect((await request('GET', `/tenants/${id}`, { token: viewer })).status).toBe(404);
  });

  it('PUT with an unusable id, bad JSON or another content type is a 4xx problem', async () => {
    await expectFieldProblem(await put('bad%20id', seedInput()), 400, '/tenant_id');
    const badJson = await request('PUT', `/tenants/${newId()}`, { token: manager, raw: '{"name":' });
    expect(badJson.status).toBe(400);
    await readProblem(badJson);
    const csvBody = await request('PUT', `/tenants/${newId()}`, { token: manager, csv: 'a,b\n' });
    expect(csvBody.status).toBe(415);
    await readProblem(csvBody);
  });

  it('PUT with another tenant’s number is a 409 naming phone_number', async () => {
    const phone = nextPhone();
    const holder = newId();
    expect((await put(holder, seedInput({ phone_number: phone }))).status).toBe(201);
    const problem = await expectFieldProblem(
      await put(newId(), seedInput({ phone_number: phone })),
      409,
      '/phone_number',
    );
    expect(problem.detail).toContain(holder);
  });

  it('GET of an unknown tenant is a 404 problem', async () => {
    const res = await request('GET', '/tenants/tenant_nobody', { token: viewer });
    expect(res.status).toBe(404);
    expect((await readProblem(res)).detail).toBe('No tenant tenant_nobody in the ledger.');
  });

  it('roles are the ledger’s: viewers read, managers write', async () => {
    const id = newId();
    expect((await put(id, seedInput(), viewer)).status).toBe(403);
    expect((await request('PUT', `/tenants/${id}`, { json: seedInput() })).status).toBe(401);
    expect((await request('GET', `/tenants/${id}`)).status).toBe(401);
    const csv = await request('POST', '/tenants/import', {
      token: viewer,
      csv: 'tenant_id,name,phone,timezone,amount_owed\n',
    });
    expect(csv.status).toBe(403);
    await readProblem(csv);
    expect((await put(id, seedInput())).status).toBe(201);
  });

  it('imports CSV with phone_number and days_late columns', async () => {
    const a = newId();
    const b = newId();
    const file = [
      'tenant_id,name,phone_number,timezone,amount_owed,tenant_portion,days_late,property_name,unit',
      `${a},"Doe, Jane",(415) 555-0177,America/Chicago,"1,250.00",,12,"Maple Court",1A`,
      `${b},Sam Roe,${nextPhone()},Pacific/Honolulu,80.5,,,,`,
    ].join('\r\n');
    const res = await importCsv(file);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ imported: 2, errors: [] });
    expect(await get(a)).toMatchObject({
      name: 'Doe, Jane',
      phone_number: '+14155550177',
      amount_owed: 1250,
      days_late: 12,
      property_name: 'Maple Court',
    });
    expect(await get(b)).toMatchObject({ amount_owed: 80.5, days_late: 0 });
    clock.advance(86_400_000);
    expect((await get(a)).days_late).toBe(13);
  });

  it('a CSV file with a bad row reports it per line and imports nothing (422)', async () => {
    const good = newId();
    const alsoGood = newId();
    const file = [
      'tenant_id,name,phone_number,timezone,amount_owed,days_late',
      `${good},Ok,${nextPhone()},UTC,10,3`,
      `${newId()},Bad Phone,12345,UTC,10,3`,
      `${alsoGood},Ok Too,${nextPhone()},UTC,10,4`,
      `${newId()},Bad Days,${nextPhone()},UTC,10,-2`,
    ].join('\n');
    const res = await importCsv(file);
    expect(res.status).toBe(422);
    const problem = await readProblem(res);
    expect(problem.imported).toBe(0);
    expect(problem.errors).toEqual([
      { line: 3, message: expect.stringMatching(/^phone_number: /) as unknown },
      { line: 5, message: expect.stringMatching(/^days_late: /) as unknown },
    ]);
    for (const id of [good, alsoGood]) {
      expect((await request('GET', `/tenants/${id}`, { token: viewer })).status).toBe(404);
    }
  });

  it('a CSV header with both due_date and days_late is refused as a whole', async () => {
    const res = await importCsv(
      `tenant_id,name,phone,timezone,amount_owed,due_date,days_late\n${newId()},A,${nextPhone()},UTC,1,,3\n`,
    );
    expect(res.status).toBe(422);
    expect((await readProblem(res)).errors).toEqual([
      { line: 1, message: 'give a due_date or a days_late column, not both' },
    ]);
  });

  it('lists the seed paths in the OpenAPI document', async () => {
    const res = await fetch(`${sut.service.url}/openapi.json`);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/tenants/{tenant_id}'] ?? {}).sort()).toEqual(['get', 'put']);
    expect(doc.paths['/tenants/import']?.post).toBeDefined();
    expect(doc.paths['/ledger/tenants/import']?.post).toBeDefined();
  });
});

describe(`the seed's paths on the Collections Monitor (${databaseKind})`, () => {
  const fake = new CollectionsMonitorFake();
  let sut: ServiceUnderTest;

  beforeAll(async () => {
    await fake.start();
    fake.setTenant(monitorTenant({ tenant_id: 'tenant_12345' }));
    sut = await startServiceUnderTest({ env: { COLLECTIONS_MONITOR_URL: fake.url } });
  });
  afterAll(async () => {
    await sut.stop();
    await fake.stop();
  });

  it('reads the tenant from the monitor in the seed shape', async () => {
    const res = await sut.call('GET', '/tenants/tenant_12345');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tenant_id: 'tenant_12345',
      phone_number: '+14155550100',
      amount_owed: 1200,
      days_late: 15,
    });
    expect(res.body).not.toHaveProperty('phone');
    expect((await sut.call('GET', '/tenants/tenant_nobody')).status).toBe(404);
  });

  it('refuses writes with 409: the ledger is read-only here', async () => {
    const put = await sut.call('PUT', '/tenants/tenant_12345', seedInput());
    expect(put.status).toBe(409);
    expect(put.body.detail).toBe('ledger is read-only here: it comes from the Collections Monitor');
  });
});
