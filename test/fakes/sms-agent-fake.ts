import { randomBytes } from 'node:crypto';
import type { FakeReply, RecordedRequest } from './fake-http-server.js';
import { FakePeer, headerValue } from './fake-peer.js';

/**
 * The collections seed's SMS Agent on an ephemeral port: `POST /sms/send {to, body, conversation_id}`
 * answers `{id}`, and `GET /conversations/{phone}` lists what was texted to a number.
 *
 * Like a provider that honours Idempotency-Key, a repeat of a key answers the first text's id and
 * sends nothing (counted in `repeats`). Where it differs from the seed: validation is only "to and
 * body are non-empty strings" (422 otherwise, FastAPI's status), and nothing is really texted.
 */

export type AgentText = {
  id: string;
  to: string;
  body: string;
  conversationId: string | null;
  idempotencyKey: string | null;
};

export class SmsAgentFake extends FakePeer {
  readonly texts: AgentText[] = [];
  private readonly byKey = new Map<string, AgentText>();
  /** Requests that repeated an Idempotency-Key already seen. */
  repeats = 0;

  sends(): RecordedRequest[] {
    return this.server.requestsTo('/sms/send');
  }

  protected handle(request: RecordedRequest): FakeReply {
    if (request.method === 'GET' && request.path === '/health') return { json: { status: 'healthy' } };
    if (request.method === 'POST' && request.path === '/sms/send') return this.send(request);
    const conversation = /^\/conversations\/([^/]+)$/.exec(request.path);
    if (request.method === 'GET' && conversation?.[1]) {
      const phone = decodeURIComponent(conversation[1]);
      return { json: { phone_number: phone, messages: this.texts.filter((t) => t.to === phone) } };
    }
    return { status: 404, json: { detail: 'Not Found' } };
  }

  private send(request: RecordedRequest): FakeReply {
    const key = headerValue(request, 'idempotency-key');
    const seen = key ? this.byKey.get(key) : undefined;
    if (seen) {
      this.repeats += 1;
      return { json: { id: seen.id } };
    }
    const body = (request.json ?? {}) as Record<string, unknown>;
    if (typeof body.to !== 'string' || !body.to || typeof body.body !== 'string' || !body.body) {
      return {
        status: 422,
        json: { detail: [{ loc: ['body'], msg: 'to and body are required', type: 'value_error' }] },
      };
    }
    const text: AgentText = {
      id: `sms_${randomBytes(8).toString('hex')}`,
      to: body.to,
      body: body.body,
      conversationId: typeof body.conversation_id === 'string' ? body.conversation_id : null,
      idempotencyKey: key ?? null,
    };
    this.texts.push(text);
    if (key) this.byKey.set(key, text);
    return { json: { id: text.id } };
  }
}
