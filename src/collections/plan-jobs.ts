import { and, inArray, lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Tx } from '../core/db/database.js';
import { outbox } from '../core/db/schema.js';
import { releaseSingletonKey } from '../core/jobs/job-queue.js';
import type { JobHandler } from '../core/jobs/job-worker.js';
import type { Clock } from '../core/runtime.js';
import type { WorkflowStore } from '../core/workflow/workflow-store.js';
import type { Notifier } from '../peers/notify/notifier.js';
import { enqueueSms, SmsRefusedError } from '../peers/sms/sms-channel.js';
import { sendWindow as windowAt, wallTimeAt, zonesForPhone, type SendWindowHours } from './allowed-hours.js';
import { formatIsoDate, monthDayOf, requireIsoDate } from './calendar-date.js';
import { toDollars } from './cents.js';
import { lockConversation, openEscalation, type Conversation } from './collections-store.js';
import { appendOptOutLine } from './guard.js';
import {
  missedInstalments,
  planProgress,
  type Instalment,
  type MissedInstalment,
  type PlanPayment,
} from './payment-plan.js';
import {
  asPlanPayments,
  checkInstant,
  getPlan,
  listPlanPayments,
  lockPlan,
  PLAN_CHECK_JOB,
  planCheckKey,
  planSchedule,
  schedulePlanCheck,
  updatePlanStatus,
  type PlanRow,
} from './plans-store.js';

/**
 * The missed-instalment watch on an active plan (docs/collections-plans.md). The job
 * `collections.plan_check` runs on the first due date and then the day after each grace period
 * ends. The first miss gets a reminder text (allowed hours, opt-out line, one per instalment); a
 * second miss, or a miss after a reminder, opens a `missed_instalment` escalation and the plan is
 * defaulted. Everything a run does commits with the job (ctx.complete), so a run that fails or is
 * repeated changes nothing twice.
 */

export { PLAN_CHECK_JOB, schedulePlanCheck } from './plans-store.js';

export type PlanJobDeps = {
  workflows: WorkflowStore;
  notifier: Notifier;
  /** The service clock; a run itself reads the worker's (ctx.now()), which is the same one. */
  clock: Clock;
  /** PLAN_GRACE_DAYS: days after a due date before an unpaid instalment counts as missed. */
  planGraceDays: number;
  /** SMS_MAX_SEGMENTS. */
  smsMaxSegments: number;
  /** OPT_OUT_LINE, appended to the reminder. */
  optOutLine: string;
  /** SEND_WINDOW_START_HOUR / SEND_WINDOW_END_HOUR. */
  sendWindow: SendWindowHours;
  logger: Logger;
  /** DEFAULT_PHONE_REGION, for a stored number without a country code. */
  defaultRegion?: string | undefined;
};

const PlanCheckPayload = z.object({ planId: z.string().min(1) });

/** After the last instalment, a plan with an unpaid, reminded instalment is looked at again a week on. */
const FOLLOW_UP_DAYS = 7;
/** While a manager decides on a reply in the conversation, the reminder waits this long. */
const DEFER_MS = 6 * 3_600_000;
/** A computed next run that is not in the future (a late run) is pushed this far. */
const MIN_GAP_MS = 3_600_000;

// ---------------------------------------------------------------------------------------------
// The decision (pure).

export type PlanCheckAction = 'none' | 'remind' | 'escalate';

export type PlanCheckDecision = {
  /** Instalments unpaid past their grace period, oldest first. */
  missed: MissedInstalment[];
  action: PlanCheckAction;
  /** Everything the plan collects is paid. */
  completed: boolean;
  /** Epoch day of the next check while the plan stays active; undefined when it does not. */
  nextCheckDay: number | undefined;
};

/**
 * What a check does today. `remindedBefore`: an earlier check already texted a reminder for this
 * plan (for any instalment), so a miss now is a miss after a reminder.
 */
export function decidePlanCheck(input: {
  instalments: readonly Instalment[];
  payments: readonly PlanPayment[];
  /** The tenant's local date. */
  today: string;
  graceDays: number;
  remindedBefore: boolean;
}): PlanCheckDecision {
  const today = requireIsoDate(input.today, 'today');
  const progress = planProgress(input.instalments, input.payments, input.today);
  if (input.instalments.length === 0 || progress.amount_remaining === 0) {
    return { missed: [], action: 'none', completed: true, nextCheckDay: undefined };
  }
  const missed = missedInstalments(input.instalments, input.payments, input.today, input.graceDays);
  const action: PlanCheckAction =
    missed.length === 0 ? 'none' : missed.length >= 2 || input.remindedBefore ? 'escalate' : 'remind';
  if (action === 'escalate') return { missed, action, completed: false, nextCheckDay: undefined };
  // The first day on which a later instalment can be missed; that day's own misses were seen today.
  const upcoming = input.instalments
    .map((i) => requireIsoDate(i.due_date, 'due_date') + input.graceDays + 1)
    .find((day) => day > today);
  return { missed, action, completed: false, nextCheckDay: upcoming ?? today + FOLLOW_UP_DAYS };
}

/**
 * The tenant's local date when we know only their number: the earliest date among the zones
 * plausible for it, so an instalment is never called missed before its day has ended there. UTC
 * when no zone is plausible.
 */
export function tenantToday(now: Date, zones: readonly string[]): string {
  const dates = zones.map((zone) => {
    const wall = wallTimeAt(now.getTime(), zone);
    return formatIsoDate(Date.UTC(wall.year, wall.month - 1, wall.day) / 86_400_000);
  });
  return dates.sort()[0] ?? now.toISOString().slice(0, 10);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The reminder: GSM-7 characters only, one segment with the default opt-out line. */
export function reminderText(missed: MissedInstalment, optOutLine: string): string {
  const { month, day } = monthDayOf(requireIsoDate(missed.due_date, 'due_date'));
  return appendOptOutLine(
    `Reminder: your $${missed.outstanding.toFixed(2)} payment-plan instalment ` +
      `was due ${MONTHS[month - 1]} ${day}. ` +
      'Please pay it when you can, or reply if you need to talk about it.',
    optOutLine,
  );
}

export const reminderKey = (planId: string, instalment: number) =>
  `collections:plan:${planId}:reminder:${instalment}`;

// ---------------------------------------------------------------------------------------------
// One run.

export type PlanCheckResult =
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'completed' }
  | {
      outcome: 'ok' | 'reminded' | 'deferred' | 'escalated' | 'defaulted';
      missed: number[];
      /** Why no reminder went out, when one was due. */
      reminderRefused?: string;
      escalationId?: string;
      nextCheckAt?: Date;
    };

/**
 * Checks one plan, in the caller's transaction. `checkFrom` is when this check was due (the job's
 * run_at): a reminder texted before it belongs to an earlier check. `jobId` is the running check's
 * job, whose singleton key is handed to the next check.
 */
export async function runPlanCheck(
  tx: Tx,
  deps: PlanJobDeps,
  input: { planId: string; checkFrom: Date; now: Date; jobId?: number | undefined },
): Promise<PlanCheckResult> {
  const { now } = input;
  // Conversation first, then plan: the order a tenant's turn takes them in, so the two never deadlock.
  const unlocked = await getPlan(tx, input.planId);
  if (!unlocked) return { outcome: 'skipped', reason: 'no such plan' };
  const conversation = await lockConversation(tx, unlocked.conversationId);
  const plan = await lockPlan(tx, input.planId);
  if (!plan) return { outcome: 'skipped', reason: 'no such plan' };
  if (plan.status !== 'active') return { outcome: 'skipped', reason: `plan is ${plan.status}` };

  const today = tenantToday(now, conversation ? zonesForPhone(conversation.phone) : []);
  const instalments = planSchedule(plan);
  const payments = asPlanPayments(await listPlanPayments(tx, plan.id));
  const decision = decidePlanCheck({
    instalments,
    payments,
    today,
    graceDays: deps.planGraceDays,
    remindedBefore: await remindedBefore(tx, plan, instalments, input.checkFrom),
  });

  if (decision.completed) {
    await updatePlanStatus(tx, plan.id, 'completed', now);
    return { outcome: 'completed' };
  }
  const missed = decision.missed.map((m) => m.number);
  if (decision.action === 'escalate') {
    const escalation = await escalate(tx, deps, plan, decision.missed, now, undefined);
    await updatePlanStatus(tx, plan.id, 'defaulted', now);
    return { outcome: 'defaulted', missed, escalationId: escalation };
  }

  let result: Extract<PlanCheckResult, { missed: number[] }> = { outcome: 'ok', missed };
  let nextAt = checkInstant(decision.nextCheckDay ?? requireIsoDate(today, 'today') + FOLLOW_UP_DAYS);
  const first = decision.missed[0];
  if (decision.action === 'remind' && first) {
    const sent = await remind(tx, deps, plan, conversation, first, now);
    if (sent === 'sent') result = { outcome: 'reminded', missed };
    else if (sent === 'deferred') {
      result = { outcome: 'deferred', missed, reminderRefused: 'awaiting_approval' };
      nextAt = new Date(now.getTime() + DEFER_MS);
    } else {
      const escalationId = await escalate(tx, deps, plan, decision.missed, now, sent);
      result = { outcome: 'escalated', missed, reminderRefused: sent, escalationId };
    }
  }
  if (nextAt.getTime() <= now.getTime()) nextAt = new Date(now.getTime() + MIN_GAP_MS);
  await rearm(tx, plan.id, nextAt, now, input.jobId);
  return { ...result, nextCheckAt: nextAt };
}

/** Whether a check before `before` texted a reminder for this plan. */
async function remindedBefore(
  tx: Tx,
  plan: PlanRow,
  instalments: readonly Instalment[],
  before: Date,
): Promise<boolean> {
  if (instalments.length === 0) return false;
  // The exact keys, so the lookup uses the outbox's unique index.
  const keys = instalments.map((i) => reminderKey(plan.id, i.number));
  const [row] = await tx
    .select({ id: outbox.id })
    .from(outbox)
    .where(and(inArray(outbox.idempotencyKey, keys), lt(outbox.createdAt, before)))
    .limit(1);
  return row !== undefined;
}

/**
 * Texts the reminder for the oldest missed instalment: 'sent' (or held for the allowed hours),
 * 'deferred' while a manager decides on a reply, else why it cannot go out.
 */
async function remind(
  tx: Tx,
  deps: PlanJobDeps,
  plan: PlanRow,
  conversation: Conversation | undefined,
  missed: MissedInstalment,
  now: Date,
): Promise<'sent' | 'deferred' | string> {
  if (!conversation) return 'no_conversation';
  // No automatic text into a conversation a person is handling.
  if (conversation.state === 'awaiting_approval') return 'deferred';
  if (conversation.state === 'escalated') return 'conversation_escalated';
  const window = windowAt({ now, phone: conversation.phone, window: deps.sendWindow });
  if (!window.allowed && window.opensAt === null) return 'timezone_unknown';
  try {
    await enqueueSms(tx, {
      to: conversation.phone,
      body: reminderText(missed, deps.optOutLine),
      idempotencyKey: reminderKey(plan.id, missed.number),
      conversationId: plan.conversationId,
      ...(plan.workflowId ? { workflowId: plan.workflowId } : {}),
      now,
      ...(window.allowed || window.opensAt === null ? {} : { notBefore: window.opensAt }),
      maxSegments: deps.smsMaxSegments,
      ...(deps.defaultRegion ? { defaultRegion: deps.defaultRegion } : {}),
    });
    return 'sent';
  } catch (error) {
    // Opted out, not a valid number, over the segment budget: a person takes it from here.
    if (error instanceof SmsRefusedError) return error.reason;
    throw error;
  }
}

async function escalate(
  tx: Tx,
  deps: PlanJobDeps,
  plan: PlanRow,
  missed: readonly MissedInstalment[],
  now: Date,
  reminderRefused: string | undefined,
): Promise<string> {
  const last = missed[missed.length - 1];
  if (!last) throw new Error('escalate needs a missed instalment');
  const outstanding = toDollars(missed.reduce((sum, m) => sum + m.outstanding_cents, 0));
  const which = missed.map((m) => `#${m.number} due ${m.due_date}`).join(', ');
  const amount = `$${outstanding.toFixed(2)}`;
  const why = missed.length === 1 ? 'after a reminder' : `past the ${deps.planGraceDays}-day grace`;
  const reason = reminderRefused
    ? `Payment plan ${plan.id}: instalment ${which} is unpaid (${amount}); ` +
      `the reminder could not be sent (${reminderRefused}).`
    : `Payment plan ${plan.id}: ${missed.length === 1 ? 'instalment' : 'instalments'} ${which} unpaid ` +
      `(${amount}) ${why}.`;
  const { escalation } = await openEscalation(
    tx,
    { workflows: deps.workflows, notifier: deps.notifier },
    {
      conversationId: plan.conversationId,
      type: 'missed_instalment',
      reason,
      autoDetected: true,
      escalatedBy: 'system',
      metadata: {
        payment_plan_id: plan.id,
        missed_instalments: missed.map((m) => m.number),
        amount_outstanding: outstanding,
        ...(reminderRefused ? { reminder_refused: reminderRefused } : {}),
      },
      dedupeKey: `plan:${plan.id}:instalment:${last.number}`,
      now,
    },
  );
  return escalation.id;
}

/** Arms the next check; the running check hands its singleton key over first (job-queue.ts). */
async function rearm(
  tx: Tx,
  planId: string,
  runAt: Date,
  now: Date,
  jobId: number | undefined,
): Promise<void> {
  if (jobId !== undefined) await releaseSingletonKey(tx, jobId, planCheckKey(planId));
  await schedulePlanCheck(tx, planId, runAt, now);
}

// ---------------------------------------------------------------------------------------------
// The job.

export function planJobs(deps: PlanJobDeps): JobHandler[] {
  return [
    {
      kind: PLAN_CHECK_JOB,
      async run(ctx) {
        const { planId } = PlanCheckPayload.parse(ctx.job.payload);
        let result: PlanCheckResult | undefined;
        await ctx.complete(async (tx) => {
          result = await runPlanCheck(tx, deps, {
            planId,
            checkFrom: ctx.job.runAt,
            now: ctx.now(),
            jobId: ctx.job.id,
          });
        });
        if (result && result.outcome !== 'ok' && result.outcome !== 'skipped') {
          deps.logger.info({ planId, ...result }, `payment plan check: ${result.outcome}`);
        }
      },
    },
  ];
}
