import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, notInArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Executor, Tx } from '../core/db/database.js';
import { collectionsApprovals, smsMessages } from '../core/db/schema.js';
import { retryDelayMs } from '../core/jobs/backoff.js';
import { enqueueJobs } from '../core/jobs/job-queue.js';
import type { JobHandler } from '../core/jobs/job-worker.js';
import type { OutboxObserver } from '../core/outbox/outbox.js';
import { retryClassOf, RetryAfterError } from '../core/retry-errors.js';
import type { Clock } from '../core/runtime.js';
import type { Workflow, WorkflowStore } from '../core/workflow/workflow-store.js';
import type { AiPort, ConversationTurn, DraftResult, LedgerFacts } from '../peers/ai/ai-port.js';
import { classifyIntent } from '../peers/ai/rules/intent.js';
import { localDate } from '../peers/ledger/days-late.js';
import type { LedgerPort, Tenant } from '../peers/ledger/ledger-port.js';
import type { Notifier } from '../peers/notify/notifier.js';
import { enqueueSms, SmsRefusedError } from '../peers/sms/sms-channel.js';
import type { InboundSms } from '../peers/sms/sms-port.js';
import { isOptedOut, linkMessage, setOptOut } from '../peers/sms/sms-store.js';
import { sendWindow, type SendWindowHours } from './allowed-hours.js';
import {
  COLLECTIONS_KIND,
  getConversation,
  latestConversationForPhone,
  latestWorkflow,
  lockConversation,
  newId,
  obsoletePendingApprovals,
  openEscalation,
  publicWorkflowId,
  setLatestWorkflow,
  updateConversation,
  upsertConversation,
  type Approval,
  type ConversationState,
} from './collections-store.js';
import {
  decideBeforeDraft,
  decideReply,
  type CollectionsPolicy,
  type ReplyDecision,
} from './decide-reply.js';
import { appendOptOutLine } from './guard.js';
import { recordPlan, setWorkflowPlanStatus } from './plans-store.js';
import { sendsOwnConfirmation } from './opt-out.js';
import { ESCALATING_INTENTS, ESCALATION_FLAGS, type Routing } from './routing.js';
import { newTurn, readTurn, withStep, type TurnData, type TurnStatus } from './turn.js';

/**
 * Runs a collections turn on the core. Pure decisions (decide-reply.ts) sit between I/O steps:
 *
 *   tenant text (any SMS path) ─ tx ─→ opt-out/START/HELP answered at once, or a turn waiting
 *   TURN_COALESCE_MS for more texts ─ job ─→ ledger + AI (no transaction open) ─ tx ─→ guard and
 *   routing → reply queued in the outbox (within allowed hours), a manager's queue item, or an
 *   escalation ─ outbox observer ─→ completed, and the 36-hour no-reply timer.
 *
 * Each step is one transaction that writes the workflow's state, its audit row (with every input
 * of the decision), and its follow-ups (jobs, outbox rows, notices).
 */

export const DRAFT_JOB = 'collections.draft';
export const REPLY_TIMEOUT_JOB = 'collections.reply_timeout';

export const HELP_TEXT =
  'Rent and payment questions: reply here and we will answer. Reply STOP to opt out, START to opt back in.';
export const OPT_OUT_CONFIRMATION =
  'You are unsubscribed and will get no more texts from us. Reply START to opt back in.';
export const OPT_IN_CONFIRMATION = 'You are subscribed again. Reply STOP to opt out.';

export type CollectionsSettings = {
  policy: CollectionsPolicy;
  sendWindow: SendWindowHours;
  escalationTimeoutMs: number;
  turnCoalesceMs: number;
  providerAnswersKeywords: boolean;
  maxRetryAttempts: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Numbers that are never tenants (the mailbox owner of the email workflow). */
  notTenants: readonly string[];
  /**
   * Drafts one worker runs at once. A draft keeps its job slot while it waits on the AI, so this
   * follows the AI's concurrency limit, not JOB_CONCURRENCY: with a 1 s AI, drafts per second ≈
   * this number (docs/performance.md). Default: JOB_CONCURRENCY.
   */
  draftConcurrency?: number;
};

export type CollectionsDeps = {
  settings: CollectionsSettings;
  clock: Clock;
  workflows: WorkflowStore;
  ai: AiPort;
  ledger: LedgerPort;
  notifier: Notifier;
  logger: Logger;
};

export class CollectionsConflictError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CollectionsConflictError';
  }
}

export class CollectionsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CollectionsInputError';
  }
}

const replyKey = (workflowId: string) => `collections:${workflowId}:reply`;
const REPLY_KEY = /^collections:([0-9a-f-]{36}):reply$/;

export function createCollectionsRunner(deps: CollectionsDeps) {
  const { settings, clock } = deps;
  const escalationDeps = { workflows: deps.workflows, notifier: deps.notifier };

  async function move(
    tx: Tx,
    workflow: Workflow,
    to: TurnStatus,
    data: TurnData,
    reason: string,
    actor: string,
    details: Record<string, unknown> = {},
    jobs: Parameters<WorkflowStore['transition']>[1]['jobs'] = [],
  ): Promise<Workflow> {
    return deps.workflows.transition(tx, {
      workflowId: workflow.id,
      expectedVersion: workflow.version,
      to,
      data: data as unknown as Record<string, unknown>,
      audit: { reason, actor, details },
      jobs,
      now: clock.now(),
    });
  }

  const draftJobFor = (delayMs: number) => [{ kind: DRAFT_JOB, payload: {}, delayMs, bound: true }] as const;

  // -------------------------------------------------------------------------------------------
  // A tenant's text

  /**
   * Every inbound text that is not the mailbox owner's: answered at once when it is an opt-out
   * word, START or HELP (no AI call), else joined to the turn still gathering texts or made a new
   * turn. Runs in the inbox's transaction, so the text and what it started commit together.
   * `optedOut` is the sender's flag as the inbox left it in this transaction (after STOP/START);
   * without it (a redelivery) it is read here.
   */
  async function onTenantText(
    tx: Tx,
    sms: InboundSms,
    messageId: number,
    optedOut?: boolean,
  ): Promise<{ workflowId: string; conversationId: string } | undefined> {
    if (settings.notTenants.includes(sms.from)) return undefined;
    const now = clock.now();
    const conversationId =
      sms.conversationId ??
      (await latestConversationForPhone(tx, sms.from))?.conversationId ??
      `conv_${sms.from.replace(/\D/g, '')}`;
    // One statement creates or touches the conversation, records the text and locks the row.
    const conversation = await upsertConversation(tx, {
      conversationId,
      phone: sms.from,
      tenantId: sms.tenantId,
      now,
      lastInboundAt: now,
    });
    const text = { messageId, body: sms.body, at: sms.receivedAt.toISOString() };
    const previous = await latestWorkflow(tx, conversationId);
    const previousTurn = previous ? readTurn(previous.data) : undefined;

    const before = decideBeforeDraft({
      tenantTexts: [sms.body],
      conversationState: conversation.state as ConversationState,
      optedOut: optedOut ?? (await isOptedOut(tx, sms.from)),
    });
    let workflow: Workflow;
    if (before.routing) {
      workflow = await answerWithoutDraft(tx, {
        conversationId,
        tenantId: sms.tenantId ?? conversation.tenantId,
        phone: sms.from,
        text,
        routing: before.routing,
        optOut: before.optOut,
        state: conversation.state as ConversationState,
        inbound: sms,
      });
    } else if (previous && previous.state === 'processing' && previousTurn?.step === 'sms_received') {
      // Still gathering: this text joins the turn, and the draft waits for it — until the window
      // that opened with the turn's first text closes, not a new window per text. Under a backlog
      // a delay from now would put the re-bound draft behind every queued job, where it would go
      // stale again before its turn, and a texting tenant would never be answered (docs/soak.md).
      const due = new Date(previous.createdAt.getTime() + settings.turnCoalesceMs);
      workflow = await move(
        tx,
        previous,
        'processing',
        { ...previousTurn, texts: [...previousTurn.texts, text] },
        'text_joined_turn',
        'tenant',
        { message_id: messageId },
        [{ kind: DRAFT_JOB, payload: {}, runAt: due, bound: true }],
      );
    } else {
      let carried: TurnData['texts'] = [];
      let state = conversation.state as ConversationState;
      if (previous && previousTurn && supersedable(previous, previousTurn)) {
        // A newer text makes the last draft obsolete; its texts are answered with this one.
        carried = previousTurn.texts;
        const obsolete = await obsoletePendingApprovals(tx, conversationId, 'newer_text', now);
        if (obsolete.length > 0) state = 'awaiting_approval';
        await move(
          tx,
          previous,
          'completed',
          withStep(previousTurn, 'superseded', { completed_at: now.toISOString() }),
          'superseded_by_newer_text',
          'tenant',
          { message_id: messageId, obsolete_approvals: obsolete.map((a) => a.id) },
        );
      }
      workflow = await deps.workflows.create(tx, {
        id: randomUUID(),
        kind: COLLECTIONS_KIND,
        subjectKey: conversationId,
        state: 'processing',
        data: newTurn({
          conversationId,
          tenantId: sms.tenantId ?? conversation.tenantId,
          phone: sms.from,
          texts: [...carried, text],
          conversationState: state,
        }) as unknown as Record<string, unknown>,
        audit: { reason: 'sms_received', actor: 'tenant', details: { message_id: messageId } },
        jobs: [...draftJobFor(settings.turnCoalesceMs)],
        now,
      });
    }
    await setLatestWorkflow(tx, conversationId, workflow.id, now);
    await linkMessage(tx, messageId, { conversationId, workflowId: workflow.id });
    return { workflowId: workflow.id, conversationId };
  }

  /** A turn a newer text replaces: one whose draft is being made or waits on a manager. */
  function supersedable(workflow: Workflow, turn: TurnData): boolean {
    if (workflow.state === 'awaiting_approval') return true;
    return workflow.state === 'processing' && turn.reply === null;
  }

  /** STOP, START, HELP, a natural "stop texting me", a text from a suppressed number. */
  async function answerWithoutDraft(
    tx: Tx,
    input: {
      conversationId: string;
      tenantId: string | null | undefined;
      phone: string;
      text: TurnData['texts'][number];
      routing: Routing;
      optOut: ReturnType<typeof decideBeforeDraft>['optOut'];
      state: ConversationState;
      inbound: InboundSms;
    },
  ): Promise<Workflow> {
    const now = clock.now();
    const { routing, optOut } = input;
    const optingOut = routing.decision === 'opt_out';
    // The inbox applied the carrier words it recognised; the rest ("S T O P", "stop texting me",
    // "Start!") are applied here, so the two readings never disagree on the suppression list.
    if (optingOut) {
      await setOptOut(tx, { phone: input.phone, optedOut: true, reason: 'stop_word', now });
      await obsoletePendingApprovals(tx, input.conversationId, 'opted_out', now);
    }
    if (optOut.kind === 'start') {
      await setOptOut(tx, { phone: input.phone, optedOut: false, reason: 'opt_in_word', now });
    }
    const base = newTurn({
      conversationId: input.conversationId,
      tenantId: input.tenantId ?? null,
      phone: input.phone,
      texts: [input.text],
      conversationState: input.state,
    });
    const status: TurnStatus = optingOut
      ? 'opted_out'
      : input.state === 'escalated'
        ? 'escalated'
        : 'completed';
    const turn = withStep(base, optingOut ? 'opted_out' : 'no_reply', {
      decision: routing.decision,
      rule: routing.rule,
      completed_at: now.toISOString(),
    });
    const workflow = await deps.workflows.create(tx, {
      id: randomUUID(),
      kind: COLLECTIONS_KIND,
      subjectKey: input.conversationId,
      state: status,
      data: turn as unknown as Record<string, unknown>,
      audit: {
        reason: `decided:${routing.decision}`,
        actor: 'system',
        details: {
          rule: routing.rule,
          opt_out: optOut.kind,
          matched: optOut.matched ?? null,
          also_escalate: routing.alsoEscalate,
          message_id: input.text.messageId,
        },
      },
      now,
    });
    const answer =
      optOut.kind === 'help'
        ? HELP_TEXT
        : optOut.kind === 'start'
          ? OPT_IN_CONFIRMATION
          : optingOut
            ? OPT_OUT_CONFIRMATION
            : undefined;
    if (answer && sendsOwnConfirmation(optOut.kind, settings.providerAnswersKeywords)) {
      await enqueueSms(tx, {
        to: input.phone,
        body: answer,
        idempotencyKey: `collections:${input.inbound.provider}:${input.inbound.providerMessageId}:${optOut.kind}`,
        conversationId: input.conversationId,
        workflowId: workflow.id,
        now,
        maxSegments: settings.policy.maxSegments,
        ...(optingOut ? { optOutConfirmation: true as const } : {}),
      });
    }
    if (routing.alsoEscalate && input.state !== 'escalated') {
      await openEscalation(tx, escalationDeps, {
        conversationId: input.conversationId,
        workflowId: workflow.id,
        type: optingOut ? 'opt_out_request' : 'opted_out_contact',
        reason: optingOut
          ? 'The tenant asked in their own words to stop being contacted; a person should read it.'
          : 'A tenant who opted out texted again; they cannot be texted back, a person should read it.',
        autoDetected: true,
        escalatedBy: 'system',
        metadata: { rule: routing.rule },
        now,
      });
    }
    return workflow;
  }

  // -------------------------------------------------------------------------------------------
  // The draft: ledger and AI outside any transaction, the decision inside one

  const draftJob: JobHandler = {
    kind: DRAFT_JOB,
    ...(settings.draftConcurrency ? { concurrency: settings.draftConcurrency } : {}),
    async run(ctx) {
      const workflowId = ctx.job.workflowId;
      const workflow = workflowId ? await deps.workflows.get(ctx.db, workflowId) : undefined;
      if (!workflow || workflow.state !== 'processing') return ctx.complete();
      const turn = readTurn(workflow.data);
      if (turn.step !== 'sms_received') return ctx.complete();

      let tenant: Tenant | undefined;
      let draft: DraftResult;
      const startedAt = performance.now();
      let step = 'ledger_lookup';
      try {
        tenant = turn.tenantId
          ? await deps.ledger.getTenant(turn.tenantId, ctx.signal)
          : await deps.ledger.findTenantByPhone(turn.phone, ctx.signal);
        if (!tenant) {
          return await ctx.complete((tx) => unknownTenant(tx, workflow));
        }
        step = 'ai_response_generated';
        const history = await conversationSoFar(ctx.db, turn);
        const ledger = ledgerFacts(tenant);
        draft = await deps.ai.draft(
          {
            kind: 'collections_reply',
            conversation: [
              ...history,
              ...turn.texts.map((t) => ({ role: 'tenant' as const, text: t.body, at: t.at })),
            ],
            ledger,
            today: localDate(clock.now(), tenant.timezone),
          },
          ctx.signal,
        );
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        return ctx.complete((tx) => peerFailed(tx, workflow, step, error));
      }
      const ms = Math.round(performance.now() - startedAt);
      const found = tenant;
      await ctx.complete(async (tx) => {
        const current = await deps.workflows.get(tx, workflow.id);
        // A text joined the turn meanwhile: its own job drafts again with every text.
        if (!current || current.version !== workflow.version) return;
        await decideAndAct(tx, current, turn, draft, found, ms);
      });
    },
    async onExhausted(tx, job, error) {
      const workflow = job.workflowId ? await deps.workflows.get(tx, job.workflowId) : undefined;
      if (workflow && workflow.state === 'processing') {
        await fail(tx, workflow, readTurn(workflow.data), 'ai_response_generated', error);
      }
    },
  };

  async function conversationSoFar(db: Executor, turn: TurnData): Promise<ConversationTurn[]> {
    const ids = turn.texts.map((t) => t.messageId);
    const rows = await db
      .select({ direction: smsMessages.direction, body: smsMessages.body, at: smsMessages.createdAt })
      .from(smsMessages)
      .where(
        and(
          eq(smsMessages.conversationId, turn.conversationId),
          ids.length > 0 ? notInArray(smsMessages.id, ids) : undefined,
          inArray(smsMessages.state, ['received', 'sent', 'delivered', 'queued']),
        ),
      )
      .orderBy(desc(smsMessages.id))
      .limit(20);
    return rows.reverse().map((r) => ({
      role: r.direction === 'in' ? ('tenant' as const) : ('agent' as const),
      text: r.body,
      at: r.at.toISOString(),
    }));
  }

  async function peerFailed(tx: Tx, workflow: Workflow, step: string, error: unknown): Promise<void> {
    const current = await deps.workflows.get(tx, workflow.id);
    if (!current || current.version !== workflow.version) return;
    const turn = readTurn(current.data);
    const message = error instanceof Error ? error.message : String(error);
    const attempts = turn.attempts + 1;
    if (retryClassOf(error) === 'non_retriable' || attempts > settings.maxRetryAttempts) {
      await fail(tx, current, turn, step, message);
      return;
    }
    const delay =
      error instanceof RetryAfterError
        ? error.retryAfterMs
        : retryDelayMs(
            attempts,
            { baseMs: settings.retryBaseDelayMs, maxMs: settings.retryMaxDelayMs },
            Math.random,
          );
    await move(
      tx,
      current,
      'processing',
      { ...turn, attempts, last_error: message },
      'peer_call_failed',
      'system',
      { step, attempt: attempts, retry_in_ms: delay, error: message },
      [...draftJobFor(delay)],
    );
  }

  async function fail(
    tx: Tx,
    workflow: Workflow,
    turn: TurnData,
    step: string,
    error: string,
  ): Promise<void> {
    const now = clock.now();
    await move(
      tx,
      workflow,
      'failed',
      withStep(turn, 'failed', { failed_step: step, last_error: error }),
      'failed',
      'system',
      { step, error },
    );
    await deps.notifier.notify(
      tx,
      {
        kind: 'failure',
        subject: `Collections reply failed: conversation ${turn.conversationId}`,
        body: `The ${step.replaceAll('_', ' ')} step failed: ${error}. Retry with POST /orchestrate/retry/${publicWorkflowId(workflow.id)}.`,
        priority: 'high',
        metadata: { workflow_id: publicWorkflowId(workflow.id), conversation_id: turn.conversationId, step },
      },
      `collections:failed:${workflow.id}:${workflow.version}`,
      now,
      workflow.id,
    );
  }

  async function unknownTenant(tx: Tx, workflow: Workflow): Promise<void> {
    const current = await deps.workflows.get(tx, workflow.id);
    if (!current || current.version !== workflow.version) return;
    const turn = readTurn(current.data);
    const moved = await move(
      tx,
      current,
      'processing',
      withStep(turn, 'ledger_lookup', { decision: 'escalate', rule: 'tenant.unknown' }),
      'tenant_not_in_ledger',
      'system',
      { tenant_id: turn.tenantId },
    );
    // Without ledger facts nothing can be said, and the texter may not be the tenant.
    await openEscalation(tx, escalationDeps, {
      conversationId: turn.conversationId,
      workflowId: moved.id,
      type: 'unknown_number',
      reason: 'A text from a number (or tenant id) the ledger does not know; nothing was sent.',
      autoDetected: true,
      escalatedBy: 'system',
      now: clock.now(),
    });
  }

  async function decideAndAct(
    tx: Tx,
    workflow: Workflow,
    turn: TurnData,
    draft: DraftResult,
    tenant: Tenant,
    ms: number,
  ): Promise<void> {
    const now = clock.now();
    const conversation = await lockConversation(tx, turn.conversationId);
    const state: ConversationState = turn.forceManager
      ? 'awaiting_approval'
      : strongest(turn.conversationState, (conversation?.state ?? 'open') as ConversationState);
    const ledger = ledgerFacts(tenant);
    const decision = decideReply({
      // Whatever the drafter read: a number other than the ledger's, or wording of someone
      // else ("I'm her husband"), and the debt may not be named.
      thirdPartySuspected: thirdPartySuspected(tenant, turn),
      tenantTexts: turn.texts.map((t) => t.body),
      conversationState: state,
      optedOut: await isOptedOut(tx, turn.phone),
      draft,
      ledger,
      today: localDate(now, tenant.timezone),
      policy: settings.policy,
    });
    const { routing } = decision;
    const decided = withStep(turn, 'ai_response_generated', {
      tenantId: tenant.tenantId,
      attempts: 0,
      last_error: null,
      failed_step: null,
      draft: {
        text: draft.text,
        confidence: draft.confidence,
        intent: draft.intent,
        flags: draft.flags,
        model: draft.model,
        ms,
      },
      decision: routing.decision,
      rule: routing.rule,
      guard_flags: decision.flags,
    });
    const details = { ...decisionDetails(decision, draft, state), thresholds: settings.policy.thresholds };
    if (tenant.tenantId !== conversation?.tenantId || tenant.timezone !== conversation?.timezone) {
      await updateConversation(tx, turn.conversationId, {
        tenantId: tenant.tenantId,
        timezone: tenant.timezone,
      });
    }

    if (decision.plan) {
      // The plan the tenant offered is kept whatever the routing: active at once only when the
      // reply acknowledging it goes out by itself; otherwise the manager's decision settles it.
      const { proposal, validation, counterOffer } = decision.plan;
      const active = routing.decision === 'auto_send' && validation.is_valid && validation.auto_approvable;
      const { plan } = await recordPlan(tx, {
        conversationId: turn.conversationId,
        tenantId: tenant.tenantId,
        workflowId: workflow.id,
        proposal,
        validation,
        counterOffer,
        status: active ? 'active' : 'pending_approval',
        messageContent: turn.texts.map((t) => t.body).join('\n'),
        aiResponse: draft.text,
        confidence: draft.confidence,
        sourceKey: `workflow:${workflow.id}`,
        now,
      });
      decided.payment_plan_id = plan.id;
    }

    if (routing.decision === 'auto_send') {
      const moved = await move(tx, workflow, 'processing', decided, 'decided:auto_send', 'system', details);
      await sendReply(
        tx,
        moved,
        readTurn(moved.data),
        appendOptOutLine(draft.text, settings.policy.optOutLine),
        {
          actor: 'system',
          timezone: tenant.timezone,
          auto: true,
        },
      );
      return;
    }
    if (routing.decision === 'manager_approval') {
      const id = newId('resp');
      await tx.insert(collectionsApprovals).values({
        id,
        workflowId: workflow.id,
        conversationId: turn.conversationId,
        tenantId: tenant.tenantId,
        phone: turn.phone,
        tenantText: turn.texts.map((t) => t.body).join('\n'),
        draft: draft.text,
        confidence: draft.confidence,
        intent: draft.intent,
        flags: decision.flags,
        rule: routing.rule,
        status: 'pending',
        createdAt: now,
      });
      await updateConversation(tx, turn.conversationId, { state: 'awaiting_approval', updatedAt: now });
      await move(
        tx,
        workflow,
        'awaiting_approval',
        withStep(decided, 'awaiting_approval', { response_queue_id: id }),
        'decided:manager_approval',
        'system',
        { ...details, response_queue_id: id },
      );
      await deps.notifier.notify(
        tx,
        {
          kind: 'approval_needed',
          subject: `A reply waits for approval: conversation ${turn.conversationId}`,
          body: `Confidence ${draft.confidence.toFixed(2)}, intent ${draft.intent}, rule ${routing.rule}.`,
          priority: 'normal',
          metadata: {
            response_queue_id: id,
            conversation_id: turn.conversationId,
            workflow_id: publicWorkflowId(workflow.id),
          },
        },
        `collections:approval:${id}`,
        now,
        workflow.id,
      );
      return;
    }
    if (routing.decision === 'escalate') {
      if (state === 'escalated') {
        // A person owns the conversation already: the text waits for them, nothing is sent.
        await move(
          tx,
          workflow,
          'escalated',
          withStep(decided, 'no_reply', { completed_at: now.toISOString() }),
          'decided:escalate',
          'system',
          { ...details, already_escalated: true },
        );
        return;
      }
      const moved = await move(tx, workflow, 'processing', decided, 'decided:escalate', 'system', details);
      await openEscalation(tx, escalationDeps, {
        conversationId: turn.conversationId,
        workflowId: moved.id,
        type: escalationType(decision, draft),
        reason: `Routing rule ${routing.rule}: intent ${draft.intent}, confidence ${draft.confidence.toFixed(2)}${
          decision.guard.flags.length > 0 ? `, guard ${decision.guard.flags.join(', ')}` : ''
        }.`,
        autoDetected: true,
        escalatedBy: 'system',
        metadata: { rule: routing.rule, intent: draft.intent, flags: decision.flags },
        now,
      });
      return;
    }
    // opt_out / no_reply after a draft: the words were caught late (decideReply reads them again).
    const status: TurnStatus =
      routing.decision === 'opt_out' ? 'opted_out' : state === 'escalated' ? 'escalated' : 'completed';
    if (routing.decision === 'opt_out') {
      await setOptOut(tx, { phone: turn.phone, optedOut: true, reason: 'stop_word', now });
      await obsoletePendingApprovals(tx, turn.conversationId, 'opted_out', now);
    }
    await move(
      tx,
      workflow,
      status,
      withStep(decided, routing.decision === 'opt_out' ? 'opted_out' : 'no_reply', {
        completed_at: now.toISOString(),
      }),
      `decided:${routing.decision}`,
      'system',
      details,
    );
  }

  /**
   * Queues the reply in the outbox, now or when the tenant's window opens; exactly one row per
   * turn (the key), so a retry or a second approval cannot send it twice.
   */
  async function sendReply(
    tx: Tx,
    workflow: Workflow,
    turn: TurnData,
    text: string,
    options: { actor: string; timezone: string | undefined; auto: boolean; rearm?: boolean },
  ): Promise<Workflow> {
    const now = clock.now();
    const window = sendWindow({
      now,
      timezone: options.timezone,
      phone: turn.phone,
      window: settings.sendWindow,
    });
    const notBefore = window.allowed ? undefined : (window.opensAt ?? undefined);
    if (!window.allowed && !window.opensAt) {
      // No hour is inside the window in every zone the number may be in: a person decides.
      return failHeld(tx, workflow, turn, 'No allowed sending hour could be found for this number.');
    }
    const key = replyKey(workflow.id);
    try {
      await enqueueSms(tx, {
        to: turn.phone,
        body: text,
        idempotencyKey: key,
        conversationId: turn.conversationId,
        workflowId: workflow.id,
        now,
        ...(notBefore ? { notBefore } : {}),
        maxSegments: settings.policy.maxSegments,
        ...(options.rearm ? { rearmFailed: true } : {}),
      });
    } catch (error) {
      if (!(error instanceof SmsRefusedError)) throw error;
      if (error.reason === 'opted_out') {
        return move(
          tx,
          workflow,
          'opted_out',
          withStep(turn, 'opted_out'),
          'send_refused:opted_out',
          options.actor,
        );
      }
      throw new CollectionsInputError(error.message);
    }
    const scheduled = notBefore !== undefined;
    await updateConversation(tx, turn.conversationId, { state: 'open', updatedAt: now });
    return move(
      tx,
      workflow,
      scheduled ? 'scheduled' : 'processing',
      withStep(turn, scheduled ? 'scheduled' : 'sending', {
        auto_approved: options.auto,
        reply: { text, idempotencyKey: key, notBefore: notBefore?.toISOString() ?? null },
      }),
      scheduled ? 'reply_scheduled' : 'reply_queued',
      options.actor,
      {
        send_window: window.allowed
          ? { allowed: true, zones: window.zones }
          : {
              allowed: false,
              reason: window.reason,
              opens_at: notBefore?.toISOString() ?? null,
              zones: window.zones,
            },
      },
    );
  }

  async function failHeld(tx: Tx, workflow: Workflow, turn: TurnData, why: string): Promise<Workflow> {
    const moved = await move(tx, workflow, 'processing', turn, 'send_window_unknown', 'system', { why });
    await openEscalation(tx, escalationDeps, {
      conversationId: turn.conversationId,
      workflowId: moved.id,
      type: 'send_window',
      reason: why,
      autoDetected: true,
      escalatedBy: 'system',
      now: clock.now(),
    });
    return (await deps.workflows.get(tx, moved.id))!;
  }

  // -------------------------------------------------------------------------------------------
  // A manager's decision

  async function decideApproval(
    tx: Tx,
    input: {
      responseQueueId: string;
      action: 'approve' | 'modify' | 'reject';
      approvedText: string | undefined;
      manager: string;
      claimedManagerId: string | undefined;
      notes: string | undefined;
    },
  ): Promise<{ approval: Approval; workflow: Workflow }> {
    const now = clock.now();
    const [approval] = await tx
      .select()
      .from(collectionsApprovals)
      .where(eq(collectionsApprovals.id, input.responseQueueId))
      .for('update');
    if (!approval)
      throw new CollectionsConflictError('not_found', `No approval item ${input.responseQueueId}.`);
    if (approval.status === 'obsolete') {
      throw new CollectionsConflictError(
        'obsolete',
        `This item is obsolete (${approval.obsoleteReason ?? 'unknown'}): ${OBSOLETE_REASONS[approval.obsoleteReason ?? ''] ?? 'it can no longer be sent.'}`,
      );
    }
    if (approval.status !== 'pending') {
      throw new CollectionsConflictError(
        'already_decided',
        `This item was already ${approval.status} by ${approval.decidedBy ?? 'someone'}; the first decision stands.`,
      );
    }
    const workflow = await deps.workflows.get(tx, approval.workflowId);
    if (!workflow || workflow.state !== 'awaiting_approval') {
      throw new CollectionsConflictError('obsolete', 'The workflow of this item has moved on.');
    }
    const turn = readTurn(workflow.data);
    const text =
      input.action === 'reject'
        ? undefined
        : input.action === 'modify'
          ? input.approvedText
          : (input.approvedText ?? approval.draft);
    const modified = text !== undefined && text.trim() !== approval.draft.trim();
    if (input.action !== 'reject') {
      if (text === undefined || text.trim() === '')
        throw new CollectionsInputError('approved_text must not be empty.');
      if (await isOptedOut(tx, approval.phone)) {
        await tx
          .update(collectionsApprovals)
          .set({ status: 'obsolete', obsoleteReason: 'opted_out', decidedAt: now })
          .where(eq(collectionsApprovals.id, approval.id));
        await move(
          tx,
          workflow,
          'opted_out',
          withStep(turn, 'opted_out'),
          'approval_refused:opted_out',
          input.manager,
        );
        throw new CollectionsConflictError('opted_out', OBSOLETE_REASONS.opted_out!);
      }
    }
    const status = input.action === 'reject' ? 'rejected' : modified ? 'modified' : 'approved';
    const reply = text === undefined ? undefined : appendOptOutLine(text, settings.policy.optOutLine);
    await tx
      .update(collectionsApprovals)
      .set({
        status,
        decidedBy: input.manager,
        decidedAt: now,
        notes: input.notes ?? null,
        sentText: reply ?? null,
      })
      .where(eq(collectionsApprovals.id, approval.id));
    const audit = {
      response_queue_id: approval.id,
      action: input.action,
      status,
      manager_id_claimed: input.claimedManagerId ?? null,
      notes: input.notes ?? null,
    };
    const approved = withStep(turn, 'manager_approval');
    // A plan the draft acknowledged stands or falls with the reply.
    await setWorkflowPlanStatus(tx, workflow.id, reply === undefined ? 'rejected' : 'active', now);
    if (reply === undefined) {
      await updateConversation(tx, turn.conversationId, { state: 'open', updatedAt: now });
      const rejected = await move(
        tx,
        workflow,
        'completed',
        withStep(approved, 'rejected', { completed_at: now.toISOString() }),
        'approval:rejected',
        input.manager,
        audit,
      );
      return { approval: { ...approval, status }, workflow: rejected };
    }
    const moved = await move(
      tx,
      workflow,
      'processing',
      approved,
      `approval:${status}`,
      input.manager,
      audit,
    );
    const tenantTimezone = await timezoneOf(tx, turn);
    const sent = await sendReply(tx, moved, readTurn(moved.data), reply, {
      actor: input.manager,
      timezone: tenantTimezone,
      auto: false,
    });
    return { approval: { ...approval, status, sentText: reply }, workflow: sent };
  }

  /** The tenant's timezone as the draft step read it from the ledger; kept on the approval's turn. */
  async function timezoneOf(tx: Tx, turn: TurnData): Promise<string | undefined> {
    const row = await getConversation(tx, turn.conversationId);
    return row?.timezone ?? undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Retry, sends' outcomes, the no-reply timer

  async function retry(
    tx: Tx,
    workflow: Workflow,
    input: { forceRetry: boolean; actor: string; reason: string | undefined },
  ): Promise<Workflow> {
    const turn = readTurn(workflow.data);
    const details = { reason: input.reason ?? null, force_retry: input.forceRetry, from: workflow.state };
    if (workflow.state === 'failed' && turn.failed_step === 'response_sent' && turn.reply) {
      return sendReply(tx, workflow, turn, turn.reply.text, {
        actor: input.actor,
        timezone: await timezoneOf(tx, turn),
        auto: turn.auto_approved,
        rearm: true,
      });
    }
    if (workflow.state === 'failed' || (workflow.state === 'escalated' && input.forceRetry)) {
      return move(
        tx,
        workflow,
        'processing',
        withStep(turn, 'sms_received', {
          attempts: 0,
          failed_step: null,
          last_error: null,
          forceManager: workflow.state === 'escalated' || turn.forceManager,
        }),
        'retry',
        input.actor,
        details,
        [...draftJobFor(0)],
      );
    }
    throw new CollectionsConflictError(
      'wrong_state',
      workflow.state === 'escalated'
        ? 'The workflow is escalated; retry it with force_retry: true (the new draft then waits for a manager).'
        : `Only a failed workflow can be retried; this one is ${workflow.state}.`,
    );
  }

  const observer: OutboxObserver = {
    async onSent(tx, row) {
      const id = REPLY_KEY.exec(row.idempotencyKey)?.[1];
      if (!id) return;
      const workflow = await deps.workflows.get(tx, id);
      if (!workflow) return;
      const now = clock.now();
      const turn = readTurn(workflow.data);
      await move(
        tx,
        workflow,
        'completed',
        withStep(turn, 'response_sent', { completed_at: now.toISOString() }),
        'reply_sent',
        'outbox',
      );
      await updateConversation(tx, turn.conversationId, { lastOutboundAt: now });
      await enqueueJobs(
        tx,
        [
          {
            kind: REPLY_TIMEOUT_JOB,
            payload: { conversationId: turn.conversationId, outboundAt: now.toISOString() },
            runAt: new Date(now.getTime() + settings.escalationTimeoutMs),
          },
        ],
        now,
      );
    },
    async onFailed(tx, row, error) {
      const id = REPLY_KEY.exec(row.idempotencyKey)?.[1];
      if (!id) return;
      const workflow = await deps.workflows.get(tx, id);
      if (!workflow || workflow.state === 'failed') return;
      const turn = readTurn(workflow.data);
      // The channel re-checks the suppression list at send time: a STOP that came after the decision.
      if (await isOptedOut(tx, turn.phone)) {
        await move(
          tx,
          workflow,
          'opted_out',
          withStep(turn, 'opted_out'),
          'send_refused:opted_out',
          'outbox',
          { error },
        );
        return;
      }
      await fail(tx, workflow, turn, 'response_sent', error);
    },
  };

  /** ESCALATION_TIMEOUT_HOURS after our last text, no reply: a person follows up. */
  const replyTimeoutJob: JobHandler = {
    kind: REPLY_TIMEOUT_JOB,
    async run(ctx) {
      const { conversationId, outboundAt } = ctx.job.payload as {
        conversationId: string;
        outboundAt: string;
      };
      await ctx.complete(async (tx) => {
        const conversation = await lockConversation(tx, conversationId);
        if (!conversation || conversation.state === 'escalated') return;
        const sentAt = new Date(outboundAt).getTime();
        if (conversation.lastInboundAt && conversation.lastInboundAt.getTime() > sentAt) return;
        // A later text of ours restarted the timer; its own job decides.
        if (conversation.lastOutboundAt && conversation.lastOutboundAt.getTime() > sentAt) return;
        if (await isOptedOut(tx, conversation.phone)) return;
        const hours = Math.round((settings.escalationTimeoutMs / 3_600_000) * 10) / 10;
        await openEscalation(tx, escalationDeps, {
          conversationId,
          type: 'timeout',
          reason: `No reply from the tenant ${hours} h after our last text.`,
          autoDetected: true,
          escalatedBy: 'system',
          dedupeKey: outboundAt,
          metadata: { last_outbound_at: outboundAt },
          now: clock.now(),
        });
      });
    },
  };

  return {
    onTenantText,
    decideApproval,
    retry,
    sendReply,
    observer,
    jobs: [draftJob, replyTimeoutJob],
  };
}

export type CollectionsRunner = ReturnType<typeof createCollectionsRunner>;

const OBSOLETE_REASONS: Record<string, string> = {
  newer_text: 'the tenant has texted again; a new draft answers every text.',
  opted_out: 'the tenant has opted out of texts; nothing may be sent.',
  escalated: 'the conversation was escalated to a person.',
  retried: 'the workflow was retried.',
};

const STATE_ORDER: Record<ConversationState, number> = { open: 0, awaiting_approval: 1, escalated: 2 };
function strongest(a: ConversationState, b: ConversationState): ConversationState {
  return STATE_ORDER[a] >= STATE_ORDER[b] ? a : b;
}

/** Deterministic, the same for every AI provider: the texter may not be the tenant. */
export function thirdPartySuspected(tenant: Tenant, turn: Pick<TurnData, 'phone' | 'texts'>): boolean {
  if (tenant.phone !== turn.phone) return true;
  const read = classifyIntent(turn.texts.map((t) => t.body).join('\n'));
  return read.intent === 'wrong_number' || read.alsoMatched.includes('wrong_number');
}

export function ledgerFacts(tenant: Tenant): LedgerFacts {
  const last = tenant.paymentHistory.at(-1);
  return {
    tenantName: tenant.name,
    amountOwed: tenant.amountOwed,
    tenantPortion: tenant.tenantPortion,
    daysLate: tenant.daysLate,
    propertyName: tenant.propertyName,
    ...(last ? { lastPayment: { amount: last.amount, date: last.date } } : {}),
  };
}

function escalationType(decision: ReplyDecision, draft: DraftResult): string {
  if (draft.flags.some((f) => ESCALATION_FLAGS.has(f))) return 'self_harm';
  if (ESCALATING_INTENTS.has(draft.intent)) return draft.intent;
  if (decision.guard.verdict === 'escalate') return 'guard';
  return 'low_confidence';
}

function decisionDetails(decision: ReplyDecision, draft: DraftResult, state: ConversationState) {
  return {
    confidence: draft.confidence,
    intent: draft.intent,
    model: draft.model,
    flags: decision.flags,
    guard: { verdict: decision.guard.verdict, flags: decision.guard.flags },
    rule: decision.routing.rule,
    decision: decision.routing.decision,
    also_escalate: decision.routing.alsoEscalate,
    conversation_state: state,
    opt_out: decision.optOut.kind,
    plan: decision.plan
      ? { is_valid: decision.plan.validation.is_valid, issues: decision.plan.validation.issues }
      : null,
  };
}
