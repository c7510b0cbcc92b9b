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
 * CPU milliseconds used so far by the PostgreSQL backends serving one database on this machine
 * (their process titles read "postgres: <user> <database> …"). Undefined when PostgreSQL is not
 * local or /proc is missing. Backends that have exited are not counted: read before closing a pool.
 */
export function postgresBackendCpuMs(database: string): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  let ticks = 0;
  let found = 0;
  for (const pid of pids) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!title.startsWith('postgres: ') || !title.split(' ').includes(database)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
      found += 1;
    } catch {
      // the process exited while we looked
    }
  }
  return found === 0 ? undefined : (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}
