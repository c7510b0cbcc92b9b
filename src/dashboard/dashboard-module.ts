import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HttpProblem, inputDataError } from '../http/problem.js';
import type { ModuleFactory } from '../main.js';
import { registerAssets } from './assets/dashboard-assets.js';
import type { AuthDeps } from './auth/auth-deps.js';
import { DEFAULT_THROTTLE, LoginThrottle, type ThrottleOptions } from './auth/login-throttle.js';
import { sessionMiddleware } from './auth/session-middleware.js';
import { registerSignInRoutes } from './auth/sign-in-routes.js';
import { ensureFirstDashboardAdmin } from './auth/user-store.js';
import type { DashboardEnv, PageRegistrar } from './dashboard-env.js';
import { errorPage } from './error-page.js';
import { registerApprovalsPages } from './pages/approvals.js';
import { registerConversationsPages } from './pages/conversations.js';
import { registerEmailDraftPages } from './pages/email-drafts.js';
import { registerEscalationsPages } from './pages/escalations.js';
import { registerMetricsPages } from './pages/metrics.js';
import { registerPlansPages } from './pages/plans.js';
import { registerSandboxPages } from './pages/sandbox.js';
import { registerSettingsPages } from './pages/settings.js';

const PAGES: readonly PageRegistrar[] = [
  registerApprovalsPages,
  registerConversationsPages,
  registerEscalationsPages,
  registerPlansPages,
  registerEmailDraftPages,
  registerMetricsPages,
  registerSandboxPages,
  registerSettingsPages,
];

/**
 * Pages may use only what they serve: their own origin for scripts, styles, images, forms and
 * requests; no inline script or style, no eval, no framing.
 */
const CSP = [
  "default-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/**
 * The manager dashboard (docs/dashboard.md): server-rendered pages under /dashboard behind
 * sign-in with a password, sessions in cookies and CSRF tokens. Its paths are public to the
 * bearer-token middleware; the session middleware guards them instead. API tokens stay for machines.
 */
export function dashboardModule(
  options: {
    throttle?: ThrottleOptions;
    /** More pages after the built-in ones (tests mount routes behind the shell this way). */
    extraPages?: readonly PageRegistrar[];
  } = {},
): ModuleFactory {
  return (core) => {
    const deps: AuthDeps = {
      db: core.db,
      clock: core.clock,
      policy: { idleMs: core.config.dashboard.sessionIdleMs, maxMs: core.config.dashboard.sessionMaxMs },
      publicBaseUrl: core.config.publicBaseUrl,
      throttle: new LoginThrottle(options.throttle ?? DEFAULT_THROTTLE),
    };
    const dashboard = new Hono<DashboardEnv>();
    dashboard.use('*', async (c, next) => {
      await next();
      if (c.req.path.startsWith('/dashboard/assets/')) return;
      c.res.headers.set('Content-Security-Policy', CSP);
      c.res.headers.set('X-Frame-Options', 'DENY');
      c.res.headers.set('X-Content-Type-Options', 'nosniff');
      c.res.headers.set('Referrer-Policy', 'same-origin');
      // Pages show personal data and carry CSRF tokens: never stored by a browser or proxy.
      c.res.headers.set('Cache-Control', 'no-store');
      c.res.headers.append('Vary', 'Cookie');
    });
    // Before the session and CSRF checks, like the API's limit (which skips /dashboard): nothing is
    // read or written for a body over it, and the answer is a page, with the headers above.
    const limit = core.config.http.bodyLimitBytes;
    dashboard.use(
      '*',
      bodyLimit({
        maxSize: limit,
        onError: (c) =>
          errorPage(
            c,
            413,
            `The request body is larger than the limit of ${limit} bytes. Shorten what you sent and try again.`,
          ),
      }),
    );
    registerAssets(dashboard);
    dashboard.use('*', sessionMiddleware(deps));
    registerSignInRoutes(dashboard, deps);
    for (const register of [...PAGES, ...(options.extraPages ?? [])]) register(dashboard, { core });
    dashboard.all('*', (c) => errorPage(c, 404, `There is no page at ${c.req.path}.`));
    dashboard.onError((error, c) => {
      if (error instanceof HttpProblem) return errorPage(c, error.status, error.detail);
      if (error instanceof HTTPException && error.status < 500) {
        return errorPage(
          c,
          error.status as ContentfulStatusCode,
          error.message || 'That request was refused.',
        );
      }
      if (inputDataError(error)) {
        core.logger.warn({ err: error, path: c.req.path }, 'dashboard input refused by the database');
        return errorPage(
          c,
          400,
          'Something in what you sent cannot be stored (such as a NUL character or a huge number).',
        );
      }
      core.logger.error({ err: error, path: c.req.path, method: c.req.method }, 'dashboard error');
      return errorPage(
        c,
        500,
        'Something went wrong on our side. Quote the reference below when you report it.',
      );
    });

    return {
      name: 'dashboard',
      publicPaths: ['/', '/dashboard', '/dashboard/*'],
      register(app) {
        app.get('/', (c) => c.redirect('/dashboard', 302));
        app.route('/dashboard', dashboard);
      },
      async start(announce) {
        const first = await ensureFirstDashboardAdmin(core.db, core.clock.now());
        if (!first) return;
        announce(
          [
            '',
            '================================================================',
            ' First start: a dashboard admin was created. Its password is',
            ' shown once and must be changed at the first sign-in.',
            ` Username: ${first.username}`,
            ` Password: ${first.password}`,
            ' Sign in at /dashboard; make more people with',
            ' `countersign user create --role manager --username <name>`.',
            '================================================================',
            '',
          ].join('\n'),
        );
      },
    };
  };
}

/** PostgreSQL data exceptions (class 22, and 54000) are caused by the request's own values: a 400. */
