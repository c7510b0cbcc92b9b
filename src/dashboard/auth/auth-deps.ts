import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { getCookie } from 'hono/cookie';
import type { Db } from '../../core/db/database.js';
import type { Clock } from '../../core/runtime.js';
import type { LoginThrottle } from './login-throttle.js';
import type { SessionPolicy } from './session-store.js';

/** What the sign-in routes and the session middleware share. */
export type AuthDeps = {
  db: Db;
  clock: Clock;
  policy: SessionPolicy;
  publicBaseUrl: string | undefined;
  throttle: LoginThrottle;
};

export const SESSION_COOKIE = 'cs_session';
/** The pre-session cookie that binds the login form's CSRF token. */
export const LOGIN_COOKIE = 'cs_login';

/**
 * Cookies are always Secure: Chromium (and Firefox) keep a Secure cookie set over plain http to
 * localhost/127.0.0.1, which they treat as a secure context, so local use works; anywhere else
 * the dashboard must be served over https (a TLS proxy in front). See docs/dashboard.md.
 */
export const cookieBase = { httpOnly: true, secure: true, path: '/dashboard' } as const;

export function sessionToken(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Only a path inside the dashboard is a place to return to after sign-in (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (!next || !/^\/dashboard(\/|\?|$)/.test(next) || /[\\\r\n]/.test(next)) {
    return '/dashboard';
  }
  if (next.startsWith('/dashboard/login') || next.startsWith('/dashboard/logout')) return '/dashboard';
  return next;
}
