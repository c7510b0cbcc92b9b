import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { upsertConversation } from '../../../src/collections/collections-store.js';
import { DEFAULT_PLAN_RULES, validatePlan } from '../../../src/collections/payment-plan.js';
import { planJobs, reminderKey, runPlanCheck, type PlanJobDeps } from '../../../src/collections/plan-jobs.js';
import { registerPlanRoutes } from '../../../src/collections/plan-routes.js';
import {
  getPlan,
  planCheckKey,
  recordPlan,
  recordPlanPayment,
} from '../../../src/collections/plans-store.js';
import type { Db } from '../../../src/core/db/database.js';
import {
  collectionsConversations,
  collectionsEscalations,
  collectionsPaymentPlans,
  collectionsPlanPayments,
  jobs,
  notices,
  outbox,
  smsMessages,
} from '../../../src/core/db/schema.js';
import { ManualClock } from '../../../src/core/runtime.js';
import { WorkflowStore } from '../../../src/core/workflow/workflow-store.js';
import type { ModuleFactory } from '../../../src/main.js';
import type { LedgerPort, Tenant } from '../../../src/peers/ledger/ledger-port.js';
import { createNotifier } from '../../../src/peers/notify/notifier.js';
import { setOptOut } from '../../../src/peers/sms/sms-store.js';
import {
  eventually,
  startServiceUnderTest,
  type ServiceUnderTest,
} from '../../helpers/service-under-test.js';
import { testLogger } from '../../helpers/silent-logger.js';
import { databaseKind, useTestDatabase } from '../../helpers/test-database.js';

/**
 * The seed's payment-plan endpoints through the real service over HTTP, on an injected clock:
 * detection → validation → record → lookups → payments → a missed instalment's reminder, then the
 * escalation of a second miss. Then the missed-instalment check itself, run twice on purpose.
 */

const ADMIN = 'admin-token-for-payment-plan-tests-000';
const OPT_OUT = 'Reply STOP to opt out';

function tenant(tenantId: string, amountOwed: number, extra: Partial<Tenant> = {}): Tenant {
  return {
    tenantId,
    name: 'Ana Silva',
    phone: '+14155550100',
    timezone: 'America/New_York',
    amountOwed,
    daysLate: 10,
    paymentHistory: [],
    ...extra,
  };
}

/** The ledger port as the plan routes see it; the ledger's own routes are tested elsewhere. */
const tenants = new Map<string, Tenant>([
  ['tenant_12345', tenant('tenant_12345', 600)],
  ['tenant_owes_1000', tenant('tenant_owes_1000', 1000)],
  // Assistance pays the rest: the plan must cover the tenant's portion only.
  ['tenant_portion', tenant('tenant_portion', 1500, { tenantPortion: 600 })],
]);
const ledger: LedgerPort = {
  name: 'test',
  getTenant: async (id) => tenants.get(id),
  findTenantByPhone: async () => undefined,
  listDelinquent: async () => [],
};

const plansModule: ModuleFactory = (core) => {
  const settings = core.config.collections;
  return {
    name: 'plans-test',
    jobs: planJobs({
      workflows: core.workflows,
      notifier: core.peers.notifier,
      clock: core.clock,
      planGraceDays: settings.planGraceDays,
      smsMaxSegments: core.peers.sms.maxSegments,
      optOutLine: settings.optOutLine,
      sendWindow: settings.sendWindow,
      logger: core.logger,
      defaultRegion: core.peers.sms.defaultRegion,
    }),
    register: (app) =>
      registerPlanRoutes(app, {
        db: core.db,
        clock: core.clock,
        workflows: core.workflows,
        notifier: core.peers.notifier,
        planRules: {
          maxWeeks: settings.maxPaymentWeeks,
          minWeekly: settings.minWeeklyPayment,
          maxStartDays: settings.planMaxStartDays,
        },
        ledger,
        autoApprovalConfidence: settings.autoApprovalConfidence,
        wakeWorker: core.wakeWorker,
      }),
  };
};

/** The seed README's curl body for POST /orchestrate/payment-plan-detected. */
const SEED_BODY = {
  conversation_id: 'conv_abc123',
  tenant_id: 'tenant_12345',
  message_content: 'I can pay $50 per week for 3 months',
  ai_response: 'That sounds like a reasonable payment arrangement. I have noted your payment plan proposal.',
  weekly_amount: 50.0,
  weeks: 12,
  start_date: '2025-01-22T00:00:00Z',
  confidence: 0.92,
};

type Answer = { status: number; type: string; body: Record<string, unknown> };

describe(`payment plans over HTTP (${databaseKind})`, () => {
  let sut: ServiceUnderTest;
  let db: Db;
  const clock = new ManualClock('2025-01-15T10:30:00Z');

  beforeAll(async () => {
    sut = await startServiceUnderTest({ env: { API_ADMIN_TOKEN: ADMIN }, modules: [plansModule], clock });
    db = sut.service.database.db;
  });
  afterAll(() => sut.stop());

  async function http(method: string, path: string, body?: unknown, token = ADMIN): Promise<Answer> {
    const response = await fetch(`${sut.service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: (await response.json()) as Record<string, unknown>,
    };
  }
  const detect = (body: Record<string, unknown>) => http('POST', '/orchestrate/payment-plan-detected', body);
  const plan = async (id: string) => (await http('GET', `/orchestrate/payment-plans/${id}`)).body;
  const pay = (id: string, body: unknown) => http('POST', `/orchestrate/payment-plans/${id}/payments`, body);
  const planCount = async () => Number((await db.select({ n: count() }).from(collectionsPaymentPlans))[0]?.n);
  const paymentCount = async () =>
    Number((await db.select({ n: count() }).from(collectionsPlanPayments))[0]?.n);

  /** Counter-offers must pass the rules they answer. */
  function expectValidCounterOffer(answer: Record<string, unknown>, amountOwed: number, today: string) {
    const offer = answer.counter_offer as { weekly_amount: number; weeks: number; start_date: string };
    expect(offer).toBeDefined();
    const check = validatePlan(
      {
        weeklyAmount: offer.weekly_amount,
        weeks: offer.weeks,
        startDate: offer.start_date,
        amountOwed,
        today,
      },
      DEFAULT_PLAN_RULES,
    );
    expect(check).toMatchObject({ is_valid: true, covers_debt: true, total_amount: amountOwed });
  }

  let seedPlanId = '';

  it("the seed's example: validated, $600 in total, covering the $600 owed; posted twice, one plan", async () => {
    const first = await detect(SEED_BODY);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      success: true,
      payment_plan_id: expect.stringMatching(/^pp_/),
      status: 'validated',
      plan_status: 'active',
      validation_details: {
        is_valid: true,
        issues: [],
        auto_approvable: true,
        total_amount: 600,
        covers_debt: true,
      },
      processed_at: '2025-01-15T10:30:00.000Z',
    });
    seedPlanId = String(first.body.payment_plan_id);

    const again = await detect(SEED_BODY);
    expect(again.body).toEqual(first.body);
    const rows = await db
      .select()
      .from(collectionsPaymentPlans)
      .where(eq(collectionsPaymentPlans.conversationId, 'conv_abc123'));
    expect(rows.map((r) => r.id)).toEqual([seedPlanId]);
    // The plan is watched from its first due date.
    const [check] = await db
      .select()
      .from(jobs)
      .where(eq(jobs.singletonKey, planCheckKey(seedPlanId)));
    expect(check?.runAt.toISOString()).toBe('2025-01-22T12:00:00.000Z');
  });

  it('covers_debt follows the amount owed: $1,000 owed is not covered and gets a counter-offer', async () => {
    const answer = await detect({
      ...SEED_BODY,
      conversation_id: 'conv_owes_more',
      tenant_id: 'tenant_owes_1000',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      success: true,
      status: 'needs_review',
      plan_status: 'pending_approval',
      validation_details: {
        is_valid: false,
        issues: ['does_not_cover_debt'],
        auto_approvable: false,
        total_amount: 600,
        covers_debt: false,
      },
    });
    expectValidCounterOffer(answer.body, 1000, '2025-01-15');
    // A manager is told there is a plan to review.
    const [notice] = await db
      .select()
      .from(notices)
      .where(eq(notices.idempotencyKey, `collections:plan-review:${String(answer.body.payment_plan_id)}`));
    expect(notice).toMatchObject({ kind: 'approval_needed' });
    expect(notice?.metadata).toMatchObject({ payment_plan_id: answer.body.payment_plan_id });
  });

  it("amount_owed in the body wins over the ledger; a tenant's portion is what must be covered", async () => {
    const smaller = await detect({ ...SEED_BODY, conversation_id: 'conv_owes_less', amount_owed: 500 });
    expect(smaller.body.validation_details).toEqual({
      is_valid: true,
      issues: [],
      auto_approvable: true,
      total_amount: 500,
      covers_debt: true,
    });
    const portion = await detect({
      ...SEED_BODY,
      conversation_id: 'conv_portion',
      tenant_id: 'tenant_portion',
    });
    expect(portion.body.validation_details).toMatchObject({
      is_valid: true,
      covers_debt: true,
      total_amount: 600,
    });
  });

  it('$10 a week fails with its issues and a counter-offer that passes validatePlan', async () => {
    const answer = await detect({
      ...SEED_BODY,
      conversation_id: 'conv_ten_dollars',
      message_content: 'I can only do $10 a week',
      weekly_amount: 10,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'needs_review', plan_status: 'pending_approval' });
    const validation = answer.body.validation_details as { is_valid: boolean; issues: string[] };
    expect(validation.is_valid).toBe(false);
    expect(validation.issues).toEqual(['weekly_amount_below_minimum', 'does_not_cover_debt']);
    expectValidCounterOffer(answer.body, 600, '2025-01-15');
    expect(answer.body.counter_offer).toMatchObject({
      weekly_amount: 50,
      weeks: 12,
      changes: ['weekly_amount_raised'],
    });
  });

  it('a valid plan read unsurely, or with terms left out, needs review', async () => {
    const unsure = await detect({ ...SEED_BODY, conversation_id: 'conv_unsure', confidence: 0.7 });
    expect(unsure.body).toMatchObject({
      status: 'needs_review',
      plan_status: 'pending_approval',
      validation_details: { is_valid: true, auto_approvable: true },
    });
    const vague = await detect({
      ...SEED_BODY,
      conversation_id: 'conv_vague',
      weeks: null,
      start_date: null,
    });
    expect(vague.body).toMatchObject({
      status: 'needs_review',
      validation_details: { is_valid: true, auto_approvable: false, total_amount: 600 },
    });
    const stored = await plan(String(vague.body.payment_plan_id));
    expect(stored).toMatchObject({ weeks: 12, start_date: '2025-01-22T00:00:00Z' });
  });

  it('bad bodies are 400 problems, an unknown amount owed a 422, and nothing is written', async () => {
    const before = await planCount();
    const bad: unknown[] = [
      {},
      { ...SEED_BODY, weekly_amount: -5 },
      { ...SEED_BODY, weekly_amount: 'fifty' },
      { ...SEED_BODY, weekly_amount: 10.001 },
      { ...SEED_BODY, weeks: 2.5 },
      { ...SEED_BODY, start_date: 'next friday' },
      { ...SEED_BODY, start_date: '2025-02-30' },
      { ...SEED_BODY, conversation_id: '' },
      { ...SEED_BODY, confidence: 1.5 },
      { ...SEED_BODY, amount_owed: -1 },
      '{"conversation_id": ',
    ];
    for (const body of bad) {
      const answer = await detect(body as Record<string, unknown>);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body.status).toBe(400);
    }
    const unprocessable: Record<string, unknown>[] = [
      { ...SEED_BODY, conversation_id: 'conv_nobody', tenant_id: 'tenant_nobody' },
      { ...SEED_BODY, conversation_id: 'conv_nobody', tenant_id: undefined },
      { ...SEED_BODY, workflow_id: 'workflow-not-a-uuid' },
      { ...SEED_BODY, workflow_id: 'workflow-12345678-1234-1234-1234-123456789012' },
    ];
    for (const body of unprocessable) {
      const answer = await detect(body);
      expect(answer.status, JSON.stringify(body)).toBe(422);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body.detail).toEqual(expect.any(String));
    }
    expect(await planCount()).toBe(before);
  });

  it("looks plans up by conversation (the seed's list) and by pp_ id (the seed's detail)", async () => {
    const list = await http('GET', '/orchestrate/payment-plans/conv_abc123');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      conversation_id: 'conv_abc123',
      payment_plans: [
        {
          payment_plan_id: seedPlanId,
          weekly_amount: 50,
          weeks: 12,
          start_date: '2025-01-22T00:00:00Z',
          status: 'active',
          total_amount: 600,
          created_at: '2025-01-15T10:30:00.000Z',
          validation_details: { is_valid: true, auto_approvable: true, covers_debt: true },
        },
      ],
      total_plans: 1,
      active_plans: 1,
    });

    const detail = await http('GET', `/orchestrate/payment-plans/${seedPlanId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toEqual({
      payment_plan_id: seedPlanId,
      conversation_id: 'conv_abc123',
      tenant_id: 'tenant_12345',
      weekly_amount: 50,
      weeks: 12,
      start_date: '2025-01-22T00:00:00Z',
      end_date: '2025-04-16T00:00:00Z',
      status: 'active',
      total_amount: 600,
      amount_paid: 0,
      amount_remaining: 600,
      payment_history: [],
      created_at: '2025-01-15T10:30:00.000Z',
      updated_at: '2025-01-15T10:30:00.000Z',
      validation_details: {
        is_valid: true,
        issues: [],
        auto_approvable: true,
        total_amount: 600,
        covers_debt: true,
      },
    });

    const none = await http('GET', '/orchestrate/payment-plans/conv_without_plans');
    expect(none.body).toEqual({
      conversation_id: 'conv_without_plans',
      payment_plans: [],
      total_plans: 0,
      active_plans: 0,
    });
    const missing = await http('GET', '/orchestrate/payment-plans/pp_doesnotexist');
    expect(missing.status).toBe(404);
    expect(missing.type).toContain('application/problem+json');
  });

  it("records the seed's three payments: amount_paid 150, amount_remaining 450, payment_history", async () => {
    const payment = (date: string, reference: string) => ({
      amount: 50,
      payment_date: `${date}T00:00:00Z`,
      payment_method: 'auto_draft',
      reference,
    });
    clock.set('2025-01-22T15:00:00Z');
    const first = await pay(seedPlanId, payment('2025-01-22', 'ach-1'));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ amount_paid: 50, amount_remaining: 550, status: 'active' });
    const repeat = await pay(seedPlanId, payment('2025-01-22', 'ach-1'));
    expect(repeat.status).toBe(200);
    expect(repeat.body.amount_paid).toBe(50);
    const conflicting = await pay(seedPlanId, { ...payment('2025-01-22', 'ach-1'), amount: 60 });
    expect(conflicting.status).toBe(409);
    expect(conflicting.type).toContain('application/problem+json');

    clock.set('2025-01-29T15:00:00Z');
    expect((await pay(seedPlanId, payment('2025-01-29', 'ach-2'))).status).toBe(201);
    clock.set('2025-02-05T15:00:00Z');
    const third = await pay(seedPlanId, payment('2025-02-05', 'ach-3'));
    expect(third.status).toBe(201);
    expect(third.body).toMatchObject({
      payment_plan_id: seedPlanId,
      status: 'active',
      total_amount: 600,
      amount_paid: 150,
      amount_remaining: 450,
      payment_history: [
        { payment_date: '2025-01-22T00:00:00Z', amount: 50, status: 'paid', payment_method: 'auto_draft' },
        { payment_date: '2025-01-29T00:00:00Z', amount: 50, status: 'paid', payment_method: 'auto_draft' },
        { payment_date: '2025-02-05T00:00:00Z', amount: 50, status: 'paid', payment_method: 'auto_draft' },
      ],
    });
    expect(await plan(seedPlanId)).toEqual(third.body);
    // Paid on time: the checks that ran meanwhile found nothing missed.
    const escalations = await db
      .select()
      .from(collectionsEscalations)
      .where(eq(collectionsEscalations.conversationId, 'conv_abc123'));
    expect(escalations).toEqual([]);
  });

  it('refuses payments that are malformed, future-dated, on an unknown plan; writes none of them', async () => {
    const before = await paymentCount();
    for (const body of [
      {},
      { amount: 0 },
      { amount: -5 },
      { amount: 1.234 },
      { amount: 5, payment_date: 'soon' },
    ]) {
      const answer = await pay(seedPlanId, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.type).toContain('application/problem+json');
    }
    const future = await pay(seedPlanId, { amount: 50, payment_date: '2025-03-01' });
    expect(future.status).toBe(422);
    const unknown = await pay('pp_doesnotexist', { amount: 50 });
    expect(unknown.status).toBe(404);
    expect(unknown.type).toContain('application/problem+json');
    expect(await paymentCount()).toBe(before);
  });

  it('review: a rejected plan takes no payment (409); an invalid plan cannot be approved; a valid one can', async () => {
    const invalid = await detect({ ...SEED_BODY, conversation_id: 'conv_review', weekly_amount: 10 });
    const id = String(invalid.body.payment_plan_id);
    const review = (planId: string, action: string) =>
      http('POST', `/orchestrate/payment-plans/${planId}/review`, { action });

    const approveInvalid = await review(id, 'approve');
    expect(approveInvalid.status).toBe(409);
    const rejected = await review(id, 'reject');
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    expect((await review(id, 'reject')).status).toBe(409);
    const payment = await pay(id, { amount: 10 });
    expect(payment.status).toBe(409);
    expect(payment.type).toContain('application/problem+json');

    const unsure = await detect({
      ...SEED_BODY,
      conversation_id: 'conv_review',
      confidence: 0.7,
      start_date: '2025-02-12',
    });
    expect(unsure.body.plan_status).toBe('pending_approval');
    const approved = await review(String(unsure.body.payment_plan_id), 'approve');
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('active');
    expect((await review('pp_doesnotexist', 'approve')).status).toBe(404);
    expect((await review(id, 'maybe')).status).toBe(400);
  });

  it('a plan paid in full is completed and takes no more payments', async () => {
    const small = await detect({
      ...SEED_BODY,
      conversation_id: 'conv_small',
      amount_owed: 100,
      weeks: 2,
      start_date: '2025-02-07',
    });
    expect(small.body).toMatchObject({ status: 'validated', validation_details: { total_amount: 100 } });
    const id = String(small.body.payment_plan_id);
    const paid = await pay(id, { amount: 100, reference: 'lump-sum' });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ status: 'completed', amount_paid: 100, amount_remaining: 0 });
    expect((await pay(id, { amount: 100, reference: 'lump-sum' })).status).toBe(200);
    expect((await pay(id, { amount: 5 })).status).toBe(409);
  });

  it('viewers read plans but may not write them', async () => {
    const created = await http('POST', '/admin/tokens', { name: 'plan-viewer', role: 'viewer' });
    expect(created.status).toBe(201);
    const token = String(created.body.token);
    expect((await http('GET', `/orchestrate/payment-plans/${seedPlanId}`, undefined, token)).status).toBe(
      200,
    );
    const write = await http('POST', '/orchestrate/payment-plan-detected', SEED_BODY, token);
    expect(write.status).toBe(403);
    expect(write.type).toContain('application/problem+json');
    expect(
      (await http('POST', `/orchestrate/payment-plans/${seedPlanId}/payments`, { amount: 5 }, token)).status,
    ).toBe(403);
  });

  it('is in the OpenAPI document', async () => {
    const doc = await (await fetch(`${sut.service.url}/openapi.json`)).json();
    const paths = Object.keys((doc as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/orchestrate/payment-plan-detected',
        '/orchestrate/payment-plans/{id}',
        '/orchestrate/payment-plans/{payment_plan_id}/payments',
        '/orchestrate/payment-plans/{payment_plan_id}/review',
      ]),
    );
  });

  it('a missed instalment texts a reminder; a second miss opens a missed_instalment escalation', async () => {
    const phone = '+14155550123';
    clock.set('2025-03-01T10:00:00Z');
    await db.transaction((tx) =>
      upsertConversation(tx, {
        conversationId: 'conv_missed',
        phone,
        tenantId: 'tenant_missed',
        now: clock.now(),
      }),
    );
    const detected = await detect({
      conversation_id: 'conv_missed',
      tenant_id: 'tenant_missed',
      message_content: 'I can do $50 a week for 4 weeks from Wednesday',
      weekly_amount: 50,
      weeks: 4,
      start_date: '2025-03-05',
      confidence: 0.95,
      amount_owed: 200,
    });
    expect(detected.body).toMatchObject({ status: 'validated', plan_status: 'active' });
    const id = String(detected.body.payment_plan_id);

    // Due 5 March, three days' grace: on 9 March (afternoon in every US zone) it is missed.
    clock.set('2025-03-09T20:00:00Z');
    const texts = () =>
      db
        .select()
        .from(smsMessages)
        .where(and(eq(smsMessages.toNumber, phone), eq(smsMessages.direction, 'out')));
    const [reminder] = await eventually(texts, (rows) => rows.length > 0, 'the reminder text');
    expect(reminder?.body).toMatch(/^Reminder: your \$50\.00 payment-plan instalment was due Mar 5\./);
    expect(reminder?.body.endsWith(`\n${OPT_OUT}`)).toBe(true);
    expect(reminder?.conversationId).toBe('conv_missed');
    const [queued] = await db
      .select()
      .from(outbox)
      .where(eq(outbox.idempotencyKey, reminderKey(id, 1)));
    expect(queued?.channel).toBe('sms');
    const escalationsOf = () =>
      db
        .select()
        .from(collectionsEscalations)
        .where(eq(collectionsEscalations.conversationId, 'conv_missed'));
    expect(await escalationsOf()).toEqual([]);
    expect((await plan(id)).status).toBe('active');

    // The second instalment (12 March) is missed too: a person takes over.
    clock.set('2025-03-16T20:00:00Z');
    const [escalation] = await eventually(escalationsOf, (rows) => rows.length > 0, 'the escalation');
    expect(escalation).toMatchObject({
      type: 'missed_instalment',
      status: 'open',
      autoDetected: true,
      conversationId: 'conv_missed',
    });
    expect(escalation?.metadata).toMatchObject({ payment_plan_id: id, missed_instalments: [1, 2] });
    expect((await plan(id)).status).toBe('defaulted');
    const [conversation] = await db
      .select()
      .from(collectionsConversations)
      .where(eq(collectionsConversations.conversationId, 'conv_missed'));
    expect(conversation?.state).toBe('escalated');
    expect(await texts()).toHaveLength(1);

    // Catching up makes the plan active again.
    const caughtUp = await pay(id, { amount: 100, payment_date: '2025-03-16' });
    expect(caughtUp.body).toMatchObject({ status: 'active', amount_paid: 100, amount_remaining: 100 });
  });
});

describe(`the missed-instalment check, run twice (${databaseKind})`, () => {
  const database = useTestDatabase();
  const db = () => database.current.db;
  let clock: ManualClock;
  let deps: PlanJobDeps;
  let n = 0;

  beforeEach(() => {
    clock = new ManualClock('2025-01-15T10:30:00Z');
    deps = {
      workflows: new WorkflowStore(),
      notifier: createNotifier({ channels: [] }),
      clock,
      planGraceDays: 3,
      smsMaxSegments: 3,
      optOutLine: OPT_OUT,
      sendWindow: { startHour: 8, endHour: 21 },
      logger: testLogger,
    };
  });

  /** An active $50 × 12 plan from 22 January on a conversation with a US number. */
  async function activePlan(phone = '+14155550177') {
    n += 1;
    const conversationId = `conv_check_${n}`;
    const proposal = {
      weeklyAmount: 50,
      weeks: 12,
      startDate: '2025-01-22',
      amountOwed: 600,
      today: '2025-01-15',
    };
    return db().transaction(async (tx) => {
      await upsertConversation(tx, { conversationId, phone, tenantId: undefined, now: clock.now() });
      const { plan } = await recordPlan(tx, {
        conversationId,
        tenantId: null,
        proposal,
        validation: validatePlan(proposal),
        counterOffer: undefined,
        status: 'active',
        sourceKey: `check-test:${n}`,
        now: clock.now(),
      });
      return plan;
    });
  }
  const check = (planId: string) => {
    const now = clock.now();
    return db().transaction((tx) => runPlanCheck(tx, deps, { planId, checkFrom: now, now }));
  };
  const remindersOf = (planId: string) =>
    db()
      .select()
      .from(outbox)
      .where(eq(outbox.idempotencyKey, reminderKey(planId, 1)));
  const escalationsOf = (conversationId: string) =>
    db()
      .select()
      .from(collectionsEscalations)
      .where(eq(collectionsEscalations.conversationId, conversationId));

  it('reminds once however often it runs, then escalates a miss after the reminder once', async () => {
    const plan = await activePlan();
    clock.set('2025-01-26T20:00:00Z');
    expect(await check(plan.id)).toMatchObject({ outcome: 'reminded', missed: [1] });
    expect(await check(plan.id)).toMatchObject({ outcome: 'reminded', missed: [1] });
    expect(await remindersOf(plan.id)).toHaveLength(1);
    expect(await escalationsOf(plan.conversationId)).toEqual([]);

    // The first instalment is paid late; the second is missed: a miss after a reminder.
    await db().transaction((tx) =>
      recordPlanPayment(tx, {
        planId: plan.id,
        amountCents: 5000,
        paidOn: '2025-01-27',
        today: '2025-01-27',
        now: clock.now(),
      }),
    );
    clock.set('2025-02-02T20:00:00Z');
    expect(await check(plan.id)).toMatchObject({ outcome: 'defaulted', missed: [2] });
    expect(await check(plan.id)).toEqual({ outcome: 'skipped', reason: 'plan is defaulted' });
    const escalations = await escalationsOf(plan.conversationId);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ type: 'missed_instalment', severity: 'medium' });
    expect((await getPlan(db(), plan.id))?.status).toBe('defaulted');
  });

  it('holds the reminder for the allowed hours when it is night for the tenant', async () => {
    const plan = await activePlan();
    clock.set('2025-01-26T06:00:00Z'); // 01:00 in New York, 20:00 the day before in Hawaii
    // In Hawaii it is still the 25th: within the grace period, nothing is missed yet there.
    expect(await check(plan.id)).toMatchObject({ outcome: 'ok', missed: [] });
    clock.set('2025-01-27T06:00:00Z');
    expect(await check(plan.id)).toMatchObject({ outcome: 'reminded' });
    const [row] = await remindersOf(plan.id);
    const [delivery] = await db()
      .select()
      .from(jobs)
      .where(eq(jobs.singletonKey, `outbox:${row!.id}`));
    // 08:00 in Hawaii (UTC−10) is the first instant inside every US zone's window.
    expect(delivery?.runAt.toISOString()).toBe('2025-01-27T18:00:00.000Z');
  });

  it('a number that opted out gets no reminder: the miss goes to a person and the plan stays watched', async () => {
    const phone = '+14155550188';
    const plan = await activePlan(phone);
    await setOptOut(db(), { phone, optedOut: true, reason: 'stop_word', now: clock.now() });
    clock.set('2025-01-26T20:00:00Z');
    const result = await check(plan.id);
    expect(result).toMatchObject({ outcome: 'escalated', reminderRefused: 'opted_out', missed: [1] });
    expect(await check(plan.id)).toMatchObject({ outcome: 'escalated' });
    expect(await remindersOf(plan.id)).toEqual([]);
    expect(await escalationsOf(plan.conversationId)).toHaveLength(1);
    expect((await getPlan(db(), plan.id))?.status).toBe('active');
    expect(result).toMatchObject({ nextCheckAt: new Date('2025-02-02T12:00:00.000Z') });
  });
});
