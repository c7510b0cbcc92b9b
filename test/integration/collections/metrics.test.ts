import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMetricsRoutes } from '../../../src/collections/metrics-routes.js';
import { newTurn, type TurnData } from '../../../src/collections/turn.js';
import {
  collectionsApprovals,
  collectionsConversations,
  collectionsEscalations,
  collectionsPaymentPlans,
  smsMessages,
} from '../../../src/core/db/schema.js';
import { DependencyRegistry } from '../../../src/core/health/dependency-registry.js';
import { ManualClock } from '../../../src/core/runtime.js';
import type { CoreServices, ModuleFactory } from '../../../src/main.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../../helpers/service-under-test.js';
import { createTestDatabase, databaseKind, onPostgres } from '../../helpers/test-database.js';

/**
 * GET /orchestrate/metrics over real HTTP: rows are written straight to the tables at chosen times
 * (turns through the workflow store, so they have audit rows), then every figure is asserted
 * exactly, for the 24-hour and 1-hour windows, per tenant, and again after a restart on the same
 * data. The fixture and the figures it must give are listed next to each other below.
 */

const NOW = '2025-01-15T10:45:00Z';
const T1 = 'tenant_1';
const T2 = 'tenant_2';
const OWNER_PHONE = '+14155550199';

type Json = Record<string, unknown>;

/** The seed's example response (section 7), for its key structure. */
const SEED_EXAMPLE: Json = {
  timeframe: {
    timeframe_hours: 24,
    sms_metrics: { received: 145, processed: 142, failed: 3, rate_per_hour: 6.0 },
    ai_metrics: { responses: 142, avg_response_time_ms: 1250, avg_confidence: 0.84, response_rate: 0.98 },
    approval_metrics: {
      total: 85,
      approved: 78,
      rejected: 7,
      auto_approval_rate: 0.42,
      avg_approval_time_ms: 1800,
    },
    escalation_metrics: {
      total: 12,
      by_type: { low_confidence: 8, manual: 3, timeout: 1 },
      by_severity: { medium: 9, high: 3 },
      rate_per_hour: 0.5,
      avg_resolution_time_ms: 45000,
    },
    payment_plan_metrics: {
      detected: 28,
      validated: 25,
      auto_approved: 20,
      detection_rate: 0.2,
      validation_rate: 0.89,
    },
  },
  dashboard: {
    last_hour: { sms_received: 6, ai_responses: 6, approvals_pending: 2, escalations: 0 },
    today: { total_conversations: 145, completed_workflows: 142, payment_plans: 28, escalations: 12 },
    system_health: {
      collections_monitor: {
        healthy: 140,
        unhealthy: 5,
        availability: 0.97,
        response_time_ms: 150.0,
        last_check: '2025-01-15T10:45:00Z',
      },
      sms_agent: {
        healthy: 143,
        unhealthy: 2,
        availability: 0.99,
        response_time_ms: 85.0,
        last_check: '2025-01-15T10:45:00Z',
      },
    },
  },
  generated_at: '2025-01-15T10:45:00Z',
  filters_applied: { hours: 24, tenant_id: null },
};

/** Keys all the way down; maps whose keys are data (by_type, by_severity, system_health) become "record". */
function keySkeleton(value: unknown, path = ''): unknown {
  if (['by_type', 'by_severity', 'system_health'].some((k) => path.endsWith(`.${k}`))) return 'record';
  if (value === null || typeof value !== 'object') return path.endsWith('tenant_id') ? 'leaf' : typeof value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, keySkeleton((value as Json)[k], `${path}.${k}`)]),
  );
}

/** Where the service keeps its data across restarts: a PGlite folder, or a PostgreSQL database. */
async function persistentStorage(): Promise<{ env: Record<string, string>; dispose(): Promise<void> }> {
  if (onPostgres) {
    const database = await createTestDatabase();
    return { env: { DATABASE_URL: database.url! }, dispose: () => database.dispose(false) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'countersign-metrics-'));
  return { env: { DATA_DIR: dir }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
}

describe(`GET /orchestrate/metrics (${databaseKind})`, () => {
  const clock = new ManualClock(NOW);
  // The routes' own registry (CoreServices does not hand modules the service's): one peer up, one down.
  const dependencies = new DependencyRegistry();
  dependencies.register({
    name: 'collections_monitor',
    critical: false,
    check: async () => ({ healthy: true }),
  });
  dependencies.register({
    name: 'sms_agent',
    critical: false,
    check: async () => {
      throw new Error('connection refused');
    },
  });

  let storage: Awaited<ReturnType<typeof persistentStorage>>;
  let sut: ServiceUnderTest;
  let core: CoreServices;
  let viewerToken: string;

  async function start(): Promise<void> {
    const metricsModule: ModuleFactory = (c) => {
      core = c;
      return {
        name: 'metrics-test',
        register: (app) => registerMetricsRoutes(app, { db: c.db, clock: c.clock, dependencies }),
      };
    };
    sut = await startServiceUnderTest({ env: storage.env, modules: [metricsModule], clock });
  }

  beforeAll(async () => {
    storage = await persistentStorage();
    await start();
    await seedRows();
    const created = await sut.call('POST', '/admin/tokens', { name: 'metrics-viewer', role: 'viewer' });
    expect(created.status).toBe(201);
    viewerToken = created.body.token as string;
  });
  afterAll(async () => {
    await sut?.stop();
    await storage?.dispose();
  });

  /** As a viewer: any authenticated role may read the metrics. */
  async function metrics(query = '') {
    const response = await fetch(`${sut.service.url}/orchestrate/metrics${query}`, {
      headers: { authorization: `Bearer ${viewerToken}` },
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: (await response.json()) as Json,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // The fixture. NOW = 2025-01-15T10:45Z: the 24-hour window starts 2025-01-14T10:45Z, the last
  // hour 09:45Z, today 00:00Z. "old" rows (2025-01-13) are outside every window.

  const at = (iso: string) => new Date(iso);
  const conversations = [
    { conversationId: 'conv_1', tenantId: T1, phone: '+14155550101' },
    { conversationId: 'conv_2', tenantId: T2, phone: '+14155550102' },
    { conversationId: 'conv_3', tenantId: T1, phone: '+14155550103' },
  ];

  async function turn(input: {
    conversation: number;
    created: string;
    state: string;
    draft?: { confidence: number; ms: number };
    decision?: TurnData['decision'];
    autoApproved?: boolean;
    kind?: string;
  }) {
    const conv = conversations[input.conversation - 1]!;
    const data: TurnData = {
      ...newTurn({
        conversationId: conv.conversationId,
        tenantId: conv.tenantId,
        phone: conv.phone,
        texts: [],
        conversationState: 'open',
      }),
      draft: input.draft
        ? {
            text: 'Thanks',
            confidence: input.draft.confidence,
            intent: 'other',
            flags: [],
            model: 'rules',
            ms: input.draft.ms,
          }
        : null,
      decision: input.decision ?? null,
      auto_approved: input.autoApproved ?? false,
    };
    await core.workflows.create(core.db, {
      id: randomUUID(),
      kind: input.kind ?? 'collections',
      subjectKey: conv.conversationId,
      state: input.state,
      data,
      audit: { reason: 'fixture', actor: 'test' },
      now: at(input.created),
    });
  }

  let smsId = 0;
  async function text(input: {
    created: string;
    conversationId: string | null;
    from: string;
    direction?: 'in' | 'out';
  }) {
    smsId += 1;
    await core.db.insert(smsMessages).values({
      direction: input.direction ?? 'in',
      provider: 'outbox',
      providerMessageId: `fixture-${smsId}`,
      fromNumber: input.from,
      toNumber: '+14155550000',
      body: 'hello',
      segments: 1,
      encoding: 'gsm7',
      state: input.direction === 'out' ? 'sent' : 'received',
      conversationId: input.conversationId,
      createdAt: at(input.created),
      updatedAt: at(input.created),
    });
  }

  async function approval(
    id: string,
    tenantId: string,
    created: string,
    status: string,
    decidedAfterMs?: number,
  ) {
    await core.db.insert(collectionsApprovals).values({
      id,
      workflowId: randomUUID(),
      conversationId: tenantId === T1 ? 'conv_1' : 'conv_2',
      tenantId,
      phone: '+14155550101',
      tenantText: 'can I pay later',
      draft: 'Sure',
      confidence: 0.7,
      intent: 'other',
      flags: [],
      rule: 'fixture',
      status,
      createdAt: at(created),
      decidedAt: decidedAfterMs === undefined ? null : new Date(at(created).getTime() + decidedAfterMs),
    });
  }

  async function escalation(
    id: string,
    tenantId: string,
    created: string,
    type: string,
    severity: string,
    resolvedAfterMs?: number,
  ) {
    await core.db.insert(collectionsEscalations).values({
      id,
      conversationId: tenantId === T1 ? 'conv_1' : 'conv_2',
      tenantId,
      type,
      reason: 'fixture',
      severity,
      autoDetected: type !== 'manual',
      escalatedBy: 'system',
      assignedTo: 'collections_team',
      status: resolvedAfterMs === undefined ? 'open' : 'resolved',
      metadata: {},
      expectedResolutionAt: new Date(at(created).getTime() + 3_600_000),
      createdAt: at(created),
      resolvedAt: resolvedAfterMs === undefined ? null : new Date(at(created).getTime() + resolvedAfterMs),
    });
  }

  async function plan(
    id: string,
    tenantId: string,
    created: string,
    isValid: boolean,
    autoApprovable: boolean,
  ) {
    await core.db.insert(collectionsPaymentPlans).values({
      id,
      conversationId: tenantId === T1 ? 'conv_1' : 'conv_2',
      tenantId,
      weeklyAmountCents: 5000,
      weeks: 12,
      startDate: '2025-01-22',
      status: isValid ? 'validated' : 'pending_approval',
      amountOwedCents: 60000,
      validation: { is_valid: isValid, issues: [], auto_approvable: autoApprovable, covers_debt: isValid },
      sourceKey: id,
      createdAt: at(created),
      updatedAt: at(created),
    });
  }

  async function seedRows() {
    for (const c of conversations) {
      await core.db.insert(collectionsConversations).values({
        ...c,
        state: 'open',
        createdAt: at('2025-01-10T00:00:00Z'),
        updatedAt: at('2025-01-10T00:00:00Z'),
      });
    }
    // Turns; the mark after each says which windows hold it: 24h, last hour, today.
    await turn({
      conversation: 1,
      created: '2025-01-15T10:30:00Z',
      state: 'completed',
      draft: { confidence: 0.9, ms: 1000 },
      decision: 'auto_send',
      autoApproved: true,
    }); // ✓ ✓ ✓
    await turn({
      conversation: 2,
      created: '2025-01-15T10:00:00Z',
      state: 'awaiting_approval',
      draft: { confidence: 0.7, ms: 2000 },
      decision: 'manager_approval',
    }); // ✓ ✓ ✓
    await turn({
      conversation: 3,
      created: '2025-01-15T07:45:00Z',
      state: 'escalated',
      draft: { confidence: 0.4, ms: 3000 },
      decision: 'escalate',
    }); // ✓ · ✓
    await turn({ conversation: 1, created: '2025-01-14T20:00:00Z', state: 'failed' }); // ✓ · ·
    await turn({ conversation: 2, created: '2025-01-14T22:00:00Z', state: 'processing' }); // ✓ · ·
    await turn({ conversation: 1, created: '2025-01-14T23:00:00Z', state: 'opted_out', decision: 'opt_out' }); // ✓ · ·
    await turn({
      conversation: 1,
      created: '2025-01-13T10:00:00Z',
      state: 'completed',
      draft: { confidence: 0.99, ms: 9000 },
      decision: 'auto_send',
      autoApproved: true,
    }); // old
    await turn({
      conversation: 1,
      created: '2025-01-15T10:40:00Z',
      state: 'completed',
      kind: 'email_reply',
      draft: { confidence: 0.99, ms: 9000 },
    }); // another kind

    // Inbound texts.
    await text({ created: '2025-01-15T10:29:00Z', conversationId: 'conv_1', from: '+14155550101' }); // T1, last hour
    await text({ created: '2025-01-15T09:59:00Z', conversationId: 'conv_2', from: '+14155550102' }); // T2, last hour
    await text({ created: '2025-01-15T07:44:00Z', conversationId: 'conv_3', from: '+14155550103' }); // T1
    await text({ created: '2025-01-14T19:59:00Z', conversationId: null, from: '+14155550101' }); // T1 by its phone
    await text({ created: '2025-01-14T21:59:00Z', conversationId: 'conv_2', from: '+14155550102' }); // T2
    await text({ created: '2025-01-14T22:59:00Z', conversationId: 'conv_1', from: '+14155550101' }); // T1
    await text({ created: '2025-01-13T09:59:00Z', conversationId: 'conv_1', from: '+14155550101' }); // old
    await text({ created: '2025-01-15T10:20:00Z', conversationId: null, from: OWNER_PHONE }); // not collections
    await text({
      created: '2025-01-15T10:31:00Z',
      conversationId: 'conv_1',
      from: '+14155550000',
      direction: 'out',
    });

    // Approvals.
    await approval('resp_a1', T2, '2025-01-15T10:01:00Z', 'pending');
    await approval('resp_a2', T1, '2025-01-14T12:00:00Z', 'approved', 2000);
    await approval('resp_a3', T1, '2025-01-14T13:00:00Z', 'modified', 4000);
    await approval('resp_a4', T2, '2025-01-14T14:00:00Z', 'rejected', 6000);
    await approval('resp_a5', T1, '2025-01-14T15:00:00Z', 'obsolete', 100_000);
    await approval('resp_a6', T1, '2025-01-15T10:40:00Z', 'pending');
    await approval('resp_old', T1, '2025-01-13T10:00:00Z', 'approved', 1000);

    // Escalations.
    await escalation('esc_e1', T1, '2025-01-15T07:46:00Z', 'low_confidence', 'medium', 45_000);
    await escalation('esc_e2', T1, '2025-01-15T10:40:00Z', 'manual', 'high');
    await escalation('esc_e3', T2, '2025-01-14T23:30:00Z', 'low_confidence', 'medium', 15_000);
    await escalation('esc_e4', T2, '2025-01-14T11:00:00Z', 'timeout', 'high');
    await escalation('esc_old', T1, '2025-01-13T10:00:00Z', 'legal', 'critical', 1000);

    // Payment plans.
    await plan('pp_1', T1, '2025-01-15T10:35:00Z', true, true);
    await plan('pp_2', T2, '2025-01-14T21:00:00Z', true, false);
    await plan('pp_3', T1, '2025-01-14T22:00:00Z', false, false);
    await plan('pp_old', T1, '2025-01-13T10:00:00Z', true, true);
  }

  // ---------------------------------------------------------------------------------------------

  it('gives every figure of the last 24 hours in the seed shape (the default window)', async () => {
    const res = await metrics();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      timeframe: {
        timeframe_hours: 24,
        sms_metrics: { received: 6, processed: 4, failed: 1, rate_per_hour: 0.25 },
        ai_metrics: { responses: 3, avg_response_time_ms: 2000, avg_confidence: 0.6667, response_rate: 0.5 },
        approval_metrics: {
          total: 6,
          approved: 2,
          rejected: 1,
          auto_approval_rate: 0.25,
          avg_approval_time_ms: 4000,
        },
        escalation_metrics: {
          total: 4,
          by_type: { low_confidence: 2, manual: 1, timeout: 1 },
          by_severity: { medium: 2, high: 2 },
          rate_per_hour: 0.1667,
          avg_resolution_time_ms: 30_000,
        },
        payment_plan_metrics: {
          detected: 3,
          validated: 2,
          auto_approved: 1,
          detection_rate: 0.5,
          validation_rate: 0.6667,
        },
      },
      dashboard: {
        last_hour: { sms_received: 2, ai_responses: 2, approvals_pending: 2, escalations: 1 },
        today: { total_conversations: 3, completed_workflows: 1, payment_plans: 1, escalations: 2 },
        system_health: {
          collections_monitor: {
            healthy: 1,
            unhealthy: 0,
            availability: null,
            response_time_ms: null,
            last_check: '2025-01-15T10:45:00.000Z',
          },
          sms_agent: {
            healthy: 0,
            unhealthy: 1,
            availability: null,
            response_time_ms: null,
            last_check: '2025-01-15T10:45:00.000Z',
          },
        },
      },
      generated_at: '2025-01-15T10:45:00.000Z',
      filters_applied: { hours: 24, tenant_id: null },
    });
  });

  it("has exactly the seed example's keys, nested the same way", async () => {
    const res = await metrics('?hours=24&format=json');
    expect(keySkeleton(res.body)).toEqual(keySkeleton(SEED_EXAMPLE));
    const seedHealthKeys = Object.keys(
      Object.values((SEED_EXAMPLE.dashboard as Json).system_health as Json)[0] as Json,
    );
    for (const entry of Object.values((res.body.dashboard as Json).system_health as Json)) {
      expect(Object.keys(entry as Json).sort()).toEqual([...seedHealthKeys].sort());
    }
  });

  it('counts only the last hour with hours=1', async () => {
    const res = await metrics('?hours=1');
    expect(res.status).toBe(200);
    expect(res.body.timeframe).toEqual({
      timeframe_hours: 1,
      sms_metrics: { received: 2, processed: 2, failed: 0, rate_per_hour: 2 },
      ai_metrics: { responses: 2, avg_response_time_ms: 1500, avg_confidence: 0.8, response_rate: 1 },
      approval_metrics: {
        total: 2,
        approved: 0,
        rejected: 0,
        auto_approval_rate: 0.5,
        avg_approval_time_ms: 0,
      },
      escalation_metrics: {
        total: 1,
        by_type: { manual: 1 },
        by_severity: { high: 1 },
        rate_per_hour: 1,
        avg_resolution_time_ms: 0,
      },
      payment_plan_metrics: {
        detected: 1,
        validated: 1,
        auto_approved: 1,
        detection_rate: 0.5,
        validation_rate: 1,
      },
    });
    // The dashboard does not depend on the timeframe.
    expect((res.body.dashboard as Json).today).toEqual({
      total_conversations: 3,
      completed_workflows: 1,
      payment_plans: 1,
      escalations: 2,
    });
    expect(res.body.filters_applied).toEqual({ hours: 1, tenant_id: null });
  });

  it('filters every figure by tenant', async () => {
    const res = await metrics(`?hours=24&tenant_id=${T1}`);
    expect(res.status).toBe(200);
    expect(res.body.timeframe).toEqual({
      timeframe_hours: 24,
      sms_metrics: { received: 4, processed: 3, failed: 1, rate_per_hour: 0.1667 },
      ai_metrics: { responses: 2, avg_response_time_ms: 2000, avg_confidence: 0.65, response_rate: 0.5 },
      approval_metrics: {
        total: 4,
        approved: 2,
        rejected: 0,
        auto_approval_rate: 0.3333,
        avg_approval_time_ms: 3000,
      },
      escalation_metrics: {
        total: 2,
        by_type: { low_confidence: 1, manual: 1 },
        by_severity: { medium: 1, high: 1 },
        rate_per_hour: 0.0833,
        avg_resolution_time_ms: 45_000,
      },
      payment_plan_metrics: {
        detected: 2,
        validated: 1,
        auto_approved: 1,
        detection_rate: 0.5,
        validation_rate: 0.5,
      },
    });
    const dashboard = res.body.dashboard as Json;
    expect(dashboard.last_hour).toEqual({
      sms_received: 1,
      ai_responses: 1,
      approvals_pending: 1,
      escalations: 1,
    });
    expect(dashboard.today).toEqual({
      total_conversations: 2,
      completed_workflows: 1,
      payment_plans: 1,
      escalations: 2,
    });
    expect(res.body.filters_applied).toEqual({ hours: 24, tenant_id: T1 });

    const t2 = await metrics(`?tenant_id=${T2}`);
    expect((t2.body.timeframe as Json).sms_metrics).toEqual({
      received: 2,
      processed: 1,
      failed: 0,
      rate_per_hour: 0.0833,
    });
    expect((t2.body.timeframe as Json).approval_metrics).toEqual({
      total: 2,
      approved: 0,
      rejected: 1,
      auto_approval_rate: 0,
      avg_approval_time_ms: 6000,
    });
  });

  it('answers 0, never NaN or null, when nothing was counted', async () => {
    const res = await metrics('?tenant_id=nobody');
    expect(res.status).toBe(200);
    expect(res.body.timeframe).toEqual({
      timeframe_hours: 24,
      sms_metrics: { received: 0, processed: 0, failed: 0, rate_per_hour: 0 },
      ai_metrics: { responses: 0, avg_response_time_ms: 0, avg_confidence: 0, response_rate: 0 },
      approval_metrics: {
        total: 0,
        approved: 0,
        rejected: 0,
        auto_approval_rate: 0,
        avg_approval_time_ms: 0,
      },
      escalation_metrics: {
        total: 0,
        by_type: {},
        by_severity: {},
        rate_per_hour: 0,
        avg_resolution_time_ms: 0,
      },
      payment_plan_metrics: {
        detected: 0,
        validated: 0,
        auto_approved: 0,
        detection_rate: 0,
        validation_rate: 0,
      },
    });
  });

  it('moves with the injected clock: today starts at 00:00 UTC', async () => {
    clock.set('2025-01-16T00:30:00Z');
    try {
      const res = await metrics('?hours=1');
      expect((res.body.dashboard as Json).today).toEqual({
        total_conversations: 0,
        completed_workflows: 0,
        payment_plans: 0,
        escalations: 0,
      });
      expect(res.body.generated_at).toBe('2025-01-16T00:30:00.000Z');
      // 2025-01-15T00:30Z..: the turns of the 15th, not those of the 14th.
      const day = await metrics('?hours=24');
      expect((day.body.timeframe as Json).sms_metrics).toMatchObject({ processed: 3, failed: 0 });
    } finally {
      clock.set(NOW);
    }
  });

  it.each([
    ['hours=0', '/query/hours'],
    ['hours=721', '/query/hours'],
    ['hours=abc', '/query/hours'],
    ['hours=1.5', '/query/hours'],
    ['format=csv', '/query/format'],
    ['tenant_id=', '/query/tenant_id'],
  ])('refuses %s with a 400 problem', async (query, pointer) => {
    const res = await metrics(`?${query}`);
    expect(res.status).toBe(400);
    expect(res.type).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 400, type: 'https://countersign.dev/problems/validation' });
    expect((res.body.errors as { pointer: string }[]).map((e) => e.pointer)).toContain(pointer);
  });

  it('needs a token', async () => {
    const response = await fetch(`${sut.service.url}/orchestrate/metrics`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('gives the same figures after a restart on the same data: nothing is kept in memory', async () => {
    const before = await metrics('?hours=24');
    const beforeTenant = await metrics(`?hours=1&tenant_id=${T2}`);
    await sut.stop();
    await start();
    const after = await metrics('?hours=24');
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect((await metrics(`?hours=1&tenant_id=${T2}`)).body).toEqual(beforeTenant.body);
    expect((after.body.timeframe as Json).sms_metrics).toEqual({
      received: 6,
      processed: 4,
      failed: 1,
      rate_per_hour: 0.25,
    });
  });
});
