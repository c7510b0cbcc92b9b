import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../../src/collections/collections-module.js';
import { createDashboardUser } from '../../../src/dashboard/auth/user-store.js';
import { dashboardModule } from '../../../src/dashboard/dashboard-module.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../../helpers/service-under-test.js';
import { DashboardClient } from './dashboard-client.js';

/** A service with the dashboard, and an admin signed in to it. */
async function signedInAdmin(
  env: Record<string, string>,
): Promise<{ sut: ServiceUnderTest; client: DashboardClient; csrf: string }> {
  const sut = await startServiceUnderTest({ env, modules: [collectionsModule(), dashboardModule()] });
  await createDashboardUser(sut.service.database.db, {
    username: 'ada',
    password: 'ada-password-long-enough',
    role: 'admin',
    mustChangePassword: false,
    now: new Date(),
  });
  const client = DashboardClient.for(sut);
  expect((await client.signIn('ada', 'ada-password-long-enough')).status).toBe(303);
  return { sut, client, csrf: await client.csrf() };
}

/**
 * Found by the dashboard fuzz (docs/fuzz.md): a form whose body cannot be parsed (a multipart
 * body that does not match its boundary), sent with the CSRF token in the X-CSRF-Token header as
 * htmx does, reached the page handler's body parser, which threw: a 500. It is the sender's
 * fault, so it must be a 400 page, and nothing may change.
 */
describe('dashboard forms whose body cannot be parsed', () => {
  let sut: ServiceUnderTest;
  let client: DashboardClient;
  let csrf: string;

  beforeAll(async () => {
    ({ sut, client, csrf } = await signedInAdmin({}));
  });
  afterAll(async () => {
    await sut?.stop();
  });

  const post = (path: string, contentType: string, body: string) =>
    fetch(`${sut.service.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: `cs_session=${client.cookies.get('cs_session')}`,
        'x-csrf-token': csrf,
        'content-type': contentType,
      },
      body,
    });

  it.each([
    '/dashboard/escalations/esc_missing/assign',
    '/dashboard/escalations/esc_missing/resolve',
    '/dashboard/approvals/resp_missing',
    '/dashboard/sandbox/tenants',
    '/dashboard/sandbox/text',
  ])('%s: a broken multipart body is a 400 page, not a 500', async (path) => {
    for (const [type, body] of [
      ['multipart/form-data; boundary="unclosed', '\u0000 garbage'],
      [
        'multipart/form-data; boundary=',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
      ],
      ['multipart/form-data', 'no boundary at all'],
    ] as const) {
      const response = await post(path, type, body);
      expect(response.status, `${type}: ${await response.clone().text()}`).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('The form could not be read');
    }
  });

  it("the API's Idempotency-Key middleware leaves dashboard forms alone", async () => {
    // Found by the dashboard fuzz: a form POST with an Idempotency-Key was stored by the API's
    // middleware, so the same key with another body got the API's 422 JSON instead of the page,
    // and a repeat would have been answered from storage before the session and CSRF checks.
    const other = DashboardClient.for(sut);
    expect((await other.signIn('ada', 'ada-password-long-enough')).status).toBe(303);
    const token = await other.csrf();
    const logout = (body: string) =>
      fetch(`${sut.service.url}/dashboard/logout`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: `cs_session=${other.cookies.get('cs_session')}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': 'dashboard-form-key',
        },
        body,
      });
    const first = await logout(`_csrf=${token}`);
    expect(first.status).toBe(303);
    const second = await logout(`_csrf=${token}&again=1`);
    expect(second.status, await second.clone().text()).toBe(303);
    expect(second.headers.get('content-type') ?? '').not.toContain('problem+json');
  });
});

/**
 * Found by the dashboard fuzz (docs/fuzz.md, item 9): the API's body limit runs before every
 * route, and answered a dashboard form over the limit with its 413 problem+json, which a person
 * in a browser sees as JSON. Under /dashboard it must be the dashboard's HTML "Too large" page;
 * the API keeps problem+json; and nothing may be written either way.
 */
describe('dashboard forms over the body limit', () => {
  const LIMIT = 1024; // small, so a body over it is sent whole before the answer (no reset)
  let sut: ServiceUnderTest;
  let client: DashboardClient;
  let csrf: string;

  beforeAll(async () => {
    ({ sut, client, csrf } = await signedInAdmin({ BODY_LIMIT_BYTES: String(LIMIT) }));
  });
  afterAll(async () => {
    await sut?.stop();
  });

  const tenantForm = (tenantId: string, name: string) =>
    new URLSearchParams({
      _csrf: csrf,
      tenant_id: tenantId,
      name,
      phone: tenantId === 't-small' ? '+12125550101' : '+12125550102',
      timezone: 'America/New_York',
      amount_owed: '600',
      days_late: '12',
    }).toString();

  const post = (path: string, body: string | ReadableStream<Uint8Array>) =>
    fetch(`${sut.service.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: `cs_session=${client.cookies.get('cs_session')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body,
      // A stream is sent chunked (no Content-Length): the limit then counts the bytes as they come.
      ...(typeof body === 'string' ? {} : { duplex: 'half' }),
    } as RequestInit);

  const expectTooLargePage = async (response: Response) => {
    const text = await response.text();
    expect(response.status, text).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    // A dashboard page like the others: its security headers too.
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(text).toContain('<title>Too large · Countersign</title>');
    expect(text).toMatch(
      /<div class="flash bad" role="alert">\s*<p>[^<]*larger than the limit of 1024 bytes/,
    );
  };

  const ledgerTenant = async (id: string) => (await sut.call('GET', `/ledger/tenants/${id}`)).status;

  it('a form over the limit is the HTML "Too large" page, and nothing is added', async () => {
    // The same form under the limit adds the tenant, so only the size stops the one over it.
    const small = await post('/dashboard/sandbox/tenants', tenantForm('t-small', 'Maria Lopez'));
    expect(small.status, await small.clone().text()).toBe(303);
    expect(await ledgerTenant('t-small')).toBe(200);

    const body = tenantForm('t-big', 'M'.repeat(2 * LIMIT));
    expect(body.length).toBeGreaterThan(LIMIT);
    await expectTooLargePage(await post('/dashboard/sandbox/tenants', body));
    expect(await ledgerTenant('t-big')).toBe(404);
  });

  it('the same when the body comes chunked, without a Content-Length', async () => {
    const bytes = new TextEncoder().encode(tenantForm('t-chunked', 'M'.repeat(2 * LIMIT)));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 512) controller.enqueue(bytes.slice(at, at + 512));
        controller.close();
      },
    });
    await expectTooLargePage(await post('/dashboard/sandbox/tenants', stream));
    expect(await ledgerTenant('t-chunked')).toBe(404);
  });

  it('a sign-out over the limit does not sign out', async () => {
    await expectTooLargePage(await post('/dashboard/logout', `_csrf=${csrf}&pad=${'x'.repeat(2 * LIMIT)}`));
    const page = await client.get('/dashboard/settings');
    expect(page.status).toBe(200);
    expect(DashboardClient.csrfIn(await page.text())).toBe(csrf);
  });

  it('the API keeps its 413 problem+json', async () => {
    const { status, body } = await sut.call('PUT', '/tenants/t-api', { name: 'M'.repeat(2 * LIMIT) });
    expect(status).toBe(413);
    expect(body).toMatchObject({ status: 413, detail: expect.stringContaining('limit of 1024 bytes') });
  });
});
