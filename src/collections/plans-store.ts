import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Executor, Tx } from '../core/db/database.js';
import { collectionsPaymentPlans, collectionsPlanPayments } from '../core/db/schema.js';
import { enqueueJobs } from '../core/jobs/job-queue.js';
import { formatIsoDate, parseIsoDate, requireIsoDate } from './calendar-date.js';
import { toCents, toDollars } from './cents.js';
import { internalWorkflowId, newId } from './collections-store.js';
import {
  planProgress,
  schedule,
  type CounterOffer,
  type Instalment,
  type PlanIssue,
  type PlanPayment,
  type PlanProposal,
  type ValidationDetails,
} from './payment-plan.js';

/**
 * Payment plans and their payments (docs/collections-plans.md): the only file that knows the two
 * tables. Every write runs in the caller's transaction; `planView` and `planSummary` give the
 * seed's JSON shapes. Money is whole cents in the tables and dollars in the JSON.
 *
 *   validated | pending_approval ─ approve → active ─ paid in full → completed
 *                                └ reject  → rejected      └ missed again → defaulted ─ caught up → active
 */

export type PlanRow = typeof collectionsPaymentPlans.$inferSelect;
export type PlanPaymentRow = typeof collectionsPlanPayments.$inferSelect;

export const PLAN_STATUSES = [
  'validated',
  'pending_approval',
  'active',
  'rejected',
  'completed',
  'defaulted',
] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

/** Plans still waiting for a decision: approval makes them active, rejection closes them. */
const UNDECIDED: readonly PlanStatus[] = ['validated', 'pending_approval'];

/** The job that watches an active plan for missed instalments (plan-jobs.ts runs it). */
export const PLAN_CHECK_JOB = 'collections.plan_check';

export class PlanNotFoundError extends Error {
  constructor(readonly planId: string) {
    super(`No payment plan ${planId}.`);
    this.name = 'PlanNotFoundError';
  }
}

/** The plan's status does not allow the change (a payment on a rejected plan, a second decision). */
export class PlanStateError extends Error {
  constructor(
    readonly planId: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
    this.name = 'PlanStateError';
  }
}

/** A payment reference already recorded on this plan with another amount or date. */
export class PlanPaymentConflictError extends Error {
  constructor(readonly reference: string) {
    super(`Payment reference ${reference} is already recorded on this plan with another amount or date.`);
    this.name = 'PlanPaymentConflictError';
  }
}

// ---------------------------------------------------------------------------------------------
// Timers.

/**
 * The instant a plan check for a local calendar day runs: noon UTC, when that date has begun
 * everywhere from UTC−12 to UTC+11 (so a tenant's "today" is at least that day).
 */
export function checkInstant(epochDay: number): Date {
  return new Date(epochDay * 86_400_000 + 12 * 3_600_000);
}

/**
 * Arms the plan's check at runAt. One unfinished check per plan (singleton key): a second call
 * while one is queued or running is a no-op.
 */
export function schedulePlanCheck(tx: Executor, planId: string, runAt: Date, now: Date): Promise<void> {
  return enqueueJobs(
    tx,
    [{ kind: PLAN_CHECK_JOB, payload: { planId }, runAt, singletonKey: planCheckKey(planId) }],
    now,
  );
}

export const planCheckKey = (planId: string) => `${PLAN_CHECK_JOB}:${planId}`;

/** The first check runs on the first due date; it then re-arms itself past each grace period. */
function armFirstCheck(tx: Tx, plan: PlanRow, now: Date): Promise<void> {
  const start = parseIsoDate(plan.startDate);
  const runAt = start === undefined ? now : checkInstant(start);
  return schedulePlanCheck(tx, plan.id, runAt, now);
}

// ---------------------------------------------------------------------------------------------
// Recording a plan.

export type RecordPlanInput = {
  conversationId: string;
  tenantId: string | null;
  /** The collections turn that read the plan (`workflow-<uuid>` or the uuid). */
  workflowId?: string | undefined;
  proposal: PlanProposal;
  validation: ValidationDetails;
  counterOffer: CounterOffer | undefined;
  status: 'validated' | 'pending_approval' | 'active' | 'rejected';
  messageContent?: string | undefined;
  aiResponse?: string | undefined;
  confidence?: number | undefined;
  /** Makes a repeated detection one plan: the caller's idempotency key, the turn's id… */
  sourceKey: string;
  now: Date;
};

/** A week out, as the counter-offer does: time to arrange the first payment. */
const DEFAULT_START_DAYS = 7;

/**
 * The terms stored for a proposal. Terms the tenant left out are filled in (weeks: as many as the
 * debt needs; start: the counter-offer's, else a week from today); validatePlan has already made
 * such a plan not auto-approvable.
 */
export function storedTerms(
  proposal: PlanProposal,
  counter: CounterOffer | undefined,
): { weeklyAmountCents: number; weeks: number; startDate: string } {
  const weeklyCents =
    Number.isFinite(proposal.weeklyAmount) && proposal.weeklyAmount > 0 ? toCents(proposal.weeklyAmount) : 0;
  const owedCents = Number.isFinite(proposal.amountOwed) ? Math.max(0, toCents(proposal.amountOwed)) : 0;
  const inferredWeeks = weeklyCents > 0 ? Math.max(1, Math.ceil(owedCents / weeklyCents)) : 0;
  const weeks =
    proposal.weeks !== null && Number.isInteger(proposal.weeks) && proposal.weeks > 0
      ? proposal.weeks
      : inferredWeeks;
  const stated = proposal.startDate === null ? undefined : parseIsoDate(proposal.startDate);
  const startDate =
    stated !== undefined
      ? formatIsoDate(stated)
      : (counter?.startDate ?? formatIsoDate(requireIsoDate(proposal.today, 'today') + DEFAULT_START_DAYS));
  return { weeklyAmountCents: weeklyCents, weeks, startDate };
}

/**
 * Stores a detected plan; a repeat of sourceKey returns the first plan untouched. An active plan
 * gets its missed-instalment check armed. Only a valid plan may be recorded active.
 */
export async function recordPlan(
  tx: Tx,
  input: RecordPlanInput,
): Promise<{ plan: PlanRow; created: boolean }> {
  if (input.status === 'active' && !input.validation.is_valid) {
    throw new RangeError('an invalid payment plan cannot be recorded as active');
  }
  const workflowId = input.workflowId === undefined ? null : internalWorkflowId(input.workflowId);
  if (workflowId === undefined) throw new RangeError(`not a workflow id: ${input.workflowId}`);
  const terms = storedTerms(input.proposal, input.counterOffer);
  const [row] = await tx
    .insert(collectionsPaymentPlans)
    .values({
      id: newId('pp'),
      conversationId: input.conversationId,
      tenantId: input.tenantId,
      workflowId,
      ...terms,
      status: input.status,
      amountOwedCents: Number.isFinite(input.proposal.amountOwed)
        ? Math.max(0, toCents(input.proposal.amountOwed))
        : 0,
      validation: { ...input.validation },
      counterOffer: input.counterOffer ? { ...input.counterOffer } : null,
      messageContent: input.messageContent ?? null,
      aiResponse: input.aiResponse ?? null,
      confidence: input.confidence ?? null,
      sourceKey: input.sourceKey,
      createdAt: input.now,
      updatedAt: input.now,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    const [existing] = await tx
      .select()
      .from(collectionsPaymentPlans)
      .where(eq(collectionsPaymentPlans.sourceKey, input.sourceKey));
    if (!existing) throw new Error('payment plan vanished after a conflicting insert');
    return { plan: existing, created: false };
  }
  if (row.status === 'active') await armFirstCheck(tx, row, input.now);
  return { plan: row, created: true };
}

/**
 * A manager approved or rejected the reply that acknowledged the workflow's plans: its undecided
 * plans become active (and are watched) or rejected. A plan that fails the rules is never
 * activated: the reply offered its counter-offer, which the tenant has not accepted yet, so the
 * proposal as made is closed as rejected (the acceptance arrives as a new detection).
 * Returns the plans it changed.
 */
export async function setWorkflowPlanStatus(
  tx: Tx,
  workflowId: string,
  status: 'active' | 'rejected',
  now: Date,
): Promise<PlanRow[]> {
  const id = internalWorkflowId(workflowId);
  if (id === undefined) return [];
  const plans = await tx
    .select()
    .from(collectionsPaymentPlans)
    .where(
      and(
        eq(collectionsPaymentPlans.workflowId, id),
        inArray(collectionsPaymentPlans.status, [...UNDECIDED]),
      ),
    )
    .orderBy(asc(collectionsPaymentPlans.createdAt))
    .for('update');
  const changed: PlanRow[] = [];
  for (const plan of plans) {
    const to = status === 'active' && !readValidation(plan).is_valid ? 'rejected' : status;
    changed.push(await setStatus(tx, plan, to, now));
  }
  return changed;
}

/** A manager's decision on one undecided plan (POST …/review). The first decision wins. */
export async function reviewPlan(
  tx: Tx,
  planId: string,
  action: 'approve' | 'reject',
  now: Date,
): Promise<PlanRow> {
  const plan = await lockPlan(tx, planId);
  if (!plan) throw new PlanNotFoundError(planId);
  if (!UNDECIDED.includes(plan.status as PlanStatus)) {
    throw new PlanStateError(
      planId,
      plan.status,
      `The plan is already ${plan.status}; the first decision stands.`,
    );
  }
  if (action === 'approve' && !readValidation(plan).is_valid) {
    throw new PlanStateError(
      planId,
      plan.status,
      'The plan does not pass the payment-plan rules, so it cannot be approved: offer the counter_offer ' +
        'and record the plan the tenant agrees to.',
    );
  }
  return setStatus(tx, plan, action === 'approve' ? 'active' : 'rejected', now);
}

async function setStatus(tx: Tx, plan: PlanRow, status: PlanStatus, now: Date): Promise<PlanRow> {
  const [updated] = await tx
    .update(collectionsPaymentPlans)
    .set({ status, updatedAt: now })
    .where(eq(collectionsPaymentPlans.id, plan.id))
    .returning();
  if (!updated) throw new PlanNotFoundError(plan.id);
  if (status === 'active' && plan.status !== 'active') await armFirstCheck(tx, updated, now);
  return updated;
}

/** Moves a plan on (the checker's completed/defaulted); no check is armed here. */
export async function updatePlanStatus(tx: Tx, planId: string, status: PlanStatus, now: Date): Promise<void> {
  await tx
    .update(collectionsPaymentPlans)
    .set({ status, updatedAt: now })
    .where(eq(collectionsPaymentPlans.id, planId));
}

// ---------------------------------------------------------------------------------------------
// Payments.

export type PlanPaymentInput = {
  planId: string;
  amountCents: number;
  /** ISO date. */
  paidOn: string;
  method?: string | undefined;
  reference?: string | undefined;
  /** The latest calendar date it is anywhere now: what counts as paid. */
  today: string;
  now: Date;
};

/**
 * Records a payment against a plan. A reference already recorded with the same amount and date
 * returns the first (created false); with another, PlanPaymentConflictError. A rejected or
 * completed plan takes no payment. Paid in full → completed; a defaulted plan whose payments
 * cover every instalment due so far is active again, its check re-armed.
 */
export async function recordPlanPayment(
  tx: Tx,
  input: PlanPaymentInput,
): Promise<{ plan: PlanRow; payment: PlanPaymentRow; created: boolean }> {
  const plan = await lockPlan(tx, input.planId);
  if (!plan) throw new PlanNotFoundError(input.planId);
  if (input.reference !== undefined) {
    const existing = await paymentByReference(tx, plan.id, input.reference);
    if (existing) return { plan, payment: sameOrConflict(existing, input), created: false };
  }
  if (plan.status === 'rejected' || plan.status === 'completed') {
    throw new PlanStateError(
      plan.id,
      plan.status,
      plan.status === 'rejected'
        ? 'The plan was rejected; it takes no payments.'
        : 'The plan is already paid in full.',
    );
  }
  const [payment] = await tx
    .insert(collectionsPlanPayments)
    .values({
      planId: plan.id,
      amountCents: input.amountCents,
      paidOn: input.paidOn,
      method: input.method ?? null,
      reference: input.reference ?? null,
      createdAt: input.now,
    })
    .onConflictDoNothing()
    .returning();
  if (!payment) {
    // Only the (plan, reference) index conflicts: the same payment, recorded a moment ago.
    const existing = input.reference ? await paymentByReference(tx, plan.id, input.reference) : undefined;
    if (!existing) throw new Error('plan payment vanished after a conflicting insert');
    return { plan, payment: sameOrConflict(existing, input), created: false };
  }
  const payments = await listPlanPayments(tx, plan.id);
  const instalments = planSchedule(plan);
  const progress = planProgress(instalments, asPlanPayments(payments), input.today);
  const overdue = instalmentsOverdue(instalments, payments, input.today);
  const status: PlanStatus =
    instalments.length > 0 && progress.amount_remaining === 0
      ? 'completed'
      : plan.status === 'defaulted' && !overdue
        ? 'active'
        : (plan.status as PlanStatus);
  const [updated] = await tx
    .update(collectionsPaymentPlans)
    .set({ status, updatedAt: input.now })
    .where(eq(collectionsPaymentPlans.id, plan.id))
    .returning();
  if (!updated) throw new PlanNotFoundError(plan.id);
  if (plan.status === 'defaulted' && status === 'active') {
    await schedulePlanCheck(tx, plan.id, input.now, input.now);
  }
  return { plan: updated, payment, created: true };
}

function sameOrConflict(existing: PlanPaymentRow, input: PlanPaymentInput): PlanPaymentRow {
  if (existing.amountCents !== input.amountCents || existing.paidOn !== input.paidOn) {
    throw new PlanPaymentConflictError(existing.reference ?? '');
  }
  return existing;
}

/** Cents paid on or before today: a later-dated payment is not money yet (as planProgress has it). */
function paidCentsBy(payments: readonly PlanPaymentRow[], today: string): number {
  const day = requireIsoDate(today, 'today');
  return payments
    .filter((p) => (parseIsoDate(p.paidOn) ?? Infinity) <= day)
    .reduce((sum, p) => sum + p.amountCents, 0);
}

/** Whether any instalment due by today (no grace) is still not fully paid. */
function instalmentsOverdue(
  instalments: readonly Instalment[],
  payments: readonly PlanPaymentRow[],
  today: string,
): boolean {
  const day = requireIsoDate(today, 'today');
  let paid = paidCentsBy(payments, today);
  for (const instalment of instalments) {
    const covered = Math.min(instalment.amount_cents, paid);
    paid -= covered;
    if (covered < instalment.amount_cents && (parseIsoDate(instalment.due_date) ?? Infinity) <= day)
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Reads.

export async function getPlan(executor: Executor, planId: string): Promise<PlanRow | undefined> {
  const [row] = await executor
    .select()
    .from(collectionsPaymentPlans)
    .where(eq(collectionsPaymentPlans.id, planId));
  return row;
}

/** The plan row, locked for the rest of the transaction. */
export async function lockPlan(tx: Tx, planId: string): Promise<PlanRow | undefined> {
  const [row] = await tx
    .select()
    .from(collectionsPaymentPlans)
    .where(eq(collectionsPaymentPlans.id, planId))
    .for('update');
  return row;
}

/** A conversation's plans, newest first. */
export function listConversationPlans(executor: Executor, conversationId: string): Promise<PlanRow[]> {
  return executor
    .select()
    .from(collectionsPaymentPlans)
    .where(eq(collectionsPaymentPlans.conversationId, conversationId))
    .orderBy(desc(collectionsPaymentPlans.createdAt), desc(collectionsPaymentPlans.id));
}

/** A plan's payments by date paid, then as recorded. */
export function listPlanPayments(executor: Executor, planId: string): Promise<PlanPaymentRow[]> {
  return executor
    .select()
    .from(collectionsPlanPayments)
    .where(eq(collectionsPlanPayments.planId, planId))
    .orderBy(asc(collectionsPlanPayments.paidOn), asc(collectionsPlanPayments.id));
}

async function paymentByReference(
  executor: Executor,
  planId: string,
  reference: string,
): Promise<PlanPaymentRow | undefined> {
  const [row] = await executor
    .select()
    .from(collectionsPlanPayments)
    .where(and(eq(collectionsPlanPayments.planId, planId), eq(collectionsPlanPayments.reference, reference)));
  return row;
}

// ---------------------------------------------------------------------------------------------
// Views (pure).

/** The stored validation_details, read defensively (jsonb). */
export function readValidation(plan: PlanRow): ValidationDetails {
  const v = plan.validation;
  return {
    is_valid: v.is_valid === true,
    issues: Array.isArray(v.issues) ? (v.issues as PlanIssue[]) : [],
    auto_approvable: v.auto_approvable === true,
    total_amount: typeof v.total_amount === 'number' ? v.total_amount : 0,
    covers_debt: v.covers_debt === true,
  };
}

/** The stored counter-offer, if any. */
export function readCounterOffer(plan: PlanRow): CounterOffer | undefined {
  const c = plan.counterOffer;
  if (!c || typeof c.startDate !== 'string' || typeof c.weeks !== 'number') return undefined;
  return c as unknown as CounterOffer;
}

/** The plan's instalments; none when its terms cannot be scheduled (nothing owed, no amount). */
export function planSchedule(plan: PlanRow): Instalment[] {
  if (plan.weeklyAmountCents <= 0 || plan.weeks < 1 || parseIsoDate(plan.startDate) === undefined) return [];
  return schedule({
    weeklyAmount: toDollars(plan.weeklyAmountCents),
    weeks: plan.weeks,
    startDate: plan.startDate,
    amountOwed: toDollars(plan.amountOwedCents),
  });
}

export function asPlanPayments(payments: readonly PlanPaymentRow[]): PlanPayment[] {
  return payments.map((p) => ({ date: p.paidOn, amount: toDollars(p.amountCents) }));
}

/** Dates go out as the seed writes them: midnight UTC of the calendar date. */
export const seedDate = (isoDate: string) => `${isoDate}T00:00:00Z`;

const endDate = (startDate: string, weeks: number) => {
  const start = parseIsoDate(startDate);
  return start === undefined ? null : seedDate(formatIsoDate(start + 7 * weeks));
};

export type CounterOfferView = {
  weekly_amount: number;
  weeks: number;
  start_date: string;
  end_date: string | null;
  total_amount: number;
  changes: string[];
  validation_details: ValidationDetails;
};

export function counterOfferView(counter: CounterOffer): CounterOfferView {
  return {
    weekly_amount: counter.weeklyAmount,
    weeks: counter.weeks,
    start_date: seedDate(counter.startDate),
    end_date: endDate(counter.startDate, counter.weeks),
    total_amount: counter.total_amount,
    changes: [...counter.changes],
    validation_details: counter.validation_details,
  };
}

export type PlanView = {
  payment_plan_id: string;
  conversation_id: string;
  tenant_id: string | null;
  weekly_amount: number;
  weeks: number;
  start_date: string;
  /** A week after the last instalment (the seed: 12 weeks from 2025-01-22 end 2025-04-16). */
  end_date: string | null;
  status: string;
  total_amount: number;
  amount_paid: number;
  amount_remaining: number;
  payment_history: { payment_date: string; amount: number; status: 'paid'; payment_method: string | null }[];
  created_at: string;
  updated_at: string;
  validation_details: ValidationDetails;
  counter_offer?: CounterOfferView;
};

/**
 * The seed's plan-by-id JSON. `today` is the date up to which payments count as paid;
 * `counter_offer` appears for a plan that fails the rules.
 */
export function planView(plan: PlanRow, payments: readonly PlanPaymentRow[], today: string): PlanView {
  const validation = readValidation(plan);
  const instalments = planSchedule(plan);
  const totalCents =
    instalments.length > 0
      ? instalments.reduce((sum, i) => sum + i.amount_cents, 0)
      : toCents(validation.total_amount);
  const paidCents = paidCentsBy(payments, today);
  const counter = validation.is_valid ? undefined : readCounterOffer(plan);
  return {
    payment_plan_id: plan.id,
    conversation_id: plan.conversationId,
    tenant_id: plan.tenantId,
    weekly_amount: toDollars(plan.weeklyAmountCents),
    weeks: plan.weeks,
    start_date: seedDate(plan.startDate),
    end_date: endDate(plan.startDate, instalments.length > 0 ? instalments.length : plan.weeks),
    status: plan.status,
    total_amount: toDollars(totalCents),
    amount_paid: toDollars(paidCents),
    amount_remaining: toDollars(Math.max(0, totalCents - paidCents)),
    payment_history: payments.map((p) => ({
      payment_date: seedDate(p.paidOn),
      amount: toDollars(p.amountCents),
      status: 'paid' as const,
      payment_method: p.method,
    })),
    created_at: plan.createdAt.toISOString(),
    updated_at: plan.updatedAt.toISOString(),
    validation_details: validation,
    ...(counter ? { counter_offer: counterOfferView(counter) } : {}),
  };
}

export type PlanSummary = {
  payment_plan_id: string;
  weekly_amount: number;
  weeks: number;
  start_date: string;
  status: string;
  total_amount: number;
  created_at: string;
  validation_details: { is_valid: boolean; auto_approvable: boolean; covers_debt: boolean };
};

/** One entry of the seed's by-conversation list. */
export function planSummary(plan: PlanRow): PlanSummary {
  const validation = readValidation(plan);
  const instalments = planSchedule(plan);
  return {
    payment_plan_id: plan.id,
    weekly_amount: toDollars(plan.weeklyAmountCents),
    weeks: plan.weeks,
    start_date: seedDate(plan.startDate),
    status: plan.status,
    total_amount:
      instalments.length > 0
        ? toDollars(instalments.reduce((sum, i) => sum + i.amount_cents, 0))
        : validation.total_amount,
    created_at: plan.createdAt.toISOString(),
    validation_details: {
      is_valid: validation.is_valid,
      auto_approvable: validation.auto_approvable,
      covers_debt: validation.covers_debt,
    },
  };
}
