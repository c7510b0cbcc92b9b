import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WakeSignal } from './wake-signal.js';

describe('WakeSignal', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** Whether the promise has settled, after letting pending callbacks run. */
  async function settled(p: Promise<void>): Promise<boolean> {
    let done = false;
    void p.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    return done;
  }

  it('sleeps for the interval when nobody wakes it', async () => {
    const signal = new WakeSignal();
    const nap = signal.sleep(250);
    expect(await settled(nap)).toBe(false);
    await vi.advanceTimersByTimeAsync(249);
    expect(await settled(nap)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(nap)).toBe(true);
  });

  it('a wake ends the current sleep at once, and is then used up', async () => {
    const signal = new WakeSignal();
    const nap = signal.sleep(250);
    signal.wake();
    expect(await settled(nap)).toBe(true);
    expect(await settled(signal.sleep(250))).toBe(false);
  });

  it('a wake between sleeps makes the next sleep return at once', async () => {
    const signal = new WakeSignal();
    signal.wake();
    expect(await settled(signal.sleep(250))).toBe(true);
    expect(await settled(signal.sleep(250))).toBe(false);
  });

  it('keeps a wake that arrives after a sleep ran out (the loop is claiming then)', async () => {
    const signal = new WakeSignal();
    const first = signal.sleep(250);
    await vi.advanceTimersByTimeAsync(250);
    expect(await settled(first)).toBe(true);
    // The loop is now between sleeps: the wake must not be swallowed by the finished sleep.
    signal.wake();
    expect(await settled(signal.sleep(250))).toBe(true);
  });

  it('a wake while several sleeps have come and gone still reaches the next one', async () => {
    const signal = new WakeSignal();
    for (let i = 0; i < 3; i++) {
      const nap = signal.sleep(10);
      await vi.advanceTimersByTimeAsync(10);
      expect(await settled(nap)).toBe(true);
    }
    const woken = signal.sleep(250);
    signal.wake();
    expect(await settled(woken)).toBe(true);
  });
});
