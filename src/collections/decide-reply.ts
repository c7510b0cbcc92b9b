import type { DraftResult, LedgerFacts } from '../peers/ai/ai-port.js';
import { guardDraft, type GuardPlan, type GuardResult } from './guard.js';
import { classifyOptOutTurn, type OptOutClassification } from './opt-out.js';
import {
  counterOffer,
  DEFAULT_PLAN_RULES,
  validatePlan,
  type CounterOffer,
  type PlanProposal,
  type PlanRules,
  type ValidationDetails,
} from './payment-plan.js';
import {
  DEFAULT_THRESHOLDS,
  route,
  routeBeforeDraft,
  type ConversationState,
  type Routing,
  type RoutingThresholds,
} from './routing.js';

/**
 * The whole pure decision for one tenant turn, in two steps around the AI call:
 *
 *   const before = decideBeforeDraft({ tenantTexts, conversationState, optedOut });
 *   if (before.routing) → act on it; the AI is not called (opt-out, START, HELP, suppressed number)
 *   const draft = await ai.draft(request, signal);              // I/O, in the job
 *   const decision = decideReply({ ...before inputs, draft, ledger, today, policy });
 *
 * decideReply classifies the opt-out again (it is cheap, and a caller that skipped the first step
 * must not be able to auto-send to someone who said STOP), validates any plan the draft read,
 * guards the draft and routes. Everything it returns belongs in the audit row.
 */

export type CollectionsPolicy = {
  thresholds: RoutingThresholds;
  planRules: PlanRules;
  /** SMS_MAX_SEGMENTS. */
  maxSegments: number;
  /** Appended to every collections text. */
  optOutLine: string;
};

export const DEFAULT_POLICY: CollectionsPolicy = {
  thresholds: DEFAULT_THRESHOLDS,
  planRules: DEFAULT_PLAN_RULES,
  maxSegments: 3,
  optOutLine: 'Reply STOP to opt out',
};

export type InboundInput = {
  /**
   * The tenant's texts of this turn, oldest first (several quick texts are one turn). Opt-out
   * words are read per text, as carriers do; the guard reads them joined.
   */
  tenantTexts: readonly string[];
  conversationState: ConversationState;
  optedOut?: boolean | undefined;
};

export type InboundDecision = {
  optOut: OptOutClassification;
  /** Set when no draft is needed; undefined means "draft, then decideReply". */
  routing: Routing | undefined;
};

export function decideBeforeDraft(input: InboundInput): InboundDecision {
  const optOut = classifyOptOutTurn(input.tenantTexts);
  return {
    optOut,
    routing: routeBeforeDraft({
      optOut: optOut.kind,
      optedOut: input.optedOut,
      conversationState: input.conversationState,
    }),
  };
}

export type ReplyInput = InboundInput & {
  draft: DraftResult;
  ledger: LedgerFacts;
  /** The tenant's local date. */
  today: string;
  /** The workflow's own reasons to think the texter is not the tenant (a number not in the ledger). */
  thirdPartySuspected?: boolean | undefined;
  /** Flags the workflow adds (ai_fallback comes on the draft from the fallback adapter). */
  extraFlags?: readonly string[] | undefined;
  policy: CollectionsPolicy;
};

export type PlanDecision = {
  proposal: PlanProposal;
  validation: ValidationDetails;
  /** For a plan that fails: what the manager is offered to send instead. */
  counterOffer: CounterOffer | undefined;
};

export type ReplyDecision = {
  optOut: OptOutClassification;
  routing: Routing;
  guard: GuardResult;
  plan: PlanDecision | undefined;
  /** Drafter flags, the workflow's, and the guard's: what `guard_flags` and the audit log show. */
  flags: string[];
  thirdPartySuspected: boolean;
};

function planDecision(
  draft: DraftResult,
  ledger: LedgerFacts,
  today: string,
  rules: PlanRules,
): PlanDecision | undefined {
  if (!draft.plan) return undefined;
  const proposal: PlanProposal = {
    weeklyAmount: draft.plan.weeklyAmount,
    weeks: draft.plan.weeks,
    startDate: draft.plan.startDate,
    // The tenant is asked for their portion when assistance pays the rest.
    amountOwed: ledger.tenantPortion ?? ledger.amountOwed,
    today,
  };
  const validation = validatePlan(proposal, rules);
  return {
    proposal,
    validation,
    counterOffer: validation.is_valid ? undefined : counterOffer(proposal, rules),
  };
}

function guardPlan(draft: DraftResult): GuardPlan | undefined {
  if (!draft.plan) return undefined;
  const { weeklyAmount, weeks, startDate, amountPerPeriod } = draft.plan;
  return { weeklyAmount, weeks, startDate, amountPerPeriod };
}

export function decideReply(input: ReplyInput): ReplyDecision {
  const { draft, ledger, policy } = input;
  const optOut = classifyOptOutTurn(input.tenantTexts);
  const thirdPartySuspected =
    input.thirdPartySuspected === true ||
    draft.intent === 'wrong_number' ||
    draft.flags.includes('third_party_possible');
  const plan = planDecision(draft, ledger, input.today, policy.planRules);
  const guard = guardDraft({
    draft: draft.text,
    ledger,
    plan: guardPlan(draft),
    tenantText: input.tenantTexts.join('\n'),
    maxSegments: policy.maxSegments,
    optOutLine: policy.optOutLine,
    intent: draft.intent,
    thirdPartySuspected,
  });
  // A plan that fails goes to a manager with its counter-offer rather than being acknowledged alone.
  const workflowFlags = [
    ...(input.extraFlags ?? []),
    ...(plan && !plan.validation.is_valid ? ['plan_invalid'] : []),
  ];
  const flags = [...new Set([...draft.flags, ...workflowFlags, ...guard.flags])];
  const routing = route({
    optOut: optOut.kind,
    optedOut: input.optedOut,
    conversationState: input.conversationState,
    confidence: draft.confidence,
    intent: draft.intent,
    guard,
    flags,
    thresholds: policy.thresholds,
  });
  return { optOut, routing, guard, plan, flags, thirdPartySuspected };
}
