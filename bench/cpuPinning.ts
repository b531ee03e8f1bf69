import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * With two or more CPUs and taskset (util-linux), the servers under load run on CPU 0 and wrk on
 * CPU 1. Left alone, the scheduler sometimes puts both on one core, and the same server then
 * measures at half its speed in some rounds and not in others.
 */
export type CpuRole = 'server' | 'load-generator';

const CPU_FOR: Record<CpuRole, string> = { server: '0', 'load-generator': '1' };

let available: boolean | undefined;

export function pinnedCpus(): Record<CpuRole, string> | undefined {
  available ??=
    cpus().length >= 2 &&
    spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return available ? CPU_FOR : undefined;
}

/** The command and arguments that run `command` on the CPU of `role`, when pinning is possible. */
export function onCpu(role: CpuRole, command: string, args: readonly string[]): [string, string[]] {
  const cpu = pinnedCpus()?.[role];
  return cpu === undefined ? [command, [...args]] : ['taskset', ['-c', cpu, command, ...args]];
}
