import { and, eq } from 'drizzle-orm';
import type { Executor } from '../db/database.js';
import { fixedStatement, rowReader } from '../db/fixed-statement.js';
import { inboundEvents } from '../db/schema.js';
import { currentCorrelationId } from '../runtime.js';

/**
 * Every inbound event is claimed once by its natural key (Twilio MessageSid, gateway message id,
 * email Message-ID, …) under a unique index: concurrent deliveries of the same event race on the
 * insert, exactly one wins, the others see the winner's row.
 */
export type InboundClaim =
  { claimed: true; id: number } | { claimed: false; id: number; workflowId: string | null };

// Every inbound text and email runs these: fixed statements, not built queries (docs/performance.md).
const insertInboundEvent = fixedStatement(
  'countersign_inbound_claim',
  `insert into "inbound_events" ("source", "natural_key", "payload", "workflow_id", "correlation_id", "received_at")
   values ($1, $2, $3::jsonb, $4::uuid, $5, $6::timestamptz)
   on conflict do nothing
   returning "id"`,
  rowReader<{ id: number }>({ id: inboundEvents.id }),
);

const setInboundWorkflow = fixedStatement(
  'countersign_inbound_attach',
  'update "inbound_events" set "workflow_id" = $2::uuid where "id" = $1',
  () => undefined,
);

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
  const [inserted] = await insertInboundEvent(executor, [
    input.source,
    input.naturalKey,
    JSON.stringify(input.payload),
    input.workflowId ?? null,
    currentCorrelationId() ?? null,
    input.now.toISOString(),
  ]);
  if (inserted) return { claimed: true, id: inserted.id };
  // A repeat (rare): built as before.
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
  await setInboundWorkflow(executor, [id, workflowId]);
}
