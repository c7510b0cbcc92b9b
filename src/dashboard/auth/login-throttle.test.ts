import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.js';

describe('LoginThrottle', () => {
  const t0 = new Date('2026-12-05T10:00:00Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);

  it('allows attempts until a username has maxFailures within the window, then until the oldest leaves it', () => {
    const throttle = new LoginThrottle({ maxFailures: 3, maxFailuresPerAddress: 100, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterMs('max', '10.0.0.1', at(i * 1000))).toBe(0);
      throttle.recordFailure('max', '10.0.0.1', at(i * 1000));
    }
    expect(throttle.retryAfterMs('max', '10.0.0.1', at(3000))).toBe(57_000);
    // Another address does not help: the username is what is guessed.
    expect(throttle.retryAfterMs('max', '10.0.0.2', at(3000))).toBe(57_000);
    expect(throttle.retryAfterMs('ada', '10.0.0.2', at(3000))).toBe(0);
    expect(throttle.retryAfterMs('max', '10.0.0.1', at(60_001))).toBe(0);
  });

  it('limits one address across usernames', () => {
    const throttle = new LoginThrottle({ maxFailures: 100, maxFailuresPerAddress: 2, windowMs: 60_000 });
    throttle.recordFailure('a', '10.0.0.9', t0);
    throttle.recordFailure('b', '10.0.0.9', t0);
    expect(throttle.retryAfterMs('c', '10.0.0.9', t0)).toBe(60_000);
    expect(throttle.retryAfterMs('c', '10.0.0.8', t0)).toBe(0);
  });

  it("forgets a username's failures after a success, not the address's", () => {
    const throttle = new LoginThrottle({ maxFailures: 2, maxFailuresPerAddress: 2, windowMs: 60_000 });
    throttle.recordFailure('max', '10.0.0.1', t0);
    throttle.recordFailure('max', '10.0.0.1', t0);
    throttle.recordSuccess('max');
    expect(throttle.retryAfterMs('max', '10.0.0.2', t0)).toBe(0);
    expect(throttle.retryAfterMs('max', '10.0.0.1', t0)).toBe(60_000);
  });
});
