import {
  DraftResult,
  type AiPort,
  type CollectionsDraftRequest,
  type ConversationTurn,
  type DraftRequest,
  type EmailDraftRequest,
  type ExtractedPlan,
  type Intent,
} from '../ai-port.js';
import { emailReplyText } from './email-reply.js';
import { classifyIntent, SAFETY_PRIORITY, type IntentClassification } from './intent.js';
import { INJECTION } from './intent-patterns.js';
import { PLAIN_STYLE, readInstructions, type EditStyle } from './instructions.js';
import { extractPaymentPlan } from './payment-plan.js';
import { collectionsTemplate, renderSms } from './templates.js';
import { normalizeText } from './text.js';

/**
 * The built-in AI adapter: deterministic, offline, no tokens. It classifies the tenant's latest
 * text, reads any payment plan, and fills a template with ledger facts only.
 *
 * The draft's confidence answers "is this text right to send as is?", so it is the intent
 * classifier's confidence (how sure the match is) capped by how safe the intent's template is
 * to send without a person: safety and legal intents are capped below the approval band so
 * they escalate even if the workflow did not look at the intent; hardship and payment-method
 * replies are capped inside the approval band because a person should add what a template
 * cannot. The classifier's own figure is in the flags as `intent_confidence:<x>`.
 */

export const RULES_MODEL = 'rules-v1';

/** Below the seed's MANUAL_APPROVAL_MIN_CONFIDENCE (0.60): escalate. */
const SAFETY_CAP = 0.5;
/** Inside the approval band (0.60–0.85): a manager looks first. */
const APPROVAL_CAP = 0.75;
const PAYMENT_METHOD_CAP = 0.7;
/** A redraft from instructions is only as good as the instructions the engine understood. */
const EDIT_CAP = 0.65;
const EDIT_UNAPPLIED_CAP = 0.3;
/** Long texts usually carry more than the one topic a template answers. */
const LONG_TEXT_CHARS = 480;
const LONG_TEXT_CAP = 0.7;

const EMAIL_CONFIDENCE = 0.6;
const EMAIL_EDIT_CONFIDENCE = 0.55;

const SEND_CAP: Readonly<Record<Intent, number>> = {
  abuse_or_threat: SAFETY_CAP,
  bankruptcy: SAFETY_CAP,
  legal: SAFETY_CAP,
  wrong_number: SAFETY_CAP,
  opt_out: SAFETY_CAP,
  dispute: SAFETY_CAP,
  human_request: SAFETY_CAP,
  complaint: SAFETY_CAP,
  hardship: APPROVAL_CAP,
  payment_method_question: PAYMENT_METHOD_CAP,
  payment_plan: 0.9,
  promise_to_pay: 0.9,
  balance_question: 0.92,
  acknowledgement: 0.9,
  other: 0.3,
};

/** The tenant's most recent run of texts: several quick texts are answered as one turn. */
export function latestTenantText(conversation: readonly ConversationTurn[]): string {
  const turns: string[] = [];
  for (let i = conversation.length - 1; i >= 0; i--) {
    const turn = conversation[i];
    if (!turn) continue;
    if (turn.role === 'tenant') turns.unshift(turn.text);
    else if (turns.length > 0) break;
  }
  return turns.join('\n').trim();
}

function planCap(plan: ExtractedPlan | undefined): number {
  if (!plan) return APPROVAL_CAP;
  return plan.weeks === null ? 0.85 : 0.9;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function intentFlags(c: IntentClassification, text: string): string[] {
  const all = [c.intent, ...c.alsoMatched];
  const flags = [
    `intent:${c.intent}`,
    `intent_confidence:${c.confidence.toFixed(2)}`,
    ...c.alsoMatched.map((i) => `also:${i}`),
  ];
  if (SAFETY_PRIORITY.includes(c.intent)) flags.push('needs_human');
  if (c.matched.includes('abuse_or_threat:self_harm')) flags.push('self_harm');
  if (all.includes('wrong_number')) flags.push('third_party_possible');
  if (all.includes('opt_out')) flags.push('opt_out_requested');
  if (INJECTION.test(normalizeText(text))) flags.push('injection_suspected');
  if (text.length > LONG_TEXT_CHARS) flags.push('long_text');
  return flags;
}

function planFlags(intent: Intent, plan: ExtractedPlan | undefined): string[] {
  if (!plan) return intent === 'payment_plan' ? ['plan_not_understood'] : [];
  return [
    'plan_extracted',
    ...(plan.weeks === null ? ['plan_incomplete'] : []),
    ...(plan.startDate === null ? ['plan_no_start'] : []),
  ];
}

function editFlags(style: EditStyle, edited: boolean): string[] {
  if (!edited) return [];
  return ['edited', ...(style.unapplied.length > 0 ? ['instruction_not_applied'] : [])];
}

function editCap(style: EditStyle, edited: boolean): number {
  if (!edited) return 1;
  return style.unapplied.length > 0 ? EDIT_UNAPPLIED_CAP : EDIT_CAP;
}

function collectionsDraft(request: CollectionsDraftRequest): DraftResult {
  const text = latestTenantText(request.conversation);
  const instructions = request.instructions ?? [];
  const edited = instructions.length > 0;
  const style = edited ? readInstructions(instructions) : PLAIN_STYLE;
  if (text.length === 0) {
    return result(
      renderSms(collectionsTemplate('other', request.ledger, undefined), style),
      0.1,
      'other',
      undefined,
      ['no_tenant_text', ...editFlags(style, edited)],
    );
  }
  const classification = classifyIntent(text);
  const intent = classification.intent;
  const plan = extractPaymentPlan(text, request.today);
  const cap = Math.min(
    SEND_CAP[intent],
    intent === 'payment_plan' ? planCap(plan) : 1,
    text.length > LONG_TEXT_CHARS ? LONG_TEXT_CAP : 1,
    editCap(style, edited),
  );
  return result(
    renderSms(collectionsTemplate(intent, request.ledger, plan), style),
    Math.min(classification.confidence, cap),
    intent,
    plan,
    [...intentFlags(classification, text), ...planFlags(intent, plan), ...editFlags(style, edited)],
  );
}

function emailDraft(request: EmailDraftRequest): DraftResult {
  const edited = request.instructions.length > 0;
  const style = edited ? readInstructions(request.instructions) : PLAIN_STYLE;
  const confidence = edited ? Math.min(EMAIL_EDIT_CONFIDENCE, editCap(style, edited)) : EMAIL_CONFIDENCE;
  // The email's content is not classified: the intents are about rent, and the reply is an acknowledgement.
  return result(emailReplyText(request, style), confidence, 'other', undefined, [
    'email_template',
    ...editFlags(style, edited),
  ]);
}

function result(
  text: string,
  confidence: number,
  intent: Intent,
  plan: ExtractedPlan | undefined,
  flags: string[],
): DraftResult {
  return DraftResult.parse({
    text,
    confidence: round2(confidence),
    intent,
    ...(plan ? { plan } : {}),
    flags,
    model: RULES_MODEL,
    usage: { inputTokens: 0, outputTokens: 0 },
  });
}

/** Pure: the same request always gives the same draft. */
export function draftWithRules(request: DraftRequest): DraftResult {
  return request.kind === 'collections_reply' ? collectionsDraft(request) : emailDraft(request);
}

export function createRulesAi(): AiPort {
  return {
    name: 'rules',
    draft(request: DraftRequest, signal: AbortSignal): Promise<DraftResult> {
      // Nothing to wait for, but a caller that has already given up gets its abort, not a draft.
      if (signal.aborted)
        return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      try {
        return Promise.resolve(draftWithRules(request));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}
