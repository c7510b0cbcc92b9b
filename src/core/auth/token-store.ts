import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../db/database.js';
import { apiTokens } from '../db/schema.js';

export const ROLES = ['admin', 'manager', 'service', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type Principal = { id: string; name: string; role: Role };

/**
 * API tokens are 32 random bytes; only their SHA-256 is stored. A slow password hash buys
 * nothing for a secret with 256 bits of entropy, and a fast lookup by hash keeps auth off the
 * request's critical path.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return `cs_${randomBytes(32).toString('base64url')}`;
}

export async function createToken(
  executor: Executor,
  input: { name: string; role: Role; now: Date; token?: string },
): Promise<{ id: string; token: string }> {
  const token = input.token ?? generateToken();
  const id = randomUUID();
  await executor.insert(apiTokens).values({
    id,
    name: input.name,
    role: input.role,
    tokenHash: hashToken(token),
    createdAt: input.now,
  });
  return { id, token };
}

export async function findPrincipal(executor: Executor, token: string): Promise<Principal | undefined> {
  const [row] = await executor
    .select({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
  return row ? { id: row.id, name: row.name, role: row.role as Role } : undefined;
}

export async function listTokens(executor: Executor) {
  return executor
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      created_at: apiTokens.createdAt,
      revoked_at: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(apiTokens.createdAt);
}

export async function revokeToken(executor: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await executor
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/** Constant-time comparison for the environment's admin token. */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * With no token at all and none in the environment, the first start makes an admin token and
 * returns it so the caller can print it once. The advisory lock keeps two processes starting
 * together on one PostgreSQL from both making one.
 */
export async function ensureFirstAdminToken(
  executor: Executor,
  now: Date,
): Promise<{ id: string; token: string } | undefined> {
  return executor.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${0x436f7554})`);
    const [row] = await tx.select({ n: count() }).from(apiTokens);
    if ((row?.n ?? 0) > 0) return undefined;
    return createToken(tx, { name: 'first-admin', role: 'admin', now });
  });
}
