import { spawnSync, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { exchange } from './httpExchange.ts';
import { INSTANCE_ID_PATH } from './scenarios.ts';
import {
  freeLoopbackPort,
  startProcess,
  waitForOutput,
  type ServerProcess,
} from './serverProcess.ts';

/**
 * The servers a benchmark run loads, each a child process on loopback, measured as users run
 * them: the ceiling (bare node:http replaying imdsd's bytes), `imdsd serve` from the built CLI,
 * and moto's server where the machine's Python has moto.
 */
export type TargetName = 'ceiling' | 'imdsd' | 'moto';

export interface Target {
  name: TargetName;
  baseUrl: string;
  pid: number;
  /** The role the server lists under iam/security-credentials/. */
  roleName: string;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMDSD_BIN = fileURLToPath(new URL('../bin/imdsd.js', import.meta.url));
const CEILING_SERVER = fileURLToPath(new URL('./ceilingServer.mjs', import.meta.url));
export const IMDSD_DEFAULT_ROLE = 'imdsd-instance-role';
const MOTO_ROLE = 'default-role';
const READY_TIMEOUT_MS = 20_000;
/** The line the ceiling prints once it listens; its group is the port. */
const CEILING_LISTENING = /listening (\d+)/;

export interface ImdsdTargetOptions {
  /** `:memory:` or a state file. */
  state: string;
  /** Where node writes a CPU profile of the server when it exits (`--cpu-prof`). */
  cpuProfileDir?: string;
}

/**
 * `imdsd serve` started the way its users start it: the bin script run as a program, so that
 * its launcher line picks node's flags (bin/imdsd.js). A CPU profile needs `node --cpu-prof`,
 * which NODE_OPTIONS refuses, so a profiled imdsd runs under node directly, with node's
 * default heap sizes.
 */
export function spawnImdsd(options: ImdsdTargetOptions): ServerProcess {
  const serveArgs = imdsdServeArgs(options.state);
  const spawnOptions: SpawnOptions = {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The bin script finds node on the PATH: make it the node this harness runs on.
    env: { ...serverEnv(), PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
  };
  if (options.cpuProfileDir === undefined) return startProcess(IMDSD_BIN, serveArgs, spawnOptions);

  const profile = ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir];
  return startProcess(process.execPath, [...profile, IMDSD_BIN, ...serveArgs], spawnOptions);
}

function imdsdServeArgs(state: string): string[] {
  return [
    'serve',
    '--state',
    state,
    '--listen',
    '127.0.0.1:0',
    '--api-listen',
    '127.0.0.1:0',
    '--log-level',
    'warn',
  ];
}

/**
 * A target as a node command line, for a harness that runs node under another program
 * (valgrind): node's flags from the launcher, the script and its arguments, and the line it
 * prints once it listens, whose last group is the port.
 */
export interface NodeServerCommand {
  nodeArgs: string[];
  ready: RegExp;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function imdsdNodeCommand(state: string): NodeServerCommand {
  return {
    nodeArgs: [...launcherNodeFlags(), IMDSD_BIN, ...imdsdServeArgs(state)],
    ready: IMDSD_LISTENING,
    env: serverEnv(),
    cwd: ROOT,
  };
}

export function ceilingNodeCommand(recordedFile: string): NodeServerCommand {
  return {
    nodeArgs: [...launcherNodeFlags(), CEILING_SERVER, recordedFile],
    ready: CEILING_LISTENING,
    env: serverEnv(),
    cwd: ROOT,
  };
}

/** The line `imdsd serve` prints once it listens; its groups are the host and the port. */
export const IMDSD_LISTENING = /IMDS on http:\/\/([\d.]+):(\d+)\//;

export async function startImdsdTarget(options: ImdsdTargetOptions): Promise<Target> {
  const server = spawnImdsd(options);
  const [, host, port] = await readyOrStop(server, IMDSD_LISTENING);
  return target('imdsd', server, `http://${host}:${port}/`, IMDSD_DEFAULT_ROLE);
}

/**
 * The node flags the launcher line of bin/imdsd.js starts imdsd with. The ceiling runs with the
 * same ones, so that a ratio to it measures imdsd's own code and not a heap setting.
 */
export function launcherNodeFlags(): string[] {
  const launcher = /exec node (.*) "\$0" "\$@"/.exec(readFileSync(IMDSD_BIN, 'utf8'));
  if (launcher === null) throw new Error(`no launcher line in ${IMDSD_BIN}`);
  return launcher[1]!.split(' ').filter(Boolean);
}

/** The ceiling answers with the responses in `recordedFile` (see recordedResponses.ts). */
export async function startCeilingTarget(recordedFile: string): Promise<Target> {
  const command = ceilingNodeCommand(recordedFile);
  const server = startProcess(process.execPath, command.nodeArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: command.env,
  });
  const [, port] = await readyOrStop(server, command.ready);
  return target('ceiling', server, `http://127.0.0.1:${port}/`, IMDSD_DEFAULT_ROLE);
}

export function motoAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
}

/** `python3 -m moto.server -p PORT`, which also answers the IMDS paths. */
export async function startMotoTarget(): Promise<Target> {
  const port = await freeLoopbackPort();
  const server = startProcess(
    'python3',
    ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)],
    {
      stdio: 'ignore',
      env: serverEnv(),
    },
  );
  const baseUrl = `http://127.0.0.1:${port}/`;

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(baseUrl))) {
    if (Date.now() > deadline || server.child.exitCode !== null) {
      await server.stop();
      throw new Error(`moto did not answer on ${baseUrl}`);
    }
    await sleep(100);
  }
  return target('moto', server, baseUrl, MOTO_ROLE);
}

async function answers(baseUrl: string): Promise<boolean> {
  try {
    return (
      (await exchange(baseUrl, { method: 'GET', path: INSTANCE_ID_PATH, headers: {} }, 500))
        .status === 200
    );
  } catch {
    return false;
  }
}

async function readyOrStop(server: ServerProcess, pattern: RegExp): Promise<RegExpExecArray> {
  try {
    return await waitForOutput(server.child, pattern, READY_TIMEOUT_MS);
  } catch (error) {
    await server.stop();
    throw error;
  }
}

function target(
  name: TargetName,
  server: ServerProcess,
  baseUrl: string,
  roleName: string,
): Target {
  return { name, baseUrl, pid: server.pid, roleName, stop: () => server.stop() };
}

/** The harness's environment without any AWS setting, so no server under test sees credentials. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && !name.startsWith('IMDSD_')) env[name] = value;
  }
  env['AWS_EC2_METADATA_DISABLED'] = 'true';
  return env;
}
