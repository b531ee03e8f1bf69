import {
  execFile,
  execFileSync,
  spawn,
  type ChildProcess,
  type SpawnOptions,
} from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A test network of Linux network namespaces joined by veth pairs, so that hop limits and
 * caller addresses are tested on real routed packets:
 *
 *   container(s) ──veth── host (router, forwarding on) ──veth── imds
 *   10.213.N.2            10.213.N.1 | 10.213.0.1               10.213.0.2
 *   fd00:213:N::2         fd00:213:N::1 | fd00:213:0::1         fd00:213:0::2
 *                                                               169.254.169.254/32 and
 *                                                               fd00:ec2::254/128 on lo
 *
 * The host is one routed hop from the metadata addresses, each container two. No veth end
 * is ever in the machine's own namespace, so nothing sent here can leave the test network:
 * the metadata and private addresses exist only inside it. Namespace names carry the test
 * process's pid (`imdsd-t<pid>-`); a later run removes what a killed run left behind.
 */

export const IMDS_IPV4 = '169.254.169.254';
export const IMDS_IPV6 = 'fd00:ec2::254';

const NAME_PREFIX = 'imdsd-t';
const STALE_NAME = /^imdsd-t(\d+)-/;

const run = promisify(execFile);

/** One namespace's address on its link towards the host router (or, for the host, towards imds). */
export interface NamespaceAddress {
  namespace: string;
  ipv4: string;
  ipv6: string;
  /** The client blocks that cover this namespace's link, for an instance's `clients`. */
  ipv4Block: string;
  ipv6Block: string;
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  /** The command is killed after this long; tests give every client its own shorter timeout. */
  timeoutMs: number;
  cwd?: string;
}

export interface TestNetwork {
  readonly imds: string;
  /**
   * The imds namespace's own address on its link to the host (10.213.0.2, fd00:213:0::2): where
   * a listener other than IMDS (the control API) is reached from the host and the containers.
   */
  readonly imdsLink: NamespaceAddress;
  readonly host: NamespaceAddress;
  readonly containers: ReadonlyMap<string, NamespaceAddress>;
  container(name: string): NamespaceAddress;
  /** Starts `argv` inside `namespace`; the process is killed by destroy() if still running. */
  spawn(
    namespace: string,
    argv: string[],
    options: SpawnOptions & { env: NodeJS.ProcessEnv },
  ): ChildProcess;
  /** Runs `argv` inside `namespace` to completion; never rejects on a non-zero exit. */
  run(namespace: string, argv: string[], options: RunOptions): Promise<CommandResult>;
  /** Kills what runs inside, then removes every namespace (and so every veth and address). */
  destroy(): Promise<void>;
}

/** Why network tests cannot run here, or undefined when they can. */
export function testNetworkUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root and iproute2';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'needs root and iproute2';
  }
  return undefined;
}

let networksCreated = 0;

export async function createTestNetwork(options: { containers: string[] }): Promise<TestNetwork> {
  removeStaleNetworks();

  const prefix = `${NAME_PREFIX}${process.pid}-${networksCreated++}-`;
  const imds = `${prefix}imds`;
  const imdsLink = link(imds, 0, 2);
  const host = link(`${prefix}host`, 0, 1);
  const containers = new Map(
    options.containers.map((name, index) => [name, link(`${prefix}${name}`, index + 1, 2)]),
  );
  const namespaces = [
    imds,
    host.namespace,
    ...[...containers.values()].map((address) => address.namespace),
  ];
  const children = new Set<ChildProcess>();

  const removeAtExit = (): void => removeNamespaces(namespaces, children);
  process.once('exit', removeAtExit);

  try {
    await build(imds, host, [...containers.values()]);
  } catch (error) {
    removeAtExit();
    throw error;
  }

  const spawnIn: Spawner = (namespace, argv, spawnOptions) => {
    const child = spawn('ip', ['netns', 'exec', namespace, ...argv], spawnOptions);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  return {
    imds,
    imdsLink,
    host,
    containers,
    container(name) {
      const address = containers.get(name);
      if (address === undefined) throw new Error(`no container "${name}" in this test network`);
      return address;
    },
    spawn: spawnIn,
    run: (namespace, argv, runOptions) => runIn(spawnIn, namespace, argv, runOptions),
    async destroy() {
      process.removeListener('exit', removeAtExit);
      removeNamespaces(namespaces, children);
    },
  };
}

type Spawner = TestNetwork['spawn'];

/**
 * Link N joins the host router to a neighbour: `10.213.N.0/24` and `fd00:213:N::/64`, the
 * router at `.1`/`::1`, the neighbour at `.2`/`::2` (link 0 is the router's link to imds,
 * where the router itself is the caller at `.1`).
 */
function link(namespace: string, index: number, hostPart: 1 | 2): NamespaceAddress {
  return {
    namespace,
    ipv4: `10.213.${index}.${hostPart}`,
    ipv6: `fd00:213:${index}::${hostPart}`,
    ipv4Block: `10.213.${index}.0/24`,
    ipv6Block: `fd00:213:${index}::/64`,
  };
}

async function build(
  imds: string,
  host: NamespaceAddress,
  containers: NamespaceAddress[],
): Promise<void> {
  for (const namespace of [
    imds,
    host.namespace,
    ...containers.map((container) => container.namespace),
  ]) {
    await ip('netns', 'add', namespace);
    // Addresses are usable at once: no duplicate address detection on links the test owns.
    await sysctl(namespace, {
      'net/ipv6/conf/all/accept_dad': 0,
      'net/ipv6/conf/default/accept_dad': 0,
    });
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
  }
  await sysctl(host.namespace, {
    'net/ipv4/ip_forward': 1,
    'net/ipv6/conf/default/forwarding': 1,
    'net/ipv6/conf/all/forwarding': 1,
  });

  const imdsEnd = link(imds, 0, 2);
  await ip('-n', imds, 'addr', 'add', `${IMDS_IPV4}/32`, 'dev', 'lo');
  await ip('-n', imds, '-6', 'addr', 'add', `${IMDS_IPV6}/128`, 'dev', 'lo', 'nodad');
  await veth({ ...host, device: 'to-imds' }, { ...imdsEnd, device: 'to-host' });
  await route(imds, '10.213.0.0/16', host.ipv4);
  await route(imds, 'fd00:213::/32', host.ipv6);
  await route(host.namespace, `${IMDS_IPV4}/32`, imdsEnd.ipv4);
  await route(host.namespace, `${IMDS_IPV6}/128`, imdsEnd.ipv6);

  for (const [index, container] of containers.entries()) {
    const router = link(host.namespace, index + 1, 1);
    await veth({ ...router, device: `to-c${index + 1}` }, { ...container, device: 'to-host' });
    await route(container.namespace, `${IMDS_IPV4}/32`, router.ipv4);
    await route(container.namespace, `${IMDS_IPV6}/128`, router.ipv6);
  }
}

type LinkEnd = NamespaceAddress & { device: string };

/** A veth pair created straight inside its two namespaces, each end with its addresses. */
async function veth(near: LinkEnd, far: LinkEnd): Promise<void> {
  await ip(
    '-n',
    near.namespace,
    'link',
    'add',
    near.device,
    'type',
    'veth',
    'peer',
    'name',
    far.device,
    'netns',
    far.namespace,
  );
  for (const end of [near, far]) {
    await ip('-n', end.namespace, 'addr', 'add', `${end.ipv4}/24`, 'dev', end.device);
    await ip(
      '-n',
      end.namespace,
      '-6',
      'addr',
      'add',
      `${end.ipv6}/64`,
      'dev',
      end.device,
      'nodad',
    );
    await ip('-n', end.namespace, 'link', 'set', end.device, 'up');
  }
}

async function route(namespace: string, destination: string, via: string): Promise<void> {
  await ip(
    '-n',
    namespace,
    ...(destination.includes(':') ? ['-6'] : []),
    'route',
    'add',
    destination,
    'via',
    via,
  );
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || (error as Error).message}`);
  }
}

/** Writes /proc/sys inside the namespace (its network sysctls are its own). */
async function sysctl(namespace: string, settings: Record<string, number>): Promise<void> {
  const script = Object.entries(settings)
    .map(([key, value]) => `echo ${value} > /proc/sys/${key}`)
    .join(' && ');
  await ip('netns', 'exec', namespace, 'sh', '-c', script);
}

function runIn(
  spawnIn: Spawner,
  namespace: string,
  argv: string[],
  options: RunOptions,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawnIn(namespace, argv, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr });
    });
  });
}

/** Synchronous, so it also works from a process 'exit' handler. */
function removeNamespaces(namespaces: string[], children: Set<ChildProcess>): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const namespace of namespaces) removeNamespace(namespace);
}

/** Ends the processes still inside (all started by the test that made it), then removes it. */
function removeNamespace(namespace: string): void {
  let pids: string[] = [];
  try {
    pids = execFileSync('ip', ['netns', 'pids', namespace], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter((line) => /^\d+$/.test(line));
  } catch {
    return; // already gone
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  try {
    execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** Namespaces of earlier runs whose process is gone (killed before its teardown ran). */
function removeStaleNetworks(): void {
  const listing = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of listing.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = STALE_NAME.exec(name)?.[1];
    if (owner !== undefined && Number(owner) !== process.pid && !isAlive(Number(owner)))
      removeNamespace(name);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
