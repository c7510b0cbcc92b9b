import type { MiddlewareHandler } from 'hono';
import { deleteCookie } from 'hono/cookie';
import type { DashboardEnv } from '../dashboard-env.js';
import { errorPage } from '../error-page.js';
import { cookieBase, SESSION_COOKIE, sessionToken, type AuthDeps } from './auth-deps.js';
import { crossSiteProblem, sameToken, submittedCsrfToken } from './csrf.js';
import { findSession } from './session-store.js';

/** Paths under /dashboard that need no session. */
const OPEN = [/^\/dashboard\/login\/?$/, /^\/dashboard\/assets\//];

/** What a signed-in person who must change their password may still reach. */
const PASSWORD_CHANGE_PATHS = new Set(['/dashboard/password', '/dashboard/logout']);

/** A viewer reads; of the requests that change something, only these are theirs. */
const VIEWER_WRITES = new Set(['/dashboard/password', '/dashboard/logout']);

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards every dashboard path but the open ones: without a live session, a page request is
 * redirected (303) to the sign-in page with `next`, an htmx request gets 401 with HX-Redirect.
 * With one, `user` and `csrfToken` are set, and every non-GET must come from our own origin and
 * carry the session's CSRF token, or it is refused with 403 before any page handler runs.
 */
export function sessionMiddleware(deps: AuthDeps): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const path = c.req.path;
    if (OPEN.some((rule) => rule.test(path))) return next();
    const token = sessionToken(c);
    const session = token
      ? await findSession(deps.db, { token, now: deps.clock.now(), policy: deps.policy })
      : undefined;
    if (!session) {
      if (token) deleteCookie(c, SESSION_COOKIE, cookieBase);
      const url = new URL(c.req.url);
      const back = SAFE_METHODS.has(c.req.method) ? `${url.pathname}${url.search}` : '/dashboard';
      const login = `/dashboard/login?next=${encodeURIComponent(back)}`;
      if (c.req.header('hx-request') === 'true') {
        return c.body(null, 401, { 'HX-Redirect': login });
      }
      return c.redirect(login, 303);
    }
    c.set('user', session.user);
    c.set('csrfToken', session.csrfToken);
    if (!SAFE_METHODS.has(c.req.method)) {
      const crossSite = crossSiteProblem(c, deps.publicBaseUrl);
      if (crossSite) return errorPage(c, 403, crossSite);
      if (!sameToken(session.csrfToken, await submittedCsrfToken(c))) {
        return errorPage(
          c,
          403,
          'This form had no valid security token (it may be from an old page). Reload the page and try again.',
        );
      }
      if (session.user.role === 'viewer' && !VIEWER_WRITES.has(path)) {
        return errorPage(c, 403, 'Your role (viewer) may look but not change anything.');
      }
    }
    if (session.user.mustChangePassword && !PASSWORD_CHANGE_PATHS.has(path)) {
      if (c.req.header('hx-request') === 'true')
        return c.body(null, 401, { 'HX-Redirect': '/dashboard/password' });
      return c.redirect('/dashboard/password', 303);
    }
    return next();
  };
}
