import { and, desc, eq, lt, ne, or, type SQL } from 'drizzle-orm';
import type { Executor } from '../../core/db/database.js';
import { fixedStatement, rowReader } from '../../core/db/fixed-statement.js';
import { smsContacts, smsMessages } from '../../core/db/peer-tables.js';
import { inTransaction } from '../../core/db/transaction.js';
import { countSegments } from './segments.js';
import { TWILIO_OPTED_OUT, type DeliveryReport, type DeliveryState, type InboundSms } from './sms-port.js';

/**
 * The only file that knows the sms_messages and sms_contacts tables: every text in and out with
 * its delivery state, and the numbers that must not be texted.
 */

export type SmsMessageRow = typeof smsMessages.$inferSelect;
export type SmsMessageState = 'received' | DeliveryState;
export type OptOutReason = 'stop_word' | 'opt_in_word' | 'provider_21610' | 'manager';

/** Stored when a provider does not say which of our numbers a text reached. */
export const UNKNOWN_NUMBER = 'unknown';

// ---------------------------------------------------------------------------------------------
// Delivery state: reports arrive out of order (Twilio posts "sent" and "delivered" concurrently),
// so a state only ever moves forward. delivered, undelivered and failed are final.

const STATE_RANK: Record<SmsMessageState, number> = {
  received: 0,
  queued: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
};

/** The state after a report: the later of the two; a final state is never replaced. */
export function nextDeliveryState(current: SmsMessageState, reported: SmsMessageState): SmsMessageState {
  return STATE_RANK[reported] > STATE_RANK[current] ? reported : current;
}

function isState(value: string): value is SmsMessageState {
  return value in STATE_RANK;
}

// ---------------------------------------------------------------------------------------------
// Carrier keywords.

/** Twilio's default opt-out words (STOP and the CTIA list, OPTOUT and REVOKE included since 2025). */
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']);
const START_WORDS = new Set(['START', 'UNSTOP']);

/**
 * A carrier keyword is the whole text, one word, any case ("stop", " Stop. "), as Twilio matches
 * them; "please stop texting me" is not a keyword (the workflow's intent rules see it instead).
 *
 * YES opts back in only a number that has opted out: at Twilio it is an opt-in keyword, but for
 * everyone else "yes" is an answer ("Can you pay $50 Friday?" "Yes"), and opting in a number that
 * never opted out would change nothing anyway. So it needs the number's current state.
 */
export function optOutKeyword(
  body: string,
  context: { optedOut?: boolean } = {},
): 'stop' | 'start' | undefined {
  const word = body
    .trim()
    .replace(/[.!]+$/, '')
    .toUpperCase();
  if (STOP_WORDS.has(word)) return 'stop';
  if (START_WORDS.has(word)) return 'start';
  if (word === 'YES' && context.optedOut) return 'start';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Contacts.

// Read several times a turn (inbound, decision, send): a fixed statement, not a built query.
const selectOptedOut = fixedStatement(
  'countersign_sms_opted_out',
  'select "opted_out" from "sms_contacts" where "phone" = $1',
  (row) => row[0] === true,
);

export async function isOptedOut(executor: Executor, phone: string): Promise<boolean> {
  const [optedOut] = await selectOptedOut(executor, [phone]);
  return optedOut ?? false;
}

export async function setOptOut(
  executor: Executor,
  input: { phone: string; optedOut: boolean; reason: OptOutReason; now: Date },
): Promise<void> {
  const values = { optedOut: input.optedOut, reason: input.reason, changedAt: input.now };
  await executor
    .insert(smsContacts)
    .values({ phone: input.phone, ...values })
    .onConflictDoUpdate({ target: smsContacts.phone, set: values });
}

/**
 * Applies a STOP/START text from `phone`: returns the keyword it was, if any, and whether the
 * number is opted out now (after the keyword), which the inbox hands to its listeners so that they
 * need not read it again in the same transaction.
 */
export async function applyOptOutKeyword(
  executor: Executor,
  input: { phone: string; body: string; now: Date },
): Promise<{ keyword: 'stop' | 'start' | undefined; optedOut: boolean }> {
  const optedOut = await isOptedOut(executor, input.phone);
  const keyword = optOutKeyword(input.body, { optedOut });
  if (keyword === 'stop' && !optedOut) {
    await setOptOut(executor, { phone: input.phone, optedOut: true, reason: 'stop_word', now: input.now });
  }
  if (keyword === 'start' && optedOut) {
    await setOptOut(executor, { phone: input.phone, optedOut: false, reason: 'opt_in_word', now: input.now });
  }
  return { keyword, optedOut: keyword === 'stop' ? true : keyword === 'start' ? false : optedOut };
}

// ---------------------------------------------------------------------------------------------
// Messages.

// Every accepted inbound text runs these two: fixed statements, not built queries.
const insertInbound = fixedStatement(
  'countersign_sms_record_inbound',
  `insert into "sms_messages" ("direction", "provider", "provider_message_id", "from_number", "to_number", "body",
                               "segments", "encoding", "state", "conversation_id", "created_at", "updated_at")
   values ('in', $1, $2, $3, $4, $5, $6::integer, $7, 'received', $8, $9::timestamptz, $10::timestamptz)
   on conflict do nothing
   returning "id"`,
  rowReader<{ id: number }>({ id: smsMessages.id }),
);

const linkInbound = fixedStatement(
  'countersign_sms_link_message',
  'update "sms_messages" set "conversation_id" = $2, "workflow_id" = $3 where "id" = $1',
  () => undefined,
);

/** Stores an inbound text once per (provider, provider id); a repeat returns the first row. */
export async function recordInbound(
  executor: Executor,
  sms: InboundSms,
  now: Date,
): Promise<{ id: number; created: boolean }> {
  const { segments, encoding } = countSegments(sms.body);
  const [inserted] = await insertInbound(executor, [
    sms.provider,
    sms.providerMessageId,
    sms.from,
    sms.to ?? UNKNOWN_NUMBER,
    sms.body,
    segments,
    encoding,
    sms.conversationId ?? null,
    sms.receivedAt.toISOString(),
    now.toISOString(),
  ]);
  if (inserted) return { id: inserted.id, created: true };
  // A repeat (rare): read as before.
  const existing = await findByProviderId(executor, sms.provider, sms.providerMessageId);
  if (!existing) throw new Error('inbound text vanished after a conflicting insert');
  return { id: existing.id, created: false };
}

export type OutboundRecord = {
  provider: string;
  /** Null while the provider has not accepted the text (a refusal recorded as failed). */
  providerMessageId?: string | null;
  from: string;
  to: string;
  body: string;
  state: DeliveryState;
  errorCode?: string | null;
  idempotencyKey: string;
  conversationId?: string | null;
  workflowId?: string | null;
  now: Date;
};

/**
 * One row per outbound text (its outbox idempotency key), however often it is recorded: the
 * adapter, the channel and a retry may each record it. A repeat only fills what was missing and
 * moves the state forward, so the dev outbox's "delivered" is not turned back into "sent".
 */
export async function recordOutbound(executor: Executor, input: OutboundRecord): Promise<SmsMessageRow> {
  const { segments, encoding } = countSegments(input.body);
  const [inserted] = await executor
    .insert(smsMessages)
    .values({
      direction: 'out',
      provider: input.provider,
      providerMessageId: input.providerMessageId ?? null,
      fromNumber: input.from,
      toNumber: input.to,
      body: input.body,
      segments,
      encoding,
      state: input.state,
      errorCode: input.errorCode ?? null,
      idempotencyKey: input.idempotencyKey,
      conversationId: input.conversationId ?? null,
      workflowId: input.workflowId ?? null,
      createdAt: input.now,
      updatedAt: input.now,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted) return inserted;
  return inTransaction(executor, (tx) => mergeOutbound(tx, input));
}

async function mergeOutbound(executor: Executor, input: OutboundRecord): Promise<SmsMessageRow> {
  const [existing] = await executor
    .select()
    .from(smsMessages)
    .where(eq(smsMessages.idempotencyKey, input.idempotencyKey))
    .for('update');
  if (!existing) {
    // The insert conflicted on (provider, provider id), not on the key: that id belongs to another text.
    throw new Error(
      `${input.provider} message ${String(input.providerMessageId)} is already recorded for another text`,
    );
  }
  const state = isState(existing.state) ? nextDeliveryState(existing.state, input.state) : input.state;
  const [updated] = await executor
    .update(smsMessages)
    .set({
      providerMessageId: existing.providerMessageId ?? input.providerMessageId ?? null,
      state,
      errorCode: existing.errorCode ?? input.errorCode ?? null,
      conversationId: existing.conversationId ?? input.conversationId ?? null,
      workflowId: existing.workflowId ?? input.workflowId ?? null,
      updatedAt: input.now,
    })
    .where(eq(smsMessages.id, existing.id))
    .returning();
  if (!updated) throw new Error('outbound text vanished while being updated');
  return updated;
}

/** True when this provider id is already recorded for a text other than `idempotencyKey`. */
export async function providerIdTakenByOther(
  executor: Executor,
  input: { provider: string; providerMessageId: string; idempotencyKey: string },
): Promise<boolean> {
  const [row] = await executor
    .select({ id: smsMessages.id })
    .from(smsMessages)
    .where(
      and(
        eq(smsMessages.provider, input.provider),
        eq(smsMessages.providerMessageId, input.providerMessageId),
        or(ne(smsMessages.idempotencyKey, input.idempotencyKey), eq(smsMessages.direction, 'in')),
      ),
    );
  return row !== undefined;
}

export type DeliveryOutcome =
  { found: false } | { found: true; id: number; state: SmsMessageState; changed: boolean; optedOut: boolean };

/**
 * Applies a provider's delivery report to the text it names. A report for a text we do not know
 * (another system on the same account, or one that beat our own record) changes nothing. Error
 * 21610 marks the recipient opted out, whatever the order of reports.
 */
export async function applyDeliveryReport(
  executor: Executor,
  report: DeliveryReport,
  now: Date,
): Promise<DeliveryOutcome> {
  return inTransaction(executor, async (tx) => {
    const [row] = await tx
      .select()
      .from(smsMessages)
      .where(
        and(
          eq(smsMessages.provider, report.provider),
          eq(smsMessages.providerMessageId, report.providerMessageId),
          eq(smsMessages.direction, 'out'),
        ),
      )
      .for('update');
    if (!row) return { found: false };
    const optedOut = report.errorCode === TWILIO_OPTED_OUT;
    if (optedOut) await setOptOut(tx, { phone: row.toNumber, optedOut: true, reason: 'provider_21610', now });
    const current = isState(row.state) ? row.state : 'queued';
    const state = nextDeliveryState(current, report.state);
    if (state === current) return { found: true, id: row.id, state, changed: false, optedOut };
    await tx
      .update(smsMessages)
      .set({ state, errorCode: report.errorCode ?? row.errorCode, updatedAt: now })
      .where(eq(smsMessages.id, row.id));
    return { found: true, id: row.id, state, changed: true, optedOut };
  });
}

/** Ties an inbound text to the conversation and workflow that answer it (GET /conversations/…/messages). */
export async function linkMessage(
  executor: Executor,
  id: number,
  link: { conversationId: string; workflowId: string },
): Promise<void> {
  await linkInbound(executor, [id, link.conversationId, link.workflowId]);
}

export async function getMessage(executor: Executor, id: number): Promise<SmsMessageRow | undefined> {
  const [row] = await executor.select().from(smsMessages).where(eq(smsMessages.id, id));
  return row;
}

export async function findByProviderId(executor: Executor, provider: string, providerMessageId: string) {
  const [row] = await executor
    .select()
    .from(smsMessages)
    .where(and(eq(smsMessages.provider, provider), eq(smsMessages.providerMessageId, providerMessageId)));
  return row;
}

/** Texts newest first; `before` is the id of the last row of the previous page. */
export async function listMessages(
  executor: Executor,
  query: {
    conversationId?: string | undefined;
    phone?: string | undefined;
    limit: number;
    before?: number | undefined;
  },
): Promise<SmsMessageRow[]> {
  const filters: SQL[] = [];
  if (query.conversationId !== undefined) filters.push(eq(smsMessages.conversationId, query.conversationId));
  if (query.phone !== undefined) {
    const phoneFilter = or(eq(smsMessages.fromNumber, query.phone), eq(smsMessages.toNumber, query.phone));
    if (phoneFilter) filters.push(phoneFilter);
  }
  if (query.before !== undefined) filters.push(lt(smsMessages.id, query.before));
  return executor
    .select()
    .from(smsMessages)
    .where(and(...filters))
    .orderBy(desc(smsMessages.id))
    .limit(query.limit);
}
