import type { ExtractedPlan, Intent, LedgerFacts } from '../ai-port.js';
import { parseIsoDate, weekdayOf } from './calendar.js';
import type { EditStyle, Tone } from './instructions.js';
import { formatMoney, roundCents } from './numbers.js';

/**
 * Reply templates for collections texts. A template may state the ledger facts of the request
 * (name, amount owed, tenant portion, days late, property, last payment) and the plan the
 * tenant offered, and nothing else: no amount, date, discount, waiver or consequence is made up,
 * and no template promises to accept a plan. Replies are short enough for one or two SMS
 * segments before the workflow adds its opt-out line.
 */

export type TemplateReply = {
  /** How the tenant is greeted; undefined when the texter may not be the tenant (no name, no debt). */
  firstName: string | undefined;
  fullName: string | undefined;
  /** Sentences, most important first. */
  sentences: string[];
  /** How many leading sentences a "shorter" redraft keeps. */
  essential: number;
};

const WEEKDAY_SHORT = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Fri, Jan 17": the year is left out because a start date is always within weeks. */
export function formatDay(iso: string): string {
  const date = parseIsoDate(iso);
  return `${WEEKDAY_SHORT[weekdayOf(date)] ?? ''}, ${MONTH_SHORT[date.month - 1] ?? ''} ${date.day}`;
}

/** "Jan 3": for past dates such as the last payment. */
function formatShortDate(iso: string): string {
  const date = parseIsoDate(iso);
  return `${MONTH_SHORT[date.month - 1] ?? ''} ${date.day}`;
}

export function firstNameOf(fullName: string): string | undefined {
  const first = fullName.trim().split(/\s+/)[0];
  return first && first.length > 0 ? first : undefined;
}

/** What the tenant is asked to pay: their portion when assistance pays the rest. */
export function balanceSentence(ledger: LedgerFacts): string {
  const at = ledger.propertyName ? ` at ${ledger.propertyName}` : '';
  const portion = ledger.tenantPortion;
  if (portion !== undefined && roundCents(portion) !== roundCents(ledger.amountOwed)) {
    return `Your portion of the ${formatMoney(ledger.amountOwed)} balance${at} is ${formatMoney(portion)}.`;
  }
  return `Your balance${at} is ${formatMoney(ledger.amountOwed)}.`;
}

function daysLateSentence(ledger: LedgerFacts): string | undefined {
  if (ledger.daysLate <= 0) return undefined;
  return `It is ${ledger.daysLate} ${ledger.daysLate === 1 ? 'day' : 'days'} late.`;
}

function lastPaymentSentence(ledger: LedgerFacts): string | undefined {
  const last = ledger.lastPayment;
  return last
    ? `Your last payment was ${formatMoney(last.amount)} on ${formatShortDate(last.date)}.`
    : undefined;
}

/** The offer in the tenant's own terms: "$100 every two weeks", not the weekly equivalent. */
export function rateText(plan: ExtractedPlan): string {
  const amount = formatMoney(plan.amountPerPeriod);
  return plan.frequency === 'weekly'
    ? `${amount} a week`
    : plan.frequency === 'biweekly'
      ? `${amount} every two weeks`
      : `${amount} a month`;
}

function planSentences(plan: ExtractedPlan | undefined, ledger: LedgerFacts): [string[], number] {
  const balance = balanceSentence(ledger);
  if (!plan) {
    return [
      ['We can look at a payment plan.', 'How much could you pay each week, and from when?', balance],
      2,
    ];
  }
  const start = plan.startDate ? `, starting ${formatDay(plan.startDate)}` : '';
  if (plan.weeks === null) {
    return [
      [
        `Thanks for your offer of ${rateText(plan)}${start}.`,
        'For how many weeks could you pay that?',
        balance,
      ],
      2,
    ];
  }
  return [
    [
      `Thanks for your offer of ${rateText(plan)} for ${plan.weeks} ${plan.weeks === 1 ? 'week' : 'weeks'}${start}.`,
      "We'll review it and get back to you.",
      balance,
    ],
    2,
  ];
}

function present(...sentences: (string | undefined)[]): string[] {
  return sentences.filter((s): s is string => s !== undefined);
}

/** The reply for an intent, before any edit instructions. */
export function collectionsTemplate(
  intent: Intent,
  ledger: LedgerFacts,
  plan: ExtractedPlan | undefined,
): TemplateReply {
  const named = {
    firstName: firstNameOf(ledger.tenantName),
    fullName: ledger.tenantName.trim() || undefined,
  };
  const reply = (sentences: string[], essential = sentences.length): TemplateReply => ({
    ...named,
    sentences,
    essential,
  });
  switch (intent) {
    case 'payment_plan': {
      const [sentences, essential] = planSentences(plan, ledger);
      return reply(sentences, essential);
    }
    case 'promise_to_pay':
      return reply(['Thanks for letting us know.', balanceSentence(ledger)], 2);
    case 'balance_question':
      return reply(
        present(balanceSentence(ledger), daysLateSentence(ledger), lastPaymentSentence(ledger)),
        1,
      );
    case 'payment_method_question':
      return reply(
        [
          'Thanks for asking how to pay.',
          'A member of our team will reply with the ways you can pay.',
          balanceSentence(ledger),
        ],
        2,
      );
    case 'hardship':
      return reply(
        [
          "We're sorry to hear that.",
          'If a payment plan would help, reply with what you could pay each week.',
          balanceSentence(ledger),
        ],
        2,
      );
    // Disputes, legal matters and the like go to a person; the reply neither restates nor demands the debt.
    case 'dispute':
      return reply(
        ['Thanks for letting us know.', "We've passed your message to our team to review your account."],
        2,
      );
    case 'legal':
    case 'bankruptcy':
    case 'abuse_or_threat':
      return reply(["We've received your message and passed it to our team."]);
    case 'complaint':
      return reply(["We're sorry about this.", "We've passed your message to our team."], 2);
    case 'human_request':
      return reply(["We've asked a member of our team to contact you."]);
    // The texter may not be the tenant: no name, no mention of a debt.
    case 'wrong_number':
      return {
        firstName: undefined,
        fullName: undefined,
        sentences: ['Sorry for the trouble.', "We'll update our records."],
        essential: 2,
      };
    case 'opt_out':
      return {
        firstName: undefined,
        fullName: undefined,
        sentences: ["Understood. We'll stop texting this number."],
        essential: 1,
      };
    case 'acknowledgement':
      return reply(['Thanks for getting back to us.']);
    case 'other':
      return reply(['Thanks for your message.', 'A member of our team will get back to you.'], 2);
  }
}

const FORMAL_WORDING: readonly (readonly [RegExp, string])[] = [
  [/\bThanks for\b/g, 'Thank you for'],
  [/\bWe've\b/g, 'We have'],
  [/\bwe've\b/g, 'we have'],
  [/\bWe'll\b/g, 'We will'],
  [/\bwe'll\b/g, 'we will'],
  [/\bWe're\b/g, 'We are'],
  [/\bwe're\b/g, 'we are'],
];

function greeting(reply: TemplateReply, tone: Tone): string | undefined {
  if (tone === 'formal') return reply.fullName ? `Hello ${reply.fullName}` : undefined;
  if (!reply.firstName) return undefined;
  return tone === 'casual' ? `Hey ${reply.firstName}` : `Hi ${reply.firstName}`;
}

/** After "Hi Maria, " the first sentence goes on in lower case, except "I". */
function lowerFirst(sentence: string): string {
  return /^I\b/.test(sentence) ? sentence : sentence.replace(/^[A-Z]/, (c) => c.toLowerCase());
}

/** One SMS: greeting, the sentences the style keeps, the additions, and what was not applied. */
export function renderSms(reply: TemplateReply, style: EditStyle): string {
  const kept = style.short ? reply.sentences.slice(0, Math.max(1, reply.essential)) : reply.sentences;
  const sentences = [...kept, ...style.additions, ...style.unapplied.map((u) => `[${u}]`)];
  let body = sentences.join(' ');
  if (style.tone === 'formal') for (const [re, to] of FORMAL_WORDING) body = body.replace(re, to);
  const hello = greeting(reply, style.tone);
  return hello ? `${hello}, ${lowerFirst(body)}` : body;
}
