import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { currentCorrelationId } from '../core/runtime.js';
import type { DashboardEnv, NavKey } from './dashboard-env.js';
import { Layout } from './layout.js';

const TITLES: Partial<Record<number, string>> = {
  400: 'That request was not understood',
  403: 'Not allowed',
  404: 'Page not found',
  405: 'Not allowed here',
  409: 'Someone got there first',
  413: 'Too large',
  422: 'That could not be done',
  429: 'Too many attempts',
  500: 'Something went wrong',
  503: 'Not available right now',
};

export type ErrorPageOptions = {
  /** The page's title (default: one for the status) and its section in the navigation. */
  title?: string;
  active?: NavKey;
  /** Where to go from here (default: the dashboard's first page). */
  back?: { href: string; label: string };
};

/**
 * The dashboard's error answer, for the shell and every page: an HTML page in the layout (not
 * problem+json), with the correlation id for a 5xx so a report can be matched with the logs.
 */
export function errorPage(
  c: Context<DashboardEnv>,
  status: ContentfulStatusCode,
  message: string,
  options: ErrorPageOptions = {},
): Response | Promise<Response> {
  const user = c.get('user') as DashboardEnv['Variables']['user'] | undefined;
  const csrfToken = c.get('csrfToken') as string | undefined;
  const correlationId = status >= 500 ? currentCorrelationId() : undefined;
  const back = options.back ?? { href: '/dashboard', label: 'Back to the dashboard' };
  return c.html(
    <Layout
      title={options.title ?? TITLES[status] ?? 'Error'}
      active={options.active}
      user={user}
      csrfToken={csrfToken}
    >
      <div class="flash bad" role="alert">
        <p>{message}</p>
        {correlationId ? <p class="muted">Reference: {correlationId}</p> : null}
      </div>
      <p>
        <a href={back.href}>{back.label}</a>
      </p>
    </Layout>,
    status,
  );
}
