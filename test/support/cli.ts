import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI from source, as `npx imdsd` runs it bundled in dist/ after `npm install`. */
export const CLI_ENTRY = fileURLToPath(new URL('../../src/cli/run.ts', import.meta.url));

/** The published bin script, which runs dist/bundle/imdsd.js (built by `npm install`). */
export const BIN_SCRIPT = fileURLToPath(new URL('../../bin/imdsd.js', import.meta.url));

/** How a test starts the CLI: from source (the default), or as the installed program. */
export type CliLauncher = (args: string[], env: NodeJS.ProcessEnv) => ChildProcess;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
  launch: CliLauncher = spawnCli,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = launch(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], spawnOptions(env));
}

/**
 * `program ARGS`, as a shell runs an npm bin link. The launcher line of bin/imdsd.js finds node
 * on the PATH, so the node running the tests comes first there.
 */
export function spawnProgram(program: string): CliLauncher {
  return (args, env) => {
    const options = spawnOptions(env);
    options.env = { ...options.env, PATH: `${dirname(process.execPath)}:${process.env['PATH']}` };
    return spawn(program, args, options);
  };
}

function spawnOptions(env: NodeJS.ProcessEnv): SpawnOptions & { env: NodeJS.ProcessEnv } {
  return {
    // The control API gets a free port too, unless a test asks for one: no test may depend on
    // 1339 being free on a shared machine.
    env: {
      ...process.env,
      AWS_EC2_METADATA_DISABLED: 'true',
      IMDSD_API_LISTEN: '127.0.0.1:0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  };
}

export interface ServingCli {
  child: ChildProcess;
  endpoint: string;
  stdout(): string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `imdsd serve ARGS` and waits for the endpoint line it prints. */
export function serveCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
  launch: CliLauncher = spawnCli,
): Promise<ServingCli> {
  const child = launch(['serve', ...args], env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));

  const stop = (): Promise<number | null> =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.once('close', (code) => resolve(code));
      child.kill('SIGTERM');
    });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`imdsd serve printed no endpoint in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /^AWS_EC2_METADATA_SERVICE_ENDPOINT=(\S+)$/m.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ child, endpoint: match[1]!, stdout: () => stdout, stderr: () => stderr, stop });
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`imdsd serve exited with ${code}:\n${stderr}`));
    });
  });
}
