import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Executor, Tx } from '../core/db/database.js';
import { inboundEvents, workflows } from '../core/db/schema.js';
import { retryDelayMs } from '../core/jobs/backoff.js';
import type { JobHandler } from '../core/jobs/job-worker.js';
import { enqueueOutbound, type OutboxObserver } from '../core/outbox/outbox.js';
import { NonRetriableError, retryClassOf, RetryAfterError } from '../core/retry-errors.js';
import type { Clock } from '../core/runtime.js';
import type { FollowUp, Workflow, WorkflowStore } from '../core/workflow/workflow-store.js';
import type { AiPort } from '../peers/ai/ai-port.js';
import { emailFromPayload } from '../peers/email/email-intake.js';
import { DEFAULT_MAILBOX, mailboxInboundSource, type IncomingEmail } from '../peers/email/email-port.js';
import { threadedReply } from '../peers/email/parse-email.js';
import { messageIdFor, outgoingEmailPayload } from '../peers/email/smtp-sender.js';
import { enqueueSms } from '../peers/sms/sms-channel.js';
import type { InboundSms } from '../peers/sms/sms-port.js';
import {
  ASK_FOR_INSTRUCTIONS_TEXT,
  DRAFT_ON_ITS_WAY_TEXT,
  HELP_TEXT,
  isCarrierKeyword,
  NOTHING_WAITING_TEXT,
  parseOwnerCommand,
  type OwnerCommand,
} from './commands.js';
import { decide, draftRequestFor } from './decide.js';
import { draftLinkSecret, signDraftLink } from './draft-links.js';
import { commandTarget, nextToPresent } from './presentation.js';
import { skipReason } from './skip-rules.js';
import {
  EmailWorkflowStateSchema,
  initialEmailWorkflow,
  isRejected,
  type DecideContext,
  type Effect,
  type EmailEvent,
  type EmailWorkflowState,
  type RejectionCode,
} from './workflow-state.js';

/**
 * Runs the email auto-reply machine (decide.ts) on the core: each event is applied to the stored
 * state in one transaction that writes the new state, its audit row, and the effects as jobs and
 * outbox rows. Outside calls (the AI) happen in jobs, between transactions; sends go through the
 * outbox with the machine's idempotency keys, and their outcome comes back through an observer.
 */

export const EMAIL_REPLY_KIND = 'email_reply';
export const DRAFT_JOB = 'email_reply.draft';
export const TIMEOUT_JOB = 'email_reply.timeout';

/** A mailbox the runner answers: whose phone approves its drafts, and where its replies leave. */
export type AnsweredMailbox = {
  name: string;
  ownerPhone: string;
  ownerName: string | undefined;
  /** Its address: the From of replies, the domain of their Message-IDs, and "mail from the owner". */
  ownAddress: string | undefined;
  /** Its outbox channel (mailboxChannel). */
  channel: string;
};

export type EmailReplySettings = {
  /**
   * Every mailbox with an owner phone. Drafts are presented one at a time per owner phone, across
   * all of that owner's mailboxes, so a bare `1` can only mean one draft.
   */
  mailboxes: readonly AnsweredMailbox[];
  userResponseTimeoutMs: number;
  maxEditIterations: number;
  maxRetryAttempts: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  smsMaxSegments: number;
  allow: readonly string[];
  deny: readonly string[];
  /** PUBLIC_BASE_URL: where a draft too long for a text is linked (/drafts/{token}). */
  publicBaseUrl?: string | undefined;
  /** Drafts one worker runs at once: the AI's concurrency limit (see CollectionsSettings). */
  draftConcurrency?: number;
};

export type EmailReplyDeps = {
  settings: EmailReplySettings;
  clock: Clock;
  workflows: WorkflowStore;
  ai: AiPort;
  logger: Logger;
};

export class EmailWorkflowRejectedError extends Error {
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'EmailWorkflowRejectedError';
  }
}

export function readState(workflow: Workflow): EmailWorkflowState {
  return EmailWorkflowStateSchema.parse(workflow.data);
}

export function createEmailReplyRunner(deps: EmailReplyDeps) {
  const { settings, clock } = deps;
  const byName = new Map(settings.mailboxes.map((m) => [m.name, m]));
  /** The mailbox a workflow belongs to; one dropped from the configuration since cannot act. */
  const mailboxOf = (state: EmailWorkflowState): AnsweredMailbox => {
    const mailbox = byName.get(state.mailbox);
    if (!mailbox) throw new NonRetriableError(`The mailbox "${state.mailbox}" is no longer configured`);
    return mailbox;
  };
  /** The mailboxes whose drafts this phone answers. */
  const mailboxesOf = (phone: string) =>
    settings.mailboxes.filter((m) => m.ownerPhone === phone).map((m) => m.name);
  const context = (mailbox: AnsweredMailbox): DecideContext => ({
    now: clock.now(),
    maxEditIterations: settings.maxEditIterations,
    userResponseTimeoutMs: settings.userResponseTimeoutMs,
    maxRetryAttempts: settings.maxRetryAttempts,
    smsMaxSegments: settings.smsMaxSegments,
    ownerName: mailbox.ownerName,
  });

  /** Applies one event; throws EmailWorkflowRejectedError when the machine refuses it. */
  async function apply(tx: Tx, workflow: Workflow, event: EmailEvent, actor: string): Promise<Workflow> {
    const state = readState(workflow);
    const mailbox = mailboxOf(state);
    const decision = decide(state, event, context(mailbox));
    if (isRejected(decision)) throw new EmailWorkflowRejectedError(decision.code, decision.rejected);
    const now = clock.now();
    const jobs: FollowUp[] = [];
    let presentationChanged = false;
    for (const effect of decision.effects) {
      if (effect.type === 'check_presentation') presentationChanged = true;
      else jobs.push(...(await perform(tx, workflow, mailbox, decision.state, effect, now)));
    }
    const updated = await deps.workflows.transition(tx, {
      workflowId: workflow.id,
      expectedVersion: workflow.version,
      to: decision.state.status,
      data: decision.state as unknown as Record<string, unknown>,
      audit: { reason: decision.reason, actor, details: { event: event.type } },
      jobs,
      now,
    });
    if (presentationChanged) await presentNext(tx, mailbox.ownerPhone);
    return updated;
  }

  /** Turns one effect into outbox rows (now) or jobs (returned, written with the transition). */
  async function perform(
    tx: Tx,
    workflow: Workflow,
    mailbox: AnsweredMailbox,
    state: EmailWorkflowState,
    effect: Exclude<Effect, { type: 'check_presentation' }>,
    now: Date,
  ): Promise<FollowUp[]> {
    switch (effect.type) {
      case 'request_draft':
        return [
          {
            kind: DRAFT_JOB,
            payload: { workflowId: workflow.id, draftVersion: effect.draftVersion },
            // decide() counts the AI's failures (the job turns them into events and never throws
            // for them); the queue's own attempts are for crashes and lost leases, so a job
            // that dies with its process runs again after a restart.
            delayMs: effect.retry === 0 ? 0 : (effect.retryAfterMs ?? delayFor(effect.retry)),
            bound: true,
          },
        ];
      case 'schedule_timeout':
        return [
          {
            kind: TIMEOUT_JOB,
            payload: { workflowId: workflow.id, draftVersion: effect.draftVersion },
            runAt: effect.at,
            bound: true,
          },
        ];
      case 'send_owner_sms':
      case 'notify_owner':
        await enqueueSms(tx, {
          to: mailbox.ownerPhone,
          body: effect.text,
          idempotencyKey: effect.idempotencyKey,
          workflowId: workflow.id,
          now,
          maxSegments: settings.smsMaxSegments,
          rearmFailed: true,
        });
        return [];
      case 'send_reply': {
        const original = await loadEmail(tx, state);
        const reply = threadedReply(original, {
          text: effect.text,
          messageId: messageIdFor(effect.idempotencyKey, mailbox.ownAddress ?? 'countersign.invalid'),
        });
        await enqueueOutbound(tx, {
          channel: mailbox.channel,
          recipient: reply.to.address,
          payload: outgoingEmailPayload(reply),
          idempotencyKey: effect.idempotencyKey,
          workflowId: workflow.id,
          now,
          rearmFailed: true,
        });
        return [];
      }
    }
  }

  function delayFor(retry: number): number {
    return retryDelayMs(
      retry,
      { baseMs: settings.retryBaseDelayMs, maxMs: settings.retryMaxDelayMs },
      Math.random,
    );
  }

  /**
   * One draft at a time per owner phone, across that owner's mailboxes: under a lock on the owner,
   * present the next ready draft when the slot is free. Two transactions settling drafts at once
   * cannot both present one.
   */
  async function presentNext(tx: Tx, ownerPhone: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`email_reply:${ownerPhone}`}))`);
    const waiting = await openWorkflows(tx, ownerPhone);
    const next = nextToPresent(waiting.map(ownerView));
    const workflow = next ? waiting.find((w) => w.id === next) : undefined;
    if (!workflow) return;
    const draftUrl = await draftUrlFor(tx, workflow);
    await apply(tx, workflow, { type: 'present', ...(draftUrl ? { draftUrl } : {}) }, 'system');
  }

  let secret: Buffer | undefined;
  /** A signed link to this draft, valid while the owner may answer (and an hour more). */
  async function draftUrlFor(tx: Tx, workflow: Workflow): Promise<string | undefined> {
    if (!settings.publicBaseUrl) return undefined;
    const now = clock.now();
    secret ??= await draftLinkSecret(tx, now);
    const token = signDraftLink(secret, {
      workflowId: workflow.id,
      draftVersion: readState(workflow).draftVersion,
      expiresAt: new Date(now.getTime() + settings.userResponseTimeoutMs + 3_600_000),
    });
    return new URL(`/drafts/${token}`, settings.publicBaseUrl).toString();
  }

  /** The drafts in the owner's hands or on their way to them: one owner's, or everyone's. */
  async function openWorkflows(executor: Executor, ownerPhone?: string): Promise<Workflow[]> {
    return executor
      .select()
      .from(workflows)
      .where(
        and(
          eq(workflows.kind, EMAIL_REPLY_KIND),
          inArray(workflows.state, ['ai_generated', 'sms_sending', 'awaiting_user', 'user_edit_requested']),
          ownerPhone === undefined ? undefined : inMailboxes(mailboxesOf(ownerPhone)),
        ),
      )
      .orderBy(asc(workflows.createdAt));
  }

  /** A new email: a workflow, its skip decision, and (unless skipped) its first draft. */
  async function onEmail(tx: Tx, email: IncomingEmail): Promise<void> {
    const mailbox = byName.get(email.mailbox ?? DEFAULT_MAILBOX);
    if (!mailbox) {
      // A mailbox with no owner phone: the email is stored (the inbound claim), nobody is asked.
      deps.logger.info(
        { mailbox: email.mailbox ?? DEFAULT_MAILBOX },
        'email stored; its mailbox has no owner phone',
      );
      return;
    }
    const now = clock.now();
    const created = await deps.workflows.create(tx, {
      id: randomUUID(),
      kind: EMAIL_REPLY_KIND,
      subjectKey: email.messageId,
      state: 'pending',
      data: initialEmailWorkflow(email) as unknown as Record<string, unknown>,
      audit: { reason: 'email_received', actor: 'system' },
      now,
    });
    const reason = skipReason(email, {
      ...(mailbox.ownAddress ? { ownerAddress: mailbox.ownAddress } : {}),
      allow: [...settings.allow],
      deny: [...settings.deny],
      repliedInThreadWithin24h: await repliedInThread(tx, mailbox.name, email, now),
    });
    await apply(tx, created, reason ? { type: 'skipped', reason } : { type: 'draft_requested' }, 'system');
  }

  /** At most one reply per thread a day: the thread's earlier emails we answered in the last 24 h. */
  async function repliedInThread(tx: Tx, mailbox: string, email: IncomingEmail, now: Date): Promise<boolean> {
    const thread = [...email.references, ...(email.inReplyTo ? [email.inReplyTo] : [])];
    if (thread.length === 0) return false;
    const [row] = await tx
      .select({ id: workflows.id })
      .from(workflows)
      .where(
        and(
          eq(workflows.kind, EMAIL_REPLY_KIND),
          eq(workflows.state, 'reply_sent'),
          inArray(workflows.subjectKey, thread),
          inMailboxes([mailbox]),
          gte(workflows.updatedAt, new Date(now.getTime() - 86_400_000)),
        ),
      )
      .limit(1);
    return row !== undefined;
  }

  /** A text from the owner: a command for the draft last shown, or a short help. */
  async function onOwnerText(tx: Tx, sms: InboundSms): Promise<{ outcome: string }> {
    const owner = sms.from;
    if (mailboxesOf(owner).length === 0) {
      // The stored text (sms_messages) is the record; no number in the log line.
      deps.logger.info(
        { provider: sms.provider, providerMessageId: sms.providerMessageId },
        'text from another number: not an owner command',
      );
      return { outcome: 'not_owner' };
    }
    // The provider answers its reserved words itself; we stay silent.
    if (isCarrierKeyword(sms.body)) return { outcome: 'carrier_keyword' };
    const command = parseOwnerCommand(sms.body);
    const reply = (text: string, purpose: string) =>
      enqueueSms(tx, {
        to: owner,
        body: text,
        idempotencyKey: `email-reply:answer:${sms.provider}:${sms.providerMessageId}:${purpose}`,
        now: clock.now(),
        maxSegments: settings.smsMaxSegments,
      });
    if (command.kind === 'unknown') {
      await reply(HELP_TEXT, 'help');
      return { outcome: 'help' };
    }
    if (command.kind === 'edit_missing_instructions') {
      await reply(ASK_FOR_INSTRUCTIONS_TEXT, 'ask');
      return { outcome: 'asked_for_instructions' };
    }
    const open = await openWorkflows(tx, owner);
    const targetId = commandTarget(open.map(ownerView));
    const target = targetId ? open.find((w) => w.id === targetId) : undefined;
    if (!target) {
      await reply(NOTHING_WAITING_TEXT, 'nothing');
      return { outcome: 'nothing_waiting' };
    }
    try {
      await apply(
        tx,
        target,
        { type: 'owner_command', command, inboundId: sms.providerMessageId, receivedAt: sms.receivedAt },
        'owner',
      );
      return { outcome: command.kind };
    } catch (error) {
      if (!(error instanceof EmailWorkflowRejectedError)) throw error;
      await reply(answerTo(error.code), error.code);
      return { outcome: error.code };
    }
  }

  /**
   * A command given in the dashboard for one draft the owner can see there: it applies only to
   * that draft version, and only while it waits for the owner, so a page left open on an older
   * draft cannot send the newer one. Same machine, same effects, as the command by text.
   * Undefined when there is no such email workflow; EmailWorkflowRejectedError when it does not
   * apply (409).
   */
  async function commandFromDashboard(
    tx: Tx,
    input: { workflowId: string; draftVersion: number; command: OwnerCommand; actor: string },
  ): Promise<Workflow | undefined> {
    // A concurrent change fails the transition's version check; nothing is applied twice.
    const workflow = await deps.workflows.get(tx, input.workflowId);
    if (!workflow || workflow.kind !== EMAIL_REPLY_KIND) return undefined;
    if (readState(workflow).draftVersion !== input.draftVersion) {
      throw new EmailWorkflowRejectedError(
        'stale_command',
        'This draft has been replaced by a newer one; reload to see it',
      );
    }
    return apply(
      tx,
      workflow,
      { type: 'owner_command', command: input.command, inboundId: `dashboard:${randomUUID()}` },
      input.actor,
    );
  }

  /** The AI call of a draft, between transactions; its answer is applied as an event. */
  const draftJob: JobHandler = {
    kind: DRAFT_JOB,
    ...(settings.draftConcurrency ? { concurrency: settings.draftConcurrency } : {}),
    async run(ctx) {
      const { workflowId, draftVersion } = ctx.job.payload as { workflowId: string; draftVersion: number };
      const workflow = await deps.workflows.get(ctx.db, workflowId);
      if (!workflow) return ctx.complete();
      const state = readState(workflow);
      let event: EmailEvent;
      try {
        const result = await deps.ai.draft(draftRequestFor(state, context(mailboxOf(state))), ctx.signal);
        event = { type: 'draft_ready', draftVersion, draft: result.text };
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        event = {
          type: 'draft_failed',
          draftVersion,
          error: error instanceof Error ? error.message : String(error),
          retriable: retryClassOf(error) !== 'non_retriable',
          retryAfterMs: error instanceof RetryAfterError ? error.retryAfterMs : undefined,
        };
      }
      await ctx.complete(async (tx) => {
        const current = await deps.workflows.get(tx, workflowId);
        if (current) await applyQuietly(tx, current, event, 'ai');
      });
    },
    /** The job itself kept failing (not the AI): the workflow fails visibly instead of hanging. */
    async onExhausted(tx, job, error) {
      const { workflowId, draftVersion } = job.payload as { workflowId: string; draftVersion: number };
      const workflow = await deps.workflows.get(tx, workflowId);
      if (workflow) {
        await applyQuietly(
          tx,
          workflow,
          { type: 'draft_failed', draftVersion, error, retriable: false },
          'ai',
        );
      }
    },
  };

  const timeoutJob: JobHandler = {
    kind: TIMEOUT_JOB,
    async run(ctx) {
      const { workflowId, draftVersion } = ctx.job.payload as { workflowId: string; draftVersion: number };
      await ctx.complete(async (tx) => {
        const workflow = await deps.workflows.get(tx, workflowId);
        if (workflow) await applyQuietly(tx, workflow, { type: 'timed_out', draftVersion }, 'timer');
      });
    },
  };

  /** A late or repeated answer (stale version, settled workflow) is dropped, and logged. */
  async function applyQuietly(tx: Tx, workflow: Workflow, event: EmailEvent, actor: string): Promise<void> {
    try {
      await apply(tx, workflow, event, actor);
    } catch (error) {
      if (!(error instanceof EmailWorkflowRejectedError)) throw error;
      deps.logger.info(
        { workflowId: workflow.id, event: event.type, code: error.code },
        'email reply event dropped',
      );
    }
  }

  /** How the owner's texts and the replies ended, fed back to their workflows. */
  const observer: OutboxObserver = {
    async onSent(tx, row, providerId) {
      const sent = outcomeOf(row.idempotencyKey);
      if (!sent || !row.workflowId) return;
      const workflow = await deps.workflows.get(tx, row.workflowId);
      if (!workflow) return;
      const event: EmailEvent =
        sent.kind === 'sms'
          ? { type: 'sms_sent', draftVersion: sent.version }
          : { type: 'reply_sent', draftVersion: sent.version, messageId: providerId };
      await applyQuietly(tx, workflow, event, 'outbox');
    },
    async onFailed(tx, row, error) {
      const failed = outcomeOf(row.idempotencyKey);
      if (!failed || !row.workflowId) return;
      const workflow = await deps.workflows.get(tx, row.workflowId);
      if (!workflow) return;
      // The outbox has spent its retries already: the machine must not retry again underneath.
      const failure = { draftVersion: failed.version, error, retriable: false };
      const event: EmailEvent =
        failed.kind === 'sms' ? { type: 'sms_failed', ...failure } : { type: 'reply_failed', ...failure };
      await applyQuietly(tx, workflow, event, 'outbox');
    },
  };

  return {
    apply,
    onEmail,
    onOwnerText,
    commandFromDashboard,
    jobs: [draftJob, timeoutJob],
    observer,
    openWorkflows,
  };
}

export type EmailReplyRunner = ReturnType<typeof createEmailReplyRunner>;

/** What the owner is told when the machine refuses a command (docs/email-reply.md). */
function answerTo(code: RejectionCode): string {
  if (code === 'draft_on_its_way' || code === 'stale_command') return DRAFT_ON_ITS_WAY_TEXT;
  if (code === 'not_awaiting_command') return NOTHING_WAITING_TEXT;
  return HELP_TEXT;
}

function ownerView(workflow: Workflow) {
  const state = workflow.data as { presentedAt?: string };
  return {
    id: workflow.id,
    status: readStatus(workflow),
    presentedAt: state.presentedAt,
    createdAt: workflow.createdAt,
  };
}

function readStatus(workflow: Workflow) {
  return EmailWorkflowStateSchema.shape.status.parse(workflow.state);
}

/** `email-reply:<Message-ID>:sms:v3` → the owner's text of draft 3; `…:reply:v3` → the reply. */
function outcomeOf(key: string): { kind: 'sms' | 'reply'; version: number } | undefined {
  const match = /^email-reply:.*:(sms|reply):v(\d+)$/.exec(key);
  return match ? { kind: match[1] as 'sms' | 'reply', version: Number(match[2]) } : undefined;
}

/** A workflow's data, read as the mailbox it belongs to (rows from before several mailboxes: the default). */
function inMailboxes(names: readonly string[]): SQL {
  return inArray(sql`coalesce(${workflows.data}->>'mailbox', ${DEFAULT_MAILBOX})`, [...names]);
}

async function loadEmail(executor: Executor, state: EmailWorkflowState): Promise<IncomingEmail> {
  const { messageId } = state.email;
  const [row] = await executor
    .select()
    .from(inboundEvents)
    .where(
      and(
        eq(inboundEvents.source, mailboxInboundSource(state.mailbox)),
        eq(inboundEvents.naturalKey, messageId),
      ),
    );
  if (!row) throw new Error(`the email ${messageId} is not stored`);
  return emailFromPayload(row.payload);
}
