import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The built service (`node dist/cli.js serve`) as a child process, on a fresh PostgreSQL database
 * (created from an admin URL, dropped afterwards) or a fresh PGlite folder (deleted afterwards).
 * Its log goes to a file in a temporary folder, so the child never waits on a pipe we read.
 */

export const ADMIN_TOKEN = 'cs_bench_admin_token_0123456789abcdef';

export type DatabaseKind = 'postgres' | 'pglite';

export type ServiceDatabase = {
  kind: DatabaseKind;
  /** PostgreSQL: the database's URL; PGlite: undefined. */
  url: string | undefined;
  /** PostgreSQL: the database's name; PGlite: the data folder. */
  name: string;
  env: Record<string, string>;
  dispose(): Promise<void>;
};

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function createServiceDatabase(kind: DatabaseKind, adminUrl: string): Promise<ServiceDatabase> {
  if (kind === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'countersign-load-'));
    return {
      kind,
      url: undefined,
      name: dir,
      env: { DATA_DIR: dir },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const name = `cs_load_${Math.random().toString(16).slice(2, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabaseName(adminUrl, name);
  return {
    kind,
    url,
    name,
    env: { DATABASE_URL: url },
    async dispose() {
      const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** What `serve --role` starts: HTTP and jobs, HTTP only, or jobs only (see docs/architecture.md). */
export type ServiceRole = 'all' | 'api' | 'worker';

/** A service process of any role: what can be read of it from outside, and how to stop it. */
export type ServiceChild = {
  role: ServiceRole;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** VmHWM (peak resident set) and VmRSS of the child, in MB. */
  memory(): { peakMb: number; rssMb: number } | undefined;
  /** CPU ms (user + system) the child has used so far. */
  cpuMs(): number | undefined;
  /** Lines of its log at level error or fatal. */
  errorLines(): string[];
  stop(): Promise<void>;
};

/** The service logs level labels ("level":"error"); pino's numbers are matched too, in case that changes. */
const ERROR_LINE = /"level":(?:"error"|"fatal"|50|60)[,}]/;

/** A service process that serves HTTP (role `all` or `api`). */
export type ServiceProcess = ServiceChild & {
  baseUrl: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: unknown }>;
};

type StartOptions = {
  cli: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
};

/**
 * Spawns `node <cli> serve --role <role>` with its log in a temporary file and waits until
 * `isReady` says so; throws (with the log's tail) if the child exits or the time runs out first.
 */
async function spawnService(
  options: StartOptions & { role: ServiceRole; port: number; isReady(log: () => string): Promise<boolean> },
): Promise<ServiceChild> {
  const logDir = await mkdtemp(join(tmpdir(), 'countersign-load-log-'));
  const logFile = join(logDir, 'service.log');
  const log = createWriteStream(logFile);
  await new Promise<void>((resolve) => log.once('open', () => resolve()));
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.cli, 'serve', '--role', options.role],
    {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(options.port),
        API_ADMIN_TOKEN: ADMIN_TOKEN,
        ...options.env,
      },
      stdio: ['ignore', log, log],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the service (role ${options.role})`);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const readLog = () => readFileSync(logFile, 'utf8');
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(
        `the service (role ${options.role}) exited (${exited}) before ready:\n${readLog().slice(-3000)}`,
      );
    }
    if (await options.isReady(readLog)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service (role ${options.role}) was not ready in time:\n${readLog().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    role: options.role,
    child,
    pid,
    logFile,
    memory() {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
        return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
      } catch {
        return undefined;
      }
    },
    cpuMs() {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      } catch {
        return undefined;
      }
    },
    errorLines() {
      try {
        return readLog()
          .split('\n')
          .filter((l) => ERROR_LINE.test(l));
      } catch {
        return [];
      }
    },
    async stop() {
      if (exited === undefined) {
        const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await done;
        clearTimeout(timer);
      }
      log.end();
      await rm(logDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

/**
 * The service with its HTTP server (role `all` by default, or `api`), ready when /readyz answers
 * 200. The role goes on the command line, which overrides a COUNTERSIGN_ROLE in `env`.
 */
export async function startService(
  options: StartOptions & { role?: 'all' | 'api' },
): Promise<ServiceProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const service = await spawnService({
    ...options,
    role: options.role ?? 'all',
    port,
    isReady: () =>
      fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.status === 200)
        .catch(() => false),
  });
  return {
    ...service,
    baseUrl,
    async call(method, path, body, contentType = 'application/json') {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': contentType }),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        redirect: 'manual',
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed };
    },
  };
}

/**
 * A job worker (`serve --role worker`). It opens no port, so it counts as ready once its log says
 * "peers chosen": `startService` in src/main.ts writes it after the migrations ("database ready")
 * and a few steps before it starts the job loop (module start-up, the maintenance schedule).
 * If one of those failed, the process would exit and the caller would see a dead child; the load
 * bench also checks that its warm-up got replies.
 */
export async function startWorker(options: StartOptions): Promise<ServiceChild> {
  return spawnService({
    ...options,
    role: 'worker',
    port: await freePort(),
    isReady: async (log) => log().includes('"msg":"peers chosen"'),
  });
}

/**
 * How a scenario runs the service: one `all` process, or an `api` process and a `worker` process;
 * `split-nice` runs the worker at a lower CPU priority (WORKER_NICENESS), so that on shared cores
 * the api's ingest goes first and the backlog drains with what is left.
 */
export type RoleMode = 'all' | 'split' | 'split-nice';
export const ROLE_MODES: readonly RoleMode[] = ['all', 'split', 'split-nice'];
/** The roles of each mode's processes, in start order. */
export const ROLES_OF: Readonly<Record<RoleMode, readonly ServiceRole[]>> = {
  all: ['all'],
  split: ['api', 'worker'],
  'split-nice': ['api', 'worker'],
};
/** The niceness of the worker in `split-nice` (as `nice -n 10`). */
export const WORKER_NICENESS = 10;

/**
 * Lowers a running process's CPU priority, every thread of it: Linux keeps a nice value per
 * thread, and V8 and libuv have started theirs before any flag of ours could apply (threads
 * started later inherit from the main thread).
 */
function renice(pid: number, niceness: number): void {
  for (const task of readdirSync(`/proc/${pid}/task`)) setPriority(Number(task), niceness);
}
export const SERVICE_ROLES: readonly ServiceRole[] = ['all', 'api', 'worker'];

/** The service processes of one scenario, on one database. */
export type Deployment = {
  mode: RoleMode;
  /** The process that serves HTTP and takes the load (role `all` or `api`). */
  api: ServiceProcess;
  /** Every process, the api first. */
  processes: readonly ServiceChild[];
  stop(): Promise<void>;
};

/**
 * Starts the service as `mode` says. Split: the api first, and the worker only once the api is
 * ready, so that the api runs the migrations and the first-start steps (first admin) alone; the
 * migrations are also serialized by an advisory lock (docs/architecture.md, "Process roles"), so
 * this order is for clean logs and timings, not for correctness. Split needs PostgreSQL: a PGlite
 * folder belongs to one process.
 */
export async function startDeployment(
  mode: RoleMode,
  options: Omit<StartOptions, 'nodeArgs'> & { nodeArgs?(role: ServiceRole): string[] },
): Promise<Deployment> {
  const common = { cli: options.cli, env: options.env, readyTimeoutMs: options.readyTimeoutMs };
  const apiRole = mode === 'all' ? 'all' : 'api';
  const api = await startService({ ...common, role: apiRole, nodeArgs: options.nodeArgs?.(apiRole) });
  const processes: ServiceChild[] = [api];
  if (mode !== 'all') {
    try {
      const worker = await startWorker({ ...common, nodeArgs: options.nodeArgs?.('worker') });
      processes.push(worker);
      if (mode === 'split-nice') renice(worker.pid, WORKER_NICENESS);
    } catch (error) {
      await api.stop();
      throw error;
    }
  }
  return {
    mode,
    api,
    processes,
    async stop() {
      // The api first: no new texts while the worker finishes (or gives back) what it holds.
      for (const p of processes) await p.stop();
    },
  };
}

/** `uptime`'s load averages, for the record of each run. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}
