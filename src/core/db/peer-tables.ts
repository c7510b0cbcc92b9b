import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * Tables the peer adapters keep: texts in and out with their delivery state, opted-out numbers,
 * source checkpoints (IMAP UID), the built-in tenant ledger, and the dashboard's notice inbox.
 */

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Every text in and out, whichever provider carried it; the dev outbox's store as well. */
export const smsMessages = pgTable(
  'sms_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** in | out */
    direction: text('direction').notNull(),
    provider: text('provider').notNull(),
    /** MessageSid, gateway id, … (null until the provider accepted an outbound text). */
    providerMessageId: text('provider_message_id'),
    fromNumber: text('from_number').notNull(),
    toNumber: text('to_number').notNull(),
    body: text('body').notNull(),
    segments: integer('segments').notNull(),
    /** gsm7 | ucs2 */
    encoding: text('encoding').notNull(),
    /** received | queued | sent | delivered | undelivered | failed */
    state: text('state').notNull(),
    errorCode: text('error_code'),
    /** The outbox idempotency key of an outbound text: one row per send, however often retried. */
    idempotencyKey: text('idempotency_key'),
    conversationId: text('conversation_id'),
    workflowId: text('workflow_id'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('sms_messages_provider_id_idx').on(t.provider, t.providerMessageId),
    uniqueIndex('sms_messages_idempotency_idx').on(t.idempotencyKey),
    index('sms_messages_conversation_idx').on(t.conversationId, t.id),
    index('sms_messages_numbers_idx').on(t.fromNumber, t.toNumber, t.id),
    index('sms_messages_direction_created_idx').on(t.direction, t.createdAt),
  ],
);

/** A number that must not be texted: STOP wording, a provider's opt-out error (Twilio 21610). */
export const smsContacts = pgTable('sms_contacts', {
  phone: text('phone').primaryKey(),
  optedOut: boolean('opted_out').notNull().default(false),
  /** stop_word | provider_21610 | manager | opt_in_word */
  reason: text('reason'),
  changedAt: at('changed_at').notNull(),
});

/** Where a source stopped: IMAP mailbox UIDVALIDITY and last UID taken. */
export const sourceCheckpoints = pgTable('source_checkpoints', {
  name: text('name').primaryKey(),
  value: jsonb('value').$type<Record<string, unknown>>().notNull(),
  updatedAt: at('updated_at').notNull(),
});

/** The built-in ledger (default when no Collections Monitor is configured). Money in cents. */
export const ledgerTenants = pgTable(
  'ledger_tenants',
  {
    tenantId: text('tenant_id').primaryKey(),
    name: text('name').notNull(),
    phone: text('phone').notNull(),
    timezone: text('timezone').notNull(),
    amountOwedCents: integer('amount_owed_cents').notNull(),
    tenantPortionCents: integer('tenant_portion_cents'),
    /** The oldest unpaid due date: days late are counted from it, so they grow with the calendar. */
    dueDate: text('due_date'),
    propertyName: text('property_name'),
    unit: text('unit'),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [uniqueIndex('ledger_tenants_phone_idx').on(t.phone)],
);

export const ledgerPayments = pgTable(
  'ledger_payments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: text('tenant_id').notNull(),
    amountCents: integer('amount_cents').notNull(),
    paidOn: text('paid_on').notNull(),
    method: text('method'),
    reference: text('reference'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    index('ledger_payments_tenant_idx').on(t.tenantId, t.paidOn),
    uniqueIndex('ledger_payments_reference_idx')
      .on(t.tenantId, t.reference)
      .where(sql`${t.reference} is not null`),
  ],
);

/** The dashboard inbox: every notice to managers, whatever other channels also carried it. */
export const notices = pgTable(
  'notices',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** approval_needed | escalation | failure */
    kind: text('kind').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    priority: text('priority').notNull(),
    metadata: jsonb('metadata').$type<Record<string, string | number | boolean | null>>().notNull(),
    recipient: text('recipient'),
    createdAt: at('created_at').notNull(),
    readAt: at('read_at'),
  },
  (t) => [
    uniqueIndex('notices_idempotency_idx').on(t.idempotencyKey),
    index('notices_created_idx').on(t.createdAt),
  ],
);
