import type { Executor, Tx } from '../../core/db/database.js';
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { inboundEvents } from '../../core/db/schema.js';
import { runListeners, type RedeliveryPayload } from '../../core/inbound/inbound-delivery.js';
import { claimInboundEvent } from '../../core/inbound/inbound-events.js';
import type { Clock } from '../../core/runtime.js';
import { inTransaction } from '../../core/db/transaction.js';
import { mailboxInboundSource, type EmailAddress, type EmailSink, type IncomingEmail } from './email-port.js';

/**
 * Where every incoming email lands, from IMAP or from POST /emails: claimed once by its Message-ID
 * (source 'email', so the same message read from the mailbox and also posted is still one), stored
 * as the inbound event's payload, and handed to the listeners in the same transaction. A listener
 * (the email workflow) starts its work there; with no listener the email is still stored, so
 * nothing is lost while the workflow is not wired in.
 *
 * A listener that throws rolls the claim back: the IMAP source then does not checkpoint and reads
 * the message again, the ingest API answers 500 and the sender retries.
 */

/** The default mailbox's claim source; other mailboxes claim under `email:<name>` (mailboxInboundSource). */
export const EMAIL_INBOUND_SOURCE = mailboxInboundSource(undefined);

export type EmailListener = (tx: Tx, email: IncomingEmail, inboundEventId: number) => Promise<void>;

export type StoreEmailResult = { claimed: boolean; inboundEventId: number };

export async function storeIncomingEmail(
  db: Executor,
  email: IncomingEmail,
  now: Date,
  listeners: readonly EmailListener[] = [],
  logger?: Logger,
): Promise<StoreEmailResult> {
  return inTransaction(db, async (tx) => {
    const claim = await claimInboundEvent(tx, {
      source: mailboxInboundSource(email.mailbox),
      naturalKey: email.messageId,
      payload: emailToPayload(email),
      now,
    });
    if (claim.claimed && listeners.length > 0) {
      await runListeners(
        tx,
        { channel: 'email', inboundEventId: claim.id, now, logger },
        async (savepoint) => {
          for (const listener of listeners) await listener(savepoint, email, claim.id);
        },
      );
    }
    return { claimed: claim.claimed, inboundEventId: claim.id };
  });
}

export type EmailInbox = {
  /** Registers a listener for every newly claimed email; returns a function that removes it. */
  onEmail(listener: EmailListener): () => void;
  /** Claims and stores one email (see storeIncomingEmail). */
  store(email: IncomingEmail): Promise<StoreEmailResult>;
  /** The same, as an EmailSink for an EmailSource. */
  readonly sink: EmailSink;
  /** Hands a stored email to the listeners again after they failed (the inbound.redeliver job). */
  redeliver(tx: Tx, payload: RedeliveryPayload): Promise<void>;
};

export function createEmailInbox(deps: { db: Executor; clock: Clock; logger?: Logger }): EmailInbox {
  const listeners: EmailListener[] = [];
  const store = (email: IncomingEmail) =>
    storeIncomingEmail(deps.db, email, deps.clock.now(), listeners, deps.logger);
  return {
    onEmail(listener) {
      listeners.push(listener);
      return () => {
        const index = listeners.indexOf(listener);
        if (index >= 0) listeners.splice(index, 1);
      };
    },
    store,
    sink: async (email) => {
      await store(email);
    },
    async redeliver(tx, payload) {
      const [row] = await tx.select().from(inboundEvents).where(eq(inboundEvents.id, payload.inboundEventId));
      if (!row) throw new Error(`stored email ${payload.inboundEventId} is gone`);
      const email = emailFromPayload(row.payload);
      for (const listener of listeners) await listener(tx, email, row.id);
    },
  };
}

/** The JSON kept in inbound_events.payload: IncomingEmail with its date as ISO 8601. */
export type EmailPayload = Omit<IncomingEmail, 'receivedAt' | 'inReplyTo' | 'from' | 'to'> & {
  from: EmailAddress;
  to: EmailAddress[];
  inReplyTo: string | null;
  receivedAt: string;
};

export function emailToPayload(email: IncomingEmail): EmailPayload {
  // Spelled out field by field so that no undefined (which JSON drops) or Date reaches the payload.
  return {
    messageId: email.messageId,
    from: plainAddress(email.from),
    to: email.to.map(plainAddress),
    subject: email.subject,
    text: email.text,
    headers: { ...email.headers },
    inReplyTo: email.inReplyTo ?? null,
    references: [...email.references],
    receivedAt: email.receivedAt.toISOString(),
    source: email.source,
    ...(email.mailbox !== undefined ? { mailbox: email.mailbox } : {}),
  };
}

export function emailFromPayload(payload: Record<string, unknown>): IncomingEmail {
  const p = payload as EmailPayload;
  return {
    messageId: p.messageId,
    from: p.from,
    to: p.to,
    subject: p.subject,
    text: p.text,
    headers: p.headers,
    inReplyTo: p.inReplyTo ?? undefined,
    references: p.references,
    receivedAt: new Date(p.receivedAt),
    source: p.source,
    ...(p.mailbox !== undefined ? { mailbox: p.mailbox } : {}),
  };
}

function plainAddress(a: EmailAddress): EmailAddress {
  return a.name === undefined ? { address: a.address } : { address: a.address, name: a.name };
}
