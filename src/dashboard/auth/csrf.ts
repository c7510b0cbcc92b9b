import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';

/**
 * CSRF defences for the dashboard's forms (docs/dashboard.md):
 * 1. a synchronizer token bound to the session (the login form: one bound to a short-lived
 *    pre-session cookie), sent as the form field `_csrf` or the header `X-CSRF-Token` (htmx);
 * 2. a same-origin check on Sec-Fetch-Site and Origin, when the browser sends them;
 * 3. SameSite on the session cookie.
 */

/** Why the request does not come from one of our own pages, or undefined when it may. */
export function crossSiteProblem(c: Context, publicBaseUrl: string | undefined): string | undefined {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return 'This form was sent from another site, so it was refused.';
  }
  const origin = c.req.header('origin');
  if (origin === undefined) return undefined;
  const parsed = URL.canParse(origin) ? new URL(origin) : undefined;
  const host = c.req.header('host');
  const ours =
    parsed !== undefined &&
    ((host !== undefined && parsed.host === host) ||
      (publicBaseUrl !== undefined && new URL(publicBaseUrl).origin === parsed.origin));
  return ours ? undefined : 'This form was sent from another site, so it was refused.';
}

export function sameToken(expected: string, given: string | undefined): boolean {
  if (!given || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/** The token a request carries: the X-CSRF-Token header, else the `_csrf` form field. */
export async function submittedCsrfToken(c: Context): Promise<string | undefined> {
  const header = c.req.header('x-csrf-token');
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  try {
    const body = await c.req.parseBody();
    const field = body._csrf;
    return typeof field === 'string' ? field : undefined;
  } catch {
    return undefined;
  }
}
