import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { onCpu } from './cpuPinning.ts';

/**
 * A server the benchmark started as a child process, and the means to stop it. Every child is
 * also remembered so that the harness can end it by its pid if it stops early.
 */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts a server on the servers' CPU (cpuPinning.ts); taskset execs it, so the pid is the
 * server's. `pinned: false` leaves it to the scheduler (runs whose figures do not depend on time).
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  pinned = true,
): ServerProcess {
  const [pinnedCommand, pinnedArgs] = pinned
    ? onCpu('server', command, args)
    : [command, [...args]];
  const child = spawn(pinnedCommand, pinnedArgs, options);
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  running.add(child);
  child.once('exit', () => running.delete(child));

  return { child, pid: child.pid, stop: () => stopProcess(child) };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** Resolves with the first match of `pattern` in the child's stdout or stderr. */
export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const streams = [child.stdout, child.stderr].filter((stream) => stream !== null);

    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match !== null) finish(() => resolve(match));
    };
    const onExit = (code: number | null): void =>
      finish(() => reject(new Error(`exited (${code}) before ready:\n${seen}`)));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`not ready after ${timeoutMs} ms:\n${seen}`))),
      timeoutMs,
    );

    function finish(settle: () => void): void {
      clearTimeout(timer);
      for (const stream of streams) stream.off('data', onData);
      child.off('exit', onExit);
      settle();
    }

    for (const stream of streams) stream.on('data', onData);
    child.once('exit', onExit);
  });
}

/** A loopback port that was free a moment ago, for servers that cannot report their own. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
