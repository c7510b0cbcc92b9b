import type { Logger } from 'pino';
import type { Tx } from '../db/database.js';
import { enqueueJobs } from '../jobs/job-queue.js';
import type { JobHandler } from '../jobs/job-worker.js';

/**
 * An inbound event is stored before anyone acts on it, and acting on it can fail (a bug, a
 * deadlock, a stale version). Listeners therefore run inside a savepoint: when one throws, only
 * their work is undone; the claimed event stays stored, the sender gets its 2xx (Twilio does not
 * resend a webhook that failed), and a job hands the event to the listeners again, with retries.
 * Nothing inbound is lost because a workflow step failed.
 */

export const INBOUND_REDELIVER_JOB = 'inbound.redeliver';

export type RedeliveryPayload = { channel: string; inboundEventId: number; ref?: number };

export async function runListeners(
  tx: Tx,
  input: RedeliveryPayload & { now: Date; logger?: Logger | undefined },
  run: (savepoint: Tx) => Promise<void>,
): Promise<'delivered' | 'deferred'> {
  try {
    await tx.transaction(run);
    return 'delivered';
  } catch (error) {
    input.logger?.warn(
      { err: error, channel: input.channel, inboundEventId: input.inboundEventId },
      'inbound listener failed: the event is kept and will be handed over again',
    );
    const payload: RedeliveryPayload = {
      channel: input.channel,
      inboundEventId: input.inboundEventId,
      ...(input.ref === undefined ? {} : { ref: input.ref }),
    };
    await enqueueJobs(
      tx,
      [{ kind: INBOUND_REDELIVER_JOB, payload, singletonKey: `inbound-redeliver:${input.inboundEventId}` }],
      input.now,
    );
    return 'deferred';
  }
}

/** Hands a kept event to its channel's listeners again; a throw retries with the queue's backoff. */
export function inboundRedeliveryHandler(
  redeliver: Record<string, (tx: Tx, payload: RedeliveryPayload) => Promise<void>>,
): JobHandler {
  return {
    kind: INBOUND_REDELIVER_JOB,
    async run(ctx) {
      const payload = ctx.job.payload as RedeliveryPayload;
      const deliver = redeliver[payload.channel];
      if (!deliver) throw new Error(`no inbound channel named ${payload.channel}`);
      await ctx.complete((tx) => deliver(tx, payload));
    },
  };
}
