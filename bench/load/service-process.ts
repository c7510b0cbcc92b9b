import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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

export type ServiceProcess = {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  logFile: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: unknown }>;
  /** VmHWM (peak resident set) and VmRSS of the child, in MB. */
  memory(): { peakMb: number; rssMb: number } | undefined;
  /** CPU ms (user + system) the child has used so far. */
  cpuMs(): number | undefined;
  /** Lines of its log at level error (50) or fatal (60). */
  errorLines(): string[];
  stop(): Promise<void>;
};

export async function startService(options: {
  cli: string;
  env: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<ServiceProcess> {
  const port = await freePort();
  const logDir = await mkdtemp(join(tmpdir(), 'countersign-load-log-'));
  const logFile = join(logDir, 'service.log');
  const log = createWriteStream(logFile);
  await new Promise<void>((resolve) => log.once('open', () => resolve()));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.cli, 'serve'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      API_ADMIN_TOKEN: ADMIN_TOKEN,
      ...options.env,
    },
    stdio: ['ignore', log, log],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the service');
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(
        `the service exited (${exited}) before ready:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    }
    const ok = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the service was not ready in time:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid,
    baseUrl,
    logFile,
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
        return readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((l) => /"level":(50|60)/.test(l));
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

/** `uptime`'s load averages, for the record of each run. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}
