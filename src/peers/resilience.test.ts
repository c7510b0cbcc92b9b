import { describe, expect, it } from 'vitest';
import { NonRetriableError, RetryAfterError } from '../core/retry-errors.js';
import { createPeerGuard, PeerTimeoutError, PeerUnavailableError, type CircuitStatus } from './resilience.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function guard(overrides: Partial<Parameters<typeof createPeerGuard>[0]> = {}) {
  const outcomes: string[] = [];
  const circuits: CircuitStatus[] = [];
  const g = createPeerGuard({
    name: 'peer',
    timeoutMs: 200,
    maxConcurrency: 2,
    breakerThreshold: 3,
    breakerResetMs: 150,
    onCall: (_peer, outcome) => outcomes.push(outcome),
    onCircuit: (_peer, state) => circuits.push(state),
    ...overrides,
  });
  return { g, outcomes, circuits };
}

const failing = (error: Error) => () => Promise.reject(error);

describe('createPeerGuard', () => {
  it('passes results and the caller’s retry classes through unchanged', async () => {
    const { g, outcomes } = guard();
    await expect(g.call(async () => 42)).resolves.toBe(42);
    const refused = new NonRetriableError('400 bad number');
    await expect(g.call(failing(refused))).rejects.toBe(refused);
    const later = new RetryAfterError('429', 7000);
    await expect(g.call(failing(later))).rejects.toBe(later);
    expect(outcomes).toEqual(['ok', 'non_retriable', 'retry_after']);
  });

  it('turns a call past its time limit into a retriable PeerTimeoutError and aborts its signal', async () => {
    const { g, outcomes } = guard({ timeoutMs: 50 });
    let seen: AbortSignal | undefined;
    const started = Date.now();
    await expect(
      g.call((signal) => {
        seen = signal;
        return new Promise(() => {});
      }),
    ).rejects.toBeInstanceOf(PeerTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen?.aborted).toBe(true);
    expect(outcomes).toEqual(['timeout']);
  });

  it('opens after consecutive retriable failures, fails fast while open, and closes after a good trial', async () => {
    const { g, circuits } = guard();
    let reached = 0;
    const down = () => {
      reached += 1;
      return Promise.reject(new PeerUnavailableError('503'));
    };
    for (let i = 0; i < 3; i += 1) await expect(g.call(down)).rejects.toBeInstanceOf(PeerUnavailableError);
    expect(g.circuit()).toBe('open');
    const fast = await g.call(down).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(RetryAfterError);
    expect((fast as RetryAfterError).retryAfterMs).toBeGreaterThan(0);
    expect(reached).toBe(3); // the open breaker kept the fourth call from the peer
    await sleep(200);
    await expect(g.call(async () => 'back')).resolves.toBe('back');
    expect(g.circuit()).toBe('closed');
    expect(circuits).toEqual(['open', 'half_open', 'closed']);
  });

  it('does not let refusals by the peer (4xx, Retry-After) open the breaker', async () => {
    const { g } = guard();
    for (let i = 0; i < 5; i += 1) {
      await g.call(failing(new NonRetriableError('400'))).catch(() => {});
      await g.call(failing(new RetryAfterError('429', 1000))).catch(() => {});
    }
    expect(g.circuit()).toBe('closed');
  });

  it('limits concurrent calls and refuses beyond the queue with a Retry-After', async () => {
    const { g } = guard({ maxConcurrency: 1, maxQueue: 1, timeoutMs: 1000 });
    let running = 0;
    let peak = 0;
    const slow = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(50);
      running -= 1;
      return 'done';
    };
    const results = await Promise.allSettled([g.call(slow), g.call(slow), g.call(slow)]);
    expect(peak).toBe(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = results.find((r) => r.status === 'rejected');
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(RetryAfterError);
  });
});
