/**
 * The worker loop's pause between claim rounds: `sleep(ms)` waits for the poll interval or for a
 * `wake()`, whichever comes first. A wake that arrives while the loop is not sleeping (it is
 * claiming) is kept, and makes the next sleep return at once: the job that woke it may have been
 * committed after the claim statement ran.
 */
export class WakeSignal {
  private pending = false;
  private interrupt: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        // Only this sleep's own interrupt is cleared: a stale one would swallow a later wake.
        if (this.interrupt === interrupt) this.interrupt = undefined;
        resolve();
      };
      const interrupt = () => {
        this.pending = false;
        finish();
      };
      const timer = setTimeout(finish, ms);
      this.interrupt = interrupt;
    });
  }

  wake(): void {
    this.pending = true;
    this.interrupt?.();
  }
}
