import { z } from 'zod';
import { requestJson } from '../http-peer.js';
import { PeerUnavailableError, type PeerGuard } from '../resilience.js';
import type { SmsSendRequest, SmsSendResult, SmsSender } from './sms-port.js';

/**
 * The collections seed's SMS Agent: `POST {SMS_AGENT_URL}/sms/send {to, body, conversation_id}`
 * answers `{id}`. Every send carries the outbox's Idempotency-Key, so an agent that honours it
 * drops a retry of a text it already sent. Its inbound texts arrive at the collections workflow's
 * `POST /orchestrate/sms-received`, not here.
 */

export type SmsAgentSenderOptions = {
  guard: PeerGuard;
  /** SMS_AGENT_URL. */
  baseUrl: string;
};

// The seed shows a string id; a number is accepted too rather than failing a text that was sent.
const SendAnswer = z.object({ id: z.union([z.string().min(1), z.number()]) });

export function createSmsAgentSender(options: SmsAgentSenderOptions): SmsSender {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/sms/send`;
  return {
    name: 'sms-agent',
    async send(request: SmsSendRequest, signal: AbortSignal): Promise<SmsSendResult> {
      const answer = await requestJson(
        options.guard,
        {
          url,
          headers: { 'idempotency-key': request.idempotencyKey },
          json: {
            to: request.to,
            body: request.body,
            ...(request.conversationId === undefined ? {} : { conversation_id: request.conversationId }),
          },
        },
        signal,
      );
      const parsed = SendAnswer.safeParse(answer);
      // Retriable: the same Idempotency-Key makes asking again safe, and a later answer may be whole.
      if (!parsed.success) throw new PeerUnavailableError('sms-agent: the answer has no message id');
      return { providerId: String(parsed.data.id) };
    },
  };
}
