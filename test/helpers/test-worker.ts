import { JobWorker, type JobHandler } from '../../src/core/jobs/job-worker.js';
import type { Db } from '../../src/core/db/database.js';
import type { Clock } from '../../src/core/runtime.js';
import { testLogger } from './silent-logger.js';

/** A real JobWorker with test-friendly settings; tests drive it with drain() and an injected clock. */
export function testWorker(
  db: Db,
  clock: Clock,
  handlers: JobHandler[],
  overrides: Partial<ConstructorParameters<typeof JobWorker>[0]> = {},
): JobWorker {
  return new JobWorker({
    db,
    handlers,
    clock,
    random: () => 0.5,
    logger: testLogger,
    owner: `test-${Math.random().toString(36).slice(2, 8)}`,
    pollIntervalMs: 20,
    leaseMs: 30_000,
    concurrency: 4,
    maxAttempts: 4,
    backoff: { baseMs: 1000, maxMs: 60_000 },
    ...overrides,
  });
}
