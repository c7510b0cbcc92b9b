import { eq } from 'drizzle-orm';
import { ImapFlow, type Logger as ImapLogger } from 'imapflow';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Executor } from '../../core/db/database.js';
import { sourceCheckpoints } from '../../core/db/schema.js';
import { systemClock, type Clock, type Random } from '../../core/runtime.js';
import type { EmailSink, EmailSource } from './email-port.js';
import { parseRfc822 } from './parse-email.js';

/**
 * Reads new mail from one IMAP mailbox (Gmail: imap.gmail.com:993) and hands each message to the
 * sink, in UID order, exactly as often as needed and never less.
 *
 * Checkpoint. A row in source_checkpoints holds the mailbox's UIDVALIDITY and the last UID taken.
 * The checkpoint moves past a message only after the sink resolved (the email is claimed and
 * stored), so a restart never skips one; a crash between the sink and the checkpoint makes the
 * next run call the sink again with the same message, which the Message-ID claim turns into a
 * no-op. The mailbox is opened read-only (EXAMINE): we never change flags, the owner still sees
 * the mail as unread.
 *
 * First start (no checkpoint): only mail that arrives from now on is taken; what is already in the
 * mailbox is the owner's archive, and nobody wants their archive answered. The checkpoint starts
 * at UIDNEXT − 1 and remembers when that was (firstStartAt).
 *
 * UIDVALIDITY changed (the mailbox was rebuilt, or the server renumbered it): old UIDs mean
 * nothing. Every message of the renumbered mailbox that arrived since the first start (by its
 * INTERNALDATE, minus a margin for clock skew) goes to the sink again: those taken before are
 * dropped by their Message-ID claim, those not yet taken are taken, and the archive from before
 * the first start stays alone. The resync progress is checkpointed as well, so a crash during it
 * resumes where it stopped.
 *
 * New mail is noticed by IDLE when the server offers it (imapflow idles whenever the connection is
 * quiet; the server's EXISTS starts a sync at once), and by a poll every pollIntervalMs anyway, in
 * case a server or a middlebox drops IDLE notifications. A lost connection is reopened with
 * exponential backoff.
 *
 * A message mailparser cannot read at all is logged and passed over: it could never be answered,
 * and keeping it would block every message behind it. Run one source per mailbox; a second one
 * (another process) is harmless — its sink calls are claimed once — but wasted work.
 */

export type ImapSourceOptions = {
  host: string;
  port: number;
  /** Implicit TLS (993); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string;
  password: string;
  mailbox: string;
  pollIntervalMs: number;
  tlsRejectUnauthorized: boolean;
  db: Executor;
  /** The source_checkpoints row, e.g. "imap:owner@example.com:INBOX". */
  checkpointName: string;
  logger: Logger;
  clock?: Clock;
  random?: Random;
  /** Reconnect backoff (default 1 s doubling to 5 min). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Connect, greeting and socket time limits (default 30 s). */
  connectionTimeoutMs?: number;
};

const checkpointSchema = z.object({
  uidValidity: z.string(),
  /** Every message with a UID up to this one has been taken (or was there before the first start). */
  lastUid: z.number().int().nonnegative(),
  /** When this source first ran against the mailbox: older mail is the archive. */
  firstStartAt: z.string(),
  /** During a resync after a UIDVALIDITY change: candidates in (afterUid, throughUid] still to take. */
  resync: z
    .object({ afterUid: z.number().int().nonnegative(), throughUid: z.number().int().nonnegative() })
    .optional(),
});

export type ImapCheckpoint = z.infer<typeof checkpointSchema>;

/** Mail whose INTERNALDATE is this much older than the first start still counts as new on a resync. */
export const RESYNC_CLOCK_MARGIN_MS = 10 * 60_000;

export function createImapSource(options: ImapSourceOptions): EmailSource {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log = options.logger.child({ peer: 'imap', mailbox: options.mailbox });
  const reconnectMinMs = options.reconnectMinMs ?? 1000;
  const reconnectMaxMs = options.reconnectMaxMs ?? 5 * 60_000;
  const timeoutMs = options.connectionTimeoutMs ?? 30_000;

  let sink: EmailSink | undefined;
  let running = false;
  let current: ImapFlow | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let syncing: Promise<void> | undefined;
  let syncAgain = false;
  /** Settles once the first connection has its checkpoint, or has failed: start() waits for it. */
  let firstAttempt: { promise: Promise<void>; resolve: () => void } | undefined;

  return {
    name: 'imap',
    async start(emailSink) {
      if (running) throw new Error('the IMAP source is already running');
      running = true;
      sink = emailSink;
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      firstAttempt = { promise, resolve };
      void connect();
      await promise;
    },
    async stop() {
      running = false;
      firstAttempt?.resolve();
      clearInterval(pollTimer);
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const client = current;
      // Clearing `current` first makes a running sync stop after the message in hand.
      current = undefined;
      await syncing;
      if (client) {
        try {
          await client.logout();
        } catch {
          client.close();
        }
      }
      log.info('IMAP source stopped');
    },
    healthy() {
      return running && current !== undefined && current.usable;
    },
  };

  async function connect(): Promise<void> {
    if (!running) return;
    const client = new ImapFlow({
      host: options.host,
      port: options.port,
      secure: options.secure,
      auth: { user: options.user, pass: options.password },
      tls: { rejectUnauthorized: options.tlsRejectUnauthorized },
      logger: imapLogger(log),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      // IDLE starts a second after our last command, so new mail is noticed at once.
      autoIdleDelay: 1000,
      // Restarted well inside the 29 minutes of RFC 2177 and the patience of NAT boxes.
      maxIdleTime: 5 * 60_000,
    });
    // Without a listener an 'error' event would crash the process; 'close' follows and reconnects.
    client.on('error', (error: Error) => log.warn({ err: error }, 'IMAP connection error'));
    client.on('close', () => onClosed(client));
    client.on('exists', () => void requestSync(client));
    // The mailbox went away under us (deleted, renamed): reconnecting reopens it, or keeps
    // retrying with backoff until it is back, instead of idling on a connection with no mailbox.
    client.on('mailboxClose', () => {
      if (client !== current || !running) return;
      log.warn('IMAP mailbox closed by the server; reconnecting');
      client.close();
    });
    try {
      await client.connect();
      await client.mailboxOpen(options.mailbox, { readOnly: true });
      if (!running) {
        await client.logout().catch(() => client.close());
        firstAttempt?.resolve();
        return;
      }
      current = client;
      failures = 0;
      log.info({ idle: client.capabilities.has('IDLE') }, 'IMAP source connected');
      pollTimer = setInterval(() => void requestSync(client), options.pollIntervalMs);
      pollTimer.unref();
      // Not awaited: a backlog after a long downtime is worked off in the background; start()
      // returns once the checkpoint is in place (see syncOnce).
      void requestSync(client);
    } catch (error) {
      firstAttempt?.resolve();
      log.warn({ err: error }, 'IMAP connection failed');
      if (current === client) current = undefined;
      client.close();
      scheduleReconnect();
    }
  }

  function onClosed(client: ImapFlow): void {
    if (client !== current) return;
    current = undefined;
    clearInterval(pollTimer);
    if (running) {
      log.warn('IMAP connection closed; reconnecting');
      scheduleReconnect();
    }
  }

  function scheduleReconnect(): void {
    if (!running || reconnectTimer) return;
    const ceiling = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** failures);
    failures++;
    // Jitter between half and all of the ceiling, so many instances do not reconnect in step.
    const delay = Math.round(ceiling * (0.5 + random() / 2));
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, delay);
    reconnectTimer.unref();
  }

  /** One sync at a time; a request during a sync runs one more after it. */
  function requestSync(client: ImapFlow): Promise<void> {
    if (client !== current || !running) return Promise.resolve();
    if (syncing) {
      syncAgain = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        syncAgain = false;
        try {
          await syncOnce(client);
        } catch (error) {
          // The next poll, EXISTS or reconnect tries again from the checkpoint.
          log.error({ err: error }, 'IMAP sync failed');
          return;
        }
      } while (syncAgain && client === current && running);
    })().finally(() => {
      syncing = undefined;
      // Also when the sync failed before the checkpoint was read: start() must not hang.
      firstAttempt?.resolve();
    });
    return syncing;
  }

  async function syncOnce(client: ImapFlow): Promise<void> {
    const mailbox = client.mailbox;
    if (!mailbox || client !== current) return;
    const uidValidity = String(mailbox.uidValidity);
    let checkpoint = await readCheckpoint();
    if (!checkpoint) {
      const top = await topUid(client);
      checkpoint = { uidValidity, lastUid: top, firstStartAt: clock.now().toISOString() };
      await writeCheckpoint(checkpoint);
      log.info({ lastUid: top }, 'IMAP first start: mail already in the mailbox is left alone');
    } else if (checkpoint.uidValidity !== uidValidity) {
      const top = await topUid(client);
      log.warn(
        { was: checkpoint.uidValidity, now: uidValidity },
        'IMAP UIDVALIDITY changed: re-reading mail since the first start; Message-ID claims drop repeats',
      );
      checkpoint = {
        uidValidity,
        lastUid: top,
        firstStartAt: checkpoint.firstStartAt,
        resync: { afterUid: 0, throughUid: top },
      };
      await writeCheckpoint(checkpoint);
    }
    const state = checkpoint;
    // From here on, mail that arrives is after the checkpoint: start() may return.
    firstAttempt?.resolve();
    if (state.resync) {
      const { afterUid, throughUid } = state.resync;
      const since = new Date(state.firstStartAt).getTime() - RESYNC_CLOCK_MARGIN_MS;
      const done = await take(client, `${afterUid + 1}:${Math.max(afterUid + 1, throughUid)}`, {
        after: afterUid,
        through: throughUid,
        since,
        advance: (uid) => {
          if (state.resync) state.resync.afterUid = uid;
        },
        checkpoint: state,
      });
      if (!done) return;
      delete state.resync;
      await writeCheckpoint(state);
    }
    await take(client, `${state.lastUid + 1}:*`, {
      after: state.lastUid,
      through: Number.POSITIVE_INFINITY,
      since: undefined,
      advance: (uid) => {
        state.lastUid = uid;
      },
      checkpoint: state,
    });
  }

  /** Takes the messages in range, oldest UID first; false when it stopped early (stop, lost connection). */
  async function take(
    client: ImapFlow,
    range: string,
    window: {
      after: number;
      through: number;
      since: number | undefined;
      advance: (uid: number) => void;
      checkpoint: ImapCheckpoint;
    },
  ): Promise<boolean> {
    const listed = await client.fetchAll(range, { uid: true, internalDate: true }, { uid: true });
    // "n:*" always names the newest message, even when its UID is below n (RFC 3501 §6.4.8).
    const uids = listed
      .filter((m) => m.uid > window.after && m.uid <= window.through)
      .filter(
        (m) => window.since === undefined || (dateOf(m.internalDate)?.getTime() ?? Infinity) >= window.since,
      )
      .map((m) => m.uid)
      .sort((a, b) => a - b);
    for (const uid of uids) {
      if (client !== current || !running || !sink) return false;
      const message = await client.fetchOne(
        String(uid),
        { uid: true, source: true, internalDate: true },
        { uid: true },
      );
      if (message && message.source) {
        const receivedAt = dateOf(message.internalDate) ?? clock.now();
        const email = await parseRfc822(message.source, 'imap', receivedAt).catch((error: unknown) => {
          log.error({ err: error, uid }, 'IMAP message could not be parsed; passed over');
          return undefined;
        });
        if (email) await sink(email);
      }
      // Only now, with the email stored, may the checkpoint move past it.
      window.advance(uid);
      await writeCheckpoint(window.checkpoint);
    }
    return true;
  }

  async function topUid(client: ImapFlow): Promise<number> {
    const uidNext = client.mailbox ? client.mailbox.uidNext : 0;
    if (uidNext > 0) return uidNext - 1;
    // A server that gave no UIDNEXT on SELECT: the highest UID present.
    const uids = await client.search({ all: true }, { uid: true });
    return Array.isArray(uids) && uids.length > 0 ? Math.max(...uids) : 0;
  }

  async function readCheckpoint(): Promise<ImapCheckpoint | undefined> {
    const [row] = await options.db
      .select({ value: sourceCheckpoints.value })
      .from(sourceCheckpoints)
      .where(eq(sourceCheckpoints.name, options.checkpointName));
    if (!row) return undefined;
    const parsed = checkpointSchema.safeParse(row.value);
    // Guessing would either skip or repeat mail: stop and say so until someone repairs the row.
    if (!parsed.success) {
      throw new Error(
        `source_checkpoints row ${options.checkpointName} is malformed: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  }

  async function writeCheckpoint(checkpoint: ImapCheckpoint): Promise<void> {
    const value: Record<string, unknown> = { ...checkpoint };
    const now = clock.now();
    await options.db
      .insert(sourceCheckpoints)
      .values({ name: options.checkpointName, value, updatedAt: now })
      .onConflictDoUpdate({ target: sourceCheckpoints.name, set: { value, updatedAt: now } });
  }
}

function dateOf(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** imapflow logs every connection step at info: ours are quieter, its warnings stay warnings. */
function imapLogger(log: Logger): ImapLogger {
  return {
    debug: (entry: object) => log.trace(entry),
    info: (entry: object) => log.debug(entry),
    warn: (entry: object) => log.warn(entry),
    error: (entry: object) => log.error(entry),
  };
}
