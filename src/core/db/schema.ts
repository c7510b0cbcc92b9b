import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The one schema, applied by the same migrations to PGlite and PostgreSQL.
 * Domain tables (collections, email) are added by their own issues in this file's siblings.
 */

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const workflows = pgTable(
  'workflows',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    subjectKey: text('subject_key').notNull(),
    state: text('state').notNull(),
    previousState: text('previous_state'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    version: integer('version').notNull().default(1),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    index('workflows_kind_subject_idx').on(t.kind, t.subjectKey, t.createdAt),
    index('workflows_kind_state_idx').on(t.kind, t.state),
    // Windows of time by kind: the collections metrics (docs/collections-metrics.md).
    index('workflows_kind_created_idx').on(t.kind, t.createdAt),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workflowId: uuid('workflow_id')
      .notNull()
      .references(() => workflows.id),
    fromState: text('from_state'),
    toState: text('to_state').notNull(),
    reason: text('reason').notNull(),
    actor: text('actor').notNull(),
    correlationId: text('correlation_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    at: at('at').notNull(),
  },
  (t) => [index('audit_log_workflow_idx').on(t.workflowId, t.id)],
);

export const jobs = pgTable(
  'jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    /** queued | running | done | failed | skipped */
    state: text('state').notNull().default('queued'),
    runAt: at('run_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Null: the worker's default (MAX_RETRY_ATTEMPTS + 1). */
    maxAttempts: integer('max_attempts'),
    /** When set, the job is skipped if the workflow's version is no longer this one. */
    workflowId: uuid('workflow_id'),
    workflowVersion: integer('workflow_version'),
    /** At most one unfinished job per key (timers that replace each other, singletons). */
    singletonKey: text('singleton_key'),
    leaseToken: uuid('lease_token'),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: at('lease_expires_at'),
    lastError: text('last_error'),
    correlationId: text('correlation_id'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
    finishedAt: at('finished_at'),
  },
  (t) => [
    index('jobs_claim_idx')
      .on(t.kind, t.runAt)
      .where(sql`state = 'queued'`),
    index('jobs_lease_idx')
      .on(t.kind, t.leaseExpiresAt)
      .where(sql`state = 'running'`),
    index('jobs_workflow_idx').on(t.workflowId),
    uniqueIndex('jobs_singleton_idx')
      .on(t.singletonKey)
      .where(sql`state in ('queued', 'running')`),
  ],
);

export const inboundEvents = pgTable(
  'inbound_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    source: text('source').notNull(),
    naturalKey: text('natural_key').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    workflowId: uuid('workflow_id'),
    correlationId: text('correlation_id'),
    receivedAt: at('received_at').notNull(),
  },
  (t) => [uniqueIndex('inbound_events_natural_key_idx').on(t.source, t.naturalKey)],
);

export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    channel: text('channel').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    recipient: text('recipient').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    /** pending | sending | sent | failed */
    state: text('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** While `sending`: the attempt in progress owns the row until then (a crash lets it expire). */
    leaseExpiresAt: at('lease_expires_at'),
    providerId: text('provider_id'),
    lastError: text('last_error'),
    /**
     * Failed after an attempt whose outcome is unknown (a timeout after the provider may have
     * taken it): a re-arm must tell the next attempt maybeSent, or it could send twice.
     */
    outcomeUnknown: boolean('outcome_unknown').notNull().default(false),
    workflowId: uuid('workflow_id'),
    correlationId: text('correlation_id'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
    sentAt: at('sent_at'),
  },
  (t) => [
    uniqueIndex('outbox_idempotency_key_idx').on(t.idempotencyKey),
    index('outbox_workflow_idx').on(t.workflowId),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    /** running | done */
    state: text('state').notNull(),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    createdAt: at('created_at').notNull(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index('idempotency_keys_expires_idx').on(t.expiresAt)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    /** SHA-256 of the token; the token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull(),
    createdAt: at('created_at').notNull(),
    lastUsedAt: at('last_used_at'),
    revokedAt: at('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_idx').on(t.tokenHash)],
);

export * from './peer-tables.js';
export * from './collections-tables.js';
export * from './dashboard-tables.js';
