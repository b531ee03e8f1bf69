import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, waitForOutput, type ServerProcess } from './serverProcess.ts';
import type { NodeServerCommand } from './targets.ts';

/**
 * A node server run under valgrind's callgrind, which counts the instructions it executes, in
 * every thread (the JIT's and the garbage collector's included). Counts are steady where time
 * is not: on this VM the same build's CPU time per request moved by half within minutes, while
 * its instruction count moves by a tenth of a percent. They leave out what the kernel does for
 * a system call, which the ceiling and imdsd share but for the calls imdsd adds.
 */
export interface CallgrindServer {
  port: number;
  /** Starts the count afresh (callgrind_control --zero). */
  zero(): void;
  /** Instructions since the last zero (callgrind_control --dump, then its file). */
  instructionsSinceZero(): Promise<number>;
  stop(): Promise<void>;
}

/** node under valgrind starts in seconds, not milliseconds. */
const READY_TIMEOUT_MS = 180_000;
const DUMP_TIMEOUT_MS = 60_000;

export function valgrindVersion(): string | undefined {
  const result = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export async function startUnderCallgrind(
  command: NodeServerCommand,
  outputDir: string,
): Promise<CallgrindServer> {
  const server = startProcess(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(outputDir, 'callgrind.%p')}`,
      // node writes machine code at run time; valgrind must see every rewrite of it.
      '--smc-check=all',
      '--dump-instr=no',
      '--dump-line=no',
      process.execPath,
      ...command.nodeArgs,
    ],
    { cwd: command.cwd, env: command.env, stdio: ['ignore', 'pipe', 'pipe'] },
    false,
  );

  let ready: RegExpExecArray;
  try {
    ready = await waitForOutput(server.child, command.ready, READY_TIMEOUT_MS);
  } catch (error) {
    await server.stop();
    throw error;
  }

  let dumps = 0;
  return {
    port: Number(ready[ready.length - 1]),
    zero: () => control(server, '--zero'),
    async instructionsSinceZero() {
      control(server, '--dump');
      dumps += 1;
      return await dumpedInstructions(join(outputDir, `callgrind.${server.pid}.${dumps}`));
    },
    stop: () => server.stop(),
  };
}

function control(server: ServerProcess, command: '--zero' | '--dump'): void {
  const result = spawnSync('callgrind_control', [command, String(server.pid)], {
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`callgrind_control ${command} ${server.pid} failed: ${result.stderr}`);
}

/** The `summary:` line of a dump; callgrind writes the file while callgrind_control returns. */
async function dumpedInstructions(file: string): Promise<number> {
  const deadline = Date.now() + DUMP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const summary = existsSync(file) ? /^summary: (\d+)$/m.exec(readFileSync(file, 'utf8')) : null;
    if (summary !== null) return Number(summary[1]);
    await sleep(200);
  }
  throw new Error(`callgrind wrote no summary to ${file} in ${DUMP_TIMEOUT_MS} ms`);
}
