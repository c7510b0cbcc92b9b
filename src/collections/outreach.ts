import type { LedgerFacts } from '../peers/ai/ai-port.js';
import { balanceSentence, firstNameOf } from '../peers/ai/rules/templates.js';
import type { Tenant } from '../peers/ledger/ledger-port.js';
import { sendWindow, type SendWindowHours } from './allowed-hours.js';
import type { ConversationState } from './collections-store.js';
import { appendOptOutLine, guardDraft, type GuardFlag, type GuardResult } from './guard.js';

/**
 * Outreach (issue 7): the first text to a delinquent tenant, sent on a manager's request through
 * the same guard, allowed hours and segment budget as every reply. This file is pure: the text,
 * and per tenant the decision to send it or skip the tenant (with the reason). The routes
 * (outreach-routes.ts) read what the decision needs, under the conversation's lock, and act on it.
 */

export const DEFAULT_RECENT_CONTACT_HOURS = 72;

/**
 * Why a tenant gets no text, in the order they are checked (the first that applies is reported).
 *
 * | reason                 | the tenant…                                                          |
 * |------------------------|----------------------------------------------------------------------|
 * | unknown_tenant         | is not in the ledger                                                 |
 * | opted_out              | texted STOP (the suppression list)                                   |
 * | not_delinquent         | is not listed as delinquent by the ledger, or owes nothing themselves |
 * | conversation_escalated | has a conversation a person is handling                              |
 * | recently_contacted     | had a text from us, or texted us, or got an outreach, in the last N h |
 * | open_workflow          | has a turn still in progress (a draft, an approval, a held text)     |
 * | no_send_window         | has no hour inside the allowed window in every zone their number may be in |
 * | guard_failed           | would get a text the draft guard does not pass (flags say why)       |
 * | send_refused           | has a number the SMS channel refuses (set by the routes)             |
 */
export const OUTREACH_SKIP_REASONS = [
  'unknown_tenant',
  'opted_out',
  'not_delinquent',
  'conversation_escalated',
  'recently_contacted',
  'open_workflow',
  'no_send_window',
  'guard_failed',
  'send_refused',
] as const;
export type OutreachSkipReason = (typeof OUTREACH_SKIP_REASONS)[number];

/** Workflow states of a turn that is not over: a new text would cross it. */
const OPEN_WORKFLOW_STATES: ReadonlySet<string> = new Set([
  'processing',
  'awaiting_approval',
  'scheduled',
  'failed',
]);

export type OutreachPolicy = {
  /** OPT_OUT_LINE; ends the text and counts in the segment budget. */
  optOutLine: string;
  /** SMS_MAX_SEGMENTS. */
  maxSegments: number;
  /** SEND_WINDOW_START_HOUR / SEND_WINDOW_END_HOUR. */
  sendWindow: SendWindowHours;
  /** A tenant contacted (either way) within this many hours is skipped; 72 by default. */
  recentContactHours: number;
};

/** What is known of one requested tenant when the decision is made. */
export type OutreachCandidate = {
  tenantId: string;
  /** Undefined: the ledger does not know the id. */
  tenant: Tenant | undefined;
  /** The ledger lists the tenant as delinquent (LedgerPort.listDelinquent). */
  delinquent: boolean;
  optedOut: boolean;
  /** The conversation with the tenant's number, when there is one. */
  conversation?:
    | {
        state: ConversationState;
        lastOutboundAt: Date | null;
        lastInboundAt: Date | null;
      }
    | undefined;
  /** State of the conversation's latest collections workflow. */
  latestWorkflowState?: string | undefined;
  /** When the last outreach workflow of the conversation was created. */
  lastOutreachAt?: Date | undefined;
};

export type OutreachSkip = {
  action: 'skip';
  tenantId: string;
  reason: OutreachSkipReason;
  /** The guard's flags, for guard_failed. */
  flags?: GuardFlag[];
};

export type OutreachSend = {
  action: 'send';
  tenantId: string;
  tenant: Tenant;
  /** The text as it goes out, opt-out line included. */
  text: string;
  guard: GuardResult;
  /** Now, or when the tenant's window opens. */
  sendAt: Date;
  held: boolean;
};

export type OutreachPlan = OutreachSkip | OutreachSend;

/** The ledger facts a first text may state; tenantPortion and propertyName only when the ledger has them. */
export function outreachFacts(tenant: Tenant): LedgerFacts {
  return {
    tenantName: tenant.name,
    amountOwed: tenant.amountOwed,
    tenantPortion: tenant.tenantPortion,
    daysLate: tenant.daysLate,
    propertyName: tenant.propertyName,
  };
}

/** What the tenant is asked to pay: their portion when assistance pays the rest. */
export function amountDue(ledger: LedgerFacts): number {
  return ledger.tenantPortion ?? ledger.amountOwed;
}

/**
 * The first text: a short, polite reminder stating only ledger facts (the name, the balance or the
 * tenant's portion of it, the days late), no threat, no promise, no date, and the opt-out line.
 * The balance sentence is the rules engine's, so later replies say it the same way.
 *
 *   "Hi Maria, this is a reminder about your rent. Your balance at Oak Court is $600. Your
 *    payment is 12 days late. Reply here if you have any questions.\nReply STOP to opt out"
 */
export function outreachText(tenant: Pick<Tenant, 'name'>, ledger: LedgerFacts, optOutLine: string): string {
  const sentences = [
    'This is a reminder about your rent.',
    balanceSentence(ledger),
    ...(ledger.daysLate > 0
      ? [`Your payment is ${ledger.daysLate} ${ledger.daysLate === 1 ? 'day' : 'days'} late.`]
      : []),
    'Reply here if you have any questions.',
  ];
  const first = firstNameOf(tenant.name);
  const body = sentences.join(' ');
  const greeted = first ? `Hi ${first}, ${body.charAt(0).toLowerCase()}${body.slice(1)}` : `Hello. ${body}`;
  return appendOptOutLine(greeted, optOutLine);
}

const HOUR_MS = 3_600_000;

const within = (at: Date | null | undefined, since: number) => at != null && at.getTime() > since;

/**
 * One tenant: skip (the first reason that applies) or send, with the text, the guard's verdict
 * (it must pass: any flag skips the tenant, nothing is sent for a person to fix) and when the
 * text may go out.
 */
export function planOutreach(candidate: OutreachCandidate, policy: OutreachPolicy, now: Date): OutreachPlan {
  const skip = (reason: OutreachSkipReason, flags?: GuardFlag[]): OutreachSkip => ({
    action: 'skip',
    tenantId: candidate.tenantId,
    reason,
    ...(flags ? { flags } : {}),
  });
  const { tenant, conversation } = candidate;
  if (!tenant) return skip('unknown_tenant');
  if (candidate.optedOut) return skip('opted_out');
  const ledger = outreachFacts(tenant);
  if (!candidate.delinquent || !(amountDue(ledger) > 0)) return skip('not_delinquent');
  if (conversation?.state === 'escalated' || candidate.latestWorkflowState === 'escalated') {
    return skip('conversation_escalated');
  }
  const since = now.getTime() - policy.recentContactHours * HOUR_MS;
  if (
    within(candidate.lastOutreachAt, since) ||
    within(conversation?.lastOutboundAt, since) ||
    within(conversation?.lastInboundAt, since)
  ) {
    return skip('recently_contacted');
  }
  if (
    conversation?.state === 'awaiting_approval' ||
    (candidate.latestWorkflowState !== undefined && OPEN_WORKFLOW_STATES.has(candidate.latestWorkflowState))
  ) {
    return skip('open_workflow');
  }
  const window = sendWindow({
    now,
    timezone: tenant.timezone,
    phone: tenant.phone,
    window: policy.sendWindow,
  });
  if (!window.allowed && !window.opensAt) return skip('no_send_window');
  const text = outreachText(tenant, ledger, policy.optOutLine);
  const guard = guardDraft({
    draft: text,
    ledger,
    tenantText: '',
    maxSegments: policy.maxSegments,
    optOutLine: policy.optOutLine,
    intent: 'other',
    thirdPartySuspected: false,
  });
  if (guard.verdict !== 'pass') return skip('guard_failed', guard.flags);
  return {
    action: 'send',
    tenantId: candidate.tenantId,
    tenant,
    text,
    guard,
    sendAt: window.allowed ? now : window.opensAt!,
    held: !window.allowed,
  };
}
