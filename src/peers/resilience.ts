import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  IsolatedCircuitError,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import { NonRetriableError, RetryAfterError, retryClassOf } from '../core/retry-errors.js';

/**
 * One guard per peer (an LLM, an SMS provider, SMTP, the ledger…): a concurrency limit, a circuit
 * breaker and a per-call time limit, from cockatiel. Retrying is not done here: the durable job
 * queue retries with backoff, so a retry survives a restart and never blocks a worker slot.
 *
 * What the caller sees is always one of the three retry classes (see core/retry-errors.ts):
 * - the call's own NonRetriableError / RetryAfterError pass through unchanged;
 * - an open breaker becomes RetryAfterError(until the breaker tries again);
 * - a full queue becomes RetryAfterError(1 s);
 * - a timeout becomes PeerTimeoutError (retriable), and counts against the breaker;
 * - anything else (5xx, connection refused) is retriable and counts against the breaker.
 * Non-retriable failures and Retry-After answers do not open the breaker: the peer answered.
 */

export type CircuitStatus = 'closed' | 'open' | 'half_open';

export type PeerGuardOptions = {
  /** The peer's name in logs, metrics and /health/dependencies (e.g. "openai", "sms_agent"). */
  name: string;
  timeoutMs: number;
  maxConcurrency: number;
  /** Calls that may wait for a free slot before the guard refuses more (default 10 × maxConcurrency). */
  maxQueue?: number;
  /** Consecutive failures that open the breaker (seed: 5). */
  breakerThreshold: number;
  /** How long the breaker stays open before one trial call (seed: 60 s). */
  breakerResetMs: number;
  onCall?: (peer: string, outcome: PeerCallOutcome, seconds: number) => void;
  onCircuit?: (peer: string, state: CircuitStatus) => void;
};

export type PeerCallOutcome = 'ok' | 'retriable' | 'retry_after' | 'non_retriable' | 'timeout' | 'rejected';

export class PeerTimeoutError extends Error {
  constructor(peer: string, ms: number) {
    super(`${peer} did not answer within ${ms} ms`);
    this.name = 'PeerTimeoutError';
  }
}

/** A retriable failure of a peer (5xx, connection refused, malformed answer worth retrying). */
export class PeerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PeerUnavailableError';
  }
}

export type PeerGuard = {
  readonly name: string;
  /**
   * Runs one call to the peer. `fn` gets a signal that aborts at the time limit or when the
   * caller's signal aborts (a job's lease lost, a shutdown).
   */
  call<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  circuit(): CircuitStatus;
};

const STATE_NAMES: Record<CircuitState, CircuitStatus> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

export function createPeerGuard(options: PeerGuardOptions): PeerGuard {
  const { name, timeoutMs } = options;
  const limiter = bulkhead(options.maxConcurrency, options.maxQueue ?? options.maxConcurrency * 10);
  const breaker = circuitBreaker(
    handleWhen((error) => retryClassOf(error) === 'retriable'),
    { halfOpenAfter: options.breakerResetMs, breaker: new ConsecutiveBreaker(options.breakerThreshold) },
  );
  const deadline = timeout(timeoutMs, TimeoutStrategy.Aggressive);
  const policy = wrap(limiter, breaker, deadline);
  let openedAt = 0;
  breaker.onStateChange((state) => {
    if (state === CircuitState.Open) openedAt = Date.now();
    options.onCircuit?.(name, STATE_NAMES[state]);
  });

  return {
    name,
    circuit: () => STATE_NAMES[breaker.state],
    async call<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
      const started = performance.now();
      const report = (outcome: PeerCallOutcome) =>
        options.onCall?.(name, outcome, (performance.now() - started) / 1000);
      try {
        const result = await policy.execute(({ signal: inner }) => fn(inner), signal);
        report('ok');
        return result;
      } catch (error) {
        const mapped = translate(error, signal);
        report(outcomeOf(error, mapped));
        throw mapped;
      }
    },
  };

  function translate(error: unknown, callerSignal?: AbortSignal): unknown {
    if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
      const waitMs = Math.max(1000, openedAt + options.breakerResetMs - Date.now());
      return new RetryAfterError(
        `${name}: circuit open, next trial in ${Math.ceil(waitMs / 1000)} s`,
        waitMs,
        {
          cause: error,
        },
      );
    }
    if (error instanceof BulkheadRejectedError) {
      return new RetryAfterError(`${name}: too many calls waiting`, 1000, { cause: error });
    }
    if (error instanceof TaskCancelledError) {
      // Cancelled by the caller (shutdown, lost lease) or by our own deadline.
      return callerSignal?.aborted ? error : new PeerTimeoutError(name, timeoutMs);
    }
    return error;
  }
}

function outcomeOf(original: unknown, mapped: unknown): PeerCallOutcome {
  if (original instanceof BrokenCircuitError || original instanceof IsolatedCircuitError) return 'rejected';
  if (original instanceof BulkheadRejectedError) return 'rejected';
  if (mapped instanceof PeerTimeoutError) return 'timeout';
  const kind = retryClassOf(mapped);
  return kind === 'non_retriable' ? 'non_retriable' : kind === 'retry_after' ? 'retry_after' : 'retriable';
}

/** For adapters: a malformed answer from a peer we cannot fix by asking again. */
export function nonRetriable(message: string, cause?: unknown): NonRetriableError {
  return new NonRetriableError(message, cause === undefined ? undefined : { cause });
}
