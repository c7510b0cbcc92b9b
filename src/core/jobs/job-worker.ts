import type { Logger } from 'pino';
import { ZodError } from 'zod';
import type { Db, Tx } from '../db/database.js';
import { retryClassOf, RetryAfterError } from '../retry-errors.js';
import { withCorrelationId, type Clock, type Random } from '../runtime.js';
import { StaleVersionError } from '../workflow/errors.js';
import { retryDelayMs } from './backoff.js';
import { WakeSignal } from './wake-signal.js';
import {
  claimJobsOfKinds,
  completeJob,
  extendLease,
  failJob,
  LeaseLostError,
  releaseJob,
  retryJob,
  skipJob,
  type ClaimedJob,
} from './job-queue.js';

export type JobContext = {
  job: ClaimedJob;
  /** Aborted on timeout and when shutdown's grace runs out: pass it to every fetch. */
  signal: AbortSignal;
  db: Db;
  now(): Date;
  /**
   * Runs fn and marks the job done in one transaction, so the job's database effects happen
   * exactly once: if the lease was lost meanwhile, everything rolls back.
   * A handler that does not call it is marked done when it returns.
   */
  complete(fn?: (tx: Tx) => Promise<void>): Promise<void>;
};

export type JobHandler = {
  kind: string;
  run(ctx: JobContext): Promise<void>;
  /** How many of this kind one worker runs at once; default JOB_CONCURRENCY. */
  concurrency?: number;
  /**
   * This kind finishes work that others started (the outbox's deliveries finish turns). While it
   * has a backlog, the worker starts no more of any other kind than JOB_CONCURRENCY at once, even
   * a kind allowed more (drafts, which wait on the AI): otherwise a fast AI lets the drafts take
   * the CPU and the connections from the sends, and replies pile up unsent (docs/performance.md).
   */
  finishesWork?: boolean;
  /** Per-attempt time limit; default 80 % of the lease. */
  timeoutMs?: number;
  /** Called in the transaction that marks the job failed for good (retries exhausted, non-retriable). */
  onExhausted?(tx: Tx, job: ClaimedJob, error: string, now: Date): Promise<void>;
};

export type JobOutcome = 'done' | 'retry' | 'failed' | 'skipped' | 'lease_lost' | 'released';

export type JobWorkerOptions = {
  db: Db;
  handlers: readonly JobHandler[];
  clock: Clock;
  random?: Random;
  logger: Logger;
  owner: string;
  pollIntervalMs: number;
  leaseMs: number;
  concurrency: number;
  /** Total attempts for jobs that do not set their own. */
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  onOutcome?: (kind: string, outcome: JobOutcome, seconds: number) => void;
};

function describe(error: unknown): string {
  if (error instanceof ZodError) return `invalid payload: ${error.issues.map((i) => i.message).join('; ')}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
  return String(error).slice(0, 2000);
}

export class JobWorker {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly inFlight = new Map<string, number>();
  /**
   * Kinds marked finishesWork whose last claim with a free slot filled every free slot: more of
   * them are probably due. A kind with no free slot keeps its mark until a claim says otherwise.
   */
  private readonly backlogged = new Set<string>();
  private readonly running = new Map<
    number,
    { job: ClaimedJob; abort: AbortController; done: Promise<void> }
  >();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly signal = new WakeSignal();

  constructor(private readonly options: JobWorkerOptions) {
    for (const handler of options.handlers) {
      if (this.handlers.has(handler.kind)) throw new Error(`Two handlers for job kind ${handler.kind}`);
      this.handlers.set(handler.kind, handler);
      this.inFlight.set(handler.kind, 0);
    }
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.runLoop();
  }

  /** Makes a sleeping loop look for work now (called after local enqueues commit). */
  wake(): void {
    this.signal.wake();
  }

  /**
   * Claims and runs due jobs until none is due (for tests and the benchmark, with an injected
   * clock). Returns how many jobs ran.
   */
  async drain(maxRounds = 10_000): Promise<number> {
    let ran = 0;
    for (let round = 0; round < maxRounds; round++) {
      const started = await this.claimRound();
      if (started.length === 0) {
        if (this.running.size === 0) break;
        await this.anyDone();
        continue;
      }
      ran += started.length;
      await Promise.all(started);
    }
    return ran;
  }

  /**
   * Stops claiming, lets running jobs finish within graceMs, then aborts the rest and gives
   * them back to the queue so another worker (or the next start) runs them.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.signal.wake();
    await this.loop;
    this.loop = undefined;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const result = await Promise.race([all().then(() => 'done' as const), graceOver]);
    clearTimeout(timer);
    if (result === 'timeout') {
      for (const r of this.running.values()) r.abort.abort(new Error('shutting down'));
      await all();
    }
  }

  private anyDone(): Promise<void> {
    return Promise.race([...this.running.values()].map((r) => r.done));
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      let started: Promise<void>[] = [];
      try {
        started = await this.claimRound();
      } catch (error) {
        this.options.logger.error(
          { err: describe(error) },
          'job claim failed; retrying after the poll interval',
        );
      }
      if (this.stopping) break;
      if (started.length === 0) await this.signal.sleep(this.options.pollIntervalMs);
    }
  }

  /** One claim statement for every kind with a free slot (not one per kind: see docs/performance.md). */
  private async claimRound(): Promise<Promise<void>[]> {
    const started: Promise<void>[] = [];
    if (this.stopping) return started;
    const base = this.options.concurrency;
    const finishing = this.backlogged.size > 0;
    const limits: { kind: string; limit: number }[] = [];
    for (const handler of this.handlers.values()) {
      const allowed = handler.concurrency ?? base;
      const cap = finishing && !handler.finishesWork ? Math.min(allowed, base) : allowed;
      const limit = cap - (this.inFlight.get(handler.kind) ?? 0);
      if (limit > 0) limits.push({ kind: handler.kind, limit });
    }
    const claimed = await claimJobsOfKinds(this.options.db, {
      limits,
      owner: this.options.owner,
      now: this.options.clock.now(),
      leaseMs: this.options.leaseMs,
    });
    for (const { kind, limit } of limits) {
      if (!this.handlers.get(kind)?.finishesWork) continue;
      const count = claimed.filter((job) => job.kind === kind).length;
      if (count >= limit) this.backlogged.add(kind);
      else this.backlogged.delete(kind);
    }
    for (const job of claimed) {
      const handler = this.handlers.get(job.kind);
      if (handler) started.push(this.launch(handler, job));
    }
    return started;
  }

  private launch(handler: JobHandler, job: ClaimedJob): Promise<void> {
    const abort = new AbortController();
    this.inFlight.set(handler.kind, (this.inFlight.get(handler.kind) ?? 0) + 1);
    const done = withCorrelationId(job.correlationId ?? `job-${job.id}`, () =>
      this.execute(handler, job, abort),
    )
      .catch((error: unknown) => {
        this.options.logger.error(
          { err: describe(error), jobId: job.id, kind: job.kind },
          'job bookkeeping failed',
        );
      })
      .finally(() => {
        this.inFlight.set(handler.kind, (this.inFlight.get(handler.kind) ?? 1) - 1);
        this.running.delete(job.id);
        this.wake();
      });
    this.running.set(job.id, { job, abort, done });
    return done;
  }

  private async execute(handler: JobHandler, job: ClaimedJob, abort: AbortController): Promise<void> {
    const { db, clock, logger } = this.options;
    const started = performance.now();
    const report = (outcome: JobOutcome) => {
      this.options.onOutcome?.(job.kind, outcome, (performance.now() - started) / 1000);
      logger.debug({ jobId: job.id, kind: job.kind, attempt: job.attempts, outcome }, 'job finished');
    };
    const maxAttempts = job.maxAttempts ?? this.options.maxAttempts;

    if (job.workflowId !== null && job.currentWorkflowVersion !== job.workflowVersion) {
      await skipJob(db, job, clock.now(), 'workflow moved on');
      return report('skipped');
    }
    if (job.attempts > maxAttempts) {
      // Claimed again after its lease expired more often than it may run: the worker keeps dying on it.
      await this.exhaust(handler, job, `gave up after ${maxAttempts} attempts (lease expired)`);
      return report('failed');
    }

    const timeout = AbortSignal.timeout(handler.timeoutMs ?? Math.floor(this.options.leaseMs * 0.8));
    const signal = AbortSignal.any([abort.signal, timeout]);
    const heartbeat = setInterval(
      () => {
        extendLease(db, job, clock.now(), this.options.leaseMs).catch((error: unknown) => {
          if (error instanceof LeaseLostError) abort.abort(error);
          else logger.warn({ jobId: job.id, err: describe(error) }, 'lease extension failed; will try again');
        });
      },
      Math.max(250, Math.floor(this.options.leaseMs / 3)),
    );
    let completed = false;
    try {
      await handler.run({
        job,
        signal,
        db,
        now: () => clock.now(),
        complete: async (fn) => {
          await db.transaction(async (tx) => {
            if (fn) await fn(tx);
            await completeJob(tx, job, clock.now());
          });
          completed = true;
        },
      });
      if (!completed) await completeJob(db, job, clock.now());
      return report('done');
    } catch (error) {
      if (error instanceof LeaseLostError) {
        logger.warn({ jobId: job.id, kind: job.kind }, 'job lease lost; another worker has it');
        return report('lease_lost');
      }
      if (error instanceof StaleVersionError) {
        await skipJob(db, job, clock.now(), 'workflow moved on while the job ran');
        return report('skipped');
      }
      if (abort.signal.aborted && this.stopping && !(abort.signal.reason instanceof LeaseLostError)) {
        await releaseJob(db, job, clock.now());
        return report('released');
      }
      const message = describe(error);
      const retryClass = error instanceof ZodError ? 'non_retriable' : retryClassOf(error);
      if (retryClass === 'non_retriable' || job.attempts >= maxAttempts) {
        logger.warn(
          { jobId: job.id, kind: job.kind, attempt: job.attempts, err: message },
          'job failed for good',
        );
        await this.exhaust(handler, job, message);
        return report('failed');
      }
      const now = clock.now();
      const delay =
        error instanceof RetryAfterError
          ? error.retryAfterMs
          : retryDelayMs(job.attempts, this.options.backoff, this.options.random ?? Math.random);
      logger.info(
        { jobId: job.id, kind: job.kind, attempt: job.attempts, delayMs: delay, err: message },
        'job will retry',
      );
      await retryJob(db, job, now, new Date(now.getTime() + delay), message);
      return report('retry');
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async exhaust(handler: JobHandler, job: ClaimedJob, message: string): Promise<void> {
    const now = this.options.clock.now();
    await this.options.db.transaction(async (tx) => {
      await failJob(tx, job, now, message);
      await handler.onExhausted?.(tx, job, message, now);
    });
  }
}
