import { and, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Executor, Tx } from '../db/database.js';
import { outbox } from '../db/schema.js';
import { enqueueJobs } from '../jobs/job-queue.js';
import type { JobHandler } from '../jobs/job-worker.js';
import { NonRetriableError, RetryAfterError, retryClassOf } from '../retry-errors.js';
import { currentCorrelationId } from '../runtime.js';

/**
 * Every outbound send (SMS, email, notification) is an outbox row with a stable idempotency key
 * (one per draft version), written in the same transaction as the decision to send, and a job
 * that delivers it. The row is marked `sending` (committed) before the provider call and `sent`
 * after, in the transaction that also runs the channel's onSent hook. A crash between the two
 * leaves the row `sending`: the retry passes `maybeSent` so the channel can use the provider's
 * idempotency key or reconcile before sending again.
 */

export type OutboxRow = typeof outbox.$inferSelect;

export type OutboundMessage = {
  recipient: string;
  payload: Record<string, unknown>;
  idempotencyKey: string;
  /** True when an earlier attempt reached the provider call and its outcome is unknown. */
  maybeSent: boolean;
  attempt: number;
};

export type OutboundChannel = {
  name: string;
  send(message: OutboundMessage, signal: AbortSignal): Promise<{ providerId: string }>;
  /** Runs in the transaction that marks the row sent (e.g. the workflow's next transition). */
  onSent?(tx: Tx, row: OutboxRow, providerId: string): Promise<void>;
  /** Runs in the transaction that marks the row failed for good. */
  onFailed?(tx: Tx, row: OutboxRow, error: string): Promise<void>;
};

/**
 * A workflow that must learn how its sends ended (the owner's SMS went out, the reply failed for
 * good) without owning the channel. Called in the same transaction as the channel's own hooks,
 * for every row; an observer picks its rows by idempotency key or workflow id.
 */
export type OutboxObserver = {
  onSent?(tx: Tx, row: OutboxRow, providerId: string): Promise<void>;
  onFailed?(tx: Tx, row: OutboxRow, error: string): Promise<void>;
};

export const OUTBOX_JOB = 'outbox.deliver';

export async function enqueueOutbound(
  executor: Executor,
  input: {
    channel: string;
    recipient: string;
    payload: Record<string, unknown>;
    idempotencyKey: string;
    workflowId?: string;
    now: Date;
    /** Deliver no earlier than this (allowed hours). */
    notBefore?: Date;
    /**
     * A person asked to retry (POST …/retry): a row of this key that failed for good goes back to
     * pending with a new delivery job. Rows pending, sending or sent are left alone, so a retry
     * can never send twice what was sent once.
     */
    rearmFailed?: boolean;
  },
): Promise<{ id: number; created: boolean; rearmed?: boolean }> {
  const [row] = await executor
    .insert(outbox)
    .values({
      channel: input.channel,
      idempotencyKey: input.idempotencyKey,
      recipient: input.recipient,
      payload: input.payload,
      state: 'pending',
      workflowId: input.workflowId ?? null,
      correlationId: currentCorrelationId() ?? null,
      createdAt: input.now,
      updatedAt: input.now,
    })
    .onConflictDoNothing()
    .returning({ id: outbox.id });
  if (!row) {
    const [existing] = await executor
      .select({ id: outbox.id })
      .from(outbox)
      .where(eq(outbox.idempotencyKey, input.idempotencyKey));
    if (!existing) throw new Error('outbox row vanished after a conflicting insert');
    if (input.rearmFailed && (await rearmFailedRow(executor, existing.id, input.now))) {
      await enqueueDelivery(executor, existing.id, input);
      return { id: existing.id, created: false, rearmed: true };
    }
    return { id: existing.id, created: false };
  }
  await enqueueDelivery(executor, row.id, input);
  return { id: row.id, created: true };
}

function enqueueDelivery(executor: Executor, id: number, input: { now: Date; notBefore?: Date }) {
  return enqueueJobs(
    executor,
    [
      {
        kind: OUTBOX_JOB,
        payload: { outboxId: id },
        singletonKey: `outbox:${id}`,
        ...(input.notBefore ? { runAt: input.notBefore } : {}),
      },
    ],
    input.now,
  );
}

/**
 * failed → pending, only from failed (the WHERE makes a concurrent re-arm a no-op). A row whose
 * last attempt may have reached the provider goes back to `sending` with no lease instead, so the
 * next attempt is told maybeSent and looks before it sends again.
 */
async function rearmFailedRow(executor: Executor, id: number, now: Date): Promise<boolean> {
  const rows = await executor
    .update(outbox)
    .set({
      state: sql`case when ${outbox.outcomeUnknown} then 'sending' else 'pending' end`,
      attempts: 0,
      leaseExpiresAt: null,
      updatedAt: now,
    })
    .where(and(eq(outbox.id, id), eq(outbox.state, 'failed')))
    .returning({ id: outbox.id });
  return rows.length > 0;
}

export async function getOutboxRow(executor: Executor, id: number): Promise<OutboxRow | undefined> {
  const [row] = await executor.select().from(outbox).where(eq(outbox.id, id));
  return row;
}

export function outboxDeliveryHandler(options: {
  channels: ReadonlyMap<string, OutboundChannel>;
  onOutcome?: (channel: string, outcome: 'sent' | 'attempt_failed' | 'failed') => void;
  concurrency?: number;
  observers?: readonly OutboxObserver[];
}): JobHandler {
  const observers = options.observers ?? [];
  const channelOf = (row: OutboxRow) => {
    const channel = options.channels.get(row.channel);
    if (!channel) throw new NonRetriableError(`No outbound channel named ${row.channel} is configured`);
    return channel;
  };
  return {
    kind: OUTBOX_JOB,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    // A delivery finishes a turn: while deliveries are backlogged, drafts do not widen past JOB_CONCURRENCY.
    finishesWork: true,
    async run(ctx) {
      const outboxId = Number(ctx.job.payload.outboxId);
      const row = await getOutboxRow(ctx.db, outboxId);
      if (!row) throw new NonRetriableError(`outbox row ${outboxId} does not exist`);
      if (row.state === 'sent' || row.state === 'failed') return; // already settled: a repeat is harmless
      const channel = channelOf(row);
      const maybeSent = row.state === 'sending';
      // The row is claimed like a job: `pending`, or `sending` whose attempt died (lease expired).
      // Of two deliveries of one row (a duplicate job, a lease taken over) only one reaches the
      // provider; the attempt's time limit ends before the row's lease does.
      const now = ctx.now();
      const claimed = await ctx.db
        .update(outbox)
        .set({
          state: 'sending',
          attempts: row.attempts + 1,
          leaseExpiresAt: ctx.job.leaseExpiresAt,
          updatedAt: now,
        })
        .where(
          and(
            eq(outbox.id, row.id),
            eq(outbox.attempts, row.attempts),
            or(
              eq(outbox.state, 'pending'),
              and(
                eq(outbox.state, 'sending'),
                or(isNull(outbox.leaseExpiresAt), lte(outbox.leaseExpiresAt, now)),
              ),
            ),
          ),
        )
        .returning({ id: outbox.id });
      if (claimed.length === 0) {
        throw new RetryAfterError('another delivery of this message is under way', 5000);
      }
      let providerId: string;
      try {
        ({ providerId } = await channel.send(
          {
            recipient: row.recipient,
            payload: row.payload,
            idempotencyKey: row.idempotencyKey,
            maybeSent,
            attempt: row.attempts + 1,
          },
          ctx.signal,
        ));
      } catch (error) {
        options.onOutcome?.(row.channel, 'attempt_failed');
        // A refusal (4xx, 429) means the provider did not send; a timeout or a 5xx leaves it unknown,
        // so the row stays `sending` and the next attempt is told maybeSent.
        const refused = retryClassOf(error) !== 'retriable';
        await ctx.db
          .update(outbox)
          .set({
            // The attempt is over either way: release the row for the next one.
            leaseExpiresAt: null,
            ...(refused ? { state: 'pending' } : {}),
            lastError: error instanceof Error ? error.message.slice(0, 2000) : String(error),
            updatedAt: ctx.now(),
          })
          .where(eq(outbox.id, row.id));
        throw error;
      }
      await ctx.complete(async (tx) => {
        await tx
          .update(outbox)
          .set({
            state: 'sent',
            providerId,
            sentAt: ctx.now(),
            updatedAt: ctx.now(),
            lastError: null,
            leaseExpiresAt: null,
          })
          .where(eq(outbox.id, row.id));
        await channel.onSent?.(tx, row, providerId);
        for (const observer of observers) await observer.onSent?.(tx, row, providerId);
      });
      options.onOutcome?.(row.channel, 'sent');
    },
    async onExhausted(tx, job, error, now) {
      const row = await getOutboxRow(tx, Number(job.payload.outboxId));
      if (!row || row.state === 'sent') return;
      // Still `sending` here means the last attempt's outcome is unknown (a refusal sets `pending`).
      await tx
        .update(outbox)
        .set({ state: 'failed', lastError: error, outcomeUnknown: row.state === 'sending', updatedAt: now })
        .where(eq(outbox.id, row.id));
      options.onOutcome?.(row.channel, 'failed');
      await options.channels.get(row.channel)?.onFailed?.(tx, row, error);
      for (const observer of observers) await observer.onFailed?.(tx, row, error);
    },
  };
}
