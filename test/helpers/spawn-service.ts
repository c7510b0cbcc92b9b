import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { configVariables } from '../../src/config/config.js';

/**
 * Runs the BUILT service (dist/) as a real OS process, for process-level tests.
 *
 * Each child gets its own process group (detached), so a signal reaches everything it started:
 * `npm start` runs `sh -c "node dist/cli.js serve"`, and a signal sent to npm alone is not passed
 * on to node (sh dies and node is orphaned). "Exited" therefore means the whole group is gone,
 * not just the direct child.
 */

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = join(repoRoot, 'dist', 'cli.js');
export const fixtureServerPath = join(repoRoot, 'test', 'process', 'fixture-server.mjs');

/** Variables the test itself sets; never inherited from the outer environment. */
const FIXTURE_VARIABLES = ['FIXTURE_JOB_SLEEP_MS', 'FIXTURE_JOB_SLEEP_JITTER_MS'];

export type SpawnServiceOptions = {
  /** For messages; defaults to the command line. */
  name?: string;
  /** Default: the current node executable. */
  command?: string;
  /** Default: ['dist/cli.js', 'serve']. */
  args?: readonly string[];
  cwd?: string;
  /**
   * Service configuration. The outer environment is inherited (PATH, HOME, ...) except every
   * variable the service reads (DATABASE_URL included), so only what is given here configures it.
   */
  env?: Record<string, string | undefined>;
};

export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null };

export type LogLine = Record<string, unknown> & { msg?: string };

export type ServiceProcess = {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** The JSON log lines on stdout so far (other lines are skipped). */
  logLines(): LogLine[];
  /** Set once the "listening on" log line was seen. */
  readonly port: number | undefined;
  readonly url: string | undefined;
  /** Resolves when the direct child has exited and its output is drained (with its own status). */
  readonly exited: Promise<ExitStatus>;
  /** The direct child's status once it exited. */
  readonly exitStatus: ExitStatus | undefined;
  /** Waits for the "listening on" line, then for GET /readyz to answer 200; returns the port. */
  waitForReady(timeoutMs?: number): Promise<number>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Waits until the direct child and everything in its process group are gone. */
  waitForExit(timeoutMs?: number): Promise<ExitStatus>;
  /** Sends a signal to the whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL to the group, then waits until it is gone. */
  kill(): Promise<ExitStatus>;
  /** SIGTERM, waits up to timeoutMs for a clean exit, else SIGKILL and throws. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
  /** Recent output, for failure messages. */
  describe(): string;
};

/** Fails loudly when dist/ is missing, warns when src/ changed after the last build. */
let builtChecked = false;
function assertBuilt(): void {
  if (builtChecked) return;
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} does not exist: run \`npm run build\` before the process tests.`);
  }
  const builtAt = statSync(cliPath).mtimeMs;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return Math.max(max, newest(path));
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')
        ? Math.max(max, statSync(path).mtimeMs)
        : max;
    }, 0);
  if (newest(join(repoRoot, 'src')) > builtAt) {
    console.warn('[spawn-service] src/ is newer than dist/: the process tests run the last build.');
  }
  builtChecked = true;
}

export function serviceEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...configVariables, ...FIXTURE_VARIABLES]) delete out[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

/** True while any process of the group is alive (zombies, which cannot do anything, do not count). */
function groupAlive(pgid: number): boolean {
  if (process.platform === 'linux') {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited while we looked
      }
      // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses, so parse after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Polls condition every intervalMs until it returns a value other than undefined/false, or throws on timeout. */
export async function waitFor<T>(
  what: string,
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

const live = new Set<ServiceProcess>();

// Last resort when the test runner exits without running hooks: no child may outlive it.
process.once('exit', () => {
  for (const service of live) signalGroup(service.pid, 'SIGKILL');
});

export function spawnService(options: SpawnServiceOptions = {}): ServiceProcess {
  assertBuilt();
  const command = options.command ?? process.execPath;
  const args = [...(options.args ?? [cliPath, 'serve'])];
  const name = options.name ?? [command === process.execPath ? 'node' : command, ...args].join(' ');
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: serviceEnv(options.env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`Could not start ${name}`);
  const pid = child.pid;
  const startedAt = performance.now();

  let out = '';
  let err = '';
  let parsedUpTo = 0;
  const lines: LogLine[] = [];
  let port: number | undefined;
  let exitStatus: ExitStatus | undefined;

  const parse = () => {
    const end = out.lastIndexOf('\n') + 1;
    if (end <= parsedUpTo) return;
    for (const text of out.slice(parsedUpTo, end).split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        if (port === undefined && typeof line.msg === 'string' && line.msg.startsWith('listening on')) {
          port = typeof line.port === 'number' ? line.port : Number(/:(\d+)\s*$/.exec(line.msg)?.[1]);
        }
      } catch {
        // a non-JSON line that happens to start with "{"
      }
    }
    parsedUpTo = end;
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    parse();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });

  const exited = new Promise<ExitStatus>((resolve) => {
    // 'close', not 'exit': it comes after stdout and stderr are drained, so the output is complete.
    child.once('close', (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
    });
    child.once('error', (error) => {
      err += `\n[spawn error] ${error.message}`;
      exitStatus = { code: null, signal: null };
      resolve(exitStatus);
    });
  });

  const tail = (text: string) => (text.length > 4000 ? `...${text.slice(-4000)}` : text);
  const describe = () =>
    `${name} (pid ${pid}, exit ${JSON.stringify(exitStatus ?? 'still running')})\n` +
    `--- stdout ---\n${tail(out)}\n--- stderr ---\n${tail(err)}`;

  const failIfExited = (what: string) => {
    if (exitStatus) throw new Error(`${name} exited while waiting for ${what}.\n${describe()}`);
  };

  const service: ServiceProcess = {
    name,
    child,
    pid,
    startedAt,
    stdout: () => out,
    stderr: () => err,
    logLines: () => lines,
    get port() {
      return port;
    },
    get url() {
      return port === undefined ? undefined : `http://127.0.0.1:${port}`;
    },
    exited,
    get exitStatus() {
      return exitStatus;
    },
    async waitForReady(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const remaining = () => Math.max(1, deadline - Date.now());
      const listening = await waitFor(
        `${name} to log "listening on"`,
        () => {
          failIfExited('"listening on"');
          return port;
        },
        { timeoutMs: remaining(), intervalMs: 25 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${describe()}`);
      });
      await waitFor(
        `${name} to answer GET /readyz with 200`,
        async () => {
          failIfExited('/readyz');
          try {
            const response = await fetch(`http://127.0.0.1:${listening}/readyz`, {
              signal: AbortSignal.timeout(Math.min(5000, remaining())),
            });
            await response.arrayBuffer();
            return response.status === 200;
          } catch {
            return false;
          }
        },
        { timeoutMs: remaining(), intervalMs: 50 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${describe()}`);
      });
      return listening;
    },
    async waitForLog(predicate, timeoutMs = 30_000) {
      let seen = 0;
      return waitFor(
        `a log line from ${name}`,
        () => {
          for (; seen < lines.length; seen++) if (predicate(lines[seen]!)) return lines[seen];
          failIfExited('a log line');
          return undefined;
        },
        { timeoutMs, intervalMs: 25 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${describe()}`);
      });
    },
    async waitForExit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const status = await Promise.race([
        exited,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!status) throw new Error(`${name} did not exit within ${timeoutMs} ms.\n${describe()}`);
      await waitFor(`every process of ${name}'s group to exit`, () => !groupAlive(pid), {
        timeoutMs: Math.max(1000, timeoutMs),
        intervalMs: 25,
      });
      live.delete(service);
      return status;
    },
    signal(signal) {
      signalGroup(pid, signal);
    },
    async kill() {
      signalGroup(pid, 'SIGKILL');
      return service.waitForExit(10_000);
    },
    async stop(timeoutMs = 30_000) {
      signalGroup(pid, 'SIGTERM');
      try {
        return await service.waitForExit(timeoutMs);
      } catch (error) {
        await service.kill();
        throw error;
      }
    },
    describe,
  };
  live.add(service);
  return service;
}

/** SIGKILLs every service process that is still running (safe to call at any time). */
export async function killAllServices(): Promise<void> {
  await Promise.all([...live].map((service) => service.kill()));
}

/** Alive and not a zombie (an exited process its parent has not reaped yet). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

const SLOT_FILE = join(tmpdir(), 'countersign-process-tests.slot');

function readSlot(): string | undefined {
  try {
    return readFileSync(SLOT_FILE, 'utf8');
  } catch {
    return undefined;
  }
}

function slotAgeMs(): number {
  try {
    return Date.now() - statSync(SLOT_FILE).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * One process-test file at a time on this machine: the files start real servers (and PGlite's
 * initdb is seconds of CPU), and on two shared cores two such files side by side starve each
 * other's timed steps (npm start must be ready within 10 s). A slot whose holder died is taken
 * over; after waitMs the file runs anyway, with a warning, rather than fail.
 */
async function acquireSlot(waitMs: number): Promise<(() => void) | undefined> {
  const me = `${process.pid}:${randomUUID()}`;
  const deadline = Date.now() + waitMs;
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(SLOT_FILE, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      if (waited) console.info('[spawn-service] got the process-test slot');
      return () => {
        try {
          if (readFileSync(SLOT_FILE, 'utf8') === me) rmSync(SLOT_FILE);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readSlot();
    if (holder === undefined) continue; // released between our open and read
    const pid = Number(holder.split(':')[0]);
    // An empty file is a holder between its create and its write, unless it stays empty.
    const unreadable = !Number.isInteger(pid) || pid <= 0;
    if (unreadable ? slotAgeMs() > 10_000 : !processAlive(pid)) {
      // Remove only what was read, not a slot another waiter has taken over meanwhile.
      if (readSlot() === holder) rmSync(SLOT_FILE, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      console.warn(`[spawn-service] ${SLOT_FILE} still held by ${holder} after ${waitMs} ms; running anyway`);
      return undefined;
    }
    if (!waited) console.info(`[spawn-service] waiting for the process-test slot (held by ${holder})`);
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Registers a test file's hooks: before the file, it waits for the machine-wide process-test slot
 * (see acquireSlot); every process started through spawnService is killed after each test (scope
 * 'test') or after the file (scope 'file', for scenarios that run one process across several
 * tests); after the file, the slot is released.
 */
export function useServiceProcesses(scope: 'test' | 'file' = 'file', { slotWaitMs = 300_000 } = {}): void {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await acquireSlot(slotWaitMs);
  }, slotWaitMs + 10_000);
  if (scope === 'test') afterEach(killAllServices);
  afterAll(async () => {
    try {
      await killAllServices();
    } finally {
      release?.();
    }
  });
}
