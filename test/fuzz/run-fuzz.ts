import { mkdirSync, writeFileSync } from 'node:fs';
import { envWholeNumber as number, histogram, printOutcome, runFuzz } from './fuzz-harness.js';

/**
 * `npm run fuzz`: the full run. FUZZ_RUNS bad bodies per mutating operation (10,000 by default),
 * a random seed unless FUZZ_SEED is given (printed either way), a JSON summary in
 * bench/results/fuzz-<database>.json. Exits 1 when any promise was broken.
 */

const runs = number('FUZZ_RUNS', 10_000);
const seed = number('FUZZ_SEED', Math.floor(Math.random() * 2 ** 31));
const headerRuns = number('FUZZ_HEADER_RUNS', Math.max(50, Math.floor(runs / 10)));
const pathRuns = number('FUZZ_PATH_RUNS', Math.max(50, Math.floor(runs / 20)));
console.log(
  `fuzz (role ${process.env.FUZZ_ROLE === 'all' ? 'all' : 'api'}): seed ${seed}, ${runs} bodies, ${headerRuns} header cases, ${pathRuns} path cases per operation`,
);

const only = process.env.FUZZ_ONLY || undefined;
const role = process.env.FUZZ_ROLE === 'all' ? 'all' : 'api';
const report = await runFuzz({
  runs,
  headerRuns,
  pathRuns,
  seed,
  only,
  role,
  log: (line) => console.log(line),
});
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/fuzz-${report.database}.json`;
writeFileSync(
  file,
  `${JSON.stringify({ ...report, at: new Date().toISOString(), node: process.version }, null, 2)}\n`,
);
console.log(
  `\n${report.database}: ${report.totals.requests} requests (${report.totals.rejected} rejected, ${report.totals.accepted} accepted) in ${(report.durationMs / 1000).toFixed(1)} s`,
);
console.log(`timing: ${JSON.stringify((report as { timing?: unknown }).timing)}`);
console.log(`statuses: ${histogram(report.totals.statuses)}`);
if (Object.keys(report.nodeLevel).length)
  console.log(`answered by Node before the app: ${JSON.stringify(report.nodeLevel)}`);
console.log(`seed ${seed}; summary in ${file}`);
printOutcome(report, 'no 5xx, every 4xx problem+json, /livez up, nothing written on reject');
process.exit();
