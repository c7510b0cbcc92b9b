import { randomBytes } from 'node:crypto';
import type { FakeReply, RecordedRequest } from './fake-http-server.js';
import { FakePeer, headerValue } from './fake-peer.js';

/**
 * The email seed's SMS Gateway on an ephemeral port: `POST /sms/send {to, message}` answers
 * `{success, message_id, error}` (HTTP 200 even when success is false, as the gateway does), and
 * `GET /health`. `refuseNext(error)` makes the next send answer `{success: false, error}`.
 *
 * Like a provider that honours Idempotency-Key, a repeat of a key answers the first text's
 * message_id and sends nothing (counted in `repeats`); the real gateway may ignore the key. It can
 * also forward an inbound text to the service in the gateway's shape (`forwardInbound`).
 */

export type GatewayText = { messageId: string; to: string; message: string; idempotencyKey: string | null };

export class SmsGatewayFake extends FakePeer {
  readonly texts: GatewayText[] = [];
  private readonly byKey = new Map<string, GatewayText>();
  private readonly refusals: string[] = [];
  repeats = 0;

  override heal(): void {
    super.heal();
    this.refusals.length = 0;
  }

  /** The next send answers 200 `{success: false, message_id: null, error}`. */
  refuseNext(error: string): void {
    this.refusals.push(error);
  }

  sends(): RecordedRequest[] {
    return this.server.requestsTo('/sms/send');
  }

  /** Forwards an inbound text to the service the way the gateway does. */
  forwardInbound(
    url: string,
    text: { messageId: string; message: string; phoneNumber: string; receivedAt?: string },
    token: string,
  ): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ receivedAt: new Date().toISOString(), ...text }),
    });
  }

  protected handle(request: RecordedRequest): FakeReply {
    if (request.method === 'GET' && request.path === '/health') return { json: { status: 'healthy' } };
    if (request.method === 'POST' && request.path === '/sms/send') return this.send(request);
    return { status: 404, json: { detail: 'Not Found' } };
  }

  private send(request: RecordedRequest): FakeReply {
    const key = headerValue(request, 'idempotency-key');
    const seen = key ? this.byKey.get(key) : undefined;
    if (seen) {
      this.repeats += 1;
      return { json: { success: true, message_id: seen.messageId, error: null } };
    }
    const refusal = this.refusals.shift();
    if (refusal !== undefined) return { json: { success: false, message_id: null, error: refusal } };
    const body = (request.json ?? {}) as Record<string, unknown>;
    if (typeof body.to !== 'string' || !body.to || typeof body.message !== 'string' || !body.message) {
      return { json: { success: false, message_id: null, error: 'Missing to or message' } };
    }
    const text: GatewayText = {
      messageId: randomBytes(8).toString('hex'),
      to: body.to,
      message: body.message,
      idempotencyKey: key ?? null,
    };
    this.texts.push(text);
    if (key) this.byKey.set(key, text);
    return { json: { success: true, message_id: text.messageId, error: null } };
  }
}
