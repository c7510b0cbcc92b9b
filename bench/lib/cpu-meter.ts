import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * CPU spent during a phase: this process (Node and, for PGlite, the database itself) and the
 * whole machine (Node, PostgreSQL and whatever else shares the cores). On a 2-core machine the
 * machine figure saturates at 200 %.
 */
export type CpuReading = {
  /** CPU milliseconds used by this process. */
  processMs: number;
  /** Machine-wide busy CPU as a percentage of one core (undefined where /proc/stat is missing). */
  machineBusyPercent: number | undefined;
  wallMs: number;
};

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export function startCpuMeter(): () => CpuReading {
  const usage = process.cpuUsage();
  const ticks = machineTicks();
  const started = performance.now();
  return () => {
    const used = process.cpuUsage(usage);
    const after = machineTicks();
    const cores = cpus().length;
    const machineBusyPercent =
      ticks && after && after.total > ticks.total
        ? (100 * cores * (after.busy - ticks.busy)) / (after.total - ticks.total)
        : undefined;
    return {
      processMs: (used.user + used.system) / 1000,
      machineBusyPercent,
      wallMs: performance.now() - started,
    };
  };
}

const CLOCK_TICKS_PER_SECOND = 100; // Linux's USER_HZ on every platform we run on

/**
 * CPU milliseconds used so far by each PostgreSQL backend serving one database on this machine
 * (their process titles read "postgres: <user> <database> …"), by pid. Undefined when PostgreSQL
 * is not local or /proc is missing.
 */
export function postgresBackendCpuByPid(database: string): Map<number, number> | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  const byPid = new Map<number, number>();
  for (const pid of pids) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.split(' ').includes(database)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(Number(pid), ((Number(rest[11]) + Number(rest[12])) * 1000) / CLOCK_TICKS_PER_SECOND);
    } catch {
      // the process exited while we looked
    }
  }
  return byPid.size === 0 ? undefined : byPid;
}

/**
 * CPU milliseconds used so far by the PostgreSQL backends serving one database, summed. Backends
 * that have exited are not counted: read before closing a pool, or use postgresBackendCpuBetween.
 */
export function postgresBackendCpuMs(database: string): number | undefined {
  const byPid = postgresBackendCpuByPid(database);
  return byPid && [...byPid.values()].reduce((a, b) => a + b, 0);
}

/**
 * CPU milliseconds the backends used between two readings of postgresBackendCpuByPid, by pid: a
 * backend that exited in between (an idle pool connection closed) drops out of the sum instead of
 * taking its earlier CPU with it, so the figure is a lower bound and never negative.
 */
export function postgresBackendCpuBetween(
  before: Map<number, number> | undefined,
  after: Map<number, number> | undefined,
): number | undefined {
  if (!after) return undefined;
  let ms = 0;
  for (const [pid, used] of after) ms += Math.max(0, used - (before?.get(pid) ?? 0));
  return ms;
}
