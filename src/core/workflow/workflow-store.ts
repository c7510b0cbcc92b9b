import { asc, eq, getTableColumns } from 'drizzle-orm';
import type { Executor } from '../db/database.js';
import { columnList, fixedStatement, rowReader } from '../db/fixed-statement.js';
import { auditLog, workflows } from '../db/schema.js';
import { jobRows, jobRowsJson, type JobSpec } from '../jobs/job-queue.js';
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

function followUps(list: readonly FollowUp[] | undefined, workflowId: string, version: number): JobSpec[] {
  return (list ?? []).map(({ bound, ...spec }) =>
    bound ? { ...spec, workflow: { id: workflowId, version } } : spec,
  );
}

/*
 * Round trips are what a workflow step costs (docs/benchmarks.md), so the writes are packed
 * into data-modifying CTEs. A statement is atomic on its own, PostgreSQL runs every CTE of it
 * whether or not the main query reads it, and the audit row's foreign key is checked when the
 * statement ends, after the workflow row exists.
 */

const workflowColumns = getTableColumns(workflows);
const readWorkflow = rowReader<Workflow>(workflowColumns);

const selectWorkflow = fixedStatement(
  'countersign_workflow_get',
  `select ${columnList(workflowColumns)} from "workflows" where "id" = $1`,
  readWorkflow,
);

/**
 * The follow-up jobs of a created or changed workflow, inserted from the CTE `source` (no row
 * there, no jobs): `jobs` is the parameter holding jobRowsJson, `now` the one holding the time.
 */
function queueJobsFrom(source: string, jobs: string, now: string): string {
  return `insert into "jobs" ("kind", "payload", "state", "run_at", "max_attempts", "singleton_key",
                         "workflow_id", "workflow_version", "correlation_id", "created_at", "updated_at")
     select j.kind, j.payload, 'queued', j.run_at, j.max_attempts, j.singleton_key,
            j.workflow_id, j.workflow_version, j.correlation_id, ${now}::timestamptz, ${now}::timestamptz
       from ${source}
      cross join jsonb_to_recordset(${jobs}::jsonb) as j(kind text, payload jsonb, run_at timestamptz,
            max_attempts integer, singleton_key text, workflow_id uuid, workflow_version integer,
            correlation_id text)
     on conflict do nothing`;
}

/*
 * A new workflow is one statement too: the row (version 1), its audit row and its follow-up jobs,
 * inserted from the created row. The jobs come as one JSON array (jobRowsJson), so the text is the
 * same whatever their number; only the partial unique index on singleton_key can conflict.
 */
const createStatement = fixedStatement(
  'countersign_workflow_create',
  `with created as (
     insert into "workflows" ("id", "kind", "subject_key", "state", "previous_state", "data", "version",
                              "created_at", "updated_at")
     values ($1::uuid, $2, $3, $4, null, $5::jsonb, 1, $6::timestamptz, $6::timestamptz)
     returning ${columnList(workflowColumns)}
   ), audited as (
     insert into "audit_log" ("workflow_id", "from_state", "to_state", "reason", "actor", "correlation_id", "details", "at")
     select "id", null, "state", $7, $8, $9, $10::jsonb, $6::timestamptz from created
   ), queued as (
     ${queueJobsFrom('created', '$11', '$6')}
   )
   select ${columnList(workflowColumns)} from created`,
  readWorkflow,
);

export async function createWorkflow(executor: Executor, input: CreateWorkflow): Promise<Workflow> {
  // One statement, so no BEGIN/COMMIT of its own. Bound jobs are bound to version 1.
  const { audit } = input;
  const specs = followUps(input.jobs, input.id, 1);
  const [row] = await createStatement(executor, [
    input.id,
    input.kind,
    input.subjectKey,
    input.state,
    JSON.stringify(input.data ?? {}),
    input.now.toISOString(),
    audit.reason,
    audit.actor,
    audit.correlationId ?? currentCorrelationId() ?? null,
    JSON.stringify(audit.details ?? {}),
    jobRowsJson(jobRows(specs, input.now)),
  ]);
  return row as Workflow;
}

/*
 * A transition is one statement: the versioned UPDATE, its audit row and its follow-up jobs. The
 * audit row and the jobs are inserted from the updated row, so a stale version (no row updated)
 * writes nothing, as before, and the statement is atomic on its own (no BEGIN/COMMIT needed when
 * the caller has no transaction). In an UPDATE, "state" on the right-hand side is the row's old
 * value. $4 null keeps the data. The jobs come as one JSON array (jobRowsJson), so the text is the
 * same whatever their number; only the partial unique index on singleton_key can conflict.
 */
const transitionStatement = fixedStatement(
  'countersign_workflow_transition',
  `with updated as (
     update "workflows"
        set "state" = $3, "previous_state" = "state", "data" = coalesce($4::jsonb, "data"),
            "version" = "version" + 1, "updated_at" = $5::timestamptz
      where "id" = $1::uuid and "version" = $2::integer
     returning ${columnList(workflowColumns)}
   ), audited as (
     insert into "audit_log" ("workflow_id", "from_state", "to_state", "reason", "actor", "correlation_id", "details", "at")
     select "id", "previous_state", "state", $6, $7, $8, $9::jsonb, $5::timestamptz from updated
   ), queued as (
     ${queueJobsFrom('updated', '$10', '$5')}
   )
   select ${columnList(workflowColumns)} from updated`,
  readWorkflow,
);

export async function transition(executor: Executor, input: Transition): Promise<Workflow> {
  const { audit } = input;
  // Bound jobs are bound to the version this change produces.
  const specs = followUps(input.jobs, input.workflowId, input.expectedVersion + 1);
  const [updated] = await transitionStatement(executor, [
    input.workflowId,
    input.expectedVersion,
    input.to,
    input.data === undefined ? null : JSON.stringify(input.data),
    input.now.toISOString(),
    audit.reason,
    audit.actor,
    audit.correlationId ?? currentCorrelationId() ?? null,
    JSON.stringify(audit.details ?? {}),
    jobRowsJson(jobRows(specs, input.now)),
  ]);
  if (!updated) {
    const exists = await getWorkflow(executor, input.workflowId);
    if (!exists) throw new WorkflowNotFoundError(input.workflowId);
    throw new StaleVersionError(input.workflowId, input.expectedVersion);
  }
  return updated;
}

export async function getWorkflow(executor: Executor, id: string): Promise<Workflow | undefined> {
  const [row] = await selectWorkflow(executor, [id]);
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
