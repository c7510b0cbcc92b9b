import type { Executor } from '../../core/db/database.js';
import { randomIds, systemClock, type Clock, type Ids } from '../../core/runtime.js';
import type { SmsSendRequest, SmsSendResult, SmsSender } from './sms-port.js';
import { recordOutbound } from './sms-store.js';

/**
 * The default SMS "provider" when none is configured: a text is stored as an outbound
 * sms_messages row (provider 'outbox', state 'delivered') and goes nowhere else. The dashboard's
 * sandbox phone shows these rows, and POST /sandbox/sms answers them as the tenant or owner would.
 * A repeat of the same idempotency key returns the first text's id: nothing is stored twice.
 */

export const DEV_OUTBOX_PROVIDER = 'outbox';
/** What the sandbox phone shows as the sender when SMS_FROM_NUMBER is unset. */
export const DEV_OUTBOX_NUMBER = 'countersign';

export type DevOutboxOptions = {
  db: Executor;
  clock?: Clock;
  ids?: Ids;
  /** SMS_FROM_NUMBER, shown as the sender. */
  fromNumber?: string | undefined;
};

export function createDevOutboxSender(options: DevOutboxOptions): SmsSender {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? randomIds;
  return {
    name: DEV_OUTBOX_PROVIDER,
    async send(request: SmsSendRequest, signal: AbortSignal): Promise<SmsSendResult> {
      signal.throwIfAborted();
      const row = await recordOutbound(options.db, {
        provider: DEV_OUTBOX_PROVIDER,
        providerMessageId: `OB${ids.uuid().replaceAll('-', '')}`,
        from: options.fromNumber ?? DEV_OUTBOX_NUMBER,
        to: request.to,
        body: request.body,
        state: 'delivered',
        idempotencyKey: request.idempotencyKey,
        conversationId: request.conversationId ?? null,
        now: clock.now(),
      });
      if (!row.providerMessageId) throw new Error('the dev outbox stored a text without an id');
      return { providerId: row.providerMessageId };
    },
  };
}
