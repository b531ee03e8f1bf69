import { readFileSync } from 'node:fs';

/**
 * Memory of a process as Linux reports it in /proc/PID/status: VmHWM is the peak resident set
 * since the process started, VmRSS the current one. Undefined where /proc is not available.
 */
export function peakRssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmHWM');
}

export function rssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

function statusField(pid: number, field: string): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match === null ? undefined : Number(match[1]) * 1024;
}
