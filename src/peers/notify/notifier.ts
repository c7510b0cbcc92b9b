import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import type { Executor } from '../../core/db/database.js';
import { notices } from '../../core/db/peer-tables.js';
import { enqueueOutbound } from '../../core/outbox/outbox.js';
import type { Notice, NoticeKind, NoticePriority } from './notify-port.js';

/**
 * Notices to managers. Every notice lands in the dashboard inbox (the `notices` table); each
 * external channel (notification-service, email, webhook) gets one outbox row, delivered by the
 * outbox worker through notifyOutboundChannel. Both are written in the caller's transaction, so a
 * notice exists exactly when the decision that raised it was committed, and a retried decision
 * (same idempotency key) notifies once.
 */

/** The outbox channel name of an external notify channel. */
export const notifyOutboxChannel = (name: string): string => `notify:${name}`;

/** The dashboard inbox is not an outbox channel: it is the notices row itself. */
const INBOX = 'dashboard';

/** The outbox row's recipient when a notice names nobody: the channel's configured default. */
const DEFAULT_RECIPIENT = 'managers';

export type NotifyResult = { noticeId: number; created: boolean };

export type Notifier = {
  notify(
    tx: Executor,
    notice: Notice,
    idempotencyKey: string,
    now: Date,
    workflowId?: string,
  ): Promise<NotifyResult>;
};

export function createNotifier(options: { channels: readonly string[] }): Notifier {
  const external = [...new Set(options.channels.filter((c) => c !== INBOX))];
  return {
    async notify(tx, notice, idempotencyKey, now, workflowId) {
      const inserted = await insertNotice(tx, notice, idempotencyKey, now);
      // A repeat key is the same notice: its outbox rows were written with the first one.
      if (!inserted.created) return inserted;
      for (const name of external) {
        await enqueueOutbound(tx, {
          channel: notifyOutboxChannel(name),
          recipient: notice.recipient ?? DEFAULT_RECIPIENT,
          payload: { ...notice },
          idempotencyKey: `${idempotencyKey}:${name}`,
          ...(workflowId === undefined ? {} : { workflowId }),
          now,
        });
      }
      return inserted;
    },
  };
}

async function insertNotice(
  tx: Executor,
  notice: Notice,
  idempotencyKey: string,
  now: Date,
): Promise<NotifyResult> {
  const [row] = await tx
    .insert(notices)
    .values({
      idempotencyKey,
      kind: notice.kind,
      subject: notice.subject,
      body: notice.body,
      priority: notice.priority,
      metadata: notice.metadata,
      recipient: notice.recipient ?? null,
      createdAt: now,
    })
    .onConflictDoNothing({ target: notices.idempotencyKey })
    .returning({ id: notices.id });
  if (row) return { noticeId: row.id, created: true };
  const [existing] = await tx
    .select({ id: notices.id })
    .from(notices)
    .where(eq(notices.idempotencyKey, idempotencyKey));
  if (!existing) throw new Error('notice vanished after a conflicting insert');
  return { noticeId: existing.id, created: false };
}

export type StoredNotice = Notice & {
  id: number;
  createdAt: Date;
  readAt: Date | undefined;
};

/** Newest first; `before` is the id of the last notice of the previous page. */
export async function listNotices(
  db: Executor,
  query: { unreadOnly?: boolean | undefined; limit: number; before?: number | undefined },
): Promise<StoredNotice[]> {
  const rows = await db
    .select()
    .from(notices)
    .where(
      and(
        query.unreadOnly ? isNull(notices.readAt) : undefined,
        query.before === undefined ? undefined : lt(notices.id, query.before),
      ),
    )
    .orderBy(desc(notices.id))
    .limit(query.limit);
  return rows.map(toStoredNotice);
}

/** Marks a notice read (the first reading time is kept); undefined when there is no such notice. */
export async function markNoticeRead(db: Executor, id: number, now: Date): Promise<StoredNotice | undefined> {
  await db
    .update(notices)
    .set({ readAt: now })
    .where(and(eq(notices.id, id), isNull(notices.readAt)));
  const [row] = await db.select().from(notices).where(eq(notices.id, id));
  return row ? toStoredNotice(row) : undefined;
}

function toStoredNotice(row: typeof notices.$inferSelect): StoredNotice {
  return {
    id: row.id,
    kind: row.kind as NoticeKind,
    subject: row.subject,
    body: row.body,
    priority: row.priority as NoticePriority,
    metadata: row.metadata,
    recipient: row.recipient ?? undefined,
    createdAt: row.createdAt,
    readAt: row.readAt ?? undefined,
  };
}
