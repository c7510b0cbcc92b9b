import type { MiddlewareHandler } from 'hono';
import type { DashboardEnv, DashboardRole } from '../dashboard-env.js';
import { errorPage } from '../error-page.js';

/**
 * For the pages: `app.post('/x', requireDashboardRole('manager'), handler)`. Admins may do
 * everything; other roles only what is named. Viewers read; managers decide. (The shell already
 * refuses every non-GET request from a viewer, except sign-out and their own password.)
 */
export function requireDashboardRole(...roles: DashboardRole[]): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const user = c.get('user');
    if (user.role !== 'admin' && !roles.includes(user.role)) {
      return errorPage(
        c,
        403,
        `Your role (${user.role}) may not do this; it needs ${['admin', ...roles.filter((r) => r !== 'admin')].join(' or ')}.`,
      );
    }
    return next();
  };
}
