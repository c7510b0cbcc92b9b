import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import type { HttpModule } from '../../app.js';
import type { Db, Tx } from '../../core/db/database.js';
import { inboundEvents } from '../../core/db/schema.js';
import { claimInboundEvent } from '../../core/inbound/inbound-events.js';
import { runListeners, type RedeliveryPayload } from '../../core/inbound/inbound-delivery.js';
import type { Logger } from 'pino';
import type { Clock, Ids } from '../../core/runtime.js';
import type { AppEnv } from '../../http/app-env.js';
import { requireRole } from '../../http/auth.js';
import { problemResponse } from '../../http/problem.js';
import { bearerSecurity, problemResponses } from '../../http/router.js';
import { DEV_OUTBOX_NUMBER, DEV_OUTBOX_PROVIDER } from './dev-outbox.js';
import { tryNormalizePhone } from './phone.js';
import type { InboundSms } from './sms-port.js';
import {
  applyDeliveryReport,
  applyOptOutKeyword,
  getMessage,
  listMessages,
  recordInbound,
  type SmsMessageRow,
} from './sms-store.js';
import {
  formParams,
  TWILIO_INBOUND_PATH,
  TWILIO_STATUS_PATH,
  twilioDeliveryState,
  verifyTwilioSignature,
} from './twilio.js';

/**
 * The SMS edge: Twilio's signed webhooks (inbound texts, delivery reports), the SMS Gateway's
 * forwarded texts, the message list, and the dev outbox's sandbox phone. Every inbound text takes
 * one path (SmsInbox.receive): claimed once by its provider id, stored, STOP/START applied, handed
 * to the listeners the workflows register, all in one transaction. A listener that throws rolls
 * the whole text back and the request answers 500, so the provider's retry (Twilio, the gateway)
 * delivers it again rather than a stored text nobody acted on.
 *
 * Twilio signs the URL it called. Behind a proxy the request's own URL is not that one, so the
 * signature is checked over PUBLIC_BASE_URL + path + query, never over Host or X-Forwarded-*
 * headers a client could set. Without PUBLIC_BASE_URL and TWILIO_AUTH_TOKEN every Twilio webhook is
 * refused with 403.
 */

/** The conversation and workflow a listener tied the text to (the row's link, see linkMessage). */
export type InboundLink = { conversationId: string; workflowId: string };

/**
 * A listener of new inbound texts. `optedOut` is the sender's opt-out flag as the inbox left it
 * (after a STOP/START keyword), read in the same transaction; a redelivery passes none, and the
 * listener reads it itself. A listener that links the text to a workflow returns that link.
 */
export type InboundSmsListener = (
  tx: Tx,
  sms: InboundSms,
  messageRowId: number,
  optedOut?: boolean,
) => Promise<InboundLink | undefined | void>;

export type InboundOutcome =
  | {
      accepted: true;
      messageRowId: number;
      keyword: 'stop' | 'start' | undefined;
      /** The last link a listener returned; none when no listener linked it or they failed (deferred). */
      link: InboundLink | undefined;
    }
  | { accepted: false };

export type SmsInbox = {
  /** Registers a listener for every new inbound text; returns a function that removes it. */
  onInbound(listener: InboundSmsListener): () => void;
  /** Claims, stores and hands on one inbound text in the caller's transaction; a repeat does nothing. */
  receive(tx: Tx, sms: InboundSms, now: Date): Promise<InboundOutcome>;
  /** Hands a stored text to the listeners again after they failed (the inbound.redeliver job). */
  redeliver(tx: Tx, payload: RedeliveryPayload): Promise<void>;
};

export function createSmsInbox(options: { logger?: Logger } = {}): SmsInbox {
  const listeners = new Set<InboundSmsListener>();
  return {
    onInbound(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async receive(tx, sms, now) {
      const claim = await claimInboundEvent(tx, {
        source: `sms:${sms.provider}`,
        naturalKey: sms.providerMessageId,
        payload: {
          from: sms.from,
          to: sms.to ?? null,
          body: sms.body,
          received_at: sms.receivedAt.toISOString(),
          ...(sms.tenantId === undefined ? {} : { tenant_id: sms.tenantId }),
          ...(sms.conversationId === undefined ? {} : { conversation_id: sms.conversationId }),
        },
        now,
      });
      if (!claim.claimed) return { accepted: false };
      const { id } = await recordInbound(tx, sms, now);
      const { keyword, optedOut } = await applyOptOutKeyword(tx, { phone: sms.from, body: sms.body, now });
      let link: InboundLink | undefined;
      if (listeners.size > 0) {
        // The savepoint is what keeps the text when a listener fails (inbound-delivery.ts): it
        // stays on the happy path too, which cannot be told apart before the listeners ran.
        const delivered = await runListeners(
          tx,
          { channel: 'sms', inboundEventId: claim.id, ref: id, now, logger: options.logger },
          async (savepoint) => {
            for (const listener of listeners) link = (await listener(savepoint, sms, id, optedOut)) || link;
          },
        );
        // A failed listener's work, its link included, was rolled back with the savepoint.
        if (delivered === 'deferred') link = undefined;
      }
      return { accepted: true, messageRowId: id, keyword, link };
    },
    async redeliver(tx, payload) {
      const row = payload.ref === undefined ? undefined : await getMessage(tx, payload.ref);
      if (!row) throw new Error(`stored text ${payload.ref} is gone`);
      const sms: InboundSms = {
        provider: row.provider,
        providerMessageId: row.providerMessageId ?? String(row.id),
        from: row.fromNumber,
        to: row.toNumber,
        body: row.body,
        receivedAt: row.createdAt,
        ...(row.conversationId === null ? {} : { conversationId: row.conversationId }),
        ...(await tenantHint(tx, payload.inboundEventId)),
      };
      for (const listener of listeners) await listener(tx, sms, row.id);
    },
  };
}

/** The tenant id the sender named, kept in the claimed event (webhooks name none). */
async function tenantHint(tx: Tx, inboundEventId: number): Promise<{ tenantId?: string }> {
  const [row] = await tx
    .select({ payload: inboundEvents.payload })
    .from(inboundEvents)
    .where(eq(inboundEvents.id, inboundEventId));
  const tenantId = (row?.payload as { tenant_id?: unknown } | undefined)?.tenant_id;
  return typeof tenantId === 'string' ? { tenantId } : {};
}

export type SmsRoutesDeps = {
  db: Db;
  clock: Clock;
  ids: Ids;
  inbox: SmsInbox;
  /** DEFAULT_PHONE_REGION: how a number without a country code is read. */
  defaultRegion: string;
  /** PUBLIC_BASE_URL: the URL Twilio calls, which its signatures cover. */
  publicBaseUrl?: string | undefined;
  /** TWILIO_AUTH_TOKEN: the key of Twilio's signatures. */
  twilioAuthToken?: string | undefined;
  /** Our number, stored as the recipient of gateway and sandbox texts (SMS_FROM_NUMBER). */
  ownNumber?: string | undefined;
  /** Whether POST /sandbox/sms answers: only when the dev outbox carries our texts. */
  sandbox?: boolean;
};

export const SMS_GATEWAY_PROVIDER = 'sms-gateway';
export const TWILIO_PROVIDER = 'twilio';

const tags = ['sms'];
const TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const FORM = 'application/x-www-form-urlencoded';

export function smsRoutesModule(deps: SmsRoutesDeps): HttpModule {
  return {
    name: 'sms',
    publicPaths: [TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH],
    register(app) {
      const schemas = smsSchemas(deps.defaultRegion);
      registerTwilioRoutes(app, deps);
      registerGatewayRoute(app, deps, schemas);
      registerListRoute(app, deps, schemas);
      registerSandboxRoute(app, deps, schemas);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Schemas.

function smsSchemas(region: string) {
  const phone = z
    .string()
    .max(40)
    .refine((value) => tryNormalizePhone(value, region) !== undefined, {
      message: `must be a valid phone number: E.164 such as +14155550123, or a national number in ${region}`,
    })
    .openapi({ example: '+14155550123' });
  const normalize = (value: string) => tryNormalizePhone(value, region) ?? value;

  const GatewayInbound = z
    .object({
      messageId: z.union([z.string().min(1).max(200), z.number()]),
      message: z.string().max(10_000),
      phoneNumber: phone,
      receivedAt: z
        .string()
        .refine((v) => !Number.isNaN(Date.parse(v)), {
          message: 'must be a date and time, e.g. 2025-01-15T10:30:00Z',
        })
        .optional(),
    })
    .openapi('SmsGatewayInbound');

  const SandboxInbound = z
    .object({
      from: phone,
      body: z.string().min(1).max(1600),
      to: phone.optional(),
    })
    .strict()
    .openapi('SandboxSmsInput');

  const ListQuery = z.object({
    conversation_id: z.string().min(1).max(200).optional(),
    phone: phone.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.coerce.number().int().positive().optional(),
  });

  return { normalize, GatewayInbound, SandboxInbound, ListQuery };
}
type SmsSchemas = ReturnType<typeof smsSchemas>;

const TwilioInboundForm = z
  .looseObject({
    MessageSid: z.string().min(1).max(64),
    From: z.string().min(1).max(64),
    To: z.string().max(64).optional(),
    Body: z.string().max(10_000).default(''),
  })
  .openapi('TwilioInboundSms');

const TwilioStatusForm = z
  .looseObject({
    MessageSid: z.string().min(1).max(64),
    MessageStatus: z.string().min(1).max(40),
    ErrorCode: z.string().max(10).optional(),
  })
  .openapi('TwilioStatusCallback');

const SmsMessage = z
  .object({
    id: z.number().int(),
    direction: z.enum(['in', 'out']),
    provider: z.string(),
    provider_message_id: z.string().nullable(),
    from: z.string(),
    to: z.string(),
    body: z.string(),
    segments: z.number().int(),
    encoding: z.string(),
    state: z.string().openapi({ description: 'received | queued | sent | delivered | undelivered | failed' }),
    error_code: z.string().nullable(),
    conversation_id: z.string().nullable(),
    workflow_id: z.string().nullable(),
    created_at: z.string().datetime(),
    updated_at: z.string().datetime(),
  })
  .openapi('SmsMessage');

const InboundAccepted = z
  .object({
    status: z.enum(['received', 'duplicate']),
    message_id: z.string().openapi({ description: 'The provider id the text was claimed by' }),
  })
  .openapi('SmsInboundAccepted');

function messageJson(row: SmsMessageRow): z.infer<typeof SmsMessage> {
  return {
    id: row.id,
    direction: row.direction === 'in' ? 'in' : 'out',
    provider: row.provider,
    provider_message_id: row.providerMessageId,
    from: row.fromNumber,
    to: row.toNumber,
    body: row.body,
    segments: row.segments,
    encoding: row.encoding,
    state: row.state,
    error_code: row.errorCode,
    conversation_id: row.conversationId,
    workflow_id: row.workflowId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// Twilio webhooks.

/** Refuses (403) a Twilio webhook whose X-Twilio-Signature does not cover this exact request. */
function twilioSignatureCheck(deps: SmsRoutesDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { twilioAuthToken: token, publicBaseUrl: base } = deps;
    if (!token || !base) {
      return problemResponse(
        c,
        403,
        'Twilio webhooks are not accepted: TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL are not both set.',
      );
    }
    const url = `${base.replace(/\/+$/, '')}${c.req.path}${new URL(c.req.url).search}`;
    const params = formParams(await c.req.text());
    if (!verifyTwilioSignature(token, url, params, c.req.header('x-twilio-signature'))) {
      return problemResponse(c, 403, 'The X-Twilio-Signature header does not sign this request.');
    }
    return next();
  };
}

function registerTwilioRoutes(app: OpenAPIHono<AppEnv>, deps: SmsRoutesDeps): void {
  const signed = twilioSignatureCheck(deps);
  app.openapi(
    createRoute({
      method: 'post',
      path: TWILIO_INBOUND_PATH,
      tags,
      summary: 'Twilio inbound SMS webhook (signed with X-Twilio-Signature)',
      description:
        'Claimed once by MessageSid: a repeat answers 200 and does nothing. STOP/START words change the ' +
        'sender’s opt-out. Answers empty TwiML (no automatic reply).',
      middleware: [signed] as const,
      request: { body: { required: true, content: { [FORM]: { schema: TwilioInboundForm } } } },
      responses: {
        200: { description: 'Taken (or already taken)', content: { 'text/xml': { schema: z.string() } } },
        ...problemResponses(400, 403, 415),
      },
    }),
    async (c) => {
      const form = c.req.valid('form');
      const now = deps.clock.now();
      const sms: InboundSms = {
        provider: TWILIO_PROVIDER,
        providerMessageId: form.MessageSid,
        // Short codes and alphanumeric senders are no E.164 numbers; Twilio vouches for them, so keep them.
        from: tryNormalizePhone(form.From, deps.defaultRegion) ?? form.From,
        to: form.To ? (tryNormalizePhone(form.To, deps.defaultRegion) ?? form.To) : undefined,
        body: form.Body,
        receivedAt: now,
      };
      await deps.db.transaction((tx) => deps.inbox.receive(tx, sms, now));
      return c.body(TWIML_EMPTY, 200, { 'content-type': 'text/xml; charset=utf-8' });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: TWILIO_STATUS_PATH,
      tags,
      summary: 'Twilio delivery status callback (signed with X-Twilio-Signature)',
      description:
        'Moves the text forward (queued → sent → delivered | undelivered | failed), never back. ' +
        'Error 21610 marks the recipient opted out. A report on a text we do not know changes nothing.',
      middleware: [signed] as const,
      request: { body: { required: true, content: { [FORM]: { schema: TwilioStatusForm } } } },
      responses: {
        204: { description: 'Applied (or nothing to apply)' },
        ...problemResponses(400, 403, 415),
      },
    }),
    async (c) => {
      const form = c.req.valid('form');
      const state = twilioDeliveryState(form.MessageStatus);
      if (state) {
        await applyDeliveryReport(
          deps.db,
          {
            provider: TWILIO_PROVIDER,
            providerMessageId: form.MessageSid,
            state,
            errorCode: form.ErrorCode || undefined,
          },
          deps.clock.now(),
        );
      }
      return c.body(null, 204);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// SMS Gateway.

function registerGatewayRoute(app: OpenAPIHono<AppEnv>, deps: SmsRoutesDeps, schemas: SmsSchemas): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/sms/inbound/gateway',
      tags,
      summary: 'An inbound text forwarded by the SMS Gateway',
      description:
        'The gateway’s forward shape. Claimed once by messageId: a repeat answers status "duplicate".',
      security: bearerSecurity,
      middleware: [requireRole('service')] as const,
      request: {
        body: { required: true, content: { 'application/json': { schema: schemas.GatewayInbound } } },
      },
      responses: {
        200: {
          description: 'Taken (or already taken)',
          content: { 'application/json': { schema: InboundAccepted } },
        },
        ...problemResponses(400, 401, 403, 415),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const now = deps.clock.now();
      const sms: InboundSms = {
        provider: SMS_GATEWAY_PROVIDER,
        providerMessageId: String(input.messageId),
        from: schemas.normalize(input.phoneNumber),
        to: deps.ownNumber,
        body: input.message,
        receivedAt: input.receivedAt ? new Date(input.receivedAt) : now,
      };
      const outcome = await deps.db.transaction((tx) => deps.inbox.receive(tx, sms, now));
      return c.json(
        { status: outcome.accepted ? 'received' : 'duplicate', message_id: sms.providerMessageId } as const,
        200,
      );
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Message list and sandbox.

function registerListRoute(app: OpenAPIHono<AppEnv>, deps: SmsRoutesDeps, schemas: SmsSchemas): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/sms/messages',
      tags,
      summary: 'Texts in and out with their delivery state, newest first',
      description:
        'Filter by conversation_id and/or phone (either side of the text). Page with before = the last id seen.',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager')] as const,
      request: { query: schemas.ListQuery },
      responses: {
        200: {
          description: 'Texts',
          content: {
            'application/json': {
              schema: z.object({ messages: z.array(SmsMessage), next_before: z.number().int().nullable() }),
            },
          },
        },
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const rows = await listMessages(deps.db, {
        conversationId: query.conversation_id,
        phone: query.phone === undefined ? undefined : schemas.normalize(query.phone),
        limit: query.limit,
        before: query.before,
      });
      const last = rows.length === query.limit ? rows.at(-1) : undefined;
      return c.json({ messages: rows.map(messageJson), next_before: last?.id ?? null }, 200);
    },
  );
}

/** Runs before validation, so that a disabled sandbox is a 404 whatever the body. */
function sandboxOnly(deps: SmsRoutesDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (deps.sandbox) return next();
    return problemResponse(c, 404, 'The SMS sandbox exists only while the dev outbox carries our texts.');
  };
}

function registerSandboxRoute(app: OpenAPIHono<AppEnv>, deps: SmsRoutesDeps, schemas: SmsSchemas): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/sandbox/sms',
      tags,
      summary: 'Sandbox phone: text in as a tenant or owner (dev outbox only)',
      description:
        'Simulates an inbound text through the same path as a real one (claim, store, STOP/START, workflows). ' +
        'Available only while the dev outbox carries our texts.',
      security: bearerSecurity,
      middleware: [requireRole('manager'), sandboxOnly(deps)] as const,
      request: {
        body: { required: true, content: { 'application/json': { schema: schemas.SandboxInbound } } },
      },
      responses: {
        201: { description: 'Received', content: { 'application/json': { schema: SmsMessage } } },
        ...problemResponses(400, 401, 403, 404, 415),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const now = deps.clock.now();
      const sms: InboundSms = {
        provider: DEV_OUTBOX_PROVIDER,
        providerMessageId: `SB${deps.ids.uuid().replaceAll('-', '')}`,
        from: schemas.normalize(input.from),
        to: input.to === undefined ? (deps.ownNumber ?? DEV_OUTBOX_NUMBER) : schemas.normalize(input.to),
        body: input.body,
        receivedAt: now,
      };
      const row = await deps.db.transaction(async (tx) => {
        const outcome = await deps.inbox.receive(tx, sms, now);
        if (!outcome.accepted) throw new Error('a freshly generated sandbox id was already claimed');
        return getMessage(tx, outcome.messageRowId);
      });
      if (!row) throw new Error('the sandbox text was not stored');
      return c.json(messageJson(row), 201);
    },
  );
}
