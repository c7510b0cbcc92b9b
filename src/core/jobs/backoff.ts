import type { Random } from '../runtime.js';

export type BackoffPolicy = { baseMs: number; maxMs: number };

/**
 * Exponential backoff with "equal jitter": half the exponential delay is kept, the other half
 * is random, so retries always back off but two failing workers do not retry in lockstep.
 * attempt is the number of the attempt that just failed (1 for the first try).
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: Random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const half = exponential / 2;
  return Math.round(half + random() * half);
}
