import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { NonRetriableError } from '../../core/retry-errors.js';
import { systemClock, type Clock } from '../../core/runtime.js';
import { PeerHttpError, requestJson } from '../http-peer.js';
import { PeerUnavailableError, type PeerGuard } from '../resilience.js';
import {
  TWILIO_OPTED_OUT,
  type DeliveryState,
  type SmsSendRequest,
  type SmsSendResult,
  type SmsSender,
} from './sms-port.js';

/**
 * Twilio Programmable Messaging over its REST API with fetch (no SDK): send with
 * `POST /2010-04-01/Accounts/{sid}/Messages.json` (Basic auth, form body, StatusCallback), verify
 * the X-Twilio-Signature of the webhooks Twilio posts back, map its statuses to ours.
 *
 * Twilio takes no idempotency key for a send. When an earlier attempt may have reached Twilio
 * (it timed out, or the answer was lost), the outbox says `maybeSent` and the channel asks
 * `findSent` first: texts to that number with the same body created within the reconcile window.
 * It lists twice because Twilio's DateSent filter only knows texts that have left (date_sent is
 * empty while a text is queued): first `To` + `DateSent>` (the window's first day, the filter's
 * granularity), then `To` alone for texts still waiting in Twilio's queue. Known limits: a text
 * Twilio rewrote (a Messaging Service with Smart Encoding swaps characters) no longer matches its
 * body, so it is sent again; and two different drafts with the same body to the same number are
 * told apart by the channel, which skips sids already recorded for another text.
 */

export type TwilioSenderOptions = {
  guard: PeerGuard;
  /** https://api.twilio.com, or a fake's URL in tests. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** The sending number (E.164), unless a Messaging Service picks one. */
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
  /** When set, each text asks Twilio to post its delivery reports to `${publicBaseUrl}/webhooks/twilio/status`. */
  publicBaseUrl?: string | undefined;
  clock?: Clock;
  /** How far back `findSent` looks (default 24 h: longer than any retry schedule of the outbox). */
  reconcileWindowMs?: number;
};

export type TwilioSender = SmsSender & {
  /** Sids of texts already accepted for this recipient and body within the window, newest first. */
  findSent(request: SmsSendRequest, signal: AbortSignal): Promise<string[]>;
};

/** Twilio refused a text because the recipient replied STOP (error 21610); never retried. */
export class SmsOptedOutError extends NonRetriableError {
  readonly code = TWILIO_OPTED_OUT;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmsOptedOutError';
  }
}

/** Twilio refused a request with an error code (21211 invalid To, 21602 empty body, 20003 auth…). */
export class TwilioApiError extends NonRetriableError {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TwilioApiError';
  }
}

export const TWILIO_STATUS_PATH = '/webhooks/twilio/status';
export const TWILIO_INBOUND_PATH = '/webhooks/twilio/sms';

const DAY_MS = 86_400_000;
/** Statuses of a text that never reached the phone: sending again is right. */
const NEVER_DELIVERED = new Set(['failed', 'undelivered', 'canceled']);

const MessageResource = z.object({
  sid: z.string().min(1),
  to: z.string().nullish(),
  body: z.string().nullish(),
  status: z.string().nullish(),
  direction: z.string().nullish(),
  date_created: z.string().nullish(),
  date_sent: z.string().nullish(),
});
type MessageResource = z.infer<typeof MessageResource>;
const MessagePage = z.object({ messages: z.array(MessageResource) });
const ErrorBody = z.object({ code: z.union([z.number(), z.string()]), message: z.string().optional() });

export function createTwilioSender(options: TwilioSenderOptions): TwilioSender {
  const clock = options.clock ?? systemClock;
  const windowMs = options.reconcileWindowMs ?? DAY_MS;
  const messagesUrl = `${trimSlash(options.baseUrl)}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const headers = { authorization: basicAuth(options.accountSid, options.authToken) };

  async function send(request: SmsSendRequest, signal: AbortSignal): Promise<SmsSendResult> {
    const form = sendForm(request, options);
    try {
      const answer = await requestJson(options.guard, { url: messagesUrl, headers, body: form }, signal);
      return { providerId: parseResource(answer).sid };
    } catch (error) {
      throw withTwilioCode(error);
    }
  }

  async function list(query: URLSearchParams, signal: AbortSignal): Promise<MessageResource[]> {
    try {
      const answer = await requestJson(options.guard, { url: `${messagesUrl}?${query}`, headers }, signal);
      const page = MessagePage.safeParse(answer);
      if (!page.success)
        throw new PeerUnavailableError('twilio: the message list is not in the documented shape');
      return page.data.messages;
    } catch (error) {
      throw withTwilioCode(error);
    }
  }

  async function findSent(request: SmsSendRequest, signal: AbortSignal): Promise<string[]> {
    const since = new Date(clock.now().getTime() - windowMs);
    const left = await list(
      new URLSearchParams({ To: request.to, 'DateSent>': since.toISOString().slice(0, 10), PageSize: '50' }),
      signal,
    );
    const waiting = await list(new URLSearchParams({ To: request.to, PageSize: '50' }), signal);
    const candidates = [...left, ...waiting.filter((m) => !m.date_sent)].filter((m) =>
      sameText(m, request, since),
    );
    candidates.sort((x, y) => createdAt(y) - createdAt(x));
    return [...new Set(candidates.map((m) => m.sid))];
  }

  return { name: 'twilio', send, findSent };
}

function sendForm(request: SmsSendRequest, options: TwilioSenderOptions): URLSearchParams {
  const form = new URLSearchParams({ To: request.to, Body: request.body });
  // A Messaging Service picks the sender from its pool; From would override that choice.
  if (options.messagingServiceSid) form.set('MessagingServiceSid', options.messagingServiceSid);
  else if (options.from) form.set('From', options.from);
  if (options.publicBaseUrl)
    form.set('StatusCallback', `${trimSlash(options.publicBaseUrl)}${TWILIO_STATUS_PATH}`);
  return form;
}

function parseResource(answer: unknown): MessageResource {
  const parsed = MessageResource.safeParse(answer);
  // A 2xx without a sid: we cannot know what Twilio did. Retriable, so the next attempt
  // (told maybeSent) reconciles before sending again.
  if (!parsed.success) throw new PeerUnavailableError('twilio: accepted the text but sent no message sid');
  return parsed.data;
}

function createdAt(message: MessageResource): number {
  const at = Date.parse(message.date_created ?? '');
  return Number.isNaN(at) ? Number.POSITIVE_INFINITY : at;
}

function sameText(message: MessageResource, request: SmsSendRequest, since: Date): boolean {
  if (message.to !== request.to || message.body !== request.body) return false;
  if (message.direction && !message.direction.startsWith('outbound')) return false;
  if (message.status && NEVER_DELIVERED.has(message.status)) return false;
  // Twilio always dates a message; should one be unreadable, number and body decide alone.
  return createdAt(message) >= since.getTime();
}

/** A Twilio 4xx carries `{code, message}`; 21610 becomes SmsOptedOutError, others TwilioApiError. */
function withTwilioCode(error: unknown): unknown {
  if (!(error instanceof NonRetriableError) || !(error.cause instanceof PeerHttpError)) return error;
  const body = ErrorBody.safeParse(safeJson(error.cause.responseBody));
  if (!body.success) return error;
  const code = String(body.data.code);
  const detail = `twilio error ${code}: ${body.data.message ?? 'refused'}`;
  if (code === TWILIO_OPTED_OUT) return new SmsOptedOutError(detail, { cause: error.cause });
  return new TwilioApiError(detail, code, { cause: error.cause });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

// ---------------------------------------------------------------------------------------------
// Statuses.

/**
 * Twilio's message statuses in our terms. accepted/scheduled/queued/sending are all "queued"
 * (not yet handed to the carrier); read (WhatsApp) implies delivered; canceled never left.
 * Inbound statuses (receiving, received) are not delivery reports: undefined.
 */
export function twilioDeliveryState(status: string): DeliveryState | undefined {
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
    case 'sending':
      return 'queued';
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
    case 'partially_delivered':
      return 'undelivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Webhook signatures.

/** Form parameters as Twilio posted them; a repeated name keeps every value. */
export type TwilioParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * Twilio's X-Twilio-Signature: HMAC-SHA1, keyed with the auth token, over the full URL Twilio
 * called (scheme, host, path and query, as configured) followed by each POST parameter, sorted by
 * name, as name + value with no separators; base64. A repeated name contributes each value,
 * sorted, as Twilio's own helpers do.
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  const data = Object.keys(params)
    .sort()
    .map((name) => {
      const value = params[name] ?? '';
      const values = typeof value === 'string' ? [value] : [...value].sort();
      return values.map((v) => `${name}${v}`).join('');
    })
    .join('');
  return createHmac('sha1', authToken).update(`${url}${data}`, 'utf8').digest('base64');
}

/** Constant-time check of a signature header; a missing or malformed header is simply false. */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  header: string | null | undefined,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  // timingSafeEqual throws on different lengths; the length of a valid signature is no secret.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A form body as TwilioParams (repeated names keep all values). */
export function formParams(body: string): Record<string, string | string[]> {
  // No prototype: a field named __proto__ or constructor is just a field (found by the fuzz test).
  const params = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = params[name];
    if (seen === undefined) params[name] = value;
    else params[name] = typeof seen === 'string' ? [seen, value] : [...seen, value];
  }
  return params;
}
