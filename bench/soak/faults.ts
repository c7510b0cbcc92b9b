import { killServices, run, writeResult, type RunOptions } from './driver.js';
import { startPgCluster } from './pg-cluster.js';

/**
 * `npm run faults -- <scenario>|all` (docs/soak.md). Each scenario is a run of the driver on a
 * fresh database of our own PostgreSQL cluster (port SOAK_PG_PORT, 5439), with one fault.
 * FAULTS_TEXTS and FAULTS_RATE scale every scenario (defaults: 5,000 texts at 50/s for the kill
 * and two-process scenarios, 3,000 for the others).
 */

const env = process.env;
const texts = (fallback: number) => Number(env.FAULTS_TEXTS ?? fallback);
const rate = Number(env.FAULTS_RATE ?? 50);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Scenario = Omit<RunOptions, 'cluster' | 'scenario'>;

const SCENARIOS: Record<string, () => Scenario> = {
  kill: () => ({
    texts: texts(5000),
    rate,
    tenants: 500,
    events: [0.2, 0.45, 0.7].map((at, i) => ({
      at,
      name: `kill -9 #${i + 1} and restart`,
      run: (ctx) => ctx.killAndRestart(0),
    })),
  }),
  ai: () => ({
    texts: texts(3000),
    rate,
    tenants: 300,
    ai: { errorRate: 0.15, timeoutRate: 0.15, timeoutMs: 6000 },
  }),
  'sms-down': () => ({
    texts: texts(3000),
    rate,
    tenants: 300,
    events: [
      {
        at: 0.25,
        name: 'SMS fake down for 60 s (30 s answering 503, 30 s dropping connections)',
        async run(ctx) {
          ctx.sms.failAlways({ kind: 'status', status: 503 });
          await sleep(30_000);
          ctx.sms.failAlways({ kind: 'drop' });
          await sleep(30_000);
          ctx.sms.heal();
          ctx.log('SMS fake back up');
        },
      },
    ],
  }),
  'pg-restart': () => ({
    texts: texts(3000),
    rate,
    tenants: 300,
    events: [
      {
        at: 0.35,
        name: 'PostgreSQL restart -m fast',
        async run(ctx) {
          ctx.cluster.restart('fast');
          ctx.log('PostgreSQL back (fast restart)');
        },
      },
      {
        at: 0.7,
        name: 'PostgreSQL restart -m immediate (crash-like)',
        async run(ctx) {
          ctx.cluster.restart('immediate');
          ctx.log('PostgreSQL back (immediate restart)');
        },
      },
    ],
  }),
  'two-procs': () => ({ texts: texts(5000), rate, tenants: 500, services: 2 }),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => a !== '--');
  const names = wanted.length === 0 || wanted.includes('all') ? Object.keys(SCENARIOS) : wanted;
  for (const name of names)
    if (!SCENARIOS[name])
      throw new Error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}, all`);
  const cluster = startPgCluster();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killServices();
      cluster.dispose();
      process.exit(130);
    });
  }
  let failed = 0;
  try {
    for (const name of names) {
      const report = await run({ scenario: name, cluster, ...SCENARIOS[name]!() });
      const file = writeResult('faults', report);
      const check = report.check as { ok: boolean; problems: string[]; counts: unknown };
      console.info(`[${name}] ${report.ok ? 'OK' : 'FAILED'} ${file}`);
      console.info(
        JSON.stringify({ counts: check.counts, problems: check.problems, rss: report.rss }, null, 2),
      );
      if (!report.ok) failed += 1;
    }
  } finally {
    cluster.dispose();
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
