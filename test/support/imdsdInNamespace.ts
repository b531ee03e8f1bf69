import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigInput } from '../../src/config/schema.ts';
import { IMDS_IPV4, IMDS_IPV6, type TestNetwork } from './netns.ts';

/**
 * `imdsd serve` as an operator runs it, inside the test network's imds namespace, on the real
 * metadata addresses (which exist only in that namespace). It starts with
 * --require-hop-limit, so a missing addon fails the test instead of weakening it.
 */

export const REPOSITORY = new URL('../../', import.meta.url).pathname;
/** The CLI's entry; run through tsx, so tests need no build of dist/. */
const ENTRY = new URL('../../src/cli/run.ts', import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export const IMDS_LISTEN = [`${IMDS_IPV4}:80`, `[${IMDS_IPV6}]:80`];

/** One line of imdsd's JSON log. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface ImdsdInNamespace {
  /** Log lines so far (debug level), parsed; all of them after stop(). */
  readonly logs: LogLine[];
  stop(): Promise<void>;
}

export interface ImdsdInNamespaceOptions {
  /** `--api-listen`; without it the control API stays on the imds namespace's own loopback. */
  apiListen?: string;
}

export async function startImdsdInNamespace(
  network: TestNetwork,
  config: ConfigInput,
  options: ImdsdInNamespaceOptions = {},
): Promise<ImdsdInNamespace> {
  const directory = mkdtempSync(join(tmpdir(), 'imdsd-netns-'));
  const configFile = join(directory, 'imdsd.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2)); // JSON is YAML

  const listen = IMDS_LISTEN.flatMap((address) => ['--listen', address]);
  const apiListen = options.apiListen === undefined ? [] : ['--api-listen', options.apiListen];
  const child = network.spawn(
    network.imds,
    [
      process.execPath,
      '--import',
      'tsx',
      ENTRY,
      'serve',
      '--config',
      configFile,
      ...listen,
      ...apiListen,
      '--state',
      ':memory:',
      '--log-level',
      'debug',
      '--require-hop-limit',
    ],
    {
      cwd: REPOSITORY,
      stdio: ['ignore', 'pipe', 'pipe'],
      // imdsd itself never calls IMDS; it gets no AWS settings at all.
      env: { PATH: process.env['PATH'], HOME: directory, AWS_EC2_METADATA_DISABLED: 'true' },
    },
  );

  const logs: LogLine[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
  });

  const cleanUp = (): void => rmSync(directory, { recursive: true, force: true });
  try {
    await untilReady(child);
  } catch (error) {
    child.kill('SIGKILL');
    cleanUp();
    throw error;
  }

  return {
    logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // 'close' comes after the last of its output, so `logs` is complete once this returns.
        const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        const [exitCode, signal] = await exited;
        clearTimeout(timer);
        cleanUp();
        if (exitCode !== 0)
          throw new Error(`imdsd did not stop cleanly on SIGTERM (${exitCode ?? signal})`);
      }
      cleanUp();
    },
  };
}

/** serve prints the endpoint line on stderr once every listener is bound. */
function untilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stderr?.removeListener('data', onData);
      child.removeListener('exit', onExit);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onData = (chunk: string): void => {
      stderr += chunk;
      if (stderr.includes('AWS_EC2_METADATA_SERVICE_ENDPOINT=')) finish();
    };
    const onExit = (): void => finish(new Error(`imdsd exited before it was ready:\n${stderr}`));
    const timer = setTimeout(
      () => finish(new Error(`imdsd was not ready within ${READY_TIMEOUT_MS} ms:\n${stderr}`)),
      READY_TIMEOUT_MS,
    );

    child.stderr?.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}
