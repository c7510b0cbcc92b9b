import { z } from 'zod';

/**
 * The AI port: one call that drafts a reply. Adapters: the built-in rules engine (default,
 * offline, deterministic), and LLMs through the AI SDK (OpenAI, Anthropic, OpenAI-compatible).
 * Whatever the adapter, the result has this shape and is validated with zod before use.
 */

export const INTENTS = [
  'payment_plan',
  'promise_to_pay',
  'balance_question',
  'payment_method_question',
  'dispute',
  'legal',
  'bankruptcy',
  'hardship',
  'abuse_or_threat',
  'complaint',
  'human_request',
  'wrong_number',
  'opt_out',
  'acknowledgement',
  'other',
] as const;
export const Intent = z.enum(INTENTS);
export type Intent = z.infer<typeof Intent>;

/** A payment plan read from a tenant's text; amounts in dollars, converted to a weekly equivalent. */
export const ExtractedPlan = z.object({
  /** Dollars per week (biweekly halves, monthly divides by WEEKS_PER_MONTH). */
  weeklyAmount: z.number().positive(),
  /** Number of weeks, when the text says how long (months × WEEKS_PER_MONTH). */
  weeks: z.number().int().positive().nullable(),
  /** ISO date (YYYY-MM-DD) the first payment is due, when the text says. */
  startDate: z.iso.date().nullable(),
  /** How the tenant said it. */
  frequency: z.enum(['weekly', 'biweekly', 'monthly']),
  /** The amount per period as the tenant said it. */
  amountPerPeriod: z.number().positive(),
});
export type ExtractedPlan = z.infer<typeof ExtractedPlan>;

/** Seed-compatible: "$50 per week for 3 months" is 12 weeks. */
export const WEEKS_PER_MONTH = 4;

export type ConversationTurn = {
  /** tenant/agent/manager for collections; sender/owner for email. */
  role: 'tenant' | 'agent' | 'manager';
  text: string;
  at?: string;
};

/** What the ledger says about the tenant; a reply may state these facts and nothing else. */
export type LedgerFacts = {
  tenantName: string;
  /** Dollars owed in all. */
  amountOwed: number;
  /** The tenant's share, when assistance pays part. */
  tenantPortion?: number | undefined;
  daysLate: number;
  propertyName?: string | undefined;
  lastPayment?: { amount: number; date: string } | undefined;
};

export type CollectionsDraftRequest = {
  kind: 'collections_reply';
  /** Oldest first; the last tenant turns are what is being answered. */
  conversation: readonly ConversationTurn[];
  ledger: LedgerFacts;
  /** Used for "tomorrow", "next Monday": an ISO date in the tenant's timezone. */
  today: string;
  /** For a manager-requested redraft. */
  previousDraft?: string | undefined;
  instructions?: readonly string[] | undefined;
};

export type EmailDraftRequest = {
  kind: 'email_reply';
  email: { from: string; fromName?: string | undefined; subject: string; text: string; receivedAt: string };
  ownerName?: string | undefined;
  /** For an edit: the draft the owner saw, and every instruction so far, oldest first, as typed. */
  previousDraft?: string | undefined;
  instructions: readonly string[];
};

export type DraftRequest = CollectionsDraftRequest | EmailDraftRequest;

export const DraftResult = z.object({
  text: z.string().min(1),
  /** 0..1: how sure the adapter is that the text is right to send as is. */
  confidence: z.number().min(0).max(1),
  intent: Intent,
  plan: ExtractedPlan.optional(),
  /** Machine-readable notes: "plan_extracted", "ai_fallback", "llm_self_report:0.9", … */
  flags: z.array(z.string()),
  model: z.string(),
  usage: z.object({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
  }),
});
export type DraftResult = z.infer<typeof DraftResult>;

export interface AiPort {
  /** Adapter name shown in /health/dependencies and logs: rules, openai, anthropic, openai-compatible. */
  readonly name: string;
  draft(request: DraftRequest, signal: AbortSignal): Promise<DraftResult>;
}
