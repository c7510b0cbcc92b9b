import type { Intent } from '../peers/ai/ai-port.js';
import type { GuardVerdict } from './guard.js';
import type { OptOutKind } from './opt-out.js';

/**
 * Where a tenant's text goes: sent automatically, queued for a manager, escalated to a person,
 * opted out, or left without a drafted reply. Pure and total: the first rule that applies wins,
 * and its name is returned for the audit log together with the inputs the caller logs.
 *
 * | #  | rule                            | when                                              | decision          |
 * |----|---------------------------------|---------------------------------------------------|-------------------|
 * | 1  | opt_out.keyword                 | the text is STOP (or another carrier keyword)     | opt_out           |
 * | 2  | opt_out.natural_language        | "stop texting me", …                              | opt_out + person  |
 * | 3  | keyword.start                   | START / UNSTOP                                    | no_reply          |
 * | 4  | keyword.help                    | HELP / INFO                                       | no_reply          |
 * | 5  | number_opted_out                | the number is suppressed                          | no_reply + person |
 * | 6  | intent.escalating               | legal, bankruptcy, dispute, abuse_or_threat, human_request, complaint | escalate |
 * | 7  | conversation.escalated          | a person already owns the conversation            | no_reply          |
 * | 8  | guard.escalate                  | the guard's verdict is escalate                   | escalate          |
 * | 9  | flag.escalate                   | a flag in ESCALATION_FLAGS (self_harm)            | escalate          |
 * | 10 | confidence.below_manual         | confidence < manualMin (0.60)                     | escalate          |
 * | 11 | conversation.awaiting_approval  | a manager has not decided the last draft yet      | manager_approval  |
 * | 12 | guard.approval                  | the guard's verdict is approval                   | manager_approval  |
 * | 13 | flag.ai_fallback                | the draft came from the fallback drafter          | manager_approval  |
 * | 14 | flag.approval                   | a flag in APPROVAL_FLAGS                          | manager_approval  |
 * | 15 | intent.never_auto               | wrong_number, opt_out, hardship, other            | manager_approval  |
 * | 16 | confidence.below_auto           | confidence < auto (0.85)                          | manager_approval  |
 * | 17 | confidence.auto                 | otherwise                                         | auto_send         |
 *
 * Consequences: nothing the guard, a flag or the conversation state says can lower a decision
 * (they only override upward); `ai_fallback` never auto-sends but does not rescue a draft that
 * escalates; while a conversation is escalated or awaiting approval no automatic reply goes out.
 * "+ person" is `alsoEscalate: true`: the decision sends nothing drafted, yet a person must read
 * the text (a natural-language opt-out often comes with a dispute, a lawyer or a bankruptcy: "you
 * need to stop contacting me, bankruptcy case #…"; an opted-out tenant can no longer be texted).
 */

export type ConversationState = 'open' | 'escalated' | 'awaiting_approval';
export type RoutingDecision = 'auto_send' | 'manager_approval' | 'escalate' | 'opt_out' | 'no_reply';

export type RoutingThresholds = {
  /** AUTO_APPROVAL_CONFIDENCE. */
  auto: number;
  /** MANUAL_APPROVAL_MIN_CONFIDENCE. */
  manualMin: number;
};

export const DEFAULT_THRESHOLDS: RoutingThresholds = { auto: 0.85, manualMin: 0.6 };

/** Issue 7's auto-detected escalations: a person answers these, whatever the drafter thinks. */
export const ESCALATING_INTENTS: ReadonlySet<Intent> = new Set<Intent>([
  'legal',
  'bankruptcy',
  'dispute',
  'abuse_or_threat',
  'human_request',
  'complaint',
]);

/**
 * Never sent without a person, though not escalated: the texter may not be the tenant
 * (wrong_number), asked to stop in a way the opt-out words did not catch (opt_out), is in
 * hardship (a template can sound callous, and assistance may be due), or wrote something no
 * intent fits (other: the drafter does not know what it is answering).
 */
export const NEVER_AUTO_INTENTS: ReadonlySet<Intent> = new Set<Intent>([
  'wrong_number',
  'opt_out',
  'hardship',
  'other',
]);

/** Drafter flags that escalate. */
export const ESCALATION_FLAGS: ReadonlySet<string> = new Set(['self_harm']);

/**
 * Flags that hold a draft for a manager. Other flags are informational (intent:…, plan_extracted,
 * llm_self_report:…) and do not route.
 */
export const APPROVAL_FLAGS: ReadonlySet<string> = new Set([
  'ai_fallback',
  'injection_suspected',
  'needs_human',
  'third_party_possible',
  'opt_out_requested',
  'instruction_not_applied',
  'plan_invalid',
]);

export const ROUTING_RULES = [
  'opt_out.keyword',
  'opt_out.natural_language',
  'keyword.start',
  'keyword.help',
  'number_opted_out',
  'intent.escalating',
  'conversation.escalated',
  'guard.escalate',
  'flag.escalate',
  'confidence.below_manual',
  'conversation.awaiting_approval',
  'guard.approval',
  'flag.ai_fallback',
  'flag.approval',
  'intent.never_auto',
  'confidence.below_auto',
  'confidence.auto',
] as const;
export type RoutingRule = (typeof ROUTING_RULES)[number];

export type Routing = {
  decision: RoutingDecision;
  /** Which rule fired, for the audit log. */
  rule: RoutingRule;
  /** A person must read the text even though the decision sends no drafted reply. */
  alsoEscalate: boolean;
};

/** What is known before any AI call. */
export type InboundRoutingInput = {
  /** classifyOptOut(text).kind. */
  optOut: OptOutKind;
  /** The number is on the suppression list already. */
  optedOut?: boolean | undefined;
  conversationState: ConversationState;
};

export type RouteInput = InboundRoutingInput & {
  /** The drafter's confidence, 0..1; anything not a number counts as 0. */
  confidence: number;
  intent: Intent;
  guard: { verdict: GuardVerdict };
  /** The drafter's flags plus the workflow's own (ai_fallback, plan_invalid, …). */
  flags: readonly string[];
  thresholds: RoutingThresholds;
};

function decided(decision: RoutingDecision, rule: RoutingRule, alsoEscalate = false): Routing {
  return { decision, rule, alsoEscalate };
}

/**
 * The rules that need no draft: call it before the AI, and do not call the AI when it decides.
 * Undefined means "draft, then route()".
 */
export function routeBeforeDraft(input: InboundRoutingInput): Routing | undefined {
  switch (input.optOut) {
    case 'stop':
      return decided('opt_out', 'opt_out.keyword');
    case 'natural_stop':
      return decided('opt_out', 'opt_out.natural_language', true);
    case 'start':
      return decided('no_reply', 'keyword.start');
    case 'help':
      return decided('no_reply', 'keyword.help');
    case 'none':
      return input.optedOut === true ? decided('no_reply', 'number_opted_out', true) : undefined;
  }
}

function checkThresholds({ auto, manualMin }: RoutingThresholds): void {
  if (!(manualMin >= 0 && manualMin <= auto && auto <= 1)) {
    throw new RangeError(`thresholds must satisfy 0 ≤ manualMin ≤ auto ≤ 1: ${manualMin}, ${auto}`);
  }
}

export function route(input: RouteInput): Routing {
  checkThresholds(input.thresholds);
  const before = routeBeforeDraft(input);
  if (before) return before;
  const confidence = Number.isFinite(input.confidence) ? input.confidence : 0;
  const flags = new Set(input.flags);
  const { auto, manualMin } = input.thresholds;

  if (ESCALATING_INTENTS.has(input.intent)) return decided('escalate', 'intent.escalating');
  if (input.conversationState === 'escalated') return decided('no_reply', 'conversation.escalated');
  if (input.guard.verdict === 'escalate') return decided('escalate', 'guard.escalate');
  if ([...flags].some((f) => ESCALATION_FLAGS.has(f))) return decided('escalate', 'flag.escalate');
  if (confidence < manualMin) return decided('escalate', 'confidence.below_manual');
  if (input.conversationState === 'awaiting_approval') {
    return decided('manager_approval', 'conversation.awaiting_approval');
  }
  if (input.guard.verdict === 'approval') return decided('manager_approval', 'guard.approval');
  if (flags.has('ai_fallback')) return decided('manager_approval', 'flag.ai_fallback');
  if ([...flags].some((f) => APPROVAL_FLAGS.has(f))) return decided('manager_approval', 'flag.approval');
  if (NEVER_AUTO_INTENTS.has(input.intent)) return decided('manager_approval', 'intent.never_auto');
  if (confidence < auto) return decided('manager_approval', 'confidence.below_auto');
  return decided('auto_send', 'confidence.auto');
}
