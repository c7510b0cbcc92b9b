import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * PGlite is one process's database: a second process on the same folder silently loses data.
 * The lock file holds the owner's pid and host, created with O_EXCL. A lock left by a process
 * that no longer exists on this host (kill -9, power loss) is taken over, so a restart after a
 * crash needs no manual clean-up. proper-lockfile was considered: its staleness is by mtime, so
 * a restart after kill -9 would have to wait out the stale period.
 */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: string,
  ) {
    super(
      `The data folder ${dir} is already in use by another Countersign process (${owner}). ` +
        'Stop that process, or point DATA_DIR elsewhere, or set DATABASE_URL to use PostgreSQL for several processes.',
    );
    this.name = 'DataDirInUseError';
  }
}

export type DataDirLock = { release(): void };

/** A zombie (exited, not yet reaped by its parent) holds no files open, so it counts as gone. */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ...": comm may contain spaces and parentheses, so read after the last ')'.
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'countersign.lock');
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, 'utf8') === me) rmSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner = '';
      try {
        owner = readFileSync(path, 'utf8').trim();
      } catch {
        continue; // removed between our open and read: try again
      }
      const [pidText, host] = owner.split('@');
      const pid = Number(pidText);
      const ownerGone = host === hostname() && Number.isInteger(pid) && pid > 0 && !processAlive(pid);
      if (!ownerGone) throw new DataDirInUseError(dir, owner || 'unknown owner');
      rmSync(path, { force: true });
    }
  }
  throw new DataDirInUseError(dir, 'a process that keeps re-creating the lock');
}
