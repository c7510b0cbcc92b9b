import { createHmac } from 'node:crypto';
import { requestText } from '../http-peer.js';
import type { PeerGuard } from '../resilience.js';
import type { Notice, NotifyChannel } from './notify-port.js';

/**
 * A generic JSON webhook for notices (NOTIFY_WEBHOOK_URL): Slack relays, n8n, Zapier, your own.
 *
 *   POST <url>   Content-Type: application/json
 *                Idempotency-Key: <notice key>:webhook
 *                X-Countersign-Signature: sha256=<hex HMAC-SHA256 of the raw body>  (only with a secret)
 *   { "kind": "approval_needed", "subject": "...", "body": "...", "priority": "high",
 *     "metadata": { ... }, "recipient": "..." (when the notice names one), "idempotency_key": "..." }
 *
 * The body is the same on every retry of one notice, so a receiver may dedupe by the key or by the
 * body. The signature carries no timestamp (that would need a clock and a replay window on the
 * receiver's side); receivers should drop repeated keys. Any 2xx is delivered, whatever the answer
 * says: receivers often answer "ok" or nothing.
 */

export const SIGNATURE_HEADER = 'X-Countersign-Signature';

export type WebhookNotifyOptions = {
  url: string;
  guard: PeerGuard;
  /** Signs each body when set. */
  secret?: string | undefined;
};

export function createWebhookNotifyChannel(options: WebhookNotifyOptions): NotifyChannel {
  return {
    name: 'webhook',
    async send(notice, idempotencyKey, signal) {
      const body = JSON.stringify(webhookBody(notice, idempotencyKey));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
      };
      if (options.secret) headers[SIGNATURE_HEADER.toLowerCase()] = signBody(body, options.secret);
      await requestText(options.guard, { method: 'POST', url: options.url, headers, body }, signal);
      return { providerId: `webhook:${idempotencyKey}` };
    },
  };
}

export function webhookBody(notice: Notice, idempotencyKey: string) {
  return {
    kind: notice.kind,
    subject: notice.subject,
    body: notice.body,
    priority: notice.priority,
    metadata: notice.metadata,
    ...(notice.recipient === undefined ? {} : { recipient: notice.recipient }),
    idempotency_key: idempotencyKey,
  };
}

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
