import { requestJson } from '../http-peer.js';
import type { PeerGuard } from '../resilience.js';
import type { Notice, NotifyChannel } from './notify-port.js';

/**
 * The collections seed's Notification Service (NOTIFICATION_SERVICE_URL).
 *
 *   POST /notifications/send   Idempotency-Key: <notice key>:notification-service
 *   { "channel": "email", "recipient": "managers",
 *     "content": { "subject": "...", "body": "..." },
 *     "priority": "low" | "normal" | "high" | "urgent",
 *     "metadata": { ...the notice's ids, "notice_kind": "approval_needed" } }
 *
 * The seed shows the request fields but no answer; we expect `{"notification_id": "...",
 * "status": "queued"}` and also take `id` or `message_id`. Any 2xx is a send: an answer without
 * an id is not a reason to send again, so the provider id falls back to our idempotency key.
 * `channel` is the service's own delivery route, not ours; which one is configurable (default
 * email), as is the recipient of notices that name nobody (a group the service resolves).
 */

export type NotificationServiceOptions = {
  baseUrl: string;
  guard: PeerGuard;
  /** The service's delivery channel for manager notices. */
  deliveryChannel?: string;
  /** Who gets a notice that names nobody. */
  defaultRecipient?: string;
};

export function createNotificationServiceChannel(options: NotificationServiceOptions): NotifyChannel {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/notifications/send`;
  return {
    name: 'notification-service',
    async send(notice, idempotencyKey, signal) {
      const answer = await requestJson(
        options.guard,
        {
          method: 'POST',
          url,
          headers: { 'idempotency-key': idempotencyKey },
          json: requestBody(notice, options),
        },
        signal,
      );
      return { providerId: providerIdOf(answer) ?? `notification-service:${idempotencyKey}` };
    },
  };
}

export function requestBody(
  notice: Notice,
  options: Pick<NotificationServiceOptions, 'deliveryChannel' | 'defaultRecipient'>,
) {
  return {
    channel: options.deliveryChannel ?? 'email',
    recipient: notice.recipient ?? options.defaultRecipient ?? 'managers',
    content: { subject: notice.subject, body: notice.body },
    priority: notice.priority,
    metadata: { ...notice.metadata, notice_kind: notice.kind },
  };
}

function providerIdOf(answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  const { notification_id: notificationId, id, message_id: messageId } = answer as Record<string, unknown>;
  const value = [notificationId, id, messageId].find((v) => typeof v === 'string' || typeof v === 'number');
  return value === undefined ? undefined : String(value);
}
