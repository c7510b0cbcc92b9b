import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionsModule } from '../../../src/collections/collections-module.js';
import { createDashboardUser } from '../../../src/dashboard/auth/user-store.js';
import { dashboardModule } from '../../../src/dashboard/dashboard-module.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../../helpers/service-under-test.js';
import { DashboardClient } from './dashboard-client.js';

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
    sut = await startServiceUnderTest({ env: {}, modules: [collectionsModule(), dashboardModule()] });
    await createDashboardUser(sut.service.database.db, {
      username: 'ada',
      password: 'ada-password-long-enough',
      role: 'admin',
      mustChangePassword: false,
      now: new Date(),
    });
    client = DashboardClient.for(sut);
    expect((await client.signIn('ada', 'ada-password-long-enough')).status).toBe(303);
    csrf = await client.csrf();
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
