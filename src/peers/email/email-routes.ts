import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { HttpModule } from '../../app.js';
import type { Clock } from '../../core/runtime.js';
import type { AppEnv } from '../../http/app-env.js';
import { requireRole } from '../../http/auth.js';
import { HttpProblem, problemResponse } from '../../http/problem.js';
import { bearerSecurity, problemResponses } from '../../http/router.js';
import type { EmailInbox } from './email-intake.js';
import { DEFAULT_MAILBOX, type IncomingEmail } from './email-port.js';
import { fromIngestJson, parseAddressList, parseRfc822, type IngestEmailJson } from './parse-email.js';

/**
 * POST /emails: the ingest API, the default email source (and a way in beside IMAP). Either the
 * seed Email Monitor's JSON or a raw RFC 822 message (Content-Type: message/rfc822). Each email is
 * claimed once by its Message-ID: 202 the first time, 200 with duplicate: true for a repeat, so a
 * sender may retry freely.
 */

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

const AddressInput = z.union([
  z
    .string()
    .refine(
      (s) => parseAddressList(s).length > 0,
      'must hold an email address, e.g. "Ann <ann@example.com>"',
    ),
  z.object({
    address: z.string().regex(ADDRESS, 'must be an email address'),
    name: z.string().max(300).optional(),
  }),
]);

const EmailInput = z
  .object({
    message_id: z
      .string()
      .trim()
      .min(3)
      .max(998)
      .regex(/^<?[^\s<>]+>?$/, 'must be a Message-ID such as <id@host> (no spaces)'),
    from: AddressInput,
    to: z.union([AddressInput, z.array(AddressInput).max(500)]).nullish(),
    subject: z.string().max(10_000).nullish(),
    text: z.string().nullish(),
    headers: z.record(z.string().min(1).max(200), z.union([z.string(), z.array(z.string())])).nullish(),
    received_at: z.iso.datetime({ offset: true }).nullish(),
  })
  .openapi('EmailIngestInput');

const EmailAccepted = z
  .object({
    status: z.literal('accepted'),
    message_id: z.string().openapi({ description: 'The Message-ID, with angle brackets' }),
    duplicate: z.boolean().openapi({ description: 'True when this Message-ID had been received before' }),
  })
  .openapi('EmailAccepted');

const RFC822 = 'message/rfc822';
const isRfc822 = (contentType: string | undefined) =>
  contentType?.split(';')[0]?.trim().toLowerCase() === RFC822;
const isJson = (contentType: string | undefined) =>
  /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType ?? '');

/** Names both accepted types, where the router's generic 415 would name JSON only. */
const acceptedTypes: MiddlewareHandler<AppEnv> = async (c, next) => {
  const contentType = c.req.header('content-type');
  if (isRfc822(contentType) || isJson(contentType)) return next();
  return problemResponse(
    c,
    415,
    `Content-Type ${contentType ?? '(none)'} is not accepted here; send application/json or ${RFC822}.`,
  );
};

export type EmailRoutesDeps = {
  inbox: EmailInbox;
  /** received_at of a JSON email that gives none, and the time stamp of a raw message. */
  clock: Clock;
  /** The configured mailbox names; `?mailbox=` picks one, the default one when absent. */
  mailboxes?: readonly string[];
};

export function createEmailRoutes(deps: EmailRoutesDeps): HttpModule {
  return {
    name: 'email-ingest',
    register(app) {
      app.openapi(
        createRoute({
          method: 'post',
          path: '/emails',
          tags: ['email'],
          summary: 'Receive an email (JSON or raw RFC 822); each Message-ID is taken once',
          security: bearerSecurity,
          middleware: [requireRole('service'), acceptedTypes] as const,
          request: {
            query: z.object({
              mailbox: z.string().max(40).optional().openapi({
                description: 'The configured mailbox it arrived in (default: the default mailbox)',
              }),
            }),
            body: {
              // Not "required": the JSON validator would then run on raw messages too.
              required: false,
              content: {
                'application/json': { schema: EmailInput },
                [RFC822]: {
                  schema: z.string().openapi({ format: 'binary', description: 'A raw RFC 822 message' }),
                },
              },
            },
          },
          responses: {
            202: { description: 'Accepted', content: { 'application/json': { schema: EmailAccepted } } },
            200: {
              description: 'Already received (same Message-ID); nothing was done again',
              content: { 'application/json': { schema: EmailAccepted } },
            },
            ...problemResponses(400, 401, 403, 404, 413, 415),
          },
        }),
        async (c) => {
          const now = deps.clock.now();
          const { mailbox = DEFAULT_MAILBOX } = c.req.valid('query');
          if (!(deps.mailboxes ?? [DEFAULT_MAILBOX]).includes(mailbox)) {
            throw new HttpProblem(404, `There is no mailbox named "${mailbox}".`);
          }
          let email: IncomingEmail;
          if (isRfc822(c.req.header('content-type'))) {
            const raw = Buffer.from(await c.req.arrayBuffer());
            if (raw.length === 0) throw new HttpProblem(400, 'The message/rfc822 body is empty.');
            email = await parseRfc822(raw, 'ingest', now);
            if (!email.from.address) {
              throw new HttpProblem(400, 'The message has no From address, so it could not be answered.');
            }
          } else {
            const input = c.req.valid('json');
            // The declared message/rfc822 schema widens the type; only JSON bodies get here.
            if (typeof input === 'string') throw new HttpProblem(400, 'Send a JSON object.');
            email = fromIngestJson(withoutNulls(input), now);
          }
          const { claimed } = await deps.inbox.store(
            mailbox === DEFAULT_MAILBOX ? email : { ...email, mailbox },
          );
          const body = { status: 'accepted' as const, message_id: email.messageId, duplicate: !claimed };
          return claimed ? c.json(body, 202) : c.json(body, 200);
        },
      );
    },
  };
}

function withoutNulls(input: z.infer<typeof EmailInput>): IngestEmailJson {
  return {
    message_id: input.message_id,
    from: input.from,
    to: input.to ?? undefined,
    subject: input.subject ?? undefined,
    text: input.text ?? undefined,
    headers: input.headers ?? undefined,
    received_at: input.received_at ?? undefined,
  };
}
