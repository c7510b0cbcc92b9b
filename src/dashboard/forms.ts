import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { DashboardEnv, DashboardUser } from './dashboard-env.js';

/** Managers and admins act; viewers read (the shell refuses their writes too). */
export const canAct = (user: DashboardUser | undefined): boolean =>
  user !== undefined && (user.role === 'admin' || user.role === 'manager');

/**
 * A posted form's text fields; anything that is not a form (another content type, files) reads
 * as empty, so a handler's own checks answer it with a 4xx instead of a parse error. A form body
 * that cannot be parsed (a multipart body that does not match its boundary) is the sender's
 * fault: a 400 page (the dashboard's error handler renders HTTPException), not a 500.
 */
export async function readForm(c: Context<DashboardEnv>): Promise<Record<string, string | undefined>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return {};
  let body: Awaited<ReturnType<typeof c.req.parseBody>>;
  try {
    body = await c.req.parseBody();
  } catch {
    throw new HTTPException(400, { message: 'The form could not be read. Reload the page and try again.' });
  }
  return Object.fromEntries(
    Object.entries(body).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as const] : [])),
  );
}
