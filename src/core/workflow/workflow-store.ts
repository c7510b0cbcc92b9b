import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor, Tx } from '../db/database.js';
import { inTransaction } from '../db/transaction.js';
import { auditLog, workflows } from '../db/schema.js';
import { enqueueJobs, type JobSpec } from '../jobs/job-queue.js';
import { currentCorrelationId } from '../runtime.js';
import { StaleVersionError, WorkflowNotFoundError } from './errors.js';

/**
 * The one way workflow state changes: the new state, its audit row and its follow-up jobs are
 * written in one transaction, and a write made on a stale read is refused.
 * The state machines themselves are pure functions in the domain folders; this store only
 * persists what they decided.
 */

export type Workflow = typeof workflows.$inferSelect;
export type AuditEntry = typeof auditLog.$inferSelect;

export type Audit = {
  reason: string;
  actor: string;
  details?: Record<string, unknown>;
  /** Defaults to the request's or job's correlation id. */
  correlationId?: string;
};

/** A follow-up job; `bound` ties it to the version this change produces (skipped if it moves on). */
export type FollowUp = Omit<JobSpec, 'workflow'> & { bound?: boolean };

export type CreateWorkflow = {
  id: string;
  kind: string;
  subjectKey: string;
  state: string;
  data?: Record<string, unknown>;
  audit: Audit;
  jobs?: readonly FollowUp[];
  now: Date;
};

export type Transition = {
  workflowId: string;
  expectedVersion: number;
  to: string;
  /** Replaces data when given (merge in the decision, not here). */
  data?: Record<string, unknown>;
  audit: Audit;
  jobs?: readonly FollowUp[];
  now: Date;
};

function followUps(jobs: readonly FollowUp[] | undefined, workflowId: string, version: number): JobSpec[] {
  return (jobs ?? []).map(({ bound, ...spec }) =>
    bound ? { ...spec, workflow: { id: workflowId, version } } : spec,
  );
}

async function writeAudit(
  tx: Tx,
  workflowId: string,
  from: string | null,
  to: string,
  audit: Audit,
  now: Date,
): Promise<void> {
  await tx.insert(auditLog).values({
    workflowId,
    fromState: from,
    toState: to,
    reason: audit.reason,
    actor: audit.actor,
    correlationId: audit.correlationId ?? currentCorrelationId() ?? null,
    details: audit.details ?? {},
    at: now,
  });
}

export function createWorkflow(executor: Executor, input: CreateWorkflow): Promise<Workflow> {
  return inTransaction(executor, async (tx) => {
    const [created] = await tx
      .insert(workflows)
      .values({
        id: input.id,
        kind: input.kind,
        subjectKey: input.subjectKey,
        state: input.state,
        previousState: null,
        data: input.data ?? {},
        version: 1,
        createdAt: input.now,
        updatedAt: input.now,
      })
      .returning();
    await writeAudit(tx, input.id, null, input.state, input.audit, input.now);
    await enqueueJobs(tx, followUps(input.jobs, input.id, 1), input.now);
    return created as Workflow;
  });
}

export function transition(executor: Executor, input: Transition): Promise<Workflow> {
  return inTransaction(executor, async (tx) => {
    // One statement: in an UPDATE, "state" on the right-hand side is the row's old value.
    const [updated] = await tx
      .update(workflows)
      .set({
        state: input.to,
        previousState: sql`${workflows.state}`,
        ...(input.data === undefined ? {} : { data: input.data }),
        version: input.expectedVersion + 1,
        updatedAt: input.now,
      })
      .where(and(eq(workflows.id, input.workflowId), eq(workflows.version, input.expectedVersion)))
      .returning();
    if (!updated) {
      const exists = await getWorkflow(tx, input.workflowId);
      if (!exists) throw new WorkflowNotFoundError(input.workflowId);
      throw new StaleVersionError(input.workflowId, input.expectedVersion);
    }
    await writeAudit(tx, input.workflowId, updated.previousState, input.to, input.audit, input.now);
    await enqueueJobs(tx, followUps(input.jobs, input.workflowId, updated.version), input.now);
    return updated;
  });
}

export async function getWorkflow(executor: Executor, id: string): Promise<Workflow | undefined> {
  const [row] = await executor.select().from(workflows).where(eq(workflows.id, id));
  return row;
}

export async function getAuditTrail(executor: Executor, workflowId: string): Promise<AuditEntry[]> {
  return executor
    .select()
    .from(auditLog)
    .where(eq(auditLog.workflowId, workflowId))
    .orderBy(asc(auditLog.id));
}

/**
 * The store as domains receive it: the functions above, plus a report of every committed-to
 * change to metrics. Counting happens after the write succeeds; a caller's outer transaction
 * that later rolls back still counts (the metric is "transitions written", not "committed").
 */
export class WorkflowStore {
  constructor(private readonly onTransition: (kind: string, to: string) => void = () => undefined) {}

  async create(executor: Executor, input: CreateWorkflow): Promise<Workflow> {
    const created = await createWorkflow(executor, input);
    this.onTransition(created.kind, created.state);
    return created;
  }

  async transition(executor: Executor, input: Transition): Promise<Workflow> {
    const updated = await transition(executor, input);
    this.onTransition(updated.kind, updated.state);
    return updated;
  }

  get(executor: Executor, id: string): Promise<Workflow | undefined> {
    return getWorkflow(executor, id);
  }

  auditTrail(executor: Executor, workflowId: string): Promise<AuditEntry[]> {
    return getAuditTrail(executor, workflowId);
  }
}
