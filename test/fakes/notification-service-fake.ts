import type { FakeReply, RecordedRequest } from './fake-http-server.js';
import { FakePeer, headerValue } from './fake-peer.js';

/**
 * A stateful fake of the collections seed's Notification Service on an ephemeral port:
 *
 *   POST /notifications/send  {channel, recipient, content: {subject, body}, priority, metadata}
 *     → 201 {"notification_id": "notif_1", "status": "queued"}
 *     → 200 with the same body when the Idempotency-Key was seen before (nothing stored again),
 *       as an idempotent service answers a retry
 *     → 422 {"detail": ...} for a body without the seed's fields
 *
 * Where it differs from the real peer (whose answers the seed does not show): no authentication,
 * nothing is delivered anywhere, and a request without Idempotency-Key is stored every time.
 */

const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

export type StoredNotification = {
  id: string;
  idempotencyKey: string | undefined;
  channel: string;
  recipient: string;
  subject: string;
  body: string;
  priority: string;
  metadata: Record<string, unknown>;
};

export class NotificationServiceFake extends FakePeer {
  readonly notifications: StoredNotification[] = [];
  private readonly byKey = new Map<string, StoredNotification>();

  protected handle(request: RecordedRequest): FakeReply {
    if (request.method === 'GET' && request.path === '/health') return { json: { status: 'healthy' } };
    if (request.path !== '/notifications/send') return { status: 404, json: { detail: 'Not Found' } };
    if (request.method !== 'POST') return { status: 405, json: { detail: 'Method Not Allowed' } };
    const key = headerValue(request, 'idempotency-key');
    const seen = key === undefined ? undefined : this.byKey.get(key);
    if (seen) return { status: 200, json: { notification_id: seen.id, status: 'queued' } };
    const parsed = readBody(request.json);
    if (typeof parsed === 'string') return { status: 422, json: { detail: parsed } };
    const stored = { ...parsed, id: `notif_${this.notifications.length + 1}`, idempotencyKey: key };
    this.notifications.push(stored);
    if (key !== undefined) this.byKey.set(key, stored);
    return { status: 201, json: { notification_id: stored.id, status: 'queued' } };
  }
}

/** The stored fields, or what is wrong with the body. */
function readBody(json: unknown): Omit<StoredNotification, 'id' | 'idempotencyKey'> | string {
  if (typeof json !== 'object' || json === null) return 'body must be a JSON object';
  const b = json as Record<string, unknown>;
  const content = (typeof b.content === 'object' && b.content !== null ? b.content : {}) as Record<
    string,
    unknown
  >;
  const fields = { channel: b.channel, recipient: b.recipient, subject: content.subject, body: content.body };
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || value === '') return `${name} is required`;
  }
  if (typeof b.priority !== 'string' || !PRIORITIES.includes(b.priority)) return 'priority is not valid';
  const metadata =
    typeof b.metadata === 'object' && b.metadata !== null ? (b.metadata as Record<string, unknown>) : {};
  return {
    channel: String(b.channel),
    recipient: String(b.recipient),
    subject: String(content.subject),
    body: String(content.body),
    priority: b.priority,
    metadata,
  };
}
