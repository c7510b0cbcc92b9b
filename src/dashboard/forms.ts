import type { Context } from 'hono';
import type { DashboardEnv, DashboardUser } from './dashboard-env.js';

/** Managers and admins act; viewers read (the shell refuses their writes too). */
export const canAct = (user: DashboardUser | undefined): boolean =>
  user !== undefined && (user.role === 'admin' || user.role === 'manager');

/**
 * A posted form's text fields; anything that is not a form (another content type, files) reads
 * as empty, so a handler's own checks answer it with a 4xx instead of a parse error.
 */
export async function readForm(c: Context<DashboardEnv>): Promise<Record<string, string | undefined>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return {};
  const body = await c.req.parseBody();
  return Object.fromEntries(
    Object.entries(body).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as const] : [])),
  );
}
