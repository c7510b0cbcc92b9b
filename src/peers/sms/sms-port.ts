/**
 * The SMS port: send a text, read inbound texts and delivery reports. Adapters: Twilio, the
 * collections seed's SMS Agent, the email seed's SMS Gateway, and the dev outbox (default).
 * Phone numbers are E.164 everywhere past the edge (see phone.ts).
 */

export type SmsSendRequest = {
  /** E.164. */
  to: string;
  body: string;
  /** Stable per draft version: the provider (where it supports one) drops a repeat. */
  idempotencyKey: string;
  /** The collections conversation, for the seed SMS Agent's `conversation_id`. */
  conversationId?: string | undefined;
};

export type SmsSendResult = { providerId: string };

export interface SmsSender {
  /** twilio | sms-agent | sms-gateway | outbox */
  readonly name: string;
  send(request: SmsSendRequest, signal: AbortSignal): Promise<SmsSendResult>;
}

/** One inbound text, whichever way it arrived. */
export type InboundSms = {
  provider: string;
  /** Twilio MessageSid, gateway messageId, …: the natural key that makes a repeat harmless. */
  providerMessageId: string;
  /** E.164. */
  from: string;
  to?: string | undefined;
  body: string;
  receivedAt: Date;
  /**
   * What the sender already knows (the collections seed's SMS Agent posts both): the tenant and
   * the conversation. Webhooks leave them out; the tenant is then found by phone.
   */
  conversationId?: string | undefined;
  tenantId?: string | undefined;
};

export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

export type DeliveryReport = {
  provider: string;
  providerMessageId: string;
  state: DeliveryState;
  /** Provider error code, e.g. Twilio 21610 (recipient opted out). */
  errorCode?: string | undefined;
};

/** Twilio: the recipient has replied STOP; never text them again until they opt back in. */
export const TWILIO_OPTED_OUT = '21610';
