/**
 * Slows down password guessing: after `maxFailures` failed sign-ins for one username (or
 * `maxFailuresPerAddress` from one client address) within `windowMs`, further attempts are
 * refused until the window has passed. Kept in memory per process: a restart forgets it, and
 * with several API processes each counts on its own (docs/dashboard.md says so).
 */
export type ThrottleOptions = { maxFailures: number; maxFailuresPerAddress: number; windowMs: number };

export const DEFAULT_THROTTLE: ThrottleOptions = {
  maxFailures: 5,
  maxFailuresPerAddress: 30,
  windowMs: 15 * 60_000,
};

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly options: ThrottleOptions = DEFAULT_THROTTLE) {}

  /** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
  retryAfterMs(username: string, address: string, now: Date): number {
    const waits = [
      this.wait(`u:${username}`, this.options.maxFailures, now.getTime()),
      this.wait(`a:${address}`, this.options.maxFailuresPerAddress, now.getTime()),
    ];
    return Math.max(...waits);
  }

  recordFailure(username: string, address: string, now: Date): void {
    for (const key of [`u:${username}`, `a:${address}`]) {
      const list = this.recent(key, now.getTime());
      list.push(now.getTime());
      this.failures.set(key, list);
    }
    if (this.failures.size > 50_000) this.prune(now.getTime());
  }

  /** A successful sign-in clears the username's count (not the address's). */
  recordSuccess(username: string): void {
    this.failures.delete(`u:${username}`);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.options.windowMs);
  }

  private wait(key: string, max: number, now: number): number {
    const list = this.recent(key, now);
    if (list.length < max) return 0;
    const oldestCounted = list[list.length - max] ?? now;
    return Math.max(1, oldestCounted + this.options.windowMs - now);
  }

  private prune(now: number): void {
    for (const key of [...this.failures.keys()]) {
      if (this.recent(key, now).length === 0) this.failures.delete(key);
    }
  }
}
