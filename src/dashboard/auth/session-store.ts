import { createHash, randomBytes } from 'node:crypto';
import { and, eq, lt, or } from 'drizzle-orm';
import type { Executor } from '../../core/db/database.js';
import { dashboardSessions, dashboardUsers } from '../../core/db/schema.js';
import type { DashboardUser } from '../dashboard-env.js';
import { isDashboardRole } from './user-store.js';

/**
 * Sessions are 32 random bytes in the `cs_session` cookie; only their SHA-256 is stored, so a
 * copy of the table signs no one in. A session ends when idle for `idleMs`, `maxMs` after
 * sign-in, at sign-out (the row is deleted), or when its user's password changes.
 */

export type SessionPolicy = { idleMs: number; maxMs: number };

export type ActiveSession = { user: DashboardUser; csrfToken: string; tokenHash: string };

/** lastSeenAt is written at most this often, so that browsing is not a write per request. */
const TOUCH_EVERY_MS = 60_000;

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(
  executor: Executor,
  input: { userId: string; now: Date; policy: SessionPolicy },
): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(input.now.getTime() + input.policy.maxMs);
  await executor.insert(dashboardSessions).values({
    tokenHash: hashSessionToken(token),
    userId: input.userId,
    csrfToken,
    createdAt: input.now,
    lastSeenAt: input.now,
    expiresAt,
  });
  return { token, csrfToken, expiresAt };
}

/** The live session for a cookie's token, touched; undefined when unknown, expired or idle (then deleted). */
export async function findSession(
  executor: Executor,
  input: { token: string; now: Date; policy: SessionPolicy },
): Promise<ActiveSession | undefined> {
  const tokenHash = hashSessionToken(input.token);
  const [row] = await executor
    .select({
      csrfToken: dashboardSessions.csrfToken,
      lastSeenAt: dashboardSessions.lastSeenAt,
      expiresAt: dashboardSessions.expiresAt,
      id: dashboardUsers.id,
      username: dashboardUsers.username,
      role: dashboardUsers.role,
      mustChangePassword: dashboardUsers.mustChangePassword,
      disabledAt: dashboardUsers.disabledAt,
    })
    .from(dashboardSessions)
    .innerJoin(dashboardUsers, eq(dashboardUsers.id, dashboardSessions.userId))
    .where(eq(dashboardSessions.tokenHash, tokenHash));
  if (!row) return undefined;
  const now = input.now.getTime();
  const ended =
    row.expiresAt.getTime() <= now ||
    row.lastSeenAt.getTime() + input.policy.idleMs <= now ||
    row.disabledAt !== null ||
    !isDashboardRole(row.role);
  if (ended) {
    await deleteSession(executor, input.token);
    return undefined;
  }
  if (now - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await executor
      .update(dashboardSessions)
      .set({ lastSeenAt: input.now })
      .where(eq(dashboardSessions.tokenHash, tokenHash));
  }
  return {
    user: {
      id: row.id,
      username: row.username,
      role: isDashboardRole(row.role) ? row.role : 'viewer',
      mustChangePassword: row.mustChangePassword,
    },
    csrfToken: row.csrfToken,
    tokenHash,
  };
}

export async function deleteSession(executor: Executor, token: string): Promise<void> {
  await executor.delete(dashboardSessions).where(eq(dashboardSessions.tokenHash, hashSessionToken(token)));
}

/** Removes sessions that ended by time; run now and then (sign-in does it). */
export async function deleteEndedSessions(
  executor: Executor,
  now: Date,
  policy: SessionPolicy,
): Promise<number> {
  const rows = await executor
    .delete(dashboardSessions)
    .where(
      or(
        lt(dashboardSessions.expiresAt, now),
        lt(dashboardSessions.lastSeenAt, new Date(now.getTime() - policy.idleMs)),
      ),
    )
    .returning({ tokenHash: dashboardSessions.tokenHash });
  return rows.length;
}

export async function countSessions(executor: Executor, userId: string): Promise<number> {
  const rows = await executor
    .select({ tokenHash: dashboardSessions.tokenHash })
    .from(dashboardSessions)
    .where(and(eq(dashboardSessions.userId, userId)));
  return rows.length;
}
