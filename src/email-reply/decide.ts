import type { EmailDraftRequest } from '../peers/ai/ai-port.js';
import { ASK_FOR_INSTRUCTIONS_TEXT, HELP_TEXT } from './commands.js';
import {
  formatConfirmation,
  formatOwnerSms,
  gistOf,
  senderLabel,
  type ConfirmationKind,
} from './owner-sms.js';
import { holdsOwnerSlot } from './presentation.js';
import {
  idempotencyKey,
  type Accepted,
  type DecideContext,
  type Decision,
  type Effect,
  type EmailEvent,
  type EmailEventType,
  type EmailWorkflowState,
  type EmailWorkflowStatus,
  type RejectionCode,
  type RetryableStep,
} from './workflow-state.js';

/**
 * The email auto-reply workflow as one pure function: decide(state, event, ctx) → the next state
 * and the effects to carry out, or a rejection saying why the event does not apply (the HTTP edge
 * answers 409 with it). No I/O, no clock but ctx.now, and never a throw: every (state, event)
 * pair is either a transition or a rejection.
 *
 * The happy path: pending → ai_generating → ai_generated → (its turn) sms_sending → awaiting_user
 * → `1` user_approved → reply_sent. `2 …` goes awaiting_user → user_edit_requested → ai_generated
 * (the redraft) and round again; `3` ends in user_ignored; no answer in time ends in timeout.
 * Every outside call can fail: retried up to maxRetryAttempts, then failed, from which a retry
 * request resumes at the step that failed. docs/email-reply.md has the full transition table.
 */

type EventOf<T extends EmailEventType> = Extract<EmailEvent, { type: T }>;
type Handler<T extends EmailEventType> = (
  state: EmailWorkflowState,
  event: EventOf<T>,
  ctx: DecideContext,
) => Decision;
type Handlers = { [T in EmailEventType]?: Handler<T> };

/**
 * Every state names the events it accepts; anything else is refused. A Record over the statuses,
 * so adding a status without deciding its events does not compile.
 */
const MACHINE: Record<EmailWorkflowStatus, Handlers> = {
  pending: {
    skipped: (state, event) =>
      accept({ ...state, status: 'skipped', skipReason: event.reason }, [], `skipped:${event.reason}`),
    draft_requested: (state, _event, ctx) => startDrafting(state, 'ai_generating', ctx, 'draft_requested'),
  },
  ai_generating: {
    draft_ready: (state, event, ctx) => draftReady(state, event, ctx),
    draft_failed: (state, event, ctx) => failure(state, event, ctx),
  },
  user_edit_requested: {
    draft_ready: (state, event, ctx) => draftReady(state, event, ctx),
    draft_failed: (state, event, ctx) => failure(state, event, ctx),
  },
  ai_generated: {
    present: (state, event, ctx) => {
      const next: EmailWorkflowState = {
        ...withoutKeys(state, 'draftUrl'),
        status: 'sms_sending',
        attempts: 0,
      };
      if (event.draftUrl !== undefined) next.draftUrl = event.draftUrl;
      return accept(next, [ownerSms(next, ctx, 0)], 'present');
    },
  },
  sms_sending: {
    sms_sent: (state, event, ctx) =>
      staleUnless(event.draftVersion === state.draftVersion, event) ?? awaitOwner(state, ctx),
    sms_failed: (state, event, ctx) => failure(state, event, ctx),
  },
  awaiting_user: {
    owner_command: (state, event, ctx) => ownerCommand(state, event, ctx),
    timed_out: (state, event, ctx) => {
      const stale = staleUnless(event.draftVersion === state.draftVersion, event);
      if (stale) return stale;
      if (state.deadline !== undefined && ctx.now.getTime() < Date.parse(state.deadline)) {
        return reject('not_due', `The owner has until ${state.deadline} to answer`);
      }
      return timeOut(state, 'timed_out');
    },
    manual_timeout: (state) => timeOut(state, 'manual_timeout'),
  },
  user_approved: {
    reply_sent: (state, event) =>
      staleUnless(event.draftVersion === state.draftVersion, event) ??
      accept(
        { ...state, status: 'reply_sent', replyMessageId: event.messageId, attempts: 0 },
        [notify(state, `sent:v${state.draftVersion}`, confirmation('sent', state))],
        'reply_sent',
      ),
    reply_failed: (state, event, ctx) => failure(state, event, ctx),
  },
  failed: {
    retry_requested: (state, _event, ctx) => resume(state, ctx),
  },
  skipped: {
    // "At most one reply per thread per day unless the owner asks again": asking again is a retry.
    // Every other skip stands: answering a robot, a list or ourselves is what the rules prevent.
    retry_requested: (state, _event, ctx) =>
      state.skipReason === 'thread_replied_today'
        ? startDrafting(withoutKeys(state, 'skipReason'), 'ai_generating', ctx, 'retry_requested:skipped')
        : reject(
            'not_retriable',
            `A workflow skipped for ${state.skipReason ?? 'a skip rule'} cannot be retried`,
          ),
  },
  user_ignored: {},
  reply_sent: {},
  timeout: {},
};

export function decide(state: EmailWorkflowState, event: EmailEvent, ctx: DecideContext): Decision {
  // A status read from storage, or an event type from a job payload, that is not ours finds no
  // handler and is refused; own-property lookups keep "constructor" and the like from matching.
  const handlers: Handlers | undefined = Object.hasOwn(MACHINE, state.status)
    ? MACHINE[state.status]
    : undefined;
  // The map is keyed by event type, so the handler found takes exactly this event's variant;
  // TypeScript cannot correlate the two lookups, hence the one cast.
  const handler = (handlers && Object.hasOwn(handlers, event.type) ? handlers[event.type] : undefined) as
    ((s: EmailWorkflowState, e: EmailEvent, c: DecideContext) => Decision) | undefined;
  if (!handler) return refuse(state, event);
  const decision = handler(state, event, ctx);
  return 'rejected' in decision ? decision : withPresentationCheck(state, decision);
}

/**
 * The owner's queue changes when a draft becomes ready or a workflow leaves the owner's slot;
 * the caller then runs the presentation policy. Decided here once rather than in every handler.
 */
function withPresentationCheck(before: EmailWorkflowState, decision: Accepted): Accepted {
  const after = decision.state;
  const becameReady = after.status === 'ai_generated' && before.status !== 'ai_generated';
  const leftSlot = holdsOwnerSlot(before) && !holdsOwnerSlot(after);
  if (!becameReady && !leftSlot) return decision;
  return { ...decision, effects: [...decision.effects, { type: 'check_presentation' }] };
}

// ── transitions ────────────────────────────────────────────────────────────────────────────────

function startDrafting(
  state: EmailWorkflowState,
  status: 'ai_generating' | 'user_edit_requested',
  ctx: DecideContext,
  reason: string,
): Accepted {
  const next: EmailWorkflowState = { ...state, status, attempts: 0 };
  return accept(next, [draftRequest(next, ctx, 0)], reason);
}

function draftReady(state: EmailWorkflowState, event: EventOf<'draft_ready'>, ctx: DecideContext): Decision {
  const stale = staleUnless(event.draftVersion === state.draftVersion + 1, event);
  if (stale) return stale;
  // The AI port validates non-empty text, but a draft of blanks would still text the owner nothing.
  if (event.draft.trim() === '') {
    return failure(
      state,
      {
        type: 'draft_failed',
        draftVersion: event.draftVersion,
        error: 'the AI returned an empty draft',
        retriable: true,
      },
      ctx,
    );
  }
  return accept(
    {
      ...withoutKeys(state, 'lastError'),
      status: 'ai_generated',
      draft: event.draft,
      draftVersion: event.draftVersion,
      attempts: 0,
    },
    [],
    `draft_ready:v${event.draftVersion}`,
  );
}

/** The draft reached the owner: the answer clock starts now, afresh for every draft. */
function awaitOwner(state: EmailWorkflowState, ctx: DecideContext): Accepted {
  const deadline = new Date(ctx.now.getTime() + ctx.userResponseTimeoutMs);
  return accept(
    {
      ...withoutKeys(state, 'lastError'),
      status: 'awaiting_user',
      presentedAt: ctx.now.toISOString(),
      deadline: deadline.toISOString(),
      attempts: 0,
    },
    [
      {
        type: 'schedule_timeout',
        at: deadline,
        draftVersion: state.draftVersion,
        idempotencyKey: key(state, `timeout:v${state.draftVersion}`),
      },
    ],
    `sms_sent:v${state.draftVersion}`,
  );
}

function ownerCommand(
  state: EmailWorkflowState,
  event: EventOf<'owner_command'>,
  ctx: DecideContext,
): Decision {
  if (
    event.receivedAt !== undefined &&
    state.presentedAt !== undefined &&
    event.receivedAt.getTime() < Date.parse(state.presentedAt)
  ) {
    return reject('stale_command', 'The command was sent before the current draft was shown');
  }
  const { command } = event;
  const answer = (what: string, text: string) =>
    accept(state, [notify(state, `${what}:${event.inboundId}`, text)], `owner_command:${command.kind}`);
  switch (command.kind) {
    case 'send':
      return accept(
        { ...leaveAwaiting(state), status: 'user_approved', attempts: 0 },
        [replySend(state, 0)],
        'owner_command:send',
      );
    case 'ignore':
      return accept(
        { ...leaveAwaiting(state), status: 'user_ignored' },
        [notify(state, `ignored:v${state.draftVersion}`, confirmation('ignored', state))],
        'owner_command:ignore',
      );
    case 'edit':
      if (state.editIteration >= ctx.maxEditIterations) {
        return accept(
          state,
          [notify(state, `max_edits:${event.inboundId}`, confirmation('max_edits', state))],
          'owner_command:edit refused, max edits',
        );
      }
      return startDrafting(
        {
          ...leaveAwaiting(state),
          instructions: [...state.instructions, command.instructions],
          editIteration: state.editIteration + 1,
        },
        'user_edit_requested',
        ctx,
        'owner_command:edit',
      );
    case 'edit_missing_instructions':
      return answer('ask', ASK_FOR_INSTRUCTIONS_TEXT);
    case 'unknown':
      return answer('help', HELP_TEXT);
  }
}

function timeOut(state: EmailWorkflowState, reason: string): Accepted {
  return accept(
    { ...leaveAwaiting(state), status: 'timeout' },
    [notify(state, `timeout:v${state.draftVersion}`, confirmation('timeout', state))],
    reason,
  );
}

type FailureEvent = EventOf<'draft_failed'> | EventOf<'sms_failed'> | EventOf<'reply_failed'>;

/**
 * One place decides between retrying and failing. A retriable failure with retries left repeats
 * the step's effect, same idempotency key, after a backoff; otherwise the workflow fails, the
 * owner is told, and a retry request later resumes at the same step.
 */
function failure(state: EmailWorkflowState, event: FailureEvent, ctx: DecideContext): Decision {
  // Only the MACHINE entries of the four retryable steps route failures here.
  const step = state.status as RetryableStep;
  const expected =
    step === 'ai_generating' || step === 'user_edit_requested' ? state.draftVersion + 1 : state.draftVersion;
  const stale = staleUnless(event.draftVersion === expected, event);
  if (stale) return stale;

  if (event.retriable && state.attempts < ctx.maxRetryAttempts) {
    const retry = state.attempts + 1;
    const next: EmailWorkflowState = { ...state, attempts: retry, lastError: event.error };
    return accept(
      next,
      [stepEffect(next, step, ctx, retry, event.retryAfterMs)],
      `${event.type}:retry ${retry}/${ctx.maxRetryAttempts}`,
    );
  }
  const failures = state.failures + 1;
  const failed: EmailWorkflowState = {
    ...state,
    status: 'failed',
    failedFrom: step,
    failures,
    lastError: event.error,
  };
  return accept(
    failed,
    [notify(state, `failed:${failures}`, confirmation('failed', state))],
    `${event.type}:${event.retriable ? 'retries exhausted' : 'not retriable'}`,
  );
}

/** From failed, back to the step that failed, with fresh retries and the same idempotency keys. */
function resume(state: EmailWorkflowState, ctx: DecideContext): Decision {
  const step = state.failedFrom;
  if (step === undefined) return reject('wrong_state', 'This failed workflow does not say which step failed');
  const base: EmailWorkflowState = { ...withoutKeys(state, 'failedFrom'), attempts: 0 };
  if (step === 'sms_sending') {
    // Back in the queue rather than straight to the owner: another draft may hold the slot now.
    return accept({ ...base, status: 'ai_generated' }, [], 'retry_requested:sms_sending');
  }
  const next: EmailWorkflowState = { ...base, status: step };
  return accept(next, [stepEffect(next, step, ctx, 0, undefined)], `retry_requested:${step}`);
}

function stepEffect(
  state: EmailWorkflowState,
  step: RetryableStep,
  ctx: DecideContext,
  retry: number,
  retryAfterMs: number | undefined,
): Effect {
  const after = retryAfterMs === undefined ? {} : { retryAfterMs };
  switch (step) {
    case 'ai_generating':
    case 'user_edit_requested':
      return { ...draftRequest(state, ctx, retry), ...after };
    case 'sms_sending':
      return { ...ownerSms(state, ctx, retry), ...after };
    case 'user_approved':
      return { ...replySend(state, retry), ...after };
  }
}

// ── effects ────────────────────────────────────────────────────────────────────────────────────

/**
 * The AI request for the next draft: the email, and for a redraft the draft the owner saw and
 * every instruction so far, as typed (the seed's implementation sent only the latest, lowercased,
 * and dropped the previous draft).
 */
export function draftRequestFor(
  state: EmailWorkflowState,
  ctx: Pick<DecideContext, 'ownerName'>,
): EmailDraftRequest {
  const { email } = state;
  return {
    kind: 'email_reply',
    email: {
      from: email.from,
      ...(email.fromName !== undefined ? { fromName: email.fromName } : {}),
      subject: email.subject,
      text: email.text,
      receivedAt: email.receivedAt,
    },
    ...(ctx.ownerName !== undefined ? { ownerName: ctx.ownerName } : {}),
    ...(state.editIteration > 0 && state.draft !== undefined ? { previousDraft: state.draft } : {}),
    instructions: [...state.instructions],
  };
}

function draftRequest(state: EmailWorkflowState, ctx: DecideContext, retry: number): Effect {
  const version = state.draftVersion + 1;
  return {
    type: 'request_draft',
    request: draftRequestFor(state, ctx),
    draftVersion: version,
    retry,
    idempotencyKey: key(state, `draft:v${version}`),
  };
}

function ownerSms(state: EmailWorkflowState, ctx: DecideContext, retry: number): Effect {
  const sms = formatOwnerSms({
    senderName: state.email.fromName,
    senderAddress: state.email.from,
    subject: state.email.subject,
    gist: gistOf(state.email.text, 60),
    draft: state.draft ?? '',
    maxSegments: ctx.smsMaxSegments,
    draftUrl: state.draftUrl,
  });
  return {
    type: 'send_owner_sms',
    text: sms.text,
    draftVersion: state.draftVersion,
    truncated: sms.truncated,
    retry,
    idempotencyKey: key(state, `sms:v${state.draftVersion}`),
  };
}

function replySend(state: EmailWorkflowState, retry: number): Effect {
  return {
    type: 'send_reply',
    text: state.draft ?? '',
    draftVersion: state.draftVersion,
    retry,
    idempotencyKey: key(state, `reply:v${state.draftVersion}`),
  };
}

function notify(state: EmailWorkflowState, purpose: string, text: string): Effect {
  return { type: 'notify_owner', text, idempotencyKey: key(state, `notify:${purpose}`) };
}

function confirmation(kind: ConfirmationKind, state: EmailWorkflowState): string {
  return formatConfirmation(kind, senderLabel(state.email.fromName, state.email.from));
}

function key(state: EmailWorkflowState, purpose: string): string {
  return idempotencyKey(state.mailbox, state.email.messageId, purpose);
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────────

function accept(state: EmailWorkflowState, effects: Effect[], reason: string): Accepted {
  return { state, effects, reason };
}

function reject(code: RejectionCode, rejected: string): Decision {
  return { rejected, code };
}

function staleUnless(fresh: boolean, event: { type: string; draftVersion: number }): Decision | undefined {
  return fresh
    ? undefined
    : reject('stale_event', `${event.type} for draft version ${event.draftVersion} is out of date`);
}

/** The deadline belongs to awaiting_user only. */
function leaveAwaiting(state: EmailWorkflowState): EmailWorkflowState {
  return withoutKeys(state, 'deadline');
}

function withoutKeys<K extends keyof EmailWorkflowState>(
  state: EmailWorkflowState,
  ...keys: K[]
): EmailWorkflowState {
  const copy: Partial<EmailWorkflowState> = { ...state };
  for (const name of keys) delete copy[name];
  return copy as EmailWorkflowState;
}

/** Why an event does not apply here, worded for a 409 and coded for the caller. */
function refuse(state: EmailWorkflowState, event: EmailEvent): Decision {
  const status = String(state.status);
  switch (event.type) {
    case 'owner_command':
      return holdsOwnerSlot(state)
        ? reject(
            'draft_on_its_way',
            'A new draft for this email is being written or texted; answer it once it arrives',
          )
        : reject('not_awaiting_command', `The workflow is ${status}, not waiting for the owner's answer`);
    case 'retry_requested':
      return reject('wrong_state', `Only a failed workflow can be retried; this one is ${status}`);
    case 'manual_timeout':
      return reject(
        'wrong_state',
        `Only a workflow awaiting the owner can be timed out; this one is ${status}`,
      );
    default:
      return reject('wrong_state', `${event.type} does not apply to a workflow that is ${status}`);
  }
}
