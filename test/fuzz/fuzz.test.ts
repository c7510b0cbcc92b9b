import { describe, expect, it } from 'vitest';
import { databaseKind } from '../helpers/test-database.js';
import { histogram, runFuzz } from './fuzz-harness.js';

/**
 * The CI share of the fuzz run (npm run fuzz is the full one): a fixed seed and a modest count per
 * operation, over real HTTP against the whole service on a fresh database. FUZZ_SEED overrides
 * the seed to replay a failure.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);

describe(`fuzz: every operation with generated bad requests (${databaseKind})`, () => {
  it(
    'answers < 500, problem+json on 4xx, stays up and writes nothing on reject',
    { timeout: 300_000 },
    async () => {
      const report = await runFuzz({ runs: 60, headerRuns: 10, pathRuns: 5, seed: SEED });
      console.log(
        `fuzz seed ${SEED} (${databaseKind}): ${report.totals.requests} requests, ${report.totals.rejected} rejected, ` +
          `${report.totals.accepted} accepted in ${report.durationMs} ms; ${histogram(report.totals.statuses)}`,
      );
      expect(report.failures, report.serverErrors.join('\n')).toEqual([]);
      expect(report.operations.filter((o) => o.bodies.runs > 0).length).toBeGreaterThanOrEqual(27);
      expect(report.totals.rejected).toBeGreaterThan(report.totals.requests / 2);
    },
  );
});
