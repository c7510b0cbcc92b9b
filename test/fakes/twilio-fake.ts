import { randomBytes } from 'node:crypto';
import { twilioSignature } from '../../src/peers/sms/twilio.js';
import type { FakeReply, RecordedRequest } from './fake-http-server.js';
import { FakePeer } from './fake-peer.js';

/**
 * A stateful Twilio Messaging API on an ephemeral port: `POST …/Messages.json` (Basic auth, form
 * body) stores a text with an SM… sid, `GET …/Messages.json` lists them with the To / DateSent
 * filters, and the fake signs and posts inbound webhooks and status callbacks like Twilio does.
 *
 * Where it differs from Twilio: a text stays as created ('queued', or 'accepted' through a
 * Messaging Service, with no date_sent) until the test moves it with sendStatus(); one page of
 * results, no media, no prices; it checks only the errors tests use (20003 auth, 20404, 21211
 * invalid To, 21602 no Body, 21603 no sender, 21604 no To, 21610 opted out, 21617 too long). Its
 * clock is the real one unless given.
 */

export type FakeTwilioMessage = {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  status: string;
  dateCreated: Date;
  dateSent: Date | null;
  statusCallback: string | null;
  errorCode: number | null;
};

export type TwilioFakeOptions = { accountSid?: string; authToken?: string; now?: () => Date };

const E164 = /^\+[1-9]\d{6,14}$/;
/** Statuses at which a text has left Twilio (so it has a date_sent). */
const LEFT = new Set(['sent', 'delivered', 'undelivered', 'failed', 'read']);

export class TwilioFake extends FakePeer {
  readonly accountSid: string;
  readonly authToken: string;
  readonly messages: FakeTwilioMessage[] = [];
  /** Numbers whose owner texted STOP at the carrier: a send to them answers 21610. */
  readonly optedOut = new Set<string>();
  private readonly now: () => Date;

  constructor(options: TwilioFakeOptions = {}) {
    super();
    this.accountSid = options.accountSid ?? `AC${randomBytes(16).toString('hex')}`;
    this.authToken = options.authToken ?? randomBytes(16).toString('hex');
    this.now = options.now ?? (() => new Date());
  }

  get messagesPath(): string {
    return `/2010-04-01/Accounts/${this.accountSid}/Messages.json`;
  }

  /** The send requests (POST Messages.json) received, faulted ones included. */
  sends(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.method === 'POST' && r.path === this.messagesPath);
  }

  /** The list requests (GET Messages.json) received. */
  lists(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.method === 'GET' && r.path === this.messagesPath);
  }

  /** The next request fails with a Twilio error body `{code, message, more_info, status}`. */
  failNextWithCode(code: number, status = 400, message = 'injected error'): void {
    this.server.failNext({ kind: 'status', status, body: JSON.stringify(errorBody(code, status, message)) });
  }

  /** The next request answers 429 with Retry-After, as Twilio's rate limiter does (error 20429). */
  rateLimitNext(seconds: number): void {
    this.server.failNext({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': String(seconds) },
      body: JSON.stringify(errorBody(20429, 429, 'Too Many Requests')),
    });
  }

  find(sid: string): FakeTwilioMessage | undefined {
    return this.messages.find((m) => m.sid === sid);
  }

  // -------------------------------------------------------------------------------------------
  // Webhooks Twilio sends to the service.

  sign(url: string, params: Record<string, string>): string {
    return twilioSignature(this.authToken, url, params);
  }

  /** POSTs a form to `url`, signed with this account's token unless `signature` says otherwise. */
  async postSigned(
    url: string,
    params: Record<string, string>,
    options: { signature?: string | null } = {},
  ): Promise<Response> {
    const signature = options.signature === undefined ? this.sign(url, params) : options.signature;
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        ...(signature === null ? {} : { 'x-twilio-signature': signature }),
      },
      body: new URLSearchParams(params),
    });
  }

  /** An inbound text as Twilio posts it to the number's webhook. */
  inboundParams(input: {
    from: string;
    to: string;
    body: string;
    messageSid?: string;
  }): Record<string, string> {
    const sid = input.messageSid ?? newSid('SM');
    return {
      ToCountry: 'US',
      SmsMessageSid: sid,
      NumMedia: '0',
      SmsSid: sid,
      SmsStatus: 'received',
      Body: input.body,
      To: input.to,
      NumSegments: '1',
      MessageSid: sid,
      AccountSid: this.accountSid,
      From: input.from,
      ApiVersion: '2010-04-01',
    };
  }

  async sendInbound(
    url: string,
    input: { from: string; to: string; body: string; messageSid?: string },
    options: { signature?: string | null } = {},
  ): Promise<{ response: Response; messageSid: string }> {
    const params = this.inboundParams(input);
    const response = await this.postSigned(url, params, options);
    return { response, messageSid: params.MessageSid ?? '' };
  }

  /** A status callback for `messageSid`, posted to `url`. */
  async sendStatusCallback(
    url: string,
    input: { messageSid: string; status: string; errorCode?: number; to?: string; from?: string },
    options: { signature?: string | null } = {},
  ): Promise<Response> {
    const params: Record<string, string> = {
      SmsSid: input.messageSid,
      SmsStatus: input.status,
      MessageStatus: input.status,
      To: input.to ?? '',
      MessageSid: input.messageSid,
      AccountSid: this.accountSid,
      From: input.from ?? '',
      ApiVersion: '2010-04-01',
      ...(input.errorCode === undefined ? {} : { ErrorCode: String(input.errorCode) }),
    };
    return this.postSigned(url, params, options);
  }

  /** Moves a stored text to `status` and posts the callback to the StatusCallback it was sent with. */
  async sendStatus(sid: string, status: string, errorCode?: number): Promise<Response> {
    const message = this.find(sid);
    if (!message) throw new Error(`the Twilio fake has no message ${sid}`);
    if (!message.statusCallback) throw new Error(`message ${sid} was sent without a StatusCallback`);
    message.status = status;
    if (LEFT.has(status)) message.dateSent ??= this.now();
    if (errorCode !== undefined) message.errorCode = errorCode;
    return this.sendStatusCallback(message.statusCallback, {
      messageSid: sid,
      status,
      to: message.to,
      from: message.from ?? '',
      ...(errorCode === undefined ? {} : { errorCode }),
    });
  }

  // -------------------------------------------------------------------------------------------
  // The REST API.

  protected handle(request: RecordedRequest): FakeReply {
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(request.path);
    if (!match || match[1] !== this.accountSid)
      return fail(404, 20404, 'The requested resource was not found');
    if (!this.authorized(request)) return fail(401, 20003, 'Authenticate');
    if (request.method === 'POST') return this.create(request.form ?? {});
    if (request.method === 'GET') return this.list(request.query);
    return fail(405, 20004, 'Method not allowed');
  }

  private authorized(request: RecordedRequest): boolean {
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
    return request.headers.authorization === expected;
  }

  private create(form: Record<string, string>): FakeReply {
    const to = form.To;
    if (!to) return fail(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return fail(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!form.Body) return fail(400, 21602, 'Message body is required.');
    if (form.Body.length > 1600)
      return fail(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (!form.From && !form.MessagingServiceSid)
      return fail(400, 21603, "A 'From' phone number is required.");
    if (this.optedOut.has(to)) return fail(400, 21610, 'Attempt to send to unsubscribed recipient');
    const message: FakeTwilioMessage = {
      sid: newSid('SM'),
      to,
      from: form.From ?? null,
      messagingServiceSid: form.MessagingServiceSid ?? null,
      body: form.Body,
      status: form.MessagingServiceSid ? 'accepted' : 'queued',
      dateCreated: this.now(),
      dateSent: null,
      statusCallback: form.StatusCallback ?? null,
      errorCode: null,
    };
    this.messages.push(message);
    return { status: 201, json: this.resource(message) };
  }

  private list(query: URLSearchParams): FakeReply {
    const to = query.get('To');
    const after = parseDateFilter(query.get('DateSent>'));
    const before = parseDateFilter(query.get('DateSent<'));
    const pageSize = Math.min(1000, Number(query.get('PageSize') ?? 50));
    const found = this.messages
      .filter((m) => !to || m.to === to)
      .filter((m) => !after || (m.dateSent !== null && m.dateSent >= after))
      .filter((m) => !before || (m.dateSent !== null && m.dateSent <= before))
      .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime())
      .slice(0, pageSize);
    return {
      json: {
        messages: found.map((m) => this.resource(m)),
        page: 0,
        page_size: pageSize,
        start: 0,
        end: Math.max(0, found.length - 1),
        first_page_uri: `${this.messagesPath}?PageSize=${pageSize}&Page=0`,
        next_page_uri: null,
        previous_page_uri: null,
        uri: `${this.messagesPath}?${query}`,
      },
    };
  }

  private resource(m: FakeTwilioMessage) {
    return {
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
      date_updated: rfc2822(m.dateSent ?? m.dateCreated),
      direction: 'outbound-api',
      error_code: m.errorCode,
      error_message: null,
      from: m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: m.sid,
      status: m.status,
      to: m.to,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${m.sid}.json`,
    };
  }
}

function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

function errorBody(code: number, status: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function fail(status: number, code: number, message: string): FakeReply {
  return { status, json: errorBody(code, status, message) };
}

/** Twilio's dates: RFC 2822 with a numeric zone. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

/** DateSent filters take a day (YYYY-MM-DD, midnight UTC) or a full timestamp. */
function parseDateFilter(value: string | null): Date | undefined {
  if (!value) return undefined;
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(at) ? undefined : new Date(at);
}
