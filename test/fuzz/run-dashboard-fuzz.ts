import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDashboardFuzz } from './dashboard-fuzz.js';
import { envWholeNumber as number, histogram, printOutcome } from './fuzz-harness.js';

/**
 * `npm run fuzz:dashboard`: the full run of the dashboard's form routes. FUZZ_RUNS bad bodies per
 * route (10,000 by default), a random seed unless FUZZ_SEED is given (printed either way), a JSON
 * summary in the system's temporary folder (FUZZ_OUT overrides). Exits 1 on any broken promise.
 */

const runs = number('FUZZ_RUNS', 10_000);
const seed = number('FUZZ_SEED', Math.floor(Math.random() * 2 ** 31));
console.log(`dashboard fuzz: seed ${seed}, ${runs} bodies per form route`);
const report = await runDashboardFuzz({
  runs,
  seed,
  only: process.env.FUZZ_ONLY || undefined,
  skip: (process.env.FUZZ_SKIP ?? '').split(',').filter(Boolean),
  log: (line) => console.log(line),
});
const file = process.env.FUZZ_OUT || join(tmpdir(), `countersign-fuzz-dashboard-${report.database}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ ...report, at: new Date().toISOString(), node: process.version }, null, 2)}\n`,
);
console.log(
  `\n${report.database}: ${report.totals.requests} requests (${report.totals.rejected} rejected, ${report.totals.accepted} accepted) in ${(report.durationMs / 1000).toFixed(1)} s`,
);
console.log(`statuses: ${histogram(report.totals.statuses)}`);
console.log(
  `answered in front of the dashboard: Node ${JSON.stringify(report.nodeLevel)}, API middlewares ${JSON.stringify(report.apiEdge)}; ` +
    `allowed writes on reject seen: ${JSON.stringify(report.allowedSeen)}; client refusals ${JSON.stringify(report.clientErrors)}`,
);
if (report.routesWithoutExample.length)
  console.log(`routes without an example form: ${report.routesWithoutExample.join(', ')}`);
console.log(`seed ${seed}; summary in ${file}`);
printOutcome(
  report,
  'no 5xx, every 4xx an HTML page, redirects inside /dashboard, /livez up, nothing written on reject',
);
process.exit();
