import { createHash } from 'node:crypto';
import { and, eq, lt } from 'drizzle-orm';
import type { Executor } from '../db/database.js';
import { idempotencyKeys } from '../db/schema.js';

/**
 * Idempotency-Key for POST requests (draft-ietf-httpapi-idempotency-key-header):
 * the key is claimed by an insert under the primary key (never check-then-insert), the response
 * is stored when the request completes, and a repeat gets the stored response.
 */

export type StoredResponse = { status: number; headers: Record<string, string>; body: string };

export type IdempotencyClaim =
  | { outcome: 'claimed' }
  | { outcome: 'replay'; response: StoredResponse }
  | { outcome: 'in_progress' }
  | { outcome: 'mismatch' };

export function requestFingerprint(method: string, path: string, body: string): string {
  return createHash('sha256').update(`${method}\n${path}\n${body}`).digest('hex');
}

export async function claimIdempotencyKey(
  executor: Executor,
  input: { scope: string; key: string; requestHash: string; now: Date; ttlMs: number },
): Promise<IdempotencyClaim> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const inserted = await executor
      .insert(idempotencyKeys)
      .values({
        scope: input.scope,
        key: input.key,
        requestHash: input.requestHash,
        state: 'running',
        createdAt: input.now,
        expiresAt: new Date(input.now.getTime() + input.ttlMs),
      })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (inserted.length > 0) return { outcome: 'claimed' };

    const [existing] = await executor
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, input.scope), eq(idempotencyKeys.key, input.key)));
    if (!existing) continue; // released between our insert and select
    if (existing.expiresAt <= input.now) {
      await releaseIdempotencyKey(executor, input.scope, input.key);
      continue;
    }
    if (existing.requestHash !== input.requestHash) return { outcome: 'mismatch' };
    if (existing.state !== 'done') return { outcome: 'in_progress' };
    return {
      outcome: 'replay',
      response: {
        status: existing.responseStatus ?? 200,
        headers: existing.responseHeaders ?? {},
        body: existing.responseBody ?? '',
      },
    };
  }
  return { outcome: 'in_progress' };
}

export async function storeIdempotentResponse(
  executor: Executor,
  scope: string,
  key: string,
  response: StoredResponse,
): Promise<void> {
  await executor
    .update(idempotencyKeys)
    .set({
      state: 'done',
      responseStatus: response.status,
      responseHeaders: response.headers,
      responseBody: response.body,
    })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}

export async function releaseIdempotencyKey(executor: Executor, scope: string, key: string): Promise<void> {
  await executor
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}

export async function pruneIdempotencyKeys(executor: Executor, now: Date): Promise<number> {
  const rows = await executor
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, now))
    .returning({ key: idempotencyKeys.key });
  return rows.length;
}
