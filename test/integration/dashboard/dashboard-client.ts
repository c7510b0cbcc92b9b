import type { ServiceUnderTest } from '../../helpers/service-under-test.js';

/**
 * A browser-less client for the dashboard over real HTTP: keeps cookies (as a browser would on
 * this origin), never follows redirects, and can read the CSRF token out of a page.
 */
export class DashboardClient {
  readonly cookies = new Map<string, string>();
  /** The raw Set-Cookie lines of the last response. */
  lastSetCookies: string[] = [];

  constructor(private readonly base: string) {}

  static for(sut: ServiceUnderTest): DashboardClient {
    return new DashboardClient(sut.service.url!);
  }

  async request(
    method: string,
    path: string,
    options: { form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      redirect: 'manual',
      ...(options.form ? { body: new URLSearchParams(options.form).toString() } : {}),
    });
    this.lastSetCookies = response.headers.getSetCookie();
    for (const line of this.lastSetCookies) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  get(path: string, headers: Record<string, string> = {}) {
    return this.request('GET', path, { headers });
  }

  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request('POST', path, { form, headers });
  }

  /** The `_csrf` value in a page. */
  static csrfIn(html: string): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!match?.[1]) throw new Error('no _csrf field in the page');
    return match[1];
  }

  /** Fetches the login form and signs in; returns the response to the POST. */
  async signIn(username: string, password: string, next?: string): Promise<Response> {
    const form = await this.get('/dashboard/login');
    const token = DashboardClient.csrfIn(await form.text());
    return this.post('/dashboard/login', {
      _csrf: token,
      username,
      password,
      ...(next ? { next } : {}),
    });
  }

  /** The session's CSRF token, read from a signed-in page. */
  async csrf(path = '/dashboard/settings'): Promise<string> {
    const page = await this.get(path);
    return DashboardClient.csrfIn(await page.text());
  }
}
