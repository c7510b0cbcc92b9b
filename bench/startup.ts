/**
 * How long `countersign serve` takes to answer /readyz 200: cold (a fresh PGlite data folder, so
 * initdb and the migrations run) and warm (the same folder again). Next to it, in the same run,
 * the two costs a start cannot avoid — a bare `node` start and a bare PGlite initdb — so the
 * figures compare as ratios on a noisy machine. It prints and writes JSON; it asserts nothing.
 *
 *   npm run bench:startup                 # 3 rounds
 *   npm run bench:startup -- --rounds 5
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { summarize, type Summary } from './lib/percentiles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');

/** Starts the service on an ephemeral port, waits for /readyz 200, stops it; the time to ready. */
async function timeToReady(dataDir: string): Promise<number> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = startedAt + 120_000;
    for (;;) {
      if (performance.now() > deadline) throw new Error(`not ready after 120 s:\n${output}`);
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output}`);
      const port = /listening on http:\/\/[^:]+:(\d+)/.exec(output)?.[1];
      if (port) {
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) return performance.now() - startedAt;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function bareInitdb(dir: string): Promise<number> {
  const startedAt = performance.now();
  const db = new PGlite(dir);
  await db.waitReady;
  const elapsed = performance.now() - startedAt;
  await db.close();
  return elapsed;
}

function bareNode(): number {
  const startedAt = performance.now();
  spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  return performance.now() - startedAt;
}

const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) throw new Error('npm run build failed');

const samples = { cold: [] as number[], warm: [] as number[], node: [] as number[], initdb: [] as number[] };
const scratch = await mkdtemp(join(tmpdir(), 'countersign-startup-'));
try {
  for (let round = 0; round < rounds; round++) {
    const dataDir = join(scratch, `service-${round}`);
    samples.cold.push(await timeToReady(dataDir));
    samples.warm.push(await timeToReady(dataDir));
    samples.node.push(bareNode());
    samples.initdb.push(await bareInitdb(join(scratch, `initdb-${round}`)));
    console.log(
      `round ${round + 1}/${rounds}: cold ${samples.cold.at(-1)!.toFixed(0)} ms, warm ${samples.warm.at(-1)!.toFixed(0)} ms, ` +
        `bare node ${samples.node.at(-1)!.toFixed(0)} ms, bare PGlite initdb ${samples.initdb.at(-1)!.toFixed(0)} ms`,
    );
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

const summary: Record<keyof typeof samples, Summary> = {
  cold: summarize(samples.cold),
  warm: summarize(samples.warm),
  node: summarize(samples.node),
  initdb: summarize(samples.initdb),
};
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const result = {
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, node: process.version },
  rounds,
  ms: summary,
  ratios: {
    coldOverInitdb: ratio(summary.cold.p50, summary.initdb.p50),
    warmOverNode: ratio(summary.warm.p50, summary.node.p50),
    coldMinusInitdbMs: Math.round(summary.cold.p50 - summary.initdb.p50),
  },
};
console.log(
  `\nserve → /readyz 200, median of ${rounds}: cold ${summary.cold.p50.toFixed(0)} ms, warm ${summary.warm.p50.toFixed(0)} ms` +
    `\n  cold / bare PGlite initdb = ${result.ratios.coldOverInitdb} (cold − initdb = ${result.ratios.coldMinusInitdbMs} ms)` +
    `\n  warm / bare node start    = ${result.ratios.warmOverNode}`,
);
const out = join(root, 'bench', 'results', `startup-${result.at.replace(/[:.]/g, '-')}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, JSON.stringify(result, null, 2));
console.log(`written to ${relative(root, out)}`);
