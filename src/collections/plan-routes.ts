import { createHash } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Db, Tx } from '../core/db/database.js';
import { inTransaction } from '../core/db/transaction.js';
import type { Clock } from '../core/runtime.js';
import type { WorkflowStore } from '../core/workflow/workflow-store.js';
import type { AppEnv } from '../http/app-env.js';
import { requireRole } from '../http/auth.js';
import { HttpProblem } from '../http/problem.js';
import { bearerSecurity, problemResponses } from '../http/router.js';
import type { LedgerPort } from '../peers/ledger/ledger-port.js';
import { fromLedger } from '../peers/ledger/ledger-routes.js';
import type { Notifier } from '../peers/notify/notifier.js';
import { isKnownTimezone } from './allowed-hours.js';
import { formatIsoDate, parseIsoDate } from './calendar-date.js';
import { toCents } from './cents.js';
import { COLLECTIONS_KIND, getConversation, internalWorkflowId } from './collections-store.js';
import {
  counterOffer,
  describeIssue,
  validatePlan,
  type PlanProposal,
  type PlanRules,
  type ValidationDetails,
} from './payment-plan.js';
import { tenantToday } from './plan-jobs.js';
import {
  counterOfferView,
  getPlan,
  listConversationPlans,
  listPlanPayments,
  PlanNotFoundError,
  PlanPaymentConflictError,
  planSummary,
  PlanStateError,
  planView,
  readCounterOffer,
  readValidation,
  recordPlan,
  recordPlanPayment,
  reviewPlan,
  type PlanRow,
} from './plans-store.js';

/**
 * The seed's payment-plan endpoints (docs/collections-plans.md):
 *
 * - POST /orchestrate/payment-plan-detected — validate and record a plan read from a tenant's text.
 * - GET  /orchestrate/payment-plans/{id} — one path for both of the seed's lookups: an id that starts
 *   with `pp_` is a plan (the seed's plan-by-id shape), anything else a conversation (its list).
 * - POST /orchestrate/payment-plans/{payment_plan_id}/payments — record a payment.
 * - POST /orchestrate/payment-plans/{payment_plan_id}/review — a manager approves or rejects a plan
 *   that needs review (the seed has no such endpoint; without it such a plan could not move on).
 */

export type PlanRoutesDeps = {
  db: Db;
  clock: Clock;
  workflows: WorkflowStore;
  notifier: Notifier;
  /** MAX_PAYMENT_WEEKS, MIN_WEEKLY_PAYMENT, PLAN_MAX_START_DAYS. */
  planRules: PlanRules;
  /** Where the amount owed comes from when the detection does not say. */
  ledger: LedgerPort;
  /** AUTO_APPROVAL_CONFIDENCE: a valid, fully stated plan read at least this surely is active at once. */
  autoApprovalConfidence?: number | undefined;
  /** Runs the plan's first check without waiting for a poll. */
  wakeWorker?: (() => void) | undefined;
};

const tags = ['payment-plans'];
const DEFAULT_AUTO_APPROVAL_CONFIDENCE = 0.85;

// ---------------------------------------------------------------------------------------------
// Schemas.

const twoDecimals = (v: number) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6;

/** "2025-01-22" or an ISO date-time ("2025-01-22T00:00:00Z"): the calendar date as written counts. */
const CalendarDate = z
  .string()
  .max(40)
  .refine(
    (v) => parseIsoDate(v) !== undefined && (/^\d{4}-\d{2}-\d{2}$/.test(v) || !Number.isNaN(Date.parse(v))),
    'must be a date, YYYY-MM-DD or an ISO 8601 date-time',
  );

const DetectionBody = z
  .object({
    conversation_id: z.string().trim().min(1).max(200),
    tenant_id: z.string().trim().min(1).max(200).nullish(),
    message_content: z.string().max(5000).nullish(),
    ai_response: z.string().max(5000).nullish(),
    weekly_amount: z
      .number()
      .positive()
      .max(1_000_000)
      .refine(twoDecimals, 'must be dollars with at most two decimals')
      .openapi({ description: 'Dollars per week', example: 50 }),
    weeks: z
      .number()
      .int()
      .min(1)
      .max(520)
      .nullish()
      .openapi({ description: 'Null or absent when the tenant did not say for how long', example: 12 }),
    start_date: CalendarDate.nullish().openapi({
      description: 'The first payment; null or absent when the tenant did not say',
      example: '2025-01-22T00:00:00Z',
    }),
    confidence: z.number().min(0).max(1).nullish().openapi({ example: 0.92 }),
    amount_owed: z
      .number()
      .min(0)
      .max(100_000_000)
      .refine(twoDecimals, 'must be dollars with at most two decimals')
      .optional()
      .openapi({
        description: 'Dollars the plan must cover; when absent the ledger is asked for the tenant',
      }),
    workflow_id: z
      .string()
      .max(100)
      .optional()
      .openapi({ description: 'The collections turn that read the plan (workflow-<uuid>)' }),
  })
  .openapi('PaymentPlanDetected');

const ValidationDetailsSchema = z
  .object({
    is_valid: z.boolean(),
    issues: z
      .array(z.string())
      .openapi({ description: 'Stable issue codes, e.g. weekly_amount_below_minimum' }),
    auto_approvable: z.boolean(),
    total_amount: z.number(),
    covers_debt: z.boolean(),
  })
  .openapi('PlanValidationDetails');

const CounterOfferSchema = z
  .object({
    weekly_amount: z.number(),
    weeks: z.number().int(),
    start_date: z.string(),
    end_date: z.string().nullable(),
    total_amount: z.number(),
    changes: z.array(z.string()),
    validation_details: ValidationDetailsSchema,
  })
  .openapi('PlanCounterOffer');

const DetectionResult = z
  .object({
    success: z.boolean(),
    payment_plan_id: z.string(),
    status: z.enum(['validated', 'needs_review']).openapi({
      description:
        'validated: valid, fully stated and read with confidence ≥ AUTO_APPROVAL_CONFIDENCE, so the plan is ' +
        'active; needs_review: it waits for a manager (invalid plans come with a counter_offer)',
    }),
    plan_status: z
      .string()
      .openapi({ description: 'The stored plan status now (active, pending_approval, …)' }),
    validation_details: ValidationDetailsSchema,
    counter_offer: CounterOfferSchema.optional(),
    processed_at: z.string(),
  })
  .openapi('PaymentPlanDetectionResult');

const PlanDetail = z
  .object({
    payment_plan_id: z.string(),
    conversation_id: z.string(),
    tenant_id: z.string().nullable(),
    weekly_amount: z.number(),
    weeks: z.number().int(),
    start_date: z.string(),
    end_date: z.string().nullable(),
    status: z.string(),
    total_amount: z.number(),
    amount_paid: z.number(),
    amount_remaining: z.number(),
    payment_history: z.array(
      z.object({
        payment_date: z.string(),
        amount: z.number(),
        status: z.literal('paid'),
        payment_method: z.string().nullable(),
      }),
    ),
    created_at: z.string(),
    updated_at: z.string(),
    validation_details: ValidationDetailsSchema,
    counter_offer: CounterOfferSchema.optional(),
  })
  .openapi('PaymentPlan');

const PlanList = z
  .object({
    conversation_id: z.string(),
    payment_plans: z.array(
      z.object({
        payment_plan_id: z.string(),
        weekly_amount: z.number(),
        weeks: z.number().int(),
        start_date: z.string(),
        status: z.string(),
        total_amount: z.number(),
        created_at: z.string(),
        validation_details: z.object({
          is_valid: z.boolean(),
          auto_approvable: z.boolean(),
          covers_debt: z.boolean(),
        }),
      }),
    ),
    total_plans: z.number().int(),
    active_plans: z.number().int(),
  })
  .openapi('ConversationPaymentPlans');

const LookupParams = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ description: 'A payment plan id (pp_…) or a conversation id', example: 'pp_456ghi' }),
});

const PlanParams = z.object({ payment_plan_id: z.string().min(1).max(200) });

const PaymentBody = z
  .object({
    amount: z
      .number()
      .positive()
      .max(10_000_000)
      .refine(twoDecimals, 'must be dollars with at most two decimals')
      .openapi({ description: 'Dollars', example: 50 }),
    payment_date: CalendarDate.optional().openapi({ description: 'Default: today (UTC)' }),
    payment_method: z.string().trim().min(1).max(50).optional().openapi({ example: 'auto_draft' }),
    reference: z.string().trim().min(1).max(200).optional().openapi({
      description: 'The bank or processor reference: a payment with a reference is recorded once',
    }),
  })
  .openapi('PaymentPlanPayment');

const ReviewBody = z.object({ action: z.enum(['approve', 'reject']) }).openapi('PaymentPlanReview');

// ---------------------------------------------------------------------------------------------
// Routes.

export function registerPlanRoutes(app: OpenAPIHono<AppEnv>, deps: PlanRoutesDeps): void {
  registerDetection(app, deps);
  registerLookup(app, deps);
  registerPayment(app, deps);
  registerReview(app, deps);
}

function registerDetection(app: OpenAPIHono<AppEnv>, deps: PlanRoutesDeps): void {
  const threshold = deps.autoApprovalConfidence ?? DEFAULT_AUTO_APPROVAL_CONFIDENCE;
  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrate/payment-plan-detected',
      tags,
      summary: 'Validate and record a payment plan read from a tenant text',
      description:
        'Validated against MAX_PAYMENT_WEEKS, MIN_WEEKLY_PAYMENT, the amount owed (amount_owed, else the ' +
        "ledger's tenant portion or balance) and a start within PLAN_MAX_START_DAYS. The same body posted " +
        'again answers with the same plan.',
      security: bearerSecurity,
      middleware: [requireRole('manager', 'service')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: DetectionBody } } } },
      responses: {
        200: { description: 'Recorded', content: { 'application/json': { schema: DetectionResult } } },
        ...problemResponses(400, 401, 403, 415, 422, 502, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const now = deps.clock.now();
      const workflowId = await checkWorkflow(deps, body.workflow_id);
      const conversation = await getConversation(deps.db, body.conversation_id);
      const tenantId = body.tenant_id ?? conversation?.tenantId ?? null;

      // The ledger is asked before the transaction opens: a slow peer never holds a connection.
      let amountOwed = body.amount_owed;
      let timezone: string | undefined;
      if (amountOwed === undefined) {
        const tenant = tenantId
          ? await fromLedger(() => deps.ledger.getTenant(tenantId, c.req.raw.signal))
          : undefined;
        if (!tenant) throw unknownAmountOwed(tenantId);
        // The tenant is asked for their portion when assistance pays the rest.
        amountOwed = tenant.tenantPortion ?? tenant.amountOwed;
        timezone = tenant.timezone;
      }
      const today = tenantToday(now, timezone && isKnownTimezone(timezone) ? [timezone] : []);
      const proposal: PlanProposal = {
        weeklyAmount: body.weekly_amount,
        weeks: body.weeks ?? null,
        startDate: body.start_date ? isoDatePart(body.start_date) : null,
        amountOwed,
        today,
      };
      const validation = validatePlan(proposal, deps.planRules);
      const counter = validation.is_valid ? undefined : counterOffer(proposal, deps.planRules);
      const confidence = body.confidence ?? undefined;
      const active = activatesAtOnce(validation, confidence, threshold);

      const { plan, created } = await inTransaction(deps.db, async (tx) => {
        const recorded = await recordPlan(tx, {
          conversationId: body.conversation_id,
          tenantId,
          ...(workflowId ? { workflowId } : {}),
          proposal,
          validation,
          counterOffer: counter,
          status: active ? 'active' : 'pending_approval',
          messageContent: body.message_content ?? undefined,
          aiResponse: body.ai_response ?? undefined,
          confidence,
          sourceKey: detectionKey(body),
          now,
        });
        if (recorded.created && !active) await noticeForReview(tx, deps, recorded.plan, now);
        return recorded;
      });
      if (created) deps.wakeWorker?.();

      // A repeat answers from what was stored the first time.
      const stored = readValidation(plan);
      const storedCounter = stored.is_valid ? undefined : readCounterOffer(plan);
      return c.json(
        {
          success: true,
          payment_plan_id: plan.id,
          status: activatesAtOnce(stored, plan.confidence ?? undefined, threshold)
            ? ('validated' as const)
            : ('needs_review' as const),
          plan_status: plan.status,
          validation_details: stored,
          ...(storedCounter ? { counter_offer: counterOfferView(storedCounter) } : {}),
          processed_at: plan.createdAt.toISOString(),
        },
        200,
      );
    },
  );
}

function registerLookup(app: OpenAPIHono<AppEnv>, deps: PlanRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/orchestrate/payment-plans/{id}',
      tags,
      summary: 'A payment plan (id pp_…) or a conversation’s payment plans (any other id)',
      description:
        'The seed gives both lookups this one path. An id starting with pp_ answers with the plan ' +
        '(404 when there is none); any other id is a conversation id and answers with its plans, newest ' +
        'first (an empty list when it has none).',
      security: bearerSecurity,
      middleware: [requireRole('viewer', 'manager', 'service')] as const,
      request: { params: LookupParams },
      responses: {
        200: {
          description: 'The plan, or the conversation’s plans',
          content: { 'application/json': { schema: z.union([PlanDetail, PlanList]) } },
        },
        ...problemResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const today = latestDateAnywhere(deps.clock.now());
      if (isPlanId(id)) {
        const plan = await getPlan(deps.db, id);
        if (!plan) throw new HttpProblem(404, `No payment plan ${id}.`);
        return c.json(planView(plan, await listPlanPayments(deps.db, id), today), 200);
      }
      const plans = await listConversationPlans(deps.db, id);
      return c.json(
        {
          conversation_id: id,
          payment_plans: plans.map(planSummary),
          total_plans: plans.length,
          active_plans: plans.filter((p) => p.status === 'active').length,
        },
        200,
      );
    },
  );
}

function registerPayment(app: OpenAPIHono<AppEnv>, deps: PlanRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrate/payment-plans/{payment_plan_id}/payments',
      tags,
      summary: 'Record a payment on a plan',
      description:
        'Paid in full → completed. A reference already recorded answers 200 with the plan; with another ' +
        'amount or date, 409. A rejected or completed plan takes no payment (409).',
      security: bearerSecurity,
      middleware: [requireRole('manager', 'service')] as const,
      request: {
        params: PlanParams,
        body: { required: true, content: { 'application/json': { schema: PaymentBody } } },
      },
      responses: {
        201: { description: 'Recorded', content: { 'application/json': { schema: PlanDetail } } },
        200: {
          description: 'Already recorded under this reference',
          content: { 'application/json': { schema: PlanDetail } },
        },
        ...problemResponses(400, 401, 403, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const { payment_plan_id: planId } = c.req.valid('param');
      const body = c.req.valid('json');
      const now = deps.clock.now();
      const today = latestDateAnywhere(now);
      const paidOn = body.payment_date ? isoDatePart(body.payment_date) : now.toISOString().slice(0, 10);
      if (paidOn > today) {
        throw new HttpProblem(422, 'payment_date is in the future.', {
          errors: [{ pointer: '/payment_date', detail: 'is in the future' }],
        });
      }
      const result = await asPlanProblem(() =>
        inTransaction(deps.db, async (tx) => {
          const recorded = await recordPlanPayment(tx, {
            planId,
            amountCents: toCents(body.amount),
            paidOn,
            method: body.payment_method,
            reference: body.reference,
            today,
            now,
          });
          return { ...recorded, payments: await listPlanPayments(tx, planId) };
        }),
      );
      if (result.created) deps.wakeWorker?.();
      const view = planView(result.plan, result.payments, today);
      return result.created ? c.json(view, 201) : c.json(view, 200);
    },
  );
}

function registerReview(app: OpenAPIHono<AppEnv>, deps: PlanRoutesDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrate/payment-plans/{payment_plan_id}/review',
      tags,
      summary: 'Approve or reject a plan that needs review',
      description:
        'approve makes a valid plan active (and watched for missed instalments); reject closes it. The first ' +
        'decision wins (409 afterwards). A plan that fails the rules cannot be approved (409): offer its ' +
        'counter_offer and record the plan the tenant agrees to.',
      security: bearerSecurity,
      middleware: [requireRole('manager')] as const,
      request: {
        params: PlanParams,
        body: { required: true, content: { 'application/json': { schema: ReviewBody } } },
      },
      responses: {
        200: {
          description: 'The plan after the decision',
          content: { 'application/json': { schema: PlanDetail } },
        },
        ...problemResponses(400, 401, 403, 404, 409, 415),
      },
    }),
    async (c) => {
      const { payment_plan_id: planId } = c.req.valid('param');
      const { action } = c.req.valid('json');
      const now = deps.clock.now();
      const { plan, payments } = await asPlanProblem(() =>
        inTransaction(deps.db, async (tx) => ({
          plan: await reviewPlan(tx, planId, action, now),
          payments: await listPlanPayments(tx, planId),
        })),
      );
      if (plan.status === 'active') deps.wakeWorker?.();
      return c.json(planView(plan, payments, latestDateAnywhere(now)), 200);
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/** Plan ids are `pp_…` (newId); the seed's lookup path tells the two kinds of id apart by it. */
export const isPlanId = (id: string) => id.startsWith('pp_');

/**
 * Active at once only when nothing is left for a person to judge: valid, every term stated, and
 * the text read with at least the auto-approval confidence (none given counts as unsure).
 */
export function activatesAtOnce(
  validation: ValidationDetails,
  confidence: number | undefined,
  threshold: number,
): boolean {
  return (
    validation.is_valid && validation.auto_approvable && confidence !== undefined && confidence >= threshold
  );
}

/**
 * One plan per distinct detection: the body's fields, hashed. (A request with an Idempotency-Key
 * never gets this far twice: the middleware replays the first answer.)
 */
export function detectionKey(body: z.infer<typeof DetectionBody>): string {
  const fields = [
    body.conversation_id,
    body.tenant_id ?? null,
    body.message_content ?? null,
    body.ai_response ?? null,
    body.weekly_amount,
    body.weeks ?? null,
    body.start_date ?? null,
    body.confidence ?? null,
    body.amount_owed ?? null,
    body.workflow_id ?? null,
  ];
  return `api:${createHash('sha256').update(JSON.stringify(fields)).digest('hex')}`;
}

/** The calendar date of a validated date or date-time, as written. */
function isoDatePart(value: string): string {
  const day = parseIsoDate(value);
  if (day === undefined) throw new HttpProblem(400, 'Not a date.');
  return formatIsoDate(day);
}

/** The latest calendar date anywhere on Earth now (UTC+14): a payment dated up to it counts. */
export function latestDateAnywhere(now: Date): string {
  return new Date(now.getTime() + 14 * 3_600_000).toISOString().slice(0, 10);
}

async function checkWorkflow(deps: PlanRoutesDeps, raw: string | undefined): Promise<string | undefined> {
  if (raw === undefined) return undefined;
  const id = internalWorkflowId(raw);
  const problem = (detail: string) =>
    new HttpProblem(422, `workflow_id: ${detail}`, { errors: [{ pointer: '/workflow_id', detail }] });
  if (!id) throw problem('is not a workflow id (workflow-<uuid>)');
  const workflow = await deps.workflows.get(deps.db, id);
  if (!workflow || workflow.kind !== COLLECTIONS_KIND)
    throw problem('there is no collections workflow with this id');
  return id;
}

function unknownAmountOwed(tenantId: string | null): HttpProblem {
  const detail = tenantId
    ? `tenant ${tenantId} is not in the ledger; send amount_owed with the plan`
    : 'there is no tenant_id to look up; send tenant_id or amount_owed';
  return new HttpProblem(422, `The amount owed is unknown: ${detail}.`, {
    errors: [{ pointer: tenantId ? '/tenant_id' : '/amount_owed', detail }],
  });
}

async function noticeForReview(tx: Tx, deps: PlanRoutesDeps, plan: PlanRow, now: Date): Promise<void> {
  const validation = readValidation(plan);
  const counter = readCounterOffer(plan);
  const weekly = (plan.weeklyAmountCents / 100).toFixed(2);
  const terms = `$${weekly} a week for ${plan.weeks} weeks from ${plan.startDate}`;
  const why = validation.is_valid
    ? 'It passes the rules but was not stated in full or not read surely enough to start by itself.'
    : validation.issues.map((issue) => describeIssue(issue, deps.planRules)).join(' ');
  const offer = counter
    ? ` Counter-offer: $${counter.weeklyAmount.toFixed(2)} a week for ${counter.weeks} weeks ` +
      `from ${counter.startDate}.`
    : '';
  await deps.notifier.notify(
    tx,
    {
      kind: 'approval_needed',
      subject: `Payment plan to review: conversation ${plan.conversationId}`,
      body: `${terms}. ${why}${offer}`,
      priority: 'normal',
      metadata: { payment_plan_id: plan.id, conversation_id: plan.conversationId, tenant_id: plan.tenantId },
    },
    `collections:plan-review:${plan.id}`,
    now,
    plan.workflowId ?? undefined,
  );
}

/** Store errors → problems; anything else is ours (a 500 with a correlation id). */
async function asPlanProblem<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PlanNotFoundError) throw new HttpProblem(404, error.message);
    if (error instanceof PlanStateError)
      throw new HttpProblem(409, error.message, { plan_status: error.status });
    if (error instanceof PlanPaymentConflictError) {
      throw new HttpProblem(409, error.message, {
        errors: [{ pointer: '/reference', detail: error.message }],
      });
    }
    throw error;
  }
}
