import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL 15 cluster of our own (never the machine's shared one on 5432): initdb in
 * a temporary folder as the postgres user, its own port and socket folder, trust auth. Restarted
 * mid-run by the PostgreSQL scenario; stopped and deleted at the end.
 */

const BIN = '/usr/lib/postgresql/15/bin';

export type PgCluster = {
  port: number;
  dir: string;
  adminUrl: string;
  createDatabase(name: string): Promise<string>;
  restart(mode?: 'fast' | 'immediate'): void;
  stop(): void;
  dispose(): void;
};

function asPostgres(args: string[]): string {
  // runuser keeps our environment out of the server's (and needs no password as root).
  const uid = process.getuid?.();
  const [cmd, ...rest] = args as [string, ...string[]];
  if (uid === 0) return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...rest], { encoding: 'utf8' });
  return execFileSync(cmd, rest, { encoding: 'utf8' });
}

export function startPgCluster(port = Number(process.env.SOAK_PG_PORT ?? 5439)): PgCluster {
  const dir = mkdtempSync(join(tmpdir(), 'cs-soak-pg-'));
  const data = join(dir, 'data');
  const uid = process.getuid?.();
  if (uid === 0) {
    const pw = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gr = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(pw), Number(gr));
  }
  asPostgres([`${BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c full_page_writes=off`;
  const pgCtl = (...args: string[]) =>
    asPostgres([`${BIN}/pg_ctl`, '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', ...args]);
  pgCtl('-o', options, 'start');
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    port,
    dir,
    adminUrl,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    restart(mode = 'fast') {
      pgCtl('-m', mode, '-o', options, 'restart');
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        pgCtl('-m', 'fast', 'stop');
      } catch {
        // already down
      }
    },
    dispose() {
      this.stop();
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
