import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { html } from 'hono/html';
import { and, count, desc, eq } from 'drizzle-orm';
import { workflows } from '../core/db/schema.js';
import { inTransaction } from '../core/db/transaction.js';
import { requireRole } from '../http/auth.js';
import { HttpProblem } from '../http/problem.js';
import { bearerSecurity, problemResponses } from '../http/router.js';
import type { ModuleFactory, ServiceModule } from '../main.js';
import { mailboxChannel } from '../peers/email/smtp-sender.js';
import { tryNormalizePhone } from '../peers/sms/phone.js';
import {
  createEmailReplyRunner,
  EMAIL_REPLY_KIND,
  EmailWorkflowRejectedError,
  readState,
  type EmailReplyRunner,
} from './email-reply-runner.js';
import { draftLinkSecret, readDraftLink } from './draft-links.js';
import type { EmailEvent } from './workflow-state.js';

/**
 * The email seed's workflow on the core: new mail → skip rules → AI draft → text to the owner →
 * command → threaded reply, redraft or ignore. Routes keep the seed's paths; the static ones are
 * declared before `/workflow/{message_id}` (the seed's own order shadowed them).
 */

const tags = ['email-reply'];

const WorkflowSummary = z
  .object({
    workflow_id: z.string(),
    mailbox: z.string(),
    message_id: z.string(),
    status: z.string(),
    sender: z.string(),
    subject: z.string(),
    draft: z.string().nullable(),
    edit_iteration: z.number().int(),
    skip_reason: z.string().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('EmailWorkflowSummary');

const WorkflowDetail = WorkflowSummary.extend({
  instructions: z.array(z.string()),
  draft_version: z.number().int(),
  deadline: z.string().nullable(),
  audit_trail: z.array(
    z.object({
      from: z.string().nullable(),
      to: z.string(),
      reason: z.string(),
      actor: z.string(),
      at: z.string(),
    }),
  ),
}).openapi('EmailWorkflowDetail');

const SmsResponseBody = z
  .union([
    z.object({
      messageId: z.string().min(1),
      message: z.string(),
      phoneNumber: z.string().min(1),
      receivedAt: z.string().datetime({ offset: true }).optional(),
    }),
    z.object({ from: z.string().min(1), message: z.string() }),
  ])
  .openapi('OwnerSmsResponse');

const MessageIdParam = z.object({
  message_id: z.string().min(1).openapi({ description: 'The email Message-ID, with or without <>' }),
});

const MailboxQuery = z.object({
  mailbox: z
    .string()
    .max(40)
    .optional()
    .openapi({ description: 'The mailbox, when the same Message-ID arrived in several' }),
});

export function emailReplyModule(): ModuleFactory {
  return (core): ServiceModule => {
    const settings = core.config.emailReply;
    const mailboxes = core.config.mailboxes.flatMap((m) =>
      m.ownerPhone
        ? [
            {
              name: m.name,
              ownerPhone: m.ownerPhone,
              ownerName: m.ownerName,
              ownAddress: m.address,
              channel: mailboxChannel(m.name),
            },
          ]
        : [],
    );
    if (mailboxes.length === 0) {
      core.logger.info('email auto-reply is off: no mailbox has an owner phone (mail is still stored)');
      return { name: 'email-reply', register: () => undefined };
    }
    const runner = createEmailReplyRunner({
      settings: {
        mailboxes,
        userResponseTimeoutMs: settings.userResponseTimeoutMs,
        maxEditIterations: settings.maxEditIterations,
        maxRetryAttempts: core.config.jobs.maxRetryAttempts,
        retryBaseDelayMs: core.config.jobs.retryBaseDelayMs,
        retryMaxDelayMs: core.config.jobs.retryMaxDelayMs,
        smsMaxSegments: core.peers.sms.maxSegments,
        allow: settings.allow,
        deny: settings.deny,
        publicBaseUrl: core.config.publicBaseUrl,
        draftConcurrency: core.config.peers.ai.maxConcurrency,
      },
      clock: core.clock,
      workflows: core.workflows,
      ai: core.peers.ai,
      logger: core.logger,
    });
    core.handles.emailReply = runner;
    core.peers.email.inbox.onEmail((tx, email) => runner.onEmail(tx, email));
    core.peers.sms.inbox.onInbound(async (tx, sms) => void (await runner.onOwnerText(tx, sms)));
    return {
      name: 'email-reply',
      // The link's signed token is its own credential: the owner opens it from a text.
      publicPaths: ['/drafts/*'],
      jobs: runner.jobs,
      outboxObservers: [runner.observer],
      register: (app) => registerRoutes(app, core, runner),
    };
  };
}

function registerRoutes(
  app: Parameters<ServiceModule['register']>[0],
  core: Parameters<ModuleFactory>[0],
  runner: EmailReplyRunner,
): void {
  const db = core.db;

  const list = (path: string, state: string, description: string) =>
    app.openapi(
      createRoute({
        method: 'get',
        path,
        tags,
        summary: description,
        security: bearerSecurity,
        middleware: [requireRole('viewer', 'manager', 'service')] as const,
        responses: {
          200: {
            description,
            content: {
              'application/json': {
                schema: z.object({ workflows: z.array(WorkflowSummary), count: z.number() }),
              },
            },
          },
          ...problemResponses(401, 403),
        },
      }),
      async (c) => {
        const rows = await db
          .select()
          .from(workflows)
          .where(and(eq(workflows.kind, EMAIL_REPLY_KIND), eq(workflows.state, state)))
          .orderBy(desc(workflows.createdAt))
          .limit(200);
        return c.json({ workflows: rows.map(summary), count: rows.length }, 200);
      },
    );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflow/status',
      tags,
      summary: 'Email workflows by state',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager', 'service')] as const,
      responses: {
        200: {
          description: 'Counts',
          content: {
            'application/json': {
              schema: z.object({ total: z.number(), by_status: z.record(z.string(), z.number()) }),
            },
          },
        },
        ...problemResponses(401, 403),
      },
    }),
    async (c) => {
      const rows = await db
        .select({ state: workflows.state, n: count() })
        .from(workflows)
        .where(eq(workflows.kind, EMAIL_REPLY_KIND))
        .groupBy(workflows.state);
      const byStatus = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
      return c.json({ total: rows.reduce((sum, r) => sum + Number(r.n), 0), by_status: byStatus }, 200);
    },
  );
  list('/workflow/pending', 'awaiting_user', 'Emails whose draft waits for the owner');
  list('/workflow/failed', 'failed', 'Failed email workflows');
  list('/workflow/skipped', 'skipped', 'Emails skipped before any AI call, with the rule that matched');

  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrator/sms-response',
      tags,
      summary: "The owner's SMS command, as the seed's SMS gateway forwards it",
      security: bearerSecurity,
      middleware: [requireRole('service')] as const,
      request: { body: { content: { 'application/json': { schema: SmsResponseBody } }, required: true } },
      responses: {
        200: {
          description: 'Taken (or a repeat of a text already taken)',
          content: {
            'application/json': { schema: z.object({ status: z.enum(['processed', 'duplicate']) }) },
          },
        },
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const raw = 'phoneNumber' in body ? body.phoneNumber : body.from;
      const from = tryNormalizePhone(raw, core.config.peers.sms.defaultRegion);
      if (!from) throw new HttpProblem(400, 'The phone number is not a valid phone number.');
      const now = core.clock.now();
      const sms = {
        provider: 'sms-gateway',
        providerMessageId: 'messageId' in body ? body.messageId : `orchestrator:${randomUUID()}`,
        from,
        body: body.message,
        receivedAt: 'receivedAt' in body && body.receivedAt ? new Date(body.receivedAt) : now,
      };
      const outcome = await inTransaction(db, (tx) => core.peers.sms.inbox.receive(tx, sms, now));
      core.wakeWorker();
      return c.json({ status: outcome.accepted ? ('processed' as const) : ('duplicate' as const) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflow/{message_id}',
      tags,
      summary: 'One email workflow with its draft, instructions and audit trail',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager', 'service')] as const,
      request: { params: MessageIdParam, query: MailboxQuery },
      responses: {
        200: { description: 'The workflow', content: { 'application/json': { schema: WorkflowDetail } } },
        ...problemResponses(401, 403, 404, 409),
      },
    }),
    async (c) => {
      const workflow = await findByMessageId(c.req.valid('param').message_id, c.req.valid('query').mailbox);
      const trail = await core.workflows.auditTrail(db, workflow.id);
      const state = readState(workflow);
      return c.json(
        {
          ...summary(workflow),
          instructions: state.instructions,
          draft_version: state.draftVersion,
          deadline: state.deadline ?? null,
          audit_trail: trail.map((a) => ({
            from: a.fromState,
            to: a.toState,
            reason: a.reason,
            actor: a.actor,
            at: a.at.toISOString(),
          })),
        },
        200,
      );
    },
  );

  const command = (path: string, summaryText: string, event: EmailEvent) =>
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags,
        summary: summaryText,
        security: bearerSecurity,
        middleware: [requireRole('manager')] as const,
        request: { params: MessageIdParam, query: MailboxQuery },
        responses: {
          200: {
            description: 'The workflow after the change',
            content: { 'application/json': { schema: WorkflowSummary } },
          },
          ...problemResponses(401, 403, 404, 409),
        },
      }),
      async (c) => {
        const workflow = await findByMessageId(c.req.valid('param').message_id, c.req.valid('query').mailbox);
        try {
          const updated = await inTransaction(db, (tx) => runner.apply(tx, workflow, event, 'manager'));
          core.wakeWorker();
          return c.json(summary(updated), 200);
        } catch (error) {
          if (error instanceof EmailWorkflowRejectedError) throw new HttpProblem(409, error.message);
          throw error;
        }
      },
    );
  command('/workflow/{message_id}/retry', 'Retry a failed email workflow from the step that failed', {
    type: 'retry_requested',
  });
  command('/workflow/timeout/{message_id}', 'Time out a workflow that waits for the owner', {
    type: 'manual_timeout',
  });

  // Read once: the secret never changes after the first draft link is made.
  let secret: Buffer | undefined;
  app.get('/drafts/:token', async (c) => {
    const now = core.clock.now();
    secret ??= await draftLinkSecret(db, now);
    const link = readDraftLink(secret, c.req.param('token'), now);
    if (link === undefined) throw new HttpProblem(404, 'No such draft.');
    if (link === 'expired') throw new HttpProblem(410, 'This link has expired.');
    const workflow = await core.workflows.get(db, link.workflowId);
    if (!workflow) throw new HttpProblem(404, 'No such draft.');
    const state = readState(workflow);
    if (
      state.draftVersion !== link.draftVersion ||
      !['sms_sending', 'awaiting_user'].includes(state.status)
    ) {
      throw new HttpProblem(410, 'This draft is no longer the one waiting for you.');
    }
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Robots-Tag', 'noindex');
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    // hono/html escapes every interpolated value: the email and the draft are shown as text.
    return c.html(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>Draft reply</title>
            <style>
              body {
                font:
                  16px/1.5 system-ui,
                  sans-serif;
                max-width: 40rem;
                margin: 1rem auto;
                padding: 0 1rem;
              }
              pre {
                white-space: pre-wrap;
                background: #f4f4f4;
                padding: 1rem;
                border-radius: 6px;
              }
            </style>
          </head>
          <body>
            <h1>Draft reply</h1>
            <p>To <strong>${state.email.fromName ?? state.email.from}</strong> — ${state.email.subject}</p>
            <pre>${state.draft ?? ''}</pre>
            <p>
              Reply to the text: <strong>1</strong> send, <strong>2</strong> and what to change,
              <strong>3</strong> ignore.
            </p>
          </body>
        </html>`,
    );
  });

  /** The workflow of a Message-ID; with the same email in several mailboxes, `mailbox` must say which. */
  async function findByMessageId(raw: string, mailbox: string | undefined) {
    const bare = raw.trim().replace(/^<|>$/g, '');
    const found = await db
      .select()
      .from(workflows)
      .where(and(eq(workflows.kind, EMAIL_REPLY_KIND), eq(workflows.subjectKey, `<${bare}>`)))
      .orderBy(desc(workflows.createdAt));
    const matching = found.filter((w) => mailbox === undefined || readState(w).mailbox === mailbox);
    const [workflow] = matching;
    if (!workflow) {
      throw new HttpProblem(
        404,
        `No email workflow for message ${raw}${mailbox === undefined ? '' : ` in mailbox ${mailbox}`}.`,
      );
    }
    const inMailboxes = new Set(matching.map((w) => readState(w).mailbox));
    if (inMailboxes.size > 1) {
      throw new HttpProblem(
        409,
        `Message ${raw} arrived in several mailboxes (${[...inMailboxes].join(', ')}); say which with ?mailbox=.`,
      );
    }
    return workflow;
  }
}

function summary(workflow: typeof workflows.$inferSelect) {
  const state = readState(workflow);
  return {
    workflow_id: workflow.id,
    mailbox: state.mailbox,
    message_id: state.email.messageId,
    status: state.status,
    sender: state.email.from,
    subject: state.email.subject,
    draft: state.draft ?? null,
    edit_iteration: state.editIteration,
    skip_reason: state.skipReason ?? null,
    last_error: state.lastError ?? null,
    created_at: workflow.createdAt.toISOString(),
    updated_at: workflow.updatedAt.toISOString(),
  };
}
