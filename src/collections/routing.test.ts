import { describe, expect, it } from 'vitest';
import { INTENTS } from '../peers/ai/ai-port.js';
import type { GuardVerdict } from './guard.js';
import type { OptOutKind } from './opt-out.js';
import {
  APPROVAL_FLAGS,
  DEFAULT_THRESHOLDS,
  ESCALATING_INTENTS,
  NEVER_AUTO_INTENTS,
  route,
  routeBeforeDraft,
  ROUTING_RULES,
  type ConversationState,
  type RouteInput,
  type RoutingDecision,
  type RoutingRule,
} from './routing.js';

function input(overrides: Partial<RouteInput>): RouteInput {
  return {
    confidence: 0.9,
    intent: 'promise_to_pay',
    guard: { verdict: 'pass' },
    flags: [],
    conversationState: 'open',
    optOut: 'none',
    thresholds: DEFAULT_THRESHOLDS,
    ...overrides,
  };
}

type Row = [string, Partial<RouteInput>, RoutingDecision, RoutingRule, boolean?];

const ROWS: Row[] = [
  ['confident and clean: sent', {}, 'auto_send', 'confidence.auto'],
  ['exactly the auto threshold is sent', { confidence: 0.85 }, 'auto_send', 'confidence.auto'],
  ['just below auto: a manager', { confidence: 0.8499 }, 'manager_approval', 'confidence.below_auto'],
  ['exactly the manual minimum: a manager', { confidence: 0.6 }, 'manager_approval', 'confidence.below_auto'],
  ['just below the manual minimum: escalated', { confidence: 0.5999 }, 'escalate', 'confidence.below_manual'],
  ['confidence not a number counts as 0', { confidence: Number.NaN }, 'escalate', 'confidence.below_manual'],
  ['confidence 0', { confidence: 0 }, 'escalate', 'confidence.below_manual'],

  // Opt-out and keywords come first, whatever else is true.
  ['STOP', { optOut: 'stop' }, 'opt_out', 'opt_out.keyword'],
  [
    'STOP beats an escalated conversation',
    { optOut: 'stop', conversationState: 'escalated' },
    'opt_out',
    'opt_out.keyword',
  ],
  [
    'STOP beats a pending approval',
    { optOut: 'stop', conversationState: 'awaiting_approval' },
    'opt_out',
    'opt_out.keyword',
  ],
  [
    'STOP beats a legal intent at 0.99',
    { optOut: 'stop', intent: 'legal', confidence: 0.99 },
    'opt_out',
    'opt_out.keyword',
  ],
  [
    '"stop texting me": opted out, and a person reads it',
    { optOut: 'natural_stop' },
    'opt_out',
    'opt_out.natural_language',
    true,
  ],
  [
    '"stop contacting me, bankruptcy case…"',
    { optOut: 'natural_stop', intent: 'bankruptcy' },
    'opt_out',
    'opt_out.natural_language',
    true,
  ],
  ['START', { optOut: 'start' }, 'no_reply', 'keyword.start'],
  ['START from an opted-out number', { optOut: 'start', optedOut: true }, 'no_reply', 'keyword.start'],
  ['HELP', { optOut: 'help' }, 'no_reply', 'keyword.help'],
  [
    'HELP from an opted-out number still gets the help text',
    { optOut: 'help', optedOut: true },
    'no_reply',
    'keyword.help',
  ],
  [
    'an opted-out number: nothing drafted, a person reads it',
    { optedOut: true },
    'no_reply',
    'number_opted_out',
    true,
  ],
  [
    'an opted-out number with a legal text',
    { optedOut: true, intent: 'legal' },
    'no_reply',
    'number_opted_out',
    true,
  ],

  // Escalating intents, at any confidence.
  ...[...ESCALATING_INTENTS].map((intent): Row => [
    `${intent} at 0.99 escalates`,
    { intent, confidence: 0.99 },
    'escalate',
    'intent.escalating',
  ]),
  [
    'an escalating intent while escalated',
    { intent: 'legal', conversationState: 'escalated' },
    'escalate',
    'intent.escalating',
  ],
  [
    'an escalating intent while awaiting approval',
    { intent: 'dispute', conversationState: 'awaiting_approval' },
    'escalate',
    'intent.escalating',
  ],
  [
    'an escalating intent from the fallback drafter',
    { intent: 'complaint', flags: ['ai_fallback'] },
    'escalate',
    'intent.escalating',
  ],

  // Conversation state.
  [
    'escalated: no automatic reply',
    { conversationState: 'escalated', confidence: 0.99 },
    'no_reply',
    'conversation.escalated',
  ],
  [
    'escalated, with a bad draft: still no reply',
    { conversationState: 'escalated', guard: { verdict: 'escalate' } },
    'no_reply',
    'conversation.escalated',
  ],
  [
    'awaiting approval: a manager again',
    { conversationState: 'awaiting_approval', confidence: 0.99 },
    'manager_approval',
    'conversation.awaiting_approval',
  ],
  [
    'awaiting approval with low confidence: escalated',
    { conversationState: 'awaiting_approval', confidence: 0.3 },
    'escalate',
    'confidence.below_manual',
  ],
  [
    'awaiting approval with a guard escalation',
    { conversationState: 'awaiting_approval', guard: { verdict: 'escalate' } },
    'escalate',
    'guard.escalate',
  ],

  // The guard overrides upward only.
  [
    'guard escalate at 0.99',
    { guard: { verdict: 'escalate' }, confidence: 0.99 },
    'escalate',
    'guard.escalate',
  ],
  [
    'guard approval at 0.99',
    { guard: { verdict: 'approval' }, confidence: 0.99 },
    'manager_approval',
    'guard.approval',
  ],
  [
    'guard approval does not rescue low confidence',
    { guard: { verdict: 'approval' }, confidence: 0.3 },
    'escalate',
    'confidence.below_manual',
  ],
  [
    'guard pass does not lift a never-auto intent',
    { intent: 'hardship', confidence: 0.99 },
    'manager_approval',
    'intent.never_auto',
  ],

  // Flags.
  ['self_harm escalates', { flags: ['self_harm'], confidence: 0.99 }, 'escalate', 'flag.escalate'],
  [
    'ai_fallback at 0.99: never auto',
    { flags: ['ai_fallback', 'ai_circuit_open'], confidence: 0.99 },
    'manager_approval',
    'flag.ai_fallback',
  ],
  [
    'ai_fallback does not rescue low confidence',
    { flags: ['ai_fallback'], confidence: 0.3 },
    'escalate',
    'confidence.below_manual',
  ],
  ...[...APPROVAL_FLAGS]
    .filter((flag) => flag !== 'ai_fallback')
    .map((flag): Row => [
      `${flag} at 0.99`,
      { flags: [flag], confidence: 0.99 },
      'manager_approval',
      'flag.approval',
    ]),
  [
    'informational flags do not route',
    { flags: ['intent:promise_to_pay', 'intent_confidence:0.90', 'plan_extracted', 'llm_self_report:0.99'] },
    'auto_send',
    'confidence.auto',
  ],

  // Intents a person must see, without escalating.
  ...[...NEVER_AUTO_INTENTS].map((intent): Row => [
    `${intent} at 0.99`,
    { intent, confidence: 0.99 },
    'manager_approval',
    'intent.never_auto',
  ]),
  [
    'wrong_number at 0.5 escalates on confidence',
    { intent: 'wrong_number', confidence: 0.5 },
    'escalate',
    'confidence.below_manual',
  ],
  ['payment_plan at 0.9', { intent: 'payment_plan' }, 'auto_send', 'confidence.auto'],
  [
    'balance_question at 0.92',
    { intent: 'balance_question', confidence: 0.92 },
    'auto_send',
    'confidence.auto',
  ],
  [
    'payment_method_question at 0.7',
    { intent: 'payment_method_question', confidence: 0.7 },
    'manager_approval',
    'confidence.below_auto',
  ],

  // Configured thresholds.
  [
    'auto 0.95: 0.9 waits',
    { thresholds: { auto: 0.95, manualMin: 0.5 } },
    'manager_approval',
    'confidence.below_auto',
  ],
  [
    'manual minimum 0.5: 0.55 waits',
    { thresholds: { auto: 0.95, manualMin: 0.5 }, confidence: 0.55 },
    'manager_approval',
    'confidence.below_auto',
  ],
  [
    'manual minimum 0.5: 0.45 escalates',
    { thresholds: { auto: 0.95, manualMin: 0.5 }, confidence: 0.45 },
    'escalate',
    'confidence.below_manual',
  ],
];

describe('route', () => {
  it.each(ROWS)('%s', (_name, overrides, decision, rule, alsoEscalate = false) => {
    expect(route(input(overrides))).toEqual({ decision, rule, alsoEscalate });
  });

  it('has a row for every rule', () => {
    expect([...new Set(ROWS.map((r) => r[3]))].sort()).toEqual([...ROUTING_RULES].sort());
  });

  it.each([
    { auto: 0.5, manualMin: 0.6 },
    { auto: 1.1, manualMin: 0.6 },
    { auto: 0.85, manualMin: -0.1 },
    { auto: Number.NaN, manualMin: 0.6 },
  ])('refuses thresholds %o', (thresholds) => {
    expect(() => route(input({ thresholds }))).toThrow(RangeError);
  });
});

describe('route over every combination', () => {
  const OPT_OUTS: readonly OptOutKind[] = ['none', 'stop', 'natural_stop', 'start', 'help'];
  const STATES: readonly ConversationState[] = ['open', 'escalated', 'awaiting_approval'];
  const VERDICTS: readonly GuardVerdict[] = ['pass', 'approval', 'escalate'];
  const FLAG_SETS: readonly (readonly string[])[] = [
    [],
    ['ai_fallback'],
    ['injection_suspected'],
    ['self_harm'],
    ['plan_extracted'],
  ];
  const CONFIDENCES = [0, 0.3, 0.59, 0.6, 0.84, 0.85, 0.99, 1];
  const all: RouteInput[] = [];
  for (const optOut of OPT_OUTS)
    for (const optedOut of [false, true])
      for (const conversationState of STATES)
        for (const intent of INTENTS)
          for (const verdict of VERDICTS)
            for (const flags of FLAG_SETS)
              for (const confidence of CONFIDENCES)
                all.push(
                  input({
                    optOut,
                    optedOut,
                    conversationState,
                    intent,
                    guard: { verdict },
                    flags,
                    confidence,
                  }),
                );

  it('auto-sends only a clean, confident draft in an open conversation with a subscribed number', () => {
    for (const c of all) {
      if (route(c).decision !== 'auto_send') continue;
      expect(c.optOut).toBe('none');
      expect(c.optedOut).toBe(false);
      expect(c.conversationState).toBe('open');
      expect(c.guard.verdict).toBe('pass');
      expect(c.flags.filter((f) => f !== 'plan_extracted')).toEqual([]);
      expect(ESCALATING_INTENTS.has(c.intent) || NEVER_AUTO_INTENTS.has(c.intent)).toBe(false);
      expect(c.confidence).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.auto);
    }
  });

  it('opts out on every stop request and escalates every escalating intent of a subscribed number', () => {
    for (const c of all) {
      const { decision } = route(c);
      if (c.optOut === 'stop' || c.optOut === 'natural_stop') expect(decision).toBe('opt_out');
      else if (c.optOut === 'none' && !c.optedOut && ESCALATING_INTENTS.has(c.intent))
        expect(decision).toBe('escalate');
    }
  });

  it('a worse guard verdict never lowers the decision', () => {
    const rank: Partial<Record<RoutingDecision, number>> = { auto_send: 0, manager_approval: 1, escalate: 2 };
    for (const c of all.filter((x) => x.guard.verdict === 'pass')) {
      const ranks = VERDICTS.map((verdict) => rank[route({ ...c, guard: { verdict } }).decision]);
      if (ranks.some((r) => r === undefined)) continue;
      for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeGreaterThanOrEqual(ranks[i - 1] ?? 0);
    }
  });
});

describe('routeBeforeDraft', () => {
  it.each<[OptOutKind, boolean, RoutingDecision | undefined]>([
    ['none', false, undefined],
    ['none', true, 'no_reply'],
    ['stop', false, 'opt_out'],
    ['natural_stop', false, 'opt_out'],
    ['start', true, 'no_reply'],
    ['help', false, 'no_reply'],
  ])('%s (opted out: %s) → %s', (optOut, optedOut, decision) => {
    expect(routeBeforeDraft({ optOut, optedOut, conversationState: 'open' })?.decision).toBe(decision);
  });
});
