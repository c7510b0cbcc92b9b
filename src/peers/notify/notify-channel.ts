import { z } from 'zod';
import type { OutboundChannel } from '../../core/outbox/outbox.js';
import { NonRetriableError } from '../../core/retry-errors.js';
import type { Notice, NotifyChannel } from './notify-port.js';
import { notifyOutboxChannel } from './notifier.js';

/**
 * Plugs a NotifyChannel into the outbox: the outbox row's payload is the Notice the notifier
 * stored, and its idempotency key (`<notice key>:<channel>`) goes to the peer unchanged, so a
 * retry after an unknown outcome (maybeSent) is recognised by an idempotent peer.
 */

export const NoticeSchema = z.object({
  kind: z.enum(['approval_needed', 'escalation', 'failure']),
  subject: z.string(),
  body: z.string(),
  priority: z.enum(['low', 'normal', 'high', 'urgent']),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  recipient: z.string().optional(),
});

export function notifyOutboundChannel(channel: NotifyChannel): OutboundChannel {
  return {
    name: notifyOutboxChannel(channel.name),
    async send(message, signal) {
      return channel.send(noticeFrom(message.payload), message.idempotencyKey, signal);
    },
  };
}

/** A payload that is not a Notice was written by something else: sending it again cannot help. */
function noticeFrom(payload: Record<string, unknown>): Notice {
  const parsed = NoticeSchema.safeParse(payload);
  if (!parsed.success) throw new NonRetriableError(`outbox payload is not a notice: ${parsed.error.message}`);
  return parsed.data;
}
