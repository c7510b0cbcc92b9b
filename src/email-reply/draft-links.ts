import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Executor } from '../core/db/database.js';
import { sourceCheckpoints } from '../core/db/schema.js';

/**
 * A draft too long for the owner's text is linked as `/drafts/{token}` on PUBLIC_BASE_URL. The
 * token names the workflow and the draft version, expires with the owner's time to answer, and is
 * signed with a secret kept in the database (made at first use), so it cannot be guessed or
 * altered, and no table of tokens is needed. A link to an older draft says so instead of showing it.
 */

const SECRET_ROW = 'email_reply:draft_link_secret';

export type DraftLink = { workflowId: string; draftVersion: number; expiresAt: Date };

export function signDraftLink(secret: Buffer, link: DraftLink): string {
  const body = `${link.workflowId}.${link.draftVersion}.${Math.floor(link.expiresAt.getTime() / 1000)}`;
  return `${Buffer.from(body).toString('base64url')}.${mac(secret, body)}`;
}

/** The link a token names, 'expired', or undefined when it is not one of ours. */
export function readDraftLink(secret: Buffer, token: string, now: Date): DraftLink | 'expired' | undefined {
  const [encoded, signature, ...rest] = token.split('.');
  if (!encoded || !signature || rest.length > 0) return undefined;
  const body = Buffer.from(encoded, 'base64url').toString('utf8');
  const expected = Buffer.from(mac(secret, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const match = /^([0-9a-f-]{36})\.(\d+)\.(\d+)$/.exec(body);
  if (!match) return undefined;
  const expiresAt = new Date(Number(match[3]) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return 'expired';
  return { workflowId: match[1]!, draftVersion: Number(match[2]), expiresAt };
}

function mac(secret: Buffer, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

/** The signing secret, made once per database; every process of one deployment shares it. */
export async function draftLinkSecret(db: Executor, now: Date): Promise<Buffer> {
  await db
    .insert(sourceCheckpoints)
    .values({ name: SECRET_ROW, value: { secret: randomBytes(32).toString('base64') }, updatedAt: now })
    .onConflictDoNothing();
  const [row] = await db.select().from(sourceCheckpoints).where(eq(sourceCheckpoints.name, SECRET_ROW));
  const secret = (row?.value as { secret?: string } | undefined)?.secret;
  if (!secret) throw new Error('the draft link secret is missing');
  return Buffer.from(secret, 'base64');
}
