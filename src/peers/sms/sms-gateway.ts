import { z } from 'zod';
import { NonRetriableError } from '../../core/retry-errors.js';
import { requestJson } from '../http-peer.js';
import { PeerUnavailableError, type PeerGuard } from '../resilience.js';
import type { SmsSendRequest, SmsSendResult, SmsSender } from './sms-port.js';

/**
 * The email seed's SMS Gateway: `POST {SMS_GATEWAY_URL}/sms/send {to, message}` answers
 * `{success, message_id, error}`, often with HTTP 200 even when it failed. We send the outbox's
 * Idempotency-Key as well; a gateway that ignores it is why a failure is only retried when it
 * reads as temporary (see isTemporaryGatewayError).
 *
 * Inbound texts it forwards (`{messageId, message, phoneNumber, receivedAt}`) arrive at
 * `POST /sms/inbound/gateway` (sms-routes.ts).
 */

export type SmsGatewaySenderOptions = {
  guard: PeerGuard;
  /** SMS_GATEWAY_URL. */
  baseUrl: string;
};

const SendAnswer = z.object({
  success: z.boolean(),
  message_id: z.union([z.string(), z.number()]).nullish(),
  error: z.string().nullish(),
});

/**
 * The gateway's error is free text from a phone or modem. It is temporary when it speaks of time,
 * load or connectivity — timeout, try again, retry, busy, unavailable, rate limit, too many,
 * throttled, queue full, no signal / no service, network, not connected, disconnected, modem,
 * temporary. Anything else (invalid number, blocked, no credit, unknown) is a refusal: asking again
 * would fail the same way or, worse, send twice through a gateway that ignores our key.
 */
export function isTemporaryGatewayError(error: string | null | undefined): boolean {
  if (!error) return false;
  return /time(d)?\s*out|try again|retry|busy|unavailable|rate.?limit|too many|throttl|queue (is )?full|no (signal|service)|network|not connected|disconnected|modem|temporar/i.test(
    error,
  );
}

export function createSmsGatewaySender(options: SmsGatewaySenderOptions): SmsSender {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/sms/send`;
  return {
    name: 'sms-gateway',
    async send(request: SmsSendRequest, signal: AbortSignal): Promise<SmsSendResult> {
      const answer = await requestJson(
        options.guard,
        {
          url,
          headers: { 'idempotency-key': request.idempotencyKey },
          json: { to: request.to, message: request.body },
        },
        signal,
      );
      const parsed = SendAnswer.safeParse(answer);
      if (!parsed.success)
        throw new PeerUnavailableError('sms-gateway: the answer is not {success, message_id, error}');
      const { success, message_id: messageId, error } = parsed.data;
      if (!success) {
        const detail = `sms-gateway refused the text: ${error ?? 'no reason given'}`;
        throw isTemporaryGatewayError(error)
          ? new PeerUnavailableError(detail)
          : new NonRetriableError(detail);
      }
      // Sent, but no id: the text is out, so this is no failure to retry; our key names it instead.
      return {
        providerId:
          messageId === null || messageId === undefined ? `key:${request.idempotencyKey}` : String(messageId),
      };
    },
  };
}
