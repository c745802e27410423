/**
 * What a benchmark child reports about itself: CPU (process.cpuUsage) and memory (VmHWM = peak resident
 * set, VmRSS = now, from /proc/self/status on Linux; resourceUsage().maxRSS elsewhere), in one JSON line
 * on stdout prefixed with RESULT_PREFIX so the orchestrator can tell it from anything else printed.
 */
import fs from 'node:fs';

export const RESULT_PREFIX = 'BENCH_RESULT ';

export interface MemorySample {
  /** Peak resident set size so far, MiB. */
  hwmMiB: number;
  /** Resident set size now, MiB. */
  rssMiB: number;
  /** V8 heap used now, MiB. */
  heapUsedMiB: number;
}

function statusKiB(field: string, status: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : undefined;
}

export function memory(): MemorySample {
  let status = '';
  try {
    status = fs.readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux: fall back on what Node reports
  }
  const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
  const hwm = statusKiB('VmHWM', status) ?? process.resourceUsage().maxRSS;
  const rss = statusKiB('VmRSS', status) ?? Math.round(process.memoryUsage.rss() / 1024);
  return {
    hwmMiB: mib(hwm),
    rssMiB: mib(rss),
    heapUsedMiB: Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10,
  };
}

/** CPU time (user + system) in ms since `since` (a process.cpuUsage() value), or since start. */
export function cpuMs(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return Math.round((u.user + u.system) / 100) / 10;
}

export function report(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}
