import { z } from 'zod';
import type { EmailDraftRequest } from '../peers/ai/ai-port.js';
import { DEFAULT_MAILBOX, type IncomingEmail } from '../peers/email/email-port.js';
import type { OwnerCommand } from './commands.js';

/**
 * The data of one email auto-reply workflow, the events that move it and the effects it asks
 * for. The machine itself is decide.ts; this file is the vocabulary, shared with presentation.ts
 * and with whoever stores and runs it.
 *
 * The state is plain JSON (dates as ISO strings), so the workflow store keeps it as is and
 * EmailWorkflowStateSchema reads it back. Events and effects are transient and use Date.
 */

/**
 * The seed's eleven states, plus `skipped`: the seed had no skip rules, and an email skipped
 * before any AI call is neither ignored by its owner (user_ignored) nor an error (failed).
 */
export const EMAIL_WORKFLOW_STATUSES = [
  'pending',
  'ai_generating',
  'ai_generated',
  'sms_sending',
  'awaiting_user',
  'user_approved',
  'user_edit_requested',
  'user_ignored',
  'reply_sent',
  'failed',
  'timeout',
  'skipped',
] as const;
export const EmailWorkflowStatus = z.enum(EMAIL_WORKFLOW_STATUSES);
export type EmailWorkflowStatus = z.infer<typeof EmailWorkflowStatus>;

/** Nothing moves a workflow out of these (retry_requested on thread_replied_today aside). */
export const FINAL_STATUSES: readonly EmailWorkflowStatus[] = [
  'user_ignored',
  'reply_sent',
  'timeout',
  'skipped',
];

/** The states whose work can fail and be retried; `failed` remembers which one it came from. */
export const RETRYABLE_STEPS = [
  'ai_generating',
  'user_edit_requested',
  'sms_sending',
  'user_approved',
] as const;
export type RetryableStep = (typeof RETRYABLE_STEPS)[number];

const isoDate = z.iso.datetime({ offset: true });

export const EmailWorkflowStateSchema = z.object({
  status: EmailWorkflowStatus,
  /** The configured mailbox the email arrived in; rows from before several mailboxes are the default's. */
  mailbox: z.string().min(1).default(DEFAULT_MAILBOX),
  /** What the AI needs, copied from the email when the workflow starts; never changes. */
  email: z.object({
    /** The natural key, with angle brackets; every idempotency key derives from it. */
    messageId: z.string().min(1),
    from: z.string(),
    fromName: z.string().optional(),
    subject: z.string(),
    text: z.string(),
    receivedAt: isoDate,
  }),
  /** The latest draft: the one shown, or about to be shown, to the owner. */
  draft: z.string().optional(),
  /** 0 before the first draft; +1 with each draft received. Keys of sends derive from it. */
  draftVersion: z.number().int().nonnegative(),
  /** Every edit instruction so far, oldest first, exactly as the owner typed it. */
  instructions: z.array(z.string()),
  /** Edits requested so far (instructions.length); at maxEditIterations no more are taken. */
  editIteration: z.number().int().nonnegative(),
  /** When the current draft's text reached the owner (set on sms_sent). */
  presentedAt: isoDate.optional(),
  /** When the owner's time to answer runs out; set only while awaiting_user. */
  deadline: isoDate.optional(),
  /** The draft page offered in the text, when the draft did not fit. */
  draftUrl: z.string().optional(),
  /** Retries used by the current step (MAX_RETRY_ATTEMPTS counts retries, not tries). */
  attempts: z.number().int().nonnegative(),
  lastError: z.string().optional(),
  /** In failed: the step that failed, where a retry resumes. */
  failedFrom: z.enum(RETRYABLE_STEPS).optional(),
  /** How many times the workflow has entered failed (keys the owner's failure notices). */
  failures: z.number().int().nonnegative(),
  /** In skipped: the skip rule that matched (skip-rules.ts). */
  skipReason: z.string().optional(),
  /** In reply_sent: the SMTP provider's id of the reply. */
  replyMessageId: z.string().optional(),
});
export type EmailWorkflowState = z.infer<typeof EmailWorkflowStateSchema>;

/** A new workflow for an email that was just claimed. */
export function initialEmailWorkflow(email: IncomingEmail): EmailWorkflowState {
  return {
    status: 'pending',
    mailbox: email.mailbox ?? DEFAULT_MAILBOX,
    email: {
      messageId: email.messageId,
      from: email.from.address,
      ...(email.from.name ? { fromName: email.from.name } : {}),
      subject: email.subject,
      text: email.text,
      receivedAt: email.receivedAt.toISOString(),
    },
    draftVersion: 0,
    instructions: [],
    editIteration: 0,
    attempts: 0,
    failures: 0,
  };
}

/** A failure of an outside call, with its retry meaning (see src/core/retry-errors.ts). */
type Failure = {
  error: string;
  /**
   * True when trying again may help and nobody has retried yet: decide() then retries, up to
   * maxRetryAttempts. False for a final refusal, or when the job queue or the outbox already
   * spent the retries underneath: decide() then fails the workflow at once.
   */
  retriable: boolean;
  /** The peer's Retry-After, passed on to the retry's effect. */
  retryAfterMs?: number | undefined;
};

/**
 * What happens to a workflow. Events produced by an effect echo its draftVersion, so a late
 * answer to an older effect is recognised and refused instead of moving the current draft on.
 */
export type EmailEvent =
  /** pending → skipped: a skip rule matched (skip-rules.ts). */
  | { type: 'skipped'; reason: string }
  /** pending → ai_generating: no skip rule matched; ask for the first draft. */
  | { type: 'draft_requested' }
  | { type: 'draft_ready'; draftVersion: number; draft: string }
  | ({ type: 'draft_failed'; draftVersion: number } & Failure)
  /** ai_generated → sms_sending: the presentation policy says it is this draft's turn. */
  | { type: 'present'; draftUrl?: string | undefined }
  | { type: 'sms_sent'; draftVersion: number }
  | ({ type: 'sms_failed'; draftVersion: number } & Failure)
  | {
      type: 'owner_command';
      command: OwnerCommand;
      /** The inbound text's natural key (MessageSid, gateway id): keys the answer to it. */
      inboundId: string;
      /** When the text was received; a command older than the draft's presentation is stale. */
      receivedAt?: Date | undefined;
    }
  | { type: 'reply_sent'; draftVersion: number; messageId: string }
  | ({ type: 'reply_failed'; draftVersion: number } & Failure)
  /** The timer of schedule_timeout fired. */
  | { type: 'timed_out'; draftVersion: number }
  /** POST /workflow/{message_id}/retry. */
  | { type: 'retry_requested' }
  /** POST /workflow/timeout/{message_id}. */
  | { type: 'manual_timeout' };
export type EmailEventType = EmailEvent['type'];

export const EMAIL_EVENT_TYPES: readonly EmailEventType[] = [
  'skipped',
  'draft_requested',
  'draft_ready',
  'draft_failed',
  'present',
  'sms_sent',
  'sms_failed',
  'owner_command',
  'reply_sent',
  'reply_failed',
  'timed_out',
  'retry_requested',
  'manual_timeout',
];

/** When to run a retried effect: `retry` 0 is the first try; n > 0 waits retryDelayMs(n) or retryAfterMs. */
type Attempt = { retry: number; retryAfterMs?: number | undefined };

/**
 * What decide() asks the caller to do, as data. Every send carries an idempotency key derived
 * from the email's Message-ID and the draft version, the same on every retry: the caller must
 * deliver each key at most once (an outbox row already `sent` is done; a `failed` row is re-armed
 * by a retry; a `pending` or `sending` one is left to its delivery job).
 */
export type Effect =
  /** Call the AI with this request; answer with draft_ready or draft_failed for draftVersion. */
  | ({
      type: 'request_draft';
      request: EmailDraftRequest;
      draftVersion: number;
      idempotencyKey: string;
    } & Attempt)
  /** Text the draft to the owner; answer with sms_sent or sms_failed for draftVersion. */
  | ({
      type: 'send_owner_sms';
      text: string;
      draftVersion: number;
      /** The text shows part of the draft with no link to the rest (formatOwnerSms). */
      truncated: boolean;
      idempotencyKey: string;
    } & Attempt)
  /** Send this draft as the threaded reply; answer with reply_sent or reply_failed for draftVersion. */
  | ({ type: 'send_reply'; text: string; draftVersion: number; idempotencyKey: string } & Attempt)
  /** Arm a timer, bound to this state, that answers with timed_out for draftVersion. */
  | { type: 'schedule_timeout'; at: Date; draftVersion: number; idempotencyKey: string }
  /** Tell the owner something (confirmation, help, failure); no answer expected. */
  | { type: 'notify_owner'; text: string; idempotencyKey: string }
  /** The owner's queue changed: run presentation.ts for the owner and `present` what it names. */
  | { type: 'check_presentation' };
export type EffectType = Effect['type'];

export type DecideContext = {
  now: Date;
  /** MAX_EDIT_ITERATIONS (10). */
  maxEditIterations: number;
  /** USER_RESPONSE_TIMEOUT in milliseconds (24 h). */
  userResponseTimeoutMs: number;
  /** MAX_RETRY_ATTEMPTS (3): retries after the first try. */
  maxRetryAttempts: number;
  /** SMS_MAX_SEGMENTS (3). */
  smsMaxSegments: number;
  /** The mailbox owner's name, for the AI's signature. */
  ownerName?: string | undefined;
};

export const REJECTION_CODES = [
  /** The event has no meaning in this state (e.g. retry of a workflow that is not failed). */
  'wrong_state',
  /** A command for a workflow that is not waiting for one. */
  'not_awaiting_command',
  /** A command while this workflow's next draft is being written or texted. */
  'draft_on_its_way',
  /** A command received before the current draft was shown. */
  'stale_command',
  /** An answer to an effect for another draft version. */
  'stale_event',
  /** A timer that fired before the deadline. */
  'not_due',
  /** A retry of a skip that must stand (only thread_replied_today may be asked again). */
  'not_retriable',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export type Accepted = {
  state: EmailWorkflowState;
  effects: Effect[];
  /** A short audit reason: "owner_command:send", "draft_failed:retry 2/3", … */
  reason: string;
};
/** Nothing changes; `rejected` says why in a sentence fit for a 409 problem's detail. */
export type Rejected = { rejected: string; code: RejectionCode };
export type Decision = Accepted | Rejected;

export function isRejected(decision: Decision): decision is Rejected {
  return 'rejected' in decision;
}

/**
 * Idempotency keys: one per email, purpose and draft version (or per inbound text for answers to
 * it, or per failure for failure notices), so the same decision made twice sends once.
 */
export function idempotencyKey(mailbox: string, messageId: string, purpose: string): string {
  // The default mailbox keeps the single-mailbox keys; a Message-ID copied to two mailboxes is two sends.
  const scope = mailbox === DEFAULT_MAILBOX ? messageId : `${mailbox}:${messageId}`;
  return `email-reply:${scope}:${purpose}`;
}
