import { z } from '@hono/zod-openapi';
import type { Workflow } from '../core/workflow/workflow-store.js';
import type { Approval, Escalation } from './collections-store.js';
import { publicWorkflowId } from './collections-store.js';
import { readTurn } from './turn.js';

/** The JSON the collections endpoints answer with, in the seed's field names. */

export const WorkflowStatusView = z
  .object({
    conversation_id: z.string(),
    workflow_id: z.string(),
    status: z.string(),
    current_step: z.string(),
    steps_completed: z.array(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    metadata: z.object({
      processing_time_seconds: z.number(),
      ai_confidence: z.number().nullable(),
      auto_approved: z.boolean(),
      decision: z.string().nullable(),
      rule: z.string().nullable(),
      intent: z.string().nullable(),
      guard_flags: z.array(z.string()),
      response_queue_id: z.string().nullable(),
      escalation_id: z.string().nullable(),
      payment_plan_id: z.string().nullable(),
      scheduled_for: z.string().nullable(),
      failed_step: z.string().nullable(),
      last_error: z.string().nullable(),
    }),
  })
  .openapi('CollectionsWorkflowStatus');

export function workflowStatusView(workflow: Workflow): z.infer<typeof WorkflowStatusView> {
  const turn = readTurn(workflow.data);
  const ended = turn.completed_at ? new Date(turn.completed_at) : workflow.updatedAt;
  return {
    conversation_id: turn.conversationId,
    workflow_id: publicWorkflowId(workflow.id),
    status: workflow.state,
    current_step: turn.step,
    steps_completed: turn.steps_completed,
    created_at: workflow.createdAt.toISOString(),
    updated_at: workflow.updatedAt.toISOString(),
    metadata: {
      processing_time_seconds: Math.max(
        0,
        Math.round((ended.getTime() - workflow.createdAt.getTime()) / 1000),
      ),
      ai_confidence: turn.draft?.confidence ?? null,
      auto_approved: turn.auto_approved,
      decision: turn.decision,
      rule: turn.rule,
      intent: turn.draft?.intent ?? null,
      guard_flags: turn.guard_flags,
      response_queue_id: turn.response_queue_id,
      escalation_id: turn.escalation_id,
      payment_plan_id: turn.payment_plan_id,
      scheduled_for: turn.reply?.notBefore ?? null,
      failed_step: turn.failed_step,
      last_error: turn.last_error,
    },
  };
}

export const ApprovalView = z
  .object({
    response_queue_id: z.string(),
    workflow_id: z.string(),
    conversation_id: z.string(),
    tenant_id: z.string().nullable(),
    tenant_text: z.string(),
    draft: z.string(),
    confidence: z.number(),
    intent: z.string(),
    guard_flags: z.array(z.string()),
    rule: z.string(),
    status: z.string(),
    obsolete_reason: z.string().nullable(),
    sent_text: z.string().nullable(),
    decided_by: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    decided_at: z.string().nullable(),
  })
  .openapi('CollectionsApproval');

export function approvalView(row: Approval): z.infer<typeof ApprovalView> {
  return {
    response_queue_id: row.id,
    workflow_id: publicWorkflowId(row.workflowId),
    conversation_id: row.conversationId,
    tenant_id: row.tenantId,
    tenant_text: row.tenantText,
    draft: row.draft,
    confidence: row.confidence,
    intent: row.intent,
    guard_flags: row.flags,
    rule: row.rule,
    status: row.status,
    obsolete_reason: row.obsoleteReason,
    sent_text: row.sentText,
    decided_by: row.decidedBy,
    notes: row.notes,
    created_at: row.createdAt.toISOString(),
    decided_at: row.decidedAt?.toISOString() ?? null,
  };
}

export const EscalationView = z
  .object({
    escalation_id: z.string(),
    conversation_id: z.string(),
    workflow_id: z.string().nullable(),
    tenant_id: z.string().nullable(),
    escalation_type: z.string(),
    reason: z.string(),
    severity: z.string(),
    auto_detected: z.boolean(),
    escalated_by: z.string(),
    assigned_to: z.string(),
    status: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    escalated_at: z.string(),
    expected_resolution_time: z.string(),
    resolved_at: z.string().nullable(),
    resolved_by: z.string().nullable(),
    resolution: z.string().nullable(),
  })
  .openapi('CollectionsEscalation');

export function escalationView(row: Escalation): z.infer<typeof EscalationView> {
  return {
    escalation_id: row.id,
    conversation_id: row.conversationId,
    workflow_id: row.workflowId ? publicWorkflowId(row.workflowId) : null,
    tenant_id: row.tenantId,
    escalation_type: row.type,
    reason: row.reason,
    severity: row.severity,
    auto_detected: row.autoDetected,
    escalated_by: row.escalatedBy,
    assigned_to: row.assignedTo,
    status: row.status,
    metadata: row.metadata,
    escalated_at: row.createdAt.toISOString(),
    expected_resolution_time: row.expectedResolutionAt.toISOString(),
    resolved_at: row.resolvedAt?.toISOString() ?? null,
    resolved_by: row.resolvedBy,
    resolution: row.resolution,
  };
}
