import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';

const policy = { baseMs: 1000, maxMs: 60_000 };

describe('retryDelayMs', () => {
  it.each([
    // attempt, random, expected
    [1, 0, 500],
    [1, 1, 1000],
    [2, 0, 1000],
    [2, 1, 2000],
    [3, 0.5, 3000],
    [4, 0, 4000],
    [7, 1, 60_000], // 64 s capped at 60 s
    [20, 0, 30_000], // capped, half kept
  ])('attempt %i with random %f waits %i ms', (attempt, random, expected) => {
    expect(retryDelayMs(attempt, policy, () => random)).toBe(expected);
  });

  it('always backs off: every delay is at least half the exponential step', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const floor = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1)) / 2;
      for (const r of [0, 0.3, 0.99])
        expect(retryDelayMs(attempt, policy, () => r)).toBeGreaterThanOrEqual(floor);
    }
  });
});
