import { z } from 'zod';

/**
 * One tenant turn: the `data` of a `collections` workflow row. The row's `state` is the seed's
 * status; `step` and `steps_completed` are the seed's current_step and steps_completed.
 *
 *   processing ─┬─ auto_send ──────────────┬─ (window open) → sending ─→ completed
 *               │                          └─ (night there) → scheduled → completed
 *               ├─ manager_approval → awaiting_approval ─ approve/modify → sending|scheduled → completed
 *               │                                       └ reject → completed (rejected)
 *               ├─ escalate → escalated ─ resolve → completed
 *               ├─ opt_out → opted_out
 *               └─ no_reply → completed
 *   any step that calls a peer can end in failed; POST /orchestrate/retry resumes it.
 */

export const TURN_STATUSES = [
  'processing',
  'awaiting_approval',
  'scheduled',
  'completed',
  'escalated',
  'opted_out',
  'failed',
] as const;
export type TurnStatus = (typeof TURN_STATUSES)[number];

export const DECISIONS = ['auto_send', 'manager_approval', 'escalate', 'opt_out', 'no_reply'] as const;

export const TurnText = z.object({
  /** sms_messages.id of the inbound text. */
  messageId: z.number().int(),
  body: z.string(),
  at: z.string(),
});
export type TurnText = z.infer<typeof TurnText>;

export const TurnData = z.object({
  conversationId: z.string(),
  tenantId: z.string().nullable(),
  phone: z.string(),
  texts: z.array(TurnText),
  step: z.string(),
  steps_completed: z.array(z.string()),
  /** The conversation's state when the turn began: routing reads it. */
  conversationState: z.enum(['open', 'awaiting_approval', 'escalated']),
  /** Failed peer calls of the current step. */
  attempts: z.number().int().nonnegative(),
  failed_step: z.string().nullable(),
  last_error: z.string().nullable(),
  /** A retry from escalated with force_retry: the draft may be queued, never sent by itself. */
  forceManager: z.boolean(),
  draft: z
    .object({
      text: z.string(),
      confidence: z.number(),
      intent: z.string(),
      flags: z.array(z.string()),
      model: z.string(),
      /** Time the AI call took. */
      ms: z.number(),
    })
    .nullable(),
  decision: z.enum(DECISIONS).nullable(),
  rule: z.string().nullable(),
  guard_flags: z.array(z.string()),
  auto_approved: z.boolean(),
  response_queue_id: z.string().nullable(),
  escalation_id: z.string().nullable(),
  payment_plan_id: z.string().nullable(),
  /** What was (or will be) sent to the tenant, with the opt-out line. */
  reply: z
    .object({ text: z.string(), idempotencyKey: z.string(), notBefore: z.string().nullable() })
    .nullable(),
  completed_at: z.string().nullable(),
});
export type TurnData = z.infer<typeof TurnData>;

export function newTurn(input: {
  conversationId: string;
  tenantId: string | null;
  phone: string;
  texts: TurnText[];
  conversationState: TurnData['conversationState'];
}): TurnData {
  return {
    ...input,
    step: 'sms_received',
    steps_completed: ['sms_received'],
    attempts: 0,
    failed_step: null,
    last_error: null,
    forceManager: false,
    draft: null,
    decision: null,
    rule: null,
    guard_flags: [],
    auto_approved: false,
    response_queue_id: null,
    escalation_id: null,
    payment_plan_id: null,
    reply: null,
    completed_at: null,
  };
}

export function readTurn(data: unknown): TurnData {
  return TurnData.parse(data);
}

/** The next data with a step done (appended once). */
export function withStep(turn: TurnData, step: string, patch: Partial<TurnData> = {}): TurnData {
  const steps = turn.steps_completed.at(-1) === step ? turn.steps_completed : [...turn.steps_completed, step];
  return { ...turn, ...patch, step, steps_completed: steps };
}
