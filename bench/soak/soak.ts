import { killServices, run, writeResult } from './driver.js';
import { startPgCluster } from './pg-cluster.js';

/**
 * `npm run soak`: SOAK_SECONDS (600) at SOAK_RATE (100) texts a second against one service on a
 * fresh database of our own PostgreSQL cluster; nothing lost, nothing sent twice, memory flat
 * (docs/soak.md).
 */

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const rate = Number(process.env.SOAK_RATE ?? 100);
const cluster = startPgCluster();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killServices();
    cluster.dispose();
    process.exit(130);
  });
}
try {
  const report = await run({
    scenario: 'soak',
    cluster,
    texts: Math.round(seconds * rate),
    rate,
    tenants: Number(process.env.SOAK_TENANTS ?? 6000),
    rssWarmupS: Math.min(60, seconds / 10),
  });
  const file = writeResult('soak', report);
  const check = report.check as { problems: string[]; counts: unknown };
  console.info(`[soak] ${report.ok ? 'OK' : 'FAILED'} ${file}`);
  console.info(
    JSON.stringify(
      { counts: check.counts, problems: check.problems, rss: report.rss, http: report.http },
      null,
      2,
    ),
  );
  process.exitCode = report.ok ? 0 : 1;
} finally {
  cluster.dispose();
}
