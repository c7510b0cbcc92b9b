import { randomUUID } from 'node:crypto';
import { and, asc, count, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../core/db/database.js';
import { dashboardSessions, dashboardUsers } from '../../core/db/schema.js';
import { DASHBOARD_ROLES, type DashboardRole, type DashboardUser } from '../dashboard-env.js';
import { generatePassword, hashPassword } from './password.js';

/** The only file that knows the dashboard_users table. */

export const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export class UserStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserStoreError';
  }
}

export type StoredUser = DashboardUser & { passwordHash: string };

export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

export function isDashboardRole(role: string): role is DashboardRole {
  return (DASHBOARD_ROLES as readonly string[]).includes(role);
}

function toUser(row: typeof dashboardUsers.$inferSelect): StoredUser {
  return {
    id: row.id,
    username: row.username,
    role: isDashboardRole(row.role) ? row.role : 'viewer',
    mustChangePassword: row.mustChangePassword,
    passwordHash: row.passwordHash,
  };
}

/** Creates a user; without a password one is generated (and must be changed at first sign-in). */
export async function createDashboardUser(
  executor: Executor,
  input: {
    username: string;
    role: DashboardRole;
    password?: string;
    mustChangePassword?: boolean;
    now: Date;
  },
): Promise<{ user: DashboardUser; password: string }> {
  const username = normalizeUsername(input.username);
  if (!USERNAME.test(username)) {
    throw new UserStoreError(
      'A username is 1 to 64 characters: lower-case letters, digits, dot, dash or underscore, starting with a letter or digit.',
    );
  }
  if (!isDashboardRole(input.role))
    throw new UserStoreError(`The role must be one of ${DASHBOARD_ROLES.join(', ')}.`);
  const password = input.password ?? generatePassword();
  const passwordHash = await hashPassword(password);
  const id = randomUUID();
  const rows = await executor
    .insert(dashboardUsers)
    .values({
      id,
      username,
      role: input.role,
      passwordHash,
      mustChangePassword: input.mustChangePassword ?? input.password === undefined,
      createdAt: input.now,
      passwordChangedAt: input.now,
    })
    .onConflictDoNothing()
    .returning();
  const row = rows[0];
  if (!row) throw new UserStoreError(`There is already a user named ${username}.`);
  const { passwordHash: _hash, ...user } = toUser(row);
  return { user, password };
}

export async function findUserByUsername(
  executor: Executor,
  username: string,
): Promise<StoredUser | undefined> {
  const [row] = await executor
    .select()
    .from(dashboardUsers)
    .where(and(eq(dashboardUsers.username, normalizeUsername(username)), isNull(dashboardUsers.disabledAt)));
  return row ? toUser(row) : undefined;
}

export async function listDashboardUsers(executor: Executor): Promise<DashboardUser[]> {
  const rows = await executor.select().from(dashboardUsers).orderBy(asc(dashboardUsers.username));
  return rows.map((row) => {
    const { passwordHash: _hash, ...user } = toUser(row);
    return user;
  });
}

/**
 * Replaces a user's password and ends all their sessions but `keepSessionHash` (the one that
 * changed it, if any): whoever knew the old password is signed out everywhere else.
 */
export async function setDashboardPassword(
  executor: Executor,
  input: {
    userId: string;
    password: string;
    mustChangePassword: boolean;
    now: Date;
    keepSessionHash?: string;
  },
): Promise<void> {
  const passwordHash = await hashPassword(input.password);
  await executor.transaction(async (tx) => {
    await tx
      .update(dashboardUsers)
      .set({ passwordHash, mustChangePassword: input.mustChangePassword, passwordChangedAt: input.now })
      .where(eq(dashboardUsers.id, input.userId));
    await tx
      .delete(dashboardSessions)
      .where(
        input.keepSessionHash
          ? and(
              eq(dashboardSessions.userId, input.userId),
              sql`${dashboardSessions.tokenHash} <> ${input.keepSessionHash}`,
            )
          : eq(dashboardSessions.userId, input.userId),
      );
  });
}

/**
 * With no dashboard user at all, the first start makes `admin` with a generated password that
 * must be changed at first sign-in, and returns the password so the caller prints it once. The
 * advisory lock keeps two processes starting together on one PostgreSQL from both making one.
 */
export async function ensureFirstDashboardAdmin(
  executor: Executor,
  now: Date,
): Promise<{ username: string; password: string } | undefined> {
  return executor.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${0x44617368})`);
    const [row] = await tx.select({ n: count() }).from(dashboardUsers);
    if ((row?.n ?? 0) > 0) return undefined;
    const created = await createDashboardUser(tx, {
      username: 'admin',
      role: 'admin',
      now,
      mustChangePassword: true,
    });
    return { username: created.user.username, password: created.password };
  });
}
