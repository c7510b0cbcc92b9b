import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { currentCorrelationId } from '../core/runtime.js';
import type { DashboardEnv } from './dashboard-env.js';
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

/**
 * The dashboard's error answer: an HTML page in the layout (not problem+json), with the
 * correlation id for a 5xx so a report can be matched with the logs.
 */
export function errorPage(
  c: Context<DashboardEnv>,
  status: ContentfulStatusCode,
  message: string,
  headers: Record<string, string> = {},
): Response | Promise<Response> {
  const user = c.get('user') as DashboardEnv['Variables']['user'] | undefined;
  const csrfToken = c.get('csrfToken') as string | undefined;
  const correlationId = status >= 500 ? currentCorrelationId() : undefined;
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.html(
    <Layout title={TITLES[status] ?? 'Error'} active={undefined} user={user} csrfToken={csrfToken}>
      <div class="flash bad" role="alert">
        <p>{message}</p>
        {correlationId ? <p class="muted">Reference: {correlationId}</p> : null}
      </div>
      <p>
        <a href="/dashboard">Back to the dashboard</a>
      </p>
    </Layout>,
    status,
  );
}
