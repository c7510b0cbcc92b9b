import type { Intent, LedgerFacts } from '../peers/ai/ai-port.js';
// segments.ts is a pure utility (no I/O, no adapter state): importing it keeps one definition of
// how carriers count segments, so the guard and the SMS channel can never disagree.
import { countSegments } from '../peers/sms/segments.js';
import { monthDayOf, parseIsoDate, weekdayOf } from './calendar-date.js';
import { toCents } from './cents.js';
import { dateFigures, moneyFigures, percentFigures, type DateFigure } from './draft-figures.js';
import { INJECTION_FLAG, injectionMatch } from './injection.js';
import { foldMessage, normalizeMessage } from './message-text.js';

/**
 * The draft guard: deterministic checks on every draft, from any AI, before routing (issue 7,
 * "Draft guard"). It never rewrites a draft; it names what is wrong, and the verdict forces a
 * manager's approval or an escalation. A false positive costs a manager a glance; a false negative
 * can cost a tenant their rights and us a lawsuit, so the patterns lean broad.
 *
 * | flag                          | verdict  | the draft…                                                  |
 * |-------------------------------|----------|-------------------------------------------------------------|
 * | promises_forgiveness          | escalate | forgives, writes off, says they need not pay                |
 * | promises_waiver               | escalate | waives or removes fees                                      |
 * | promises_settlement           | escalate | settles for less, accepts a partial sum in full             |
 * | promises_discount             | escalate | offers a discount, "% off", a reduced balance               |
 * | threatens_eviction            | escalate | eviction, notice to quit, lock-out, utilities shut off      |
 * | threatens_court               | escalate | court, lawsuit, legal action, judgment, attorney            |
 * | threatens_police              | escalate | police, sheriff, criminal charges, fraud                    |
 * | threatens_arrest              | escalate | arrest, jail, prison, warrant                               |
 * | threatens_garnishment         | escalate | garnishment, seizure, levy, lien                            |
 * | threatens_credit_reporting    | escalate | credit report/bureau/score, collections agency              |
 * | threatens_other               | escalate | "or else", "final warning", "consequences"                  |
 * | abusive_wording               | escalate | insults or profanity                                        |
 * | third_party_disclosure        | escalate | mentions the debt when the texter may not be the tenant     |
 * | debt_on_protected_intent      | escalate | states or asks for the debt after a bankruptcy, lawyer or dispute message |
 * | echoes_instructions           | escalate | talks about prompts, instructions, being an AI; repeats an injection |
 * | empty_draft                   | escalate | is empty                                                    |
 * | unsupported_amount            | approval | states money (or a percentage) not in the ledger or plan    |
 * | unsupported_date              | approval | states a date not in the ledger or plan, or a relative one  |
 * | placeholder_text              | approval | has an unfilled "[Name]", "{{amount}}"                      |
 * | over_segment_budget           | approval | with the opt-out line, exceeds maxSegments                  |
 * | injection_suspected           | approval | (about the tenant's text) it tries to steer the drafter     |
 *
 * Ledger names (tenant, property) are removed before the wording checks, so "Oak Court" is not a
 * court and a tenant called Justice is not a threat.
 */

export const GUARD_SEVERITY = {
  promises_forgiveness: 'escalate',
  promises_waiver: 'escalate',
  promises_settlement: 'escalate',
  promises_discount: 'escalate',
  threatens_eviction: 'escalate',
  threatens_court: 'escalate',
  threatens_police: 'escalate',
  threatens_arrest: 'escalate',
  threatens_garnishment: 'escalate',
  threatens_credit_reporting: 'escalate',
  threatens_other: 'escalate',
  abusive_wording: 'escalate',
  third_party_disclosure: 'escalate',
  debt_on_protected_intent: 'escalate',
  echoes_instructions: 'escalate',
  empty_draft: 'escalate',
  unsupported_amount: 'approval',
  unsupported_date: 'approval',
  placeholder_text: 'approval',
  over_segment_budget: 'approval',
  [INJECTION_FLAG]: 'approval',
} as const satisfies Record<string, 'approval' | 'escalate'>;

export type GuardFlag = keyof typeof GUARD_SEVERITY;
export type GuardVerdict = 'pass' | 'approval' | 'escalate';

/** The plan a draft may state: the tenant's offer after validatePlan, or our counter-offer. */
export type GuardPlan = {
  /** Dollars per week. */
  weeklyAmount: number;
  weeks: number | null;
  /** ISO date of the first payment. */
  startDate: string | null;
  /** The offer per period as the tenant said it ("$200 every two weeks"), which a reply may repeat. */
  amountPerPeriod?: number | undefined;
};

export type GuardInput = {
  draft: string;
  ledger: LedgerFacts;
  plan?: GuardPlan | undefined;
  /** The tenant's text being answered: data, checked for injection, never trusted. */
  tenantText: string;
  /** SMS_MAX_SEGMENTS. */
  maxSegments: number;
  /** Appended to every collections text ("Reply STOP to opt out"); counted in the budget. */
  optOutLine: string;
  intent: Intent;
  /** The texter may not be the tenant (wrong number, "this is his wife"). */
  thirdPartySuspected: boolean;
};

export type GuardEvidence = { flag: GuardFlag; text: string };

export type GuardResult = {
  /** In GUARD_SEVERITY's order, each once; for `guard_flags` and the audit log. */
  flags: GuardFlag[];
  verdict: GuardVerdict;
  /** What triggered each flag ("$75", "Friday", "evict"), for the manager's view. */
  evidence: GuardEvidence[];
};

type WordingCheck = { flag: GuardFlag; re: RegExp };

/** Run on the folded draft (lower case, ledger names removed). */
const WORDING_CHECKS: readonly WordingCheck[] = [
  {
    flag: 'promises_forgiveness',
    re: /\bforgiv\w*|\bwrit(?:e|ing) (?:it |this |that |the (?:balance|debt|rent) |your (?:balance|debt|rent) )?off\b|\bwritten off\b|\bwip(?:e|ed|ing) (?:it |this |that |the \w+ )?(?:out|clean|away)\b|\bclean slate\b|\b(?:don'?t|do not|won'?t|will not) (?:have|need) to pay\b|\bno need to pay\b|\b(?:cancel|erase|clear|zero out)(?:l?ed|ing)? (?:the |your |this )?(?:debt|balance|rent|amount)\b|\bdebt[- ]free\b|\b(?:balance|debt) (?:is|will be|has been) (?:now )?(?:cleared|forgiven|zero|gone|paid off|\$0\b)|\bmark(?:ed|ing)? (?:your |the )?(?:balance|account|rent|debt) (?:as )?(?:paid|cleared|settled|zero)\b/,
  },
  {
    flag: 'promises_waiver',
    re: /\bwaiv\w*|\b(?:remove|removed|drop|dropped|take off|reverse|reversed|refund|refunded) (?:the |your |any |all |that |those )?(?:late )?fees?\b|\bno late fees?\b|\bfee[- ]free\b/,
  },
  {
    flag: 'promises_settlement',
    re: /\bsettlement\b|\bsettle (?:it |this |that |the debt |the balance |your balance |your account |the account )?for\b|\b(?:accept|take) (?:less|a lower|a reduced|a smaller|partial payment as)\b|\bin full satisfaction\b|\bpaid in full for\b|\bwe(?:'ll| will| can| could| would| are happy to)? settle\b|\b(?:account|balance|debt) (?:will be|is|would be) (?:settled|closed|resolved)\b|\bclose (?:out )?(?:the|your) (?:account|balance|debt)\b|\bconsider (?:it|this|the (?:account|balance|debt)|your (?:account|balance|debt)) (?:settled|paid|closed|resolved|even)\b|\bcall it even\b/,
  },
  {
    flag: 'promises_discount',
    re: /\bdiscount\w*|\b\d+(?:\.\d+)?\s?(?:%|percent) off\b|\bhalf off\b|\b(?:reduc|lower|cut)(?:e|ed|es|ing)? (?:your |the |what you owe|this )?(?:balance|amount owed|amount you owe|rent|debt|what you owe)\b|\bspecial (?:offer|deal|rate)\b|\brebate\b|\b(?:pay|paying) less\b/,
  },
  {
    flag: 'threatens_eviction',
    re: /\bevict\w*|\bnotice to (?:quit|vacate)\b|\bpay or quit\b|\b\d+[- ]day notice\b|\b(?:lose|losing) (?:your|the) (?:home|apartment|unit|housing|place)\b|\block(?:ed|ing)? (?:you )?out\b|\blockout\b|\bchang(?:e|ing) the locks\b|\b(?:shut|turn|cut)(?:ting)? off (?:your |the )?(?:utilities|water|power|electricity|heat|gas)\b|\bremov(?:e|ed|al) from (?:the|your) (?:property|unit|apartment)\b/,
  },
  {
    flag: 'threatens_court',
    re: /\bcourts?\b|\blaw ?suits?\b|\bsu(?:e|ed|ing) you\b|\blegal (?:action|proceedings?|steps|remedies|process)\b|\bsmall claims\b|\bjudge?ments?\b|\battorneys?\b|\blawyers?\b|\bfil(?:e|ing) (?:a )?(?:claim|case|suit|complaint) against\b/,
  },
  {
    flag: 'threatens_police',
    re: /\bpolice\b|\bsheriff\w*|\bcriminal(?:ly)?\b|\bprosecut\w*|\blaw enforcement\b|\bfraud\w*|\bcharges (?:against|filed)\b/,
  },
  { flag: 'threatens_arrest', re: /\barrest\w*|\bjail\w*|\bprison\b|\bwarrants?\b|\blocked up\b/ },
  {
    flag: 'threatens_garnishment',
    re: /\bgarnish\w*|\bwages? (?:will be |can be |could be )?(?:taken|seized|withheld)\b|\bseiz(?:e|ed|ure)\b|\blevy\b|\bliens?\b|\bfreez(?:e|ing) (?:your )?(?:bank )?account\b/,
  },
  {
    flag: 'threatens_credit_reporting',
    re: /\bcredit (?:report\w*|bureaus?|score|rating|history|file|record)\b|\breport(?:ed|ing)? (?:you |this |it |the debt |your debt )?to (?:the )?(?:credit|bureaus?)\b|\bequifax\b|\bexperian\b|\btrans ?union\b|\bcollections? agenc(?:y|ies)\b|\b(?:sent|send|turned over|referred|go|goes) to collections\b/,
  },
  {
    flag: 'threatens_other',
    re: /\bor else\b|\bfinal (?:notice|warning)\b|\blast (?:chance|warning)\b|\bconsequences\b|\bwe know where you\b|\byou(?:'ll| will) regret\b|\bbefore it'?s too late\b/,
  },
  {
    flag: 'abusive_wording',
    re: /\b(?:deadbeat|liar|lying|lazy|stupid|idiot\w*|pathetic|loser|scum|shame on you|shameful|disgrac\w*|irresponsible|ridiculous|damn\w*|hell|crap|bitch\w*|bastard|asshole)\b|\bsh[i1]t\w*|\bf+u+c+k\w*/,
  },
  {
    flag: 'echoes_instructions',
    re: /\bsystem prompt\b|\bmy (?:instructions|prompt|guidelines|programming|training)\b|\bas an ai\b|\bas a (?:language model|chatbot|bot)\b|\bi(?:'m| am) (?:an ai|a bot|a language model|an assistant|a virtual assistant)\b|\blanguage model\b|\bi (?:was|have been|am) (?:instructed|told|programmed) to\b|\bas instructed\b|\bprevious instructions\b|\bchatgpt\b|\bopenai\b|\banthropic\b|\bgpt-?\d|\bi cannot (?:comply|assist)\b|\bi(?:'m| am) sorry,? but i can(?:'t|not)\b/,
  },
];

const PLACEHOLDER =
  /\[[A-Za-z][A-Za-z _-]{1,30}\]|\{\{?\s*[A-Za-z_][\w ]{0,30}\s*\}\}?|<(?:name|amount|date|tenant|property|owner)>/i;

/** Words that tell a stranger there is a debt. */
const DEBT_WORDS =
  /\b(?:balance|owe[sd]?|owing|debt|rent|late|overdue|past due|payments?|pay|paid|paying|arrears|delinquen\w*|collections?|amount due|behind|account|lease|evict\w*)\b/;

/** After a bankruptcy, lawyer or dispute message, collection talk must stop until a person has looked. */
const PROTECTED_INTENTS: ReadonlySet<Intent> = new Set<Intent>(['bankruptcy', 'legal', 'dispute']);
const DEBT_DEMAND =
  /\b(?:balance|owe[sd]?|owing|debt|past due|overdue|amount due|arrears)\b|\bpay (?:now|today|the|your|it|this|what)\b|\bpayment (?:is )?due\b|\bplease pay\b|\bmake a payment\b/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The tenant's name (whole and each part of three letters or more) and the property name. */
function ledgerNames(ledger: LedgerFacts): string[] {
  const tenant = normalizeMessage(ledger.tenantName);
  const parts = tenant.split(' ').filter((p) => p.length >= 3);
  const property = ledger.propertyName ? [normalizeMessage(ledger.propertyName)] : [];
  return [...property, tenant, ...parts].filter((n) => n.length > 0).sort((a, b) => b.length - a.length);
}

function withoutLedgerNames(text: string, ledger: LedgerFacts): string {
  let out = text;
  let folded: string | undefined;
  for (const name of ledgerNames(ledger)) {
    // Compiling a Unicode regular expression per name costs more than the rest of the guard (a
    // tenant's name is new to V8's regexp cache), and most drafts do not name anyone: skip the
    // name when the text cannot contain it. Safe for ASCII names only: under the `iu` flags the
    // only non-ASCII characters matching ASCII letters are KELVIN SIGN (lower-cased to "k") and
    // LONG S ("ſ", folded to "s" here).
    if (/^[\x20-\x7e]*$/.test(name)) {
      folded ??= out.toLowerCase().replace(/ſ/g, 's');
      if (!folded.includes(name.toLowerCase())) continue;
    }
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(name)}(?![\\p{L}\\p{N}])`, 'giu'), ' ');
    folded = undefined;
  }
  return out;
}

/** The text that goes out: the draft, then the opt-out line on its own line (once). */
export function appendOptOutLine(draft: string, optOutLine: string): string {
  const body = draft.trimEnd();
  const line = optOutLine.trim();
  if (line === '' || body.endsWith(line)) return body;
  return `${body}\n${line}`;
}

/** Every amount (in cents) the draft may state: ledger facts and the plan's own figures. */
export function allowedCents(ledger: LedgerFacts, plan: GuardPlan | undefined): Set<number> {
  const allowed = new Set<number>([toCents(ledger.amountOwed)]);
  if (ledger.tenantPortion !== undefined) allowed.add(toCents(ledger.tenantPortion));
  if (ledger.lastPayment) allowed.add(toCents(ledger.lastPayment.amount));
  if (!plan) return allowed;
  const weekly = toCents(plan.weeklyAmount);
  allowed.add(weekly);
  if (plan.amountPerPeriod !== undefined) allowed.add(toCents(plan.amountPerPeriod));
  if (plan.weeks !== null && weekly > 0) {
    const offered = weekly * plan.weeks;
    allowed.add(offered);
    // What the plan collects and its last instalment, for the amount it must cover.
    for (const owed of [ledger.amountOwed, ledger.tenantPortion]) {
      if (owed === undefined) continue;
      const total = Math.min(offered, toCents(owed));
      const count = Math.min(plan.weeks, Math.ceil(total / weekly));
      allowed.add(total);
      if (count > 0) allowed.add(total - weekly * (count - 1));
    }
  }
  return allowed;
}

/**
 * Every date (epoch day) the draft may state. The last payment may be named by its date ("Jan 3");
 * a weekday or "the 17th" only by the plan's own days, because "pay by Friday" must not pass just
 * because the last payment happened to fall on a Friday.
 */
export function allowedDays(
  ledger: LedgerFacts,
  plan: GuardPlan | undefined,
): { dated: number[]; plan: number[] } {
  const planDays: number[] = [];
  const start = plan?.startDate ? parseIsoDate(plan.startDate) : undefined;
  if (start !== undefined) {
    const count = Math.max(1, plan?.weeks ?? 1);
    for (let i = 0; i < count; i++) planDays.push(start + 7 * i);
  }
  const last = ledger.lastPayment ? parseIsoDate(ledger.lastPayment.date) : undefined;
  return { dated: [...(last === undefined ? [] : [last]), ...planDays], plan: planDays };
}

function dateSupported(
  figure: DateFigure,
  days: { dated: readonly number[]; plan: readonly number[] },
): boolean {
  const matches = (pool: readonly number[], test: (d: number) => boolean) => pool.some(test);
  switch (figure.kind) {
    case 'full':
      return matches(days.dated, (d) => {
        const { year, month, day } = monthDayOf(d);
        return figure.year === year && figure.month === month && figure.day === day;
      });
    case 'month_day':
      return matches(days.dated, (d) => {
        const { month, day } = monthDayOf(d);
        return figure.month === month && figure.day === day;
      });
    case 'weekday':
      return matches(days.plan, (d) => weekdayOf(d) === figure.weekday);
    case 'day_of_month':
      return matches(days.plan, (d) => monthDayOf(d).day === figure.day);
    case 'relative':
      return false;
  }
}

/**
 * A run of six words of an injected tenant text repeated in the draft: the drafter obeyed or
 * quoted the injection.
 */
function repeatsTenantWords(draftFolded: string, tenantText: string): string | undefined {
  const words = foldMessage(tenantText)
    .replace(/[^\p{L}\p{N}' ]/gu, ' ')
    .split(' ')
    .filter(Boolean);
  const draftWords = ` ${draftFolded.replace(/[^\p{L}\p{N}' ]/gu, ' ').replace(/\s+/g, ' ')} `;
  for (let i = 0; i + 6 <= words.length; i++) {
    const run = words.slice(i, i + 6).join(' ');
    if (draftWords.includes(` ${run} `)) return run;
  }
  return undefined;
}

function wordingEvidence(folded: string): GuardEvidence[] {
  return WORDING_CHECKS.flatMap(({ flag, re }) => {
    const match = re.exec(folded);
    return match ? [{ flag, text: match[0] }] : [];
  });
}

function figureEvidence(text: string, input: GuardInput): GuardEvidence[] {
  const cents = allowedCents(input.ledger, input.plan);
  const days = allowedDays(input.ledger, input.plan);
  return [
    ...moneyFigures(text)
      .filter((m) => !cents.has(m.cents))
      .map((m) => ({ flag: 'unsupported_amount' as const, text: m.text })),
    ...percentFigures(text).map((p) => ({ flag: 'unsupported_amount' as const, text: p })),
    ...dateFigures(text)
      .filter((d) => !dateSupported(d, days))
      .map((d) => ({ flag: 'unsupported_date' as const, text: d.text })),
  ];
}

function audienceEvidence(text: string, folded: string, input: GuardInput): GuardEvidence[] {
  const evidence: GuardEvidence[] = [];
  const money = moneyFigures(text)[0]?.text;
  if (input.thirdPartySuspected || input.intent === 'wrong_number') {
    const word = DEBT_WORDS.exec(folded)?.[0] ?? money;
    if (word !== undefined) evidence.push({ flag: 'third_party_disclosure', text: word });
  }
  if (PROTECTED_INTENTS.has(input.intent)) {
    const word = DEBT_DEMAND.exec(folded)?.[0] ?? money;
    if (word !== undefined) evidence.push({ flag: 'debt_on_protected_intent', text: word });
  }
  return evidence;
}

function injectionEvidence(folded: string, input: GuardInput): GuardEvidence[] {
  const evidence: GuardEvidence[] = [];
  const inDraft = injectionMatch(folded);
  if (inDraft !== undefined) evidence.push({ flag: 'echoes_instructions', text: inDraft });
  const inTenant = injectionMatch(input.tenantText);
  if (inTenant !== undefined) {
    evidence.push({ flag: INJECTION_FLAG, text: inTenant });
    const repeated = repeatsTenantWords(folded, input.tenantText);
    if (repeated !== undefined) evidence.push({ flag: 'echoes_instructions', text: repeated });
  }
  return evidence;
}

/** Counted on the text as it will be sent, not the normalised one: a curly quote makes it UCS-2. */
function budgetEvidence(input: GuardInput): GuardEvidence[] {
  const count = countSegments(appendOptOutLine(input.draft, input.optOutLine));
  return count.segments > input.maxSegments
    ? [
        {
          flag: 'over_segment_budget',
          text: `${count.segments} segments (${count.encoding}), budget ${input.maxSegments}`,
        },
      ]
    : [];
}

const FLAG_ORDER = Object.keys(GUARD_SEVERITY) as GuardFlag[];

function verdictOf(flags: readonly GuardFlag[]): GuardVerdict {
  if (flags.some((f) => GUARD_SEVERITY[f] === 'escalate')) return 'escalate';
  return flags.length > 0 ? 'approval' : 'pass';
}

export function guardDraft(input: GuardInput): GuardResult {
  const normalized = normalizeMessage(input.draft);
  const text = withoutLedgerNames(normalized, input.ledger);
  const folded = text.toLowerCase();
  const evidence: GuardEvidence[] =
    normalized === ''
      ? [{ flag: 'empty_draft', text: '' }]
      : [
          ...wordingEvidence(folded),
          ...figureEvidence(text, input),
          ...(PLACEHOLDER.test(text)
            ? [{ flag: 'placeholder_text' as const, text: PLACEHOLDER.exec(text)?.[0] ?? '' }]
            : []),
          ...audienceEvidence(text, folded, input),
          ...injectionEvidence(folded, input),
          ...budgetEvidence(input),
        ];
  const present = new Set(evidence.map((e) => e.flag));
  const flags = FLAG_ORDER.filter((f) => present.has(f));
  return { flags, verdict: verdictOf(flags), evidence };
}
