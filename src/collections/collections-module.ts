import { createHash } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { and, asc, desc, eq, type SQL } from 'drizzle-orm';
import { collectionsApprovals, collectionsEscalations, smsMessages } from '../core/db/schema.js';
import { inTransaction } from '../core/db/transaction.js';
import type { AppEnv } from '../http/app-env.js';
import { requireRole } from '../http/auth.js';
import { HttpProblem } from '../http/problem.js';
import { bearerSecurity, problemResponses } from '../http/router.js';
import type { CoreServices, ModuleFactory, ServiceModule } from '../main.js';
import { tryNormalizePhone } from '../peers/sms/phone.js';
import { findByProviderId } from '../peers/sms/sms-store.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import { outreachDepsFrom, registerOutreachRoutes } from './outreach-routes.js';
import { planJobs } from './plan-jobs.js';
import { registerPlanRoutes } from './plan-routes.js';
import { DEFAULT_PLAN_RULES } from './payment-plan.js';
import {
  CollectionsConflictError,
  CollectionsInputError,
  createCollectionsRunner,
  type CollectionsRunner,
} from './collections-runner.js';
import {
  COLLECTIONS_KIND,
  getConversation,
  internalWorkflowId,
  latestWorkflow,
  openEscalation,
  publicWorkflowId,
  resolveEscalation,
} from './collections-store.js';
import {
  approvalView,
  ApprovalView,
  escalationView,
  EscalationView,
  workflowStatusView,
  WorkflowStatusView,
} from './collections-views.js';
import { readTurn } from './turn.js';

/**
 * The collections seed on the core (docs/collections.md): every tenant text from any SMS path
 * goes through the runner; these routes keep the seed's paths, bodies and response fields.
 */

const tags = ['collections'];
const SMS_AGENT_PROVIDER = 'sms-agent';
const readers = requireRole('viewer', 'manager', 'service');
const deciders = requireRole('manager');

const SmsReceivedBody = z
  .object({
    tenant_id: z.string().trim().min(1).max(200).optional(),
    phone_number: z.string().trim().min(1).max(40),
    content: z.string().max(5000),
    conversation_id: z.string().trim().min(1).max(200).optional(),
    timestamp: z.string().datetime({ offset: true }).optional(),
    direction: z.enum(['inbound', 'outbound']).default('inbound'),
    message_id: z.string().trim().min(1).max(200).optional(),
  })
  .openapi('SmsReceived');

const SmsReceivedResponse = z.object({
  status: z.enum(['processed', 'duplicate', 'ignored']),
  conversation_id: z.string().nullable(),
  workflow_id: z.string().nullable(),
  timestamp: z.string(),
});

const ApproveBody = z
  .object({
    response_queue_id: z.string().trim().min(1).max(100),
    action: z.enum(['approve', 'modify', 'reject']),
    approved_text: z.string().max(2000).optional(),
    manager_id: z.string().max(200).optional(),
    notes: z.string().max(2000).optional(),
  })
  .refine((b) => b.action !== 'modify' || (b.approved_text ?? '').trim() !== '', {
    message: 'approved_text is required to modify',
    path: ['approved_text'],
  })
  .openapi('ApproveResponse');

const Severity = z.enum(['low', 'medium', 'high', 'critical']);
const EscalateBody = z
  .object({
    conversation_id: z.string().trim().min(1).max(200),
    workflow_id: z.string().trim().max(200).optional(),
    escalation_type: z.string().trim().min(1).max(60).default('manual'),
    reason: z.string().trim().min(1).max(2000),
    severity: Severity.optional(),
    auto_detected: z.boolean().default(false),
    escalated_by: z.string().max(200).optional(),
    assigned_to: z.string().trim().min(1).max(200).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('EscalateRequest');

const RetryBody = z
  .object({
    reason: z.string().max(2000).optional(),
    force_retry: z.boolean().default(false),
    recovery_strategy: z.string().max(100).optional(),
    notes: z.string().max(2000).optional(),
  })
  .openapi('RetryRequest');

const MessageView = z.object({
  id: z.number(),
  direction: z.enum(['in', 'out']),
  body: z.string(),
  state: z.string(),
  provider: z.string(),
  error_code: z.string().nullable(),
  workflow_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function collectionsModule(): ModuleFactory {
  return (core): ServiceModule => {
    const c = core.config.collections;
    const planRules = {
      ...DEFAULT_PLAN_RULES,
      maxWeeks: c.maxPaymentWeeks,
      minWeekly: c.minWeeklyPayment,
      maxStartDays: c.planMaxStartDays,
    };
    const runner = createCollectionsRunner({
      settings: {
        policy: {
          thresholds: { auto: c.autoApprovalConfidence, manualMin: c.manualApprovalMinConfidence },
          planRules,
          maxSegments: core.peers.sms.maxSegments,
          optOutLine: c.optOutLine,
        },
        sendWindow: c.sendWindow,
        escalationTimeoutMs: c.escalationTimeoutMs,
        turnCoalesceMs: c.turnCoalesceMs,
        providerAnswersKeywords: c.providerAnswersKeywords ?? core.peers.sms.sender.name === 'twilio',
        maxRetryAttempts: core.config.jobs.maxRetryAttempts,
        retryBaseDelayMs: core.config.jobs.retryBaseDelayMs,
        retryMaxDelayMs: core.config.jobs.retryMaxDelayMs,
        notTenants: core.config.emailReply.ownerPhone ? [core.config.emailReply.ownerPhone] : [],
        draftConcurrency: core.config.peers.ai.maxConcurrency,
      },
      clock: core.clock,
      workflows: core.workflows,
      ai: core.peers.ai,
      ledger: core.peers.ledger,
      notifier: core.peers.notifier,
      logger: core.logger,
    });
    core.handles.collections = runner;
    core.peers.sms.inbox.onInbound((tx, sms, id, optedOut) => runner.onTenantText(tx, sms, id, optedOut));
    const plans = planJobs({
      workflows: core.workflows,
      notifier: core.peers.notifier,
      clock: core.clock,
      planGraceDays: c.planGraceDays,
      smsMaxSegments: core.peers.sms.maxSegments,
      optOutLine: c.optOutLine,
      sendWindow: c.sendWindow,
      logger: core.logger,
      defaultRegion: core.peers.sms.defaultRegion,
    });
    return {
      name: 'collections',
      jobs: [...runner.jobs, ...plans],
      outboxObservers: [runner.observer],
      register: (app) => {
        registerRoutes(app, core, runner);
        registerOutreachRoutes(app, outreachDepsFrom(core, runner));
        registerPlanRoutes(app, {
          db: core.db,
          clock: core.clock,
          workflows: core.workflows,
          notifier: core.peers.notifier,
          planRules,
          ledger: core.peers.ledger,
          autoApprovalConfidence: c.autoApprovalConfidence,
          wakeWorker: core.wakeWorker,
        });
        registerMetricsRoutes(app, { db: core.db, clock: core.clock, dependencies: core.dependencies });
      },
    };
  };
}

function registerRoutes(app: OpenAPIHono<AppEnv>, core: CoreServices, runner: CollectionsRunner): void {
  const db = core.db;
  const escalationDeps = { workflows: core.workflows, notifier: core.peers.notifier };

  const conflict = (error: unknown): never => {
    if (error instanceof CollectionsConflictError) {
      throw new HttpProblem(error.code === 'not_found' ? 404 : 409, error.message, { code: error.code });
    }
    if (error instanceof CollectionsInputError) throw new HttpProblem(422, error.message);
    throw error;
  };

  async function workflowOr404(id: string) {
    const uuid = internalWorkflowId(id);
    const workflow = uuid ? await core.workflows.get(db, uuid) : undefined;
    if (!workflow || workflow.kind !== COLLECTIONS_KIND)
      throw new HttpProblem(404, `No collections workflow ${id}.`);
    return workflow;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrate/sms-received',
      tags,
      summary: "A tenant's text, as the seed's SMS Agent forwards it",
      description:
        'Claimed once (by message_id, else by a hash of conversation, phone, timestamp and content), stored, and ' +
        'answered in jobs. 202 when work continues; 200 for a repeat or an outbound copy.',
      security: bearerSecurity,
      middleware: [requireRole('service', 'manager')] as const,
      request: { body: { content: { 'application/json': { schema: SmsReceivedBody } }, required: true } },
      responses: {
        200: {
          description: 'A repeat, or not an inbound text',
          content: { 'application/json': { schema: SmsReceivedResponse } },
        },
        202: {
          description: 'Taken; the reply follows in jobs',
          content: { 'application/json': { schema: SmsReceivedResponse } },
        },
        ...problemResponses(400, 401, 403, 422),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const now = core.clock.now();
      const from = tryNormalizePhone(body.phone_number, core.peers.sms.defaultRegion);
      if (!from) throw new HttpProblem(400, 'phone_number is not a valid phone number.');
      if (body.direction === 'outbound') {
        return c.json(
          {
            status: 'ignored' as const,
            conversation_id: body.conversation_id ?? null,
            workflow_id: null,
            timestamp: now.toISOString(),
          },
          200,
        );
      }
      const receivedAt = body.timestamp ? new Date(body.timestamp) : now;
      const providerMessageId =
        body.message_id ??
        `h:${createHash('sha256')
          .update(JSON.stringify([body.conversation_id ?? null, from, body.timestamp ?? null, body.content]))
          .digest('base64url')}`;
      const sms = {
        provider: SMS_AGENT_PROVIDER,
        providerMessageId,
        from,
        body: body.content,
        receivedAt,
        ...(body.conversation_id ? { conversationId: body.conversation_id } : {}),
        ...(body.tenant_id ? { tenantId: body.tenant_id } : {}),
      };
      // An accepted text answers with the link its listener made (none when the listener failed and
      // the text waits for redelivery); a repeat reads the stored row's.
      const { outcome, link } = await inTransaction(db, async (tx) => {
        const taken = await core.peers.sms.inbox.receive(tx, sms, now);
        if (taken.accepted) return { outcome: taken, link: taken.link };
        const row = await findByProviderId(tx, SMS_AGENT_PROVIDER, providerMessageId);
        return { outcome: taken, link: row };
      });
      core.wakeWorker();
      const answer = {
        conversation_id: link?.conversationId ?? body.conversation_id ?? null,
        workflow_id: link?.workflowId ? publicWorkflowId(link.workflowId) : null,
        timestamp: now.toISOString(),
      };
      return outcome.accepted
        ? c.json({ status: 'processed' as const, ...answer }, 202)
        : c.json({ status: 'duplicate' as const, ...answer }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/orchestrate/workflow/{conversation_id}/status',
      tags,
      summary: 'The latest workflow of a conversation (seed shape)',
      security: bearerSecurity,
      middleware: [readers] as const,
      request: { params: z.object({ conversation_id: z.string().min(1).max(200) }) },
      responses: {
        200: {
          description: 'The latest turn',
          content: { 'application/json': { schema: WorkflowStatusView } },
        },
        ...problemResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { conversation_id } = c.req.valid('param');
      const workflow = await latestWorkflow(db, conversation_id);
      if (!workflow) throw new HttpProblem(404, `No conversation ${conversation_id}.`);
      return c.json(workflowStatusView(workflow), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/orchestrate/workflows/{workflow_id}',
      tags,
      summary: 'One collections workflow with its audit trail',
      security: bearerSecurity,
      middleware: [readers] as const,
      request: { params: z.object({ workflow_id: z.string().min(1).max(200) }) },
      responses: {
        200: {
          description: 'The workflow',
          content: {
            'application/json': {
              schema: WorkflowStatusView.extend({
                texts: z.array(z.object({ body: z.string(), at: z.string() })),
                draft: z.string().nullable(),
                reply: z.string().nullable(),
                audit_trail: z.array(
                  z.object({
                    from: z.string().nullable(),
                    to: z.string(),
                    reason: z.string(),
                    actor: z.string(),
                    details: z.record(z.string(), z.unknown()),
                    at: z.string(),
                  }),
                ),
              }),
            },
          },
        },
        ...problemResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const workflow = await workflowOr404(c.req.valid('param').workflow_id);
      const trail = await core.workflows.auditTrail(db, workflow.id);
      const data = readTurn(workflow.data);
      return c.json(
        {
          ...workflowStatusView(workflow),
          texts: data.texts.map((t) => ({ body: t.body, at: t.at })),
          draft: data.draft?.text ?? null,
          reply: data.reply?.text ?? null,
          audit_trail: trail.map((a) => ({
            from: a.fromState,
            to: a.toState,
            reason: a.reason,
            actor: a.actor,
            details: a.details,
            at: a.at.toISOString(),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/conversations/{conversation_id}/messages',
      tags,
      summary: 'Every text in and out of a conversation, with delivery state',
      security: bearerSecurity,
      middleware: [readers] as const,
      request: { params: z.object({ conversation_id: z.string().min(1).max(200) }) },
      responses: {
        200: {
          description: 'Oldest first',
          content: {
            'application/json': {
              schema: z.object({
                conversation_id: z.string(),
                messages: z.array(MessageView),
                count: z.number(),
              }),
            },
          },
        },
        ...problemResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { conversation_id } = c.req.valid('param');
      if (!(await getConversation(db, conversation_id)))
        throw new HttpProblem(404, `No conversation ${conversation_id}.`);
      const rows = await db
        .select()
        .from(smsMessages)
        .where(eq(smsMessages.conversationId, conversation_id))
        .orderBy(asc(smsMessages.createdAt), asc(smsMessages.id))
        .limit(1000);
      const messages = rows.map((r) => ({
        id: r.id,
        direction: r.direction as 'in' | 'out',
        body: r.body,
        state: r.state,
        provider: r.provider,
        error_code: r.errorCode,
        workflow_id: r.workflowId ? publicWorkflowId(r.workflowId) : null,
        created_at: r.createdAt.toISOString(),
        updated_at: r.updatedAt.toISOString(),
      }));
      return c.json({ conversation_id, messages, count: messages.length }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrate/approve-response',
      tags,
      summary: "A manager's decision on a queued draft: approve, modify or reject",
      description:
        'The first decision wins; a second gets 409. An item made obsolete by a newer tenant text, an opt-out or an ' +
        'escalation gets 409 with the reason. The manager is the token; manager_id is kept as a note.',
      security: bearerSecurity,
      middleware: [deciders] as const,
      request: { body: { content: { 'application/json': { schema: ApproveBody } }, required: true } },
      responses: {
        200: {
          description: 'Decided',
          content: {
            'application/json': {
              schema: z.object({
                success: z.boolean(),
                message: z.string(),
                action: z.string(),
                status: z.string(),
                workflow_status: z.string(),
                scheduled_for: z.string().nullable(),
                processed_at: z.string(),
              }),
            },
          },
        },
        ...problemResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const result = await inTransaction(db, (tx) =>
        runner.decideApproval(tx, {
          responseQueueId: body.response_queue_id,
          action: body.action,
          approvedText: body.approved_text,
          manager: principal.name,
          claimedManagerId: body.manager_id,
          notes: body.notes,
        }),
      ).catch(conflict);
      core.wakeWorker();
      const view = workflowStatusView(result.workflow);
      const message =
        body.action === 'reject'
          ? 'Response rejected; nothing was sent'
          : view.status === 'scheduled'
            ? `Response approved; held until ${view.metadata.scheduled_for} (allowed hours where the tenant lives)`
            : view.status === 'opted_out'
              ? 'The tenant has opted out; nothing was sent'
              : 'Response approved and queued for sending';
      return c.json(
        {
          success: true,
          message,
          action: body.action,
          status: result.approval.status,
          workflow_status: view.status,
          scheduled_for: view.metadata.scheduled_for,
          processed_at: core.clock.now().toISOString(),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/orchestrate/approvals',
      tags,
      summary: 'The approval queue',
      security: bearerSecurity,
      middleware: [readers] as const,
      request: {
        query: z.object({
          status: z.enum(['pending', 'approved', 'modified', 'rejected', 'obsolete']).default('pending'),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: {
        200: {
          description: 'Oldest first for pending, newest first otherwise',
          content: {
            'application/json': { schema: z.object({ approvals: z.array(ApprovalView), count: z.number() }) },
          },
        },
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { status, limit } = c.req.valid('query');
      const rows = await db
        .select()
        .from(collectionsApprovals)
        .where(eq(collectionsApprovals.status, status))
        .orderBy(
          status === 'pending' ? asc(collectionsApprovals.createdAt) : desc(collectionsApprovals.createdAt),
        )
        .limit(limit);
      return c.json({ approvals: rows.map(approvalView), count: rows.length }, 200);
    },
  );

  const escalateRoute = (path: string, summary: string, seedStatus: string) =>
    app.openapi(
      createRoute({
        method: 'post',
        path,
        tags,
        summary,
        security: bearerSecurity,
        middleware: [requireRole('manager', 'service')] as const,
        request: { body: { content: { 'application/json': { schema: EscalateBody } }, required: true } },
        responses: {
          200: {
            description: 'Escalated (a repeat of an open escalation of the same type returns it)',
            content: {
              'application/json': {
                schema: z.object({
                  success: z.boolean(),
                  escalation_id: z.string(),
                  conversation_id: z.string(),
                  workflow_id: z.string().nullable(),
                  status: z.string(),
                  escalation_type: z.string(),
                  severity: z.string(),
                  escalated_at: z.string(),
                  assigned_to: z.string(),
                  priority: z.string(),
                  expected_resolution_time: z.string(),
                }),
              },
            },
          },
          ...problemResponses(400, 401, 403, 404, 422),
        },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const principal = c.get('principal');
        if (!(await getConversation(db, body.conversation_id))) {
          throw new HttpProblem(404, `No conversation ${body.conversation_id}.`);
        }
        let workflowId: string | undefined;
        if (body.workflow_id) {
          const workflow = await workflowOr404(body.workflow_id);
          if (workflow.subjectKey !== body.conversation_id) {
            throw new HttpProblem(422, 'workflow_id does not belong to conversation_id.');
          }
          workflowId = workflow.id;
        }
        const { escalation } = await inTransaction(db, (tx) =>
          openEscalation(tx, escalationDeps, {
            conversationId: body.conversation_id,
            workflowId,
            type: body.escalation_type,
            reason: body.reason,
            severity: body.severity,
            autoDetected: body.auto_detected,
            escalatedBy: body.escalated_by ? `${principal.name} (for ${body.escalated_by})` : principal.name,
            assignedTo: body.assigned_to,
            metadata: body.metadata,
            now: core.clock.now(),
          }),
        );
        core.wakeWorker();
        const view = escalationView(escalation);
        return c.json(
          {
            success: true,
            escalation_id: view.escalation_id,
            conversation_id: view.conversation_id,
            workflow_id: view.workflow_id,
            status: seedStatus,
            escalation_type: view.escalation_type,
            severity: view.severity,
            escalated_at: view.escalated_at,
            assigned_to: view.assigned_to,
            priority: view.severity,
            expected_resolution_time: view.expected_resolution_time,
          },
          200,
        );
      },
    );
  escalateRoute('/orchestrate/escalate', 'Escalate a conversation to a person (seed)', 'escalated_processed');
  escalateRoute('/escalations/trigger', 'Trigger an escalation (seed)', 'escalation_created');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/escalations',
      tags,
      summary: 'Escalations, filtered',
      security: bearerSecurity,
      middleware: [readers] as const,
      request: {
        query: z.object({
          status: z.enum(['open', 'resolved']).optional(),
          escalation_type: z.string().max(60).optional(),
          severity: Severity.optional(),
          assigned_to: z.string().max(200).optional(),
          conversation_id: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
      responses: {
        200: {
          description: 'Newest first',
          content: {
            'application/json': {
              schema: z.object({ escalations: z.array(EscalationView), count: z.number() }),
            },
          },
        },
        ...problemResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const where: SQL[] = [];
      if (q.status) where.push(eq(collectionsEscalations.status, q.status));
      if (q.escalation_type) where.push(eq(collectionsEscalations.type, q.escalation_type));
      if (q.severity) where.push(eq(collectionsEscalations.severity, q.severity));
      if (q.assigned_to) where.push(eq(collectionsEscalations.assignedTo, q.assigned_to));
      if (q.conversation_id) where.push(eq(collectionsEscalations.conversationId, q.conversation_id));
      const rows = await db
        .select()
        .from(collectionsEscalations)
        .where(and(...where))
        .orderBy(desc(collectionsEscalations.createdAt))
        .limit(q.limit);
      return c.json({ escalations: rows.map(escalationView), count: rows.length }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/escalations/{escalation_id}/resolve',
      tags,
      summary: 'Resolve an escalation; the conversation takes automatic replies again when none is left open',
      security: bearerSecurity,
      middleware: [deciders] as const,
      request: {
        params: z.object({ escalation_id: z.string().min(1).max(100) }),
        body: {
          content: {
            'application/json': { schema: z.object({ resolution: z.string().max(2000).optional() }) },
          },
          required: false,
        },
      },
      responses: {
        200: { description: 'Resolved', content: { 'application/json': { schema: EscalationView } } },
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { escalation_id } = c.req.valid('param');
      const body = (c.req.header('content-type') ?? '').includes('json') ? c.req.valid('json') : {};
      const principal = c.get('principal');
      const result = await inTransaction(db, (tx) =>
        resolveEscalation(
          tx,
          { workflows: core.workflows },
          {
            escalationId: escalation_id,
            resolvedBy: principal.name,
            resolution: body.resolution,
            now: core.clock.now(),
          },
        ),
      );
      if (!result.escalation) throw new HttpProblem(404, `No escalation ${escalation_id}.`);
      if (result.alreadyResolved) {
        throw new HttpProblem(
          409,
          `Escalation ${escalation_id} was already resolved by ${result.escalation.resolvedBy ?? 'someone'}.`,
        );
      }
      return c.json(escalationView(result.escalation), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/escalations/{escalation_id}/assign',
      tags,
      summary: 'Assign an open escalation to a person or team',
      security: bearerSecurity,
      middleware: [deciders] as const,
      request: {
        params: z.object({ escalation_id: z.string().min(1).max(100) }),
        body: {
          content: {
            'application/json': { schema: z.object({ assigned_to: z.string().trim().min(1).max(200) }) },
          },
          required: true,
        },
      },
      responses: {
        200: { description: 'Assigned', content: { 'application/json': { schema: EscalationView } } },
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { escalation_id } = c.req.valid('param');
      const { assigned_to } = c.req.valid('json');
      const [row] = await db
        .update(collectionsEscalations)
        .set({ assignedTo: assigned_to })
        .where(and(eq(collectionsEscalations.id, escalation_id), eq(collectionsEscalations.status, 'open')))
        .returning();
      if (row) return c.json(escalationView(row), 200);
      const [existing] = await db
        .select()
        .from(collectionsEscalations)
        .where(eq(collectionsEscalations.id, escalation_id));
      if (!existing) throw new HttpProblem(404, `No escalation ${escalation_id}.`);
      throw new HttpProblem(409, `Escalation ${escalation_id} is resolved.`);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/orchestrate/retry/{workflow_id}',
      tags,
      summary: 'Retry a failed workflow from the step that failed (or an escalated one with force_retry)',
      security: bearerSecurity,
      middleware: [deciders] as const,
      request: {
        params: z.object({ workflow_id: z.string().min(1).max(200) }),
        body: { content: { 'application/json': { schema: RetryBody } }, required: true },
      },
      responses: {
        200: {
          description: 'Retry started',
          content: {
            'application/json': {
              schema: z.object({
                success: z.boolean(),
                workflow_id: z.string(),
                status: z.string(),
                workflow_status: z.string(),
                retry_attempted_at: z.string(),
                message: z.string(),
                retry_id: z.string(),
              }),
            },
          },
        },
        ...problemResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const workflow = await workflowOr404(c.req.valid('param').workflow_id);
      const principal = c.get('principal');
      const updated = await inTransaction(db, async (tx) => {
        const current = await core.workflows.get(tx, workflow.id);
        return runner.retry(tx, current!, {
          forceRetry: body.force_retry,
          actor: principal.name,
          reason: body.reason,
        });
      }).catch(conflict);
      core.wakeWorker();
      return c.json(
        {
          success: true,
          workflow_id: publicWorkflowId(updated.id),
          status: 'retry_initiated',
          workflow_status: updated.state,
          retry_attempted_at: core.clock.now().toISOString(),
          message: 'Workflow retry initiated successfully. Monitoring progress...',
          retry_id: `retry_${updated.id.slice(0, 8)}_${updated.version}`,
        },
        200,
      );
    },
  );
}
