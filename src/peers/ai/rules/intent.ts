import type { Intent } from '../ai-port.js';
import { INJECTION, INTENT_PATTERNS } from './intent-patterns.js';
import { findPaymentRate } from './payment-plan.js';
import { normalizeText, straightenText } from './text.js';

/**
 * Keyword and phrase scoring over a tenant's text. Selection, in order:
 *
 * 1. a strong safety/legal match (abuse_or_threat > bankruptcy > legal > wrong_number > opt_out >
 *    dispute > human_request > complaint) — these outrank any payment wording;
 * 2. a strong money match (payment_plan > promise_to_pay > hardship > balance_question >
 *    payment_method_question);
 * 3. a weak safety hint, then a weak money hint;
 * 4. an acknowledgement ("ok", "thanks", 👍) only when nothing else matched;
 * 5. otherwise `other`.
 *
 * A weak safety hint ("manager", "who is this") does not override a strong payment offer, but it
 * lowers the confidence, so the draft is held for a person rather than sent.
 */

export type IntentClassification = {
  intent: Intent;
  /** 0..1, how sure the match is; see confidenceOf. */
  confidence: number;
  /** Every pattern that matched, as "intent:label", winner's first. */
  matched: string[];
  /** Other intents that matched too, so a caller can act on them (an opt-out inside a dispute). */
  alsoMatched: Intent[];
};

export const SAFETY_PRIORITY: readonly Intent[] = [
  'abuse_or_threat',
  'bankruptcy',
  'legal',
  'wrong_number',
  'opt_out',
  'dispute',
  'human_request',
  'complaint',
];
export const MONEY_PRIORITY: readonly Intent[] = [
  'payment_plan',
  'promise_to_pay',
  'hardship',
  'balance_question',
  'payment_method_question',
];

/**
 * Intents that often share a text without contradicting each other: a plan offered because of a
 * job loss, a balance asked with an offer. Any pair of safety intents is compatible too: every
 * one of them goes to a person, and the others are reported in `alsoMatched`.
 */
const COMPATIBLE: Readonly<Partial<Record<Intent, readonly Intent[]>>> = {
  payment_plan: ['promise_to_pay', 'hardship', 'balance_question'],
  promise_to_pay: ['payment_plan', 'hardship'],
  hardship: ['payment_plan', 'promise_to_pay'],
  balance_question: ['payment_plan'],
};

type Score = { intent: Intent; strength: number; labels: string[] };

function scoreAll(text: string, cased: string): Map<Intent, Score> {
  const scores = new Map<Intent, Score>();
  const add = (intent: Intent, weight: number, label: string) => {
    const s = scores.get(intent) ?? { intent, strength: 0, labels: [] };
    s.strength = Math.max(s.strength, weight);
    s.labels.push(`${intent}:${label}`);
    scores.set(intent, s);
  };
  for (const pattern of INTENT_PATTERNS) {
    if (pattern.re.test(pattern.cased ? cased : text)) add(pattern.intent, pattern.weight, pattern.label);
  }
  // An amount tied to a frequency is the surest sign of a plan there is.
  if (findPaymentRate(text)) add('payment_plan', 1, 'rate');
  return scores;
}

function pick(scores: Map<Intent, Score>, order: readonly Intent[], strength: number): Score | undefined {
  for (const intent of order) {
    const s = scores.get(intent);
    if (s && s.strength >= strength) return s;
  }
  return undefined;
}

function isCompatible(winner: Intent, other: Intent): boolean {
  if (other === 'acknowledgement' || winner === 'acknowledgement') return true;
  if (SAFETY_PRIORITY.includes(winner) && SAFETY_PRIORITY.includes(other)) return true;
  return COMPATIBLE[winner]?.includes(other) ?? false;
}

/**
 * A strong match starts at 0.9, a weak one at 0.65; each further pattern for the same intent
 * adds 0.02 (at most 0.04); each other intent that matched and does not fit with the winner
 * takes 0.2 (strong) or 0.1 (weak) off, at most 0.5 in all. Clamped to 0.1..0.95.
 */
function confidenceOf(winner: Score, others: readonly Score[]): number {
  const base = winner.strength >= 1 ? 0.9 : 0.65;
  const corroboration = Math.min(0.04, 0.02 * (winner.labels.length - 1));
  const penalty = Math.min(
    0.5,
    others
      .filter((o) => !isCompatible(winner.intent, o.intent))
      .reduce((sum, o) => sum + (o.strength >= 1 ? 0.2 : 0.1), 0),
  );
  const value = Math.min(0.95, Math.max(0.1, base + corroboration - penalty));
  return Math.round(value * 100) / 100;
}

export const NO_MATCH_CONFIDENCE = 0.2;

export function classifyIntent(text: string): IntentClassification {
  const t = normalizeText(text).trim();
  const scores = scoreAll(t, straightenText(text).trim());
  const strongSafety = pick(scores, SAFETY_PRIORITY, 1);
  // Text that tries to steer the drafter goes to a person, unless it is already a safety case.
  if (!strongSafety && INJECTION.test(t)) {
    return {
      intent: 'other',
      confidence: NO_MATCH_CONFIDENCE,
      matched: ['other:injection'],
      alsoMatched: [...scores.keys()],
    };
  }
  const winner =
    strongSafety ??
    pick(scores, MONEY_PRIORITY, 1) ??
    pick(scores, SAFETY_PRIORITY, 0.5) ??
    pick(scores, MONEY_PRIORITY, 0.5) ??
    scores.get('acknowledgement');
  if (!winner) return { intent: 'other', confidence: NO_MATCH_CONFIDENCE, matched: [], alsoMatched: [] };
  const others = [...scores.values()].filter((s) => s.intent !== winner.intent);
  return {
    intent: winner.intent,
    confidence: confidenceOf(winner, others),
    matched: [...winner.labels, ...others.flatMap((o) => o.labels)],
    alsoMatched: others.map((o) => o.intent),
  };
}
