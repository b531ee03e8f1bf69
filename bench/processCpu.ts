import { readFileSync } from 'node:fs';

/**
 * CPU time a process has used so far, user plus system, all threads (/proc/PID/stat fields 14
 * and 15, in clock ticks of 10 ms). CPU time per request is the one figure that other work on
 * a shared machine hardly disturbs: it costs wall time, not the server's own CPU time.
 */
const TICKS_PER_SECOND = 100;

export function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return Number.isFinite(userTicks + systemTicks)
    ? (userTicks + systemTicks) / TICKS_PER_SECOND
    : undefined;
}
