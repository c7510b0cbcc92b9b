import { z } from 'zod';
import type { Executor, Tx } from '../../core/db/database.js';
import {
  enqueueOutbound,
  type OutboundChannel,
  type OutboundMessage,
  type OutboxRow,
} from '../../core/outbox/outbox.js';
import { NonRetriableError, retryClassOf } from '../../core/retry-errors.js';
import type { Clock } from '../../core/runtime.js';
import { tryNormalizePhone } from './phone.js';
import { countSegments } from './segments.js';
import type { SmsSendRequest, SmsSender } from './sms-port.js';
import { isOptedOut, providerIdTakenByOther, recordOutbound, setOptOut } from './sms-store.js';
import { SmsOptedOutError } from './twilio.js';

/**
 * The outbox channel 'sms': every text leaves through it, whichever provider carries it. Before
 * the provider is asked, a text is refused (never cut, never sent) when its recipient opted out
 * or it is over the segment budget; afterwards it is recorded in sms_messages with its segments
 * and state. `enqueueSms` makes the same checks when the text is decided, so a workflow learns of
 * a refusal in its own transaction instead of from a failed delivery.
 */

export const SMS_CHANNEL = 'sms';

/** The outbox payload of an SMS. */
export const SmsPayload = z.object({
  to: z.string().min(1),
  body: z.string(),
  conversationId: z.string().optional(),
  workflowId: z.string().optional(),
  /**
   * The one confirmation a number gets after it opted out ("You are unsubscribed…"): carriers
   * expect it, and it is the only text the suppression list lets through.
   */
  optOutConfirmation: z.literal(true).optional(),
});
export type SmsPayload = z.infer<typeof SmsPayload>;

export type SmsRefusalReason = 'invalid_number' | 'empty' | 'too_long' | 'opted_out';

/** A text we will not send; `code` is stored as the message's error_code. */
export class SmsRefusedError extends NonRetriableError {
  constructor(
    readonly reason: SmsRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'SmsRefusedError';
  }
  get code(): string {
    return this.reason;
  }
}

/**
 * A provider without idempotency keys (Twilio) can say which texts it already accepted, so that a
 * retry after an unknown outcome reuses that text instead of sending a second one.
 */
export type ReconcilingSmsSender = SmsSender & {
  findSent(request: SmsSendRequest, signal: AbortSignal): Promise<string[]>;
};

export type SmsChannelDeps = {
  db: Executor;
  clock: Clock;
  /** SMS_MAX_SEGMENTS. */
  maxSegments: number;
  /** DEFAULT_PHONE_REGION, for a payload number without a country code. */
  defaultRegion?: string;
  /** Recorded as the sender: TWILIO_PHONE_NUMBER, SMS_FROM_NUMBER…; the provider's name when unknown. */
  fromNumber?: string | undefined;
};

type Checked = { to: string; body: string };

/** Refuses what must not be sent; the reason is the one a person would act on first. */
async function checkSendable(
  executor: Executor,
  input: {
    to: string;
    body: string;
    maxSegments: number;
    defaultRegion?: string | undefined;
    optOutConfirmation?: true | undefined;
  },
): Promise<Checked> {
  const to = tryNormalizePhone(input.to, input.defaultRegion);
  // The number stays out of the message: it lands in the outbox's last_error and in logs.
  if (!to) {
    throw new SmsRefusedError(
      'invalid_number',
      'Refusing to text a number that is not a valid phone number.',
    );
  }
  if (input.body.trim() === '') throw new SmsRefusedError('empty', 'Refusing to send an empty text.');
  const count = countSegments(input.body);
  if (count.segments > input.maxSegments) {
    throw new SmsRefusedError(
      'too_long',
      `The text takes ${count.segments} SMS segments (${count.units} ${count.encoding} units) and the budget is ` +
        `${input.maxSegments} (SMS_MAX_SEGMENTS); shorten it, it is never cut.`,
    );
  }
  if (!input.optOutConfirmation && (await isOptedOut(executor, to))) {
    throw new SmsRefusedError(
      'opted_out',
      'The recipient has opted out of texts (STOP); they must text START first.',
    );
  }
  return { to, body: input.body };
}

export function smsOutboundChannel(sender: SmsSender, deps: SmsChannelDeps): OutboundChannel {
  const from = deps.fromNumber ?? sender.name;
  const record = (executor: Executor, payload: SmsPayload, key: string, fields: RecordFields) =>
    recordOutbound(executor, {
      provider: sender.name,
      from,
      to: payload.to,
      body: payload.body,
      idempotencyKey: key,
      conversationId: payload.conversationId ?? null,
      workflowId: payload.workflowId ?? null,
      now: deps.clock.now(),
      ...fields,
    });

  async function send(message: OutboundMessage, signal: AbortSignal): Promise<{ providerId: string }> {
    const payload = readPayload(message.payload);
    try {
      const checked = await checkSendable(deps.db, {
        ...payload,
        maxSegments: deps.maxSegments,
        defaultRegion: deps.defaultRegion,
      });
      const request: SmsSendRequest = {
        to: checked.to,
        body: checked.body,
        idempotencyKey: message.idempotencyKey,
        conversationId: payload.conversationId,
      };
      const providerId =
        (message.maybeSent ? await alreadySent(request, signal) : undefined) ??
        (await sender.send(request, signal)).providerId;
      // Recorded at once (not in onSent) so that a delivery report racing the outbox's commit finds the row.
      await record(deps.db, { ...payload, to: checked.to }, message.idempotencyKey, {
        state: 'sent',
        providerMessageId: providerId,
      });
      return { providerId };
    } catch (error) {
      await noteRefusal(payload, message.idempotencyKey, error);
      throw error;
    }
  }

  /** After an unknown outcome: a text the provider already accepted for this one, if it can tell. */
  async function alreadySent(request: SmsSendRequest, signal: AbortSignal): Promise<string | undefined> {
    if (!isReconciling(sender)) return undefined;
    for (const sid of await sender.findSent(request, signal)) {
      const taken = await providerIdTakenByOther(deps.db, {
        provider: sender.name,
        providerMessageId: sid,
        idempotencyKey: request.idempotencyKey,
      });
      if (!taken) return sid;
    }
    return undefined;
  }

  /** A final refusal is recorded as a failed text; a provider's 21610 also opts the number out. */
  async function noteRefusal(payload: SmsPayload, key: string, error: unknown): Promise<void> {
    if (retryClassOf(error) !== 'non_retriable') return;
    const now = deps.clock.now();
    const to = tryNormalizePhone(payload.to, deps.defaultRegion) ?? payload.to;
    if (error instanceof SmsOptedOutError) {
      await setOptOut(deps.db, { phone: to, optedOut: true, reason: 'provider_21610', now });
    }
    await record(deps.db, { ...payload, to }, key, { state: 'failed', errorCode: errorCodeOf(error) });
  }

  return {
    name: SMS_CHANNEL,
    send,
    async onFailed(tx: Tx, row: OutboxRow, _error: string): Promise<void> {
      // Retries ran out (or a refusal): the text shows as failed wherever it stopped.
      const payload = SmsPayload.safeParse(row.payload);
      if (!payload.success) return;
      await record(tx, payload.data, row.idempotencyKey, { state: 'failed' });
    },
  };
}

type RecordFields = { state: 'sent' | 'failed'; providerMessageId?: string; errorCode?: string | null };

function readPayload(payload: Record<string, unknown>): SmsPayload {
  const parsed = SmsPayload.safeParse(payload);
  if (!parsed.success)
    throw new NonRetriableError(`The sms outbox payload is malformed: ${parsed.error.message}`);
  return parsed.data;
}

function isReconciling(sender: SmsSender): sender is ReconcilingSmsSender {
  return typeof (sender as Partial<ReconcilingSmsSender>).findSent === 'function';
}

/** A provider or refusal code (Twilio's 21610, 'too_long'…) worth storing with the text. */
function errorCodeOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : null;
}

export type EnqueueSmsInput = {
  to: string;
  body: string;
  /** One per draft version: enqueueing it again is harmless. */
  idempotencyKey: string;
  conversationId?: string;
  workflowId?: string;
  now: Date;
  /** Deliver no earlier than this (allowed hours). */
  notBefore?: Date;
  /** SMS_MAX_SEGMENTS. */
  maxSegments: number;
  defaultRegion?: string;
  /** A person's retry: send again a text of this key that failed for good (see enqueueOutbound). */
  rearmFailed?: boolean;
  /** The confirmation of an opt-out, allowed through the suppression list (see SmsPayload). */
  optOutConfirmation?: true;
};

/**
 * Decides to send a text, in the caller's transaction: refuses it (SmsRefusedError) when the
 * number is invalid or opted out, the body empty or over the segment budget; otherwise writes the
 * outbox row and its delivery job.
 */
export async function enqueueSms(
  executor: Executor,
  input: EnqueueSmsInput,
): Promise<{ id: number; created: boolean }> {
  const { to, body } = await checkSendable(executor, input);
  const payload: SmsPayload = {
    to,
    body,
    ...(input.conversationId === undefined ? {} : { conversationId: input.conversationId }),
    ...(input.workflowId === undefined ? {} : { workflowId: input.workflowId }),
    ...(input.optOutConfirmation ? { optOutConfirmation: true as const } : {}),
  };
  return enqueueOutbound(executor, {
    channel: SMS_CHANNEL,
    recipient: to,
    payload,
    idempotencyKey: input.idempotencyKey,
    now: input.now,
    ...(input.workflowId === undefined ? {} : { workflowId: input.workflowId }),
    ...(input.notBefore === undefined ? {} : { notBefore: input.notBefore }),
    ...(input.rearmFailed ? { rearmFailed: true } : {}),
  });
}
