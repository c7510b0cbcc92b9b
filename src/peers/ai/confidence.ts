import type { DraftRequest, ExtractedPlan, Intent } from './ai-port.js';

/**
 * How sure we are that an LLM's draft can go out as is. The model's self-reported confidence is
 * an upper bound, never the answer on its own: models are confidently wrong about exactly the
 * things that hurt here (an invented amount, a threat, a misread plan). Deterministic checks each
 * impose a cap and name a flag; the result is the lowest of the self-report and every cap.
 *
 * Caps are placed against the seed's routing thresholds (send ≥ 0.85, approve ≥ 0.60, escalate
 * below): a "review" cap lands in the approval band, an "escalate" cap below it. See
 * docs/ai-confidence.md for the table of checks.
 */

export const CONFIDENCE_CAPS = {
  /** A person must look before it goes out: inside the manager-approval band. */
  review: 0.7,
  /** Must not go out without a person rewriting it: below the approval band. */
  escalate: 0.3,
  /** Nothing to send at all. */
  reject: 0,
} as const;

/** Three GSM-7 segments (3 × 153): past that an SMS costs more and reads like a letter. */
export const DEFAULT_MAX_SMS_CHARS = 459;
/** An email reply is not budgeted by segments; this only catches a runaway generation. */
export const DEFAULT_MAX_EMAIL_CHARS = 5000;

/** Intents where a wrong answer is costly: a person handles them, whoever drafted. */
export const SENSITIVE_INTENTS: ReadonlySet<Intent> = new Set<Intent>([
  'legal',
  'bankruptcy',
  'abuse_or_threat',
  'dispute',
  'opt_out',
  'wrong_number',
  'human_request',
]);

export type ForbiddenCategory =
  'threat' | 'legal_action' | 'arrest' | 'credit_report' | 'harassment' | 'forgiveness';

/**
 * Wording a collections message must never carry (FDCPA-style: no threats of action, no abuse, no
 * promises the company has not made). Deliberately broad: a false positive costs a manager a
 * glance, a false negative can cost a lawsuit.
 */
export const FORBIDDEN_WORDING: Readonly<Record<ForbiddenCategory, RegExp>> = {
  threat:
    /\b(?:or else|you(?:'|’)?ll regret|you will regret|final warning|last warning|last chance|we know where you live|consequences|we will come (?:to|by|after))\b/i,
  legal_action:
    /\b(?:legal (?:action|proceedings?|steps?|remedies)|law ?suit|su(?:e|ing|ed) you|take you to court|(?:in|to) court|court (?:order|action|date|case)|small claims|judg(?:e)?ment against|garnish\w*|evict\w*|lien|collections? agency|attorney|lawyer)\b/i,
  arrest: /\b(?:arrest\w*|jail|prison|police|criminal(?:ly)?|prosecut\w*|warrant)\b/i,
  credit_report:
    /\b(?:credit (?:report\w*|bureaus?|score|rating|history|file|record)|report(?:ed|ing)? (?:you |this |it )?to (?:the )?(?:credit|bureaus?)|equifax|experian|trans ?union)\b/i,
  harassment:
    /\b(?:deadbeat|liar|lying|lazy|stupid|idiot\w*|pathetic|shame on you|shameful|disgrac\w*|irresponsible|ridiculous|damn\w*|hell|crap|sh[i1]t\w*|f+u+c+k\w*)\b/i,
  forgiveness:
    /\b(?:forgiv\w*|waiv\w*|write (?:it |this |that )?off|written off|wipe\w* (?:out|clean|away)|clean slate|cancel(?:l?ed)? (?:the |your )?(?:debt|balance|rent)|debt[- ]free|(?:don(?:'|’)?t|do not|won(?:'|’)?t|will not) (?:have|need) to pay|no need to pay|(?:reduc|lower)(?:e|ed|ing)? (?:your |the )?(?:balance|amount owed|rent|debt))\b/i,
};

/** "[Tenant Name]", "{{amount}}", "<date>": a template the model did not fill in. */
const PLACEHOLDER =
  /\[[A-Za-z][A-Za-z _-]{1,30}\]|\{\{?\s*[A-Za-z_][\w ]{0,30}\s*\}\}?|<(?:name|amount|date|tenant|property|owner)>/i;

const MONEY_WITH_SIGN = /\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?/g;
const MONEY_WITH_WORD = /\b(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*(?:dollars?|bucks|usd)\b/gi;
/** A bare number in a tenant's or owner's own words may be an amount ("I can do 50 a week"). */
const ANY_NUMBER = /\b(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\b/g;

export type ConfidenceInput = {
  /** What the model said about itself, 0..1 (clamped; NaN counts as 0). */
  selfReported: number;
  request: DraftRequest;
  draft: { text: string; intent: Intent; plan?: ExtractedPlan | undefined };
  /** The rules engine's reading of the same request, when it has one. */
  crossCheck?: { intent: Intent; plan?: ExtractedPlan | undefined } | undefined;
  /** Longest acceptable text; default by kind (DEFAULT_MAX_SMS_CHARS / DEFAULT_MAX_EMAIL_CHARS). */
  maxChars?: number | undefined;
};

export type ConfidenceResult = { confidence: number; flags: string[] };

export function combineConfidence(input: ConfidenceInput): ConfidenceResult {
  const { request, draft, crossCheck } = input;
  const selfReported = Number.isFinite(input.selfReported) ? clamp01(input.selfReported) : 0;
  const flags: string[] = [`llm_self_report:${round2(selfReported)}`];
  let confidence = selfReported;
  const cap = (value: number, flag: string) => {
    confidence = Math.min(confidence, value);
    if (!flags.includes(flag)) flags.push(flag);
  };

  const text = draft.text.trim();
  if (text === '') cap(CONFIDENCE_CAPS.reject, 'empty_text');
  const maxChars =
    input.maxChars ??
    (request.kind === 'collections_reply' ? DEFAULT_MAX_SMS_CHARS : DEFAULT_MAX_EMAIL_CHARS);
  if (text.length > maxChars) cap(CONFIDENCE_CAPS.review, 'too_long');
  if (PLACEHOLDER.test(text)) cap(CONFIDENCE_CAPS.escalate, 'placeholder_text');

  const allowed = allowedAmounts(request, draft.plan, crossCheck?.plan);
  if (moneyAmounts(text).some((amount) => !allowed.some((a) => sameAmount(a, amount)))) {
    cap(CONFIDENCE_CAPS.escalate, 'unsupported_amount');
  }

  // The owner of a mailbox may ask for firm words ("tell them my lawyer will call"); wording the
  // owner typed is theirs to send. Collections drafts go to tenants: no exemption.
  const ownerWords = request.kind === 'email_reply' ? request.instructions.join('\n') : '';
  for (const [category, pattern] of Object.entries(FORBIDDEN_WORDING) as [ForbiddenCategory, RegExp][]) {
    if (pattern.test(text) && !pattern.test(ownerWords))
      cap(CONFIDENCE_CAPS.escalate, `forbidden_wording:${category}`);
  }

  if (request.kind === 'collections_reply') {
    if (SENSITIVE_INTENTS.has(draft.intent))
      cap(CONFIDENCE_CAPS.escalate, `sensitive_intent:${draft.intent}`);
    checkPlan(request, draft, crossCheck, cap);
  }

  if (crossCheck && crossCheck.intent !== draft.intent) {
    const sensitive = SENSITIVE_INTENTS.has(crossCheck.intent) || SENSITIVE_INTENTS.has(draft.intent);
    if (sensitive) {
      cap(CONFIDENCE_CAPS.escalate, 'intent_disagreement');
      flags.push(`rules_intent:${crossCheck.intent}`);
    } else if (crossCheck.intent === 'other') {
      // The rules engine found no pattern it knows; reading what rules cannot is why an LLM is
      // configured, so this is noted, not penalised.
      flags.push('intent_unconfirmed');
    } else {
      cap(CONFIDENCE_CAPS.review, 'intent_disagreement');
      flags.push(`rules_intent:${crossCheck.intent}`);
    }
  }

  return { confidence: round3(confidence), flags };
}

function checkPlan(
  request: Extract<DraftRequest, { kind: 'collections_reply' }>,
  draft: ConfidenceInput['draft'],
  crossCheck: ConfidenceInput['crossCheck'],
  cap: (value: number, flag: string) => void,
): void {
  const { plan } = draft;
  const planIntent = draft.intent === 'payment_plan' || draft.intent === 'promise_to_pay';
  if (plan && !planIntent) cap(CONFIDENCE_CAPS.review, 'plan_intent_mismatch');
  if (!plan && draft.intent === 'payment_plan') cap(CONFIDENCE_CAPS.review, 'plan_missing');

  if (crossCheck) {
    const other = crossCheck.plan;
    if ((plan === undefined) !== (other === undefined) || (plan && other && !samePlan(plan, other))) {
      cap(CONFIDENCE_CAPS.review, 'plan_disagreement');
    }
  }

  // A plan amount must come from the tenant. When the rules engine read the same amount (it also
  // reads number words) that is confirmation enough; otherwise a digit in a tenant's text must say it.
  if (plan) {
    const confirmedByRules =
      crossCheck?.plan !== undefined && sameAmount(crossCheck.plan.amountPerPeriod, plan.amountPerPeriod);
    const tenantNumbers = request.conversation
      .filter((t) => t.role === 'tenant')
      .flatMap((t) => numbers(t.text));
    if (!confirmedByRules && !tenantNumbers.some((n) => sameAmount(n, plan.amountPerPeriod))) {
      cap(CONFIDENCE_CAPS.review, 'plan_amount_unconfirmed');
    }
  }
}

function samePlan(a: ExtractedPlan, b: ExtractedPlan): boolean {
  return (
    sameAmount(a.weeklyAmount, b.weeklyAmount) &&
    a.weeks === b.weeks &&
    (a.startDate === null || b.startDate === null || a.startDate === b.startDate)
  );
}

/** Every amount the draft may state: ledger facts, the plan, and what people said themselves. */
function allowedAmounts(request: DraftRequest, ...plans: (ExtractedPlan | undefined)[]): number[] {
  const allowed: number[] = [];
  for (const plan of plans) {
    if (!plan) continue;
    allowed.push(plan.amountPerPeriod, plan.weeklyAmount);
    if (plan.weeks !== null) allowed.push(round2(plan.weeklyAmount * plan.weeks));
  }
  if (request.kind === 'collections_reply') {
    const { ledger } = request;
    allowed.push(ledger.amountOwed);
    if (ledger.tenantPortion !== undefined) allowed.push(ledger.tenantPortion);
    if (ledger.lastPayment) allowed.push(ledger.lastPayment.amount);
    for (const turn of request.conversation) allowed.push(...numbers(turn.text));
    for (const instruction of request.instructions ?? []) allowed.push(...numbers(instruction));
  } else {
    allowed.push(...numbers(request.email.subject), ...numbers(request.email.text));
    for (const instruction of request.instructions) allowed.push(...numbers(instruction));
  }
  return allowed;
}

/** Amounts the text states as money: "$1,200.50", "$50", "50 dollars", "75 bucks". */
export function moneyAmounts(text: string): number[] {
  const found: number[] = [];
  for (const pattern of [MONEY_WITH_SIGN, MONEY_WITH_WORD]) {
    for (const match of text.matchAll(pattern)) found.push(toNumber(match[1], match[2]));
  }
  return found;
}

function numbers(text: string): number[] {
  return [...text.matchAll(ANY_NUMBER)].map((m) => toNumber(m[1], m[2]));
}

function toNumber(whole: string | undefined, cents: string | undefined): number {
  return Number(`${(whole ?? '0').replaceAll(',', '')}.${cents ?? '0'}`);
}

function sameAmount(a: number, b: number): boolean {
  return Math.abs(a - b) < 0.005;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
