// The built service plus one test module: a `test.count` job whose database effect (one row in
// job_runs, or runs + 1 when it ran before) commits together with the job's 'done' mark through
// ctx.complete(). A second run of any job would show as runs = 2. The test creates job_runs.
//
// Environment: the service's own variables, plus
//   FIXTURE_JOB_SLEEP_MS         (default 0) how long each job waits before it completes, so that
//                                a kill -9 can land while jobs are running;
//   FIXTURE_JOB_SLEEP_JITTER_MS  (default 0) up to this much more, at random, so that jobs claimed
//                                together do not all finish together (no instant with none running).
// Each job logs 'test job started' (debug) when it begins, so a test can see which are in flight.
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { ConfigError, loadConfig } from '../../dist/config/config.js';
import { runUntilSignalled, startService } from '../../dist/main.js';
import { version } from '../../dist/version.js';

function milliseconds(name) {
  const value = Number(process.env[name] ?? '0');
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`${name} must be a whole number of milliseconds\n`);
    process.exit(1);
  }
  return value;
}
const sleepMs = milliseconds('FIXTURE_JOB_SLEEP_MS');
const jitterMs = milliseconds('FIXTURE_JOB_SLEEP_JITTER_MS');

/** @type {import('../../src/main.js').ModuleFactory} */
const countModule = (core) => ({
  name: 'test-count',
  register() {},
  jobs: [
    {
      kind: 'test.count',
      async run(ctx) {
        core.logger.debug({ jobId: ctx.job.id, attempt: ctx.job.attempts }, 'test job started');
        const wait = sleepMs + Math.floor(Math.random() * (jitterMs + 1));
        // Aborted on shutdown: the worker then gives the job back instead of completing it.
        if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal });
        await ctx.complete(async (tx) => {
          await tx.execute(
            sql`insert into job_runs (job_id, runs) values (${ctx.job.id}, 1)
                on conflict (job_id) do update set runs = job_runs.runs + 1`,
          );
        });
      },
    },
  ],
});

// The first signal stops gracefully (exit 0), a second one exits at once, as in src/cli.ts.
try {
  await runUntilSignalled(() => startService(loadConfig(process.env, version), { modules: [countModule] }));
} catch (error) {
  process.stderr.write(
    error instanceof ConfigError
      ? `Fixture server cannot start.\n${error.message}\n`
      : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
