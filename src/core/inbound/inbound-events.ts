import { and, eq } from 'drizzle-orm';
import type { Executor } from '../db/database.js';
import { inboundEvents } from '../db/schema.js';
import { currentCorrelationId } from '../runtime.js';

/**
 * Every inbound event is claimed once by its natural key (Twilio MessageSid, gateway message id,
 * email Message-ID, …) under a unique index: concurrent deliveries of the same event race on the
 * insert, exactly one wins, the others see the winner's row.
 */
export type InboundClaim =
  { claimed: true; id: number } | { claimed: false; id: number; workflowId: string | null };

export async function claimInboundEvent(
  executor: Executor,
  input: {
    source: string;
    naturalKey: string;
    payload: Record<string, unknown>;
    now: Date;
    workflowId?: string;
  },
): Promise<InboundClaim> {
  const [inserted] = await executor
    .insert(inboundEvents)
    .values({
      source: input.source,
      naturalKey: input.naturalKey,
      payload: input.payload,
      workflowId: input.workflowId ?? null,
      correlationId: currentCorrelationId() ?? null,
      receivedAt: input.now,
    })
    .onConflictDoNothing()
    .returning({ id: inboundEvents.id });
  if (inserted) return { claimed: true, id: inserted.id };
  const [existing] = await executor
    .select({ id: inboundEvents.id, workflowId: inboundEvents.workflowId })
    .from(inboundEvents)
    .where(and(eq(inboundEvents.source, input.source), eq(inboundEvents.naturalKey, input.naturalKey)));
  if (!existing) throw new Error('inbound event vanished after a conflicting insert');
  return { claimed: false, id: existing.id, workflowId: existing.workflowId };
}

export async function attachInboundToWorkflow(
  executor: Executor,
  id: number,
  workflowId: string,
): Promise<void> {
  await executor.update(inboundEvents).set({ workflowId }).where(eq(inboundEvents.id, id));
}
