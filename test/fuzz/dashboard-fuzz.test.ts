import { describe, expect, it } from 'vitest';
import { databaseKind } from '../helpers/test-database.js';
import { runDashboardFuzz } from './dashboard-fuzz.js';

/**
 * The CI share of the dashboard form fuzz (npm run fuzz:dashboard is the full one): a fixed seed
 * and a few bodies per form route, over real HTTP, signed in. FUZZ_SEED overrides the seed.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const RUNS = 30;

describe(`fuzz: the dashboard's form routes with generated bad bodies (${databaseKind})`, () => {
  it(
    'answers < 500, an HTML page on 4xx, keeps redirects inside /dashboard, stays up and writes nothing on reject',
    { timeout: 120_000 },
    async () => {
      const report = await runDashboardFuzz({ runs: RUNS, seed: SEED });
      console.log(
        `dashboard fuzz seed ${SEED} (${databaseKind}): ${report.totals.requests} requests to ${report.routes.length} routes, ` +
          `${report.totals.rejected} rejected, ${report.totals.accepted} accepted in ${report.durationMs} ms; ` +
          Object.entries(report.totals.statuses)
            .map(([s, n]) => `${s}×${n}`)
            .join(' '),
      );
      expect(report.failures, report.serverErrors.join('\n')).toEqual([]);
      // The routes are found at run time; these ten exist today, and each has an example form.
      expect(report.routes).toEqual(
        expect.arrayContaining([
          'POST /dashboard/login',
          'POST /dashboard/logout',
          'POST /dashboard/password',
          'POST /dashboard/approvals/:id',
          'POST /dashboard/escalations/:id/assign',
          'POST /dashboard/escalations/:id/resolve',
          'POST /dashboard/email/:workflowId/:action',
          'POST /dashboard/sandbox/text',
          'POST /dashboard/sandbox/email',
          'POST /dashboard/sandbox/tenants',
        ]),
      );
      expect(report.routesWithoutExample).toEqual([]);
      expect(report.perRoute.every((r) => r.runs >= RUNS * 0.8)).toBe(true);
      expect(report.totals.rejected).toBeGreaterThan(report.totals.requests / 2);
    },
  );
});
