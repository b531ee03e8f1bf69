import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { REPOSITORY } from '../support/imdsdInNamespace.ts';
import {
  createTestNetwork,
  IMDS_IPV4,
  IMDS_IPV6,
  testNetworkUnavailable,
  type TestNetwork,
} from '../support/netns.ts';

/**
 * The test network itself: isolated from the machine's network, and gone after every run,
 * however the run ended.
 */

const NETNS_MODULE = new URL('../support/netns.ts', import.meta.url).pathname;

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

/** Whether `pid` still runs; a killed process not yet reaped by its new parent (a zombie) does not. */
function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * A test process that builds a network, starts a long `sleep` inside it, reports both, and
 * then ends as `ending` says. (`ip netns exec` execs, so the sleep's pid is the child's.)
 */
async function runThatEnds(
  ending: 'is killed' | 'exits without teardown',
): Promise<{ names: string[]; sleepPid: number }> {
  const script = `
    const { createTestNetwork } = await import(${JSON.stringify(NETNS_MODULE)});
    const network = await createTestNetwork({ containers: ['c'] });
    const sleeper = network.spawn(network.container('c').namespace, ['sleep', '60'], { env: { PATH: process.env.PATH }, stdio: 'ignore' });
    process.stdout.write(JSON.stringify({ names: [network.imds, network.host.namespace, network.container('c').namespace], sleepPid: sleeper.pid }) + '\\n');
    ${ending === 'exits without teardown' ? 'process.exit(1);' : 'setInterval(() => {}, 1000);'}
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPOSITORY,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout.setEncoding('utf8'), 'data')) as [string];
  const report = JSON.parse(line) as { names: string[]; sleepPid: number };

  if (ending === 'is killed') child.kill('SIGKILL');
  await once(child, 'exit');
  return report;
}

const unavailable = testNetworkUnavailable();

describe('the test network', { skip: unavailable ?? false }, () => {
  let network: TestNetwork;

  before(async () => {
    network = await createTestNetwork({ containers: ['c'] });
  });

  after(async () => {
    await network?.destroy();
  });

  it('has no route out of the test network: only the metadata addresses are reachable', async () => {
    const routes = async (namespace: string, destination: string): Promise<boolean> => {
      // `ip route get` asks the routing table; it sends nothing.
      const result = await network.run(namespace, ['ip', 'route', 'get', destination], {
        env: { PATH: process.env['PATH'] },
        timeoutMs: 5_000,
      });
      return result.exitCode === 0;
    };
    const everyNamespace = [network.imds, network.host.namespace, network.container('c').namespace];
    const outside = [
      '192.0.2.1',
      '8.8.8.8',
      '10.0.0.1',
      '172.17.0.1',
      '2001:db8::1',
      '169.254.170.2',
    ];

    for (const namespace of everyNamespace) {
      for (const destination of outside) {
        assert.equal(
          await routes(namespace, destination),
          false,
          `${namespace} routes ${destination}`,
        );
      }
    }
    for (const namespace of [network.host.namespace, network.container('c').namespace]) {
      assert.equal(await routes(namespace, IMDS_IPV4), true);
      assert.equal(await routes(namespace, IMDS_IPV6), true);
    }
  });

  it('is removed, with what runs inside, when a run exits without its teardown', async () => {
    const { names, sleepPid } = await runThatEnds('exits without teardown');

    assert.deepEqual(
      names.filter((name) => namespaces().includes(name)),
      [],
    );
    assert.equal(isRunning(sleepPid), false);
  });

  it('is removed by the next run when a run was killed', async () => {
    const { names, sleepPid } = await runThatEnds('is killed');
    assert.deepEqual(
      names.filter((name) => namespaces().includes(name)),
      names,
      'a killed run leaves its network behind',
    );

    const next = await createTestNetwork({ containers: [] });
    await next.destroy();

    assert.deepEqual(
      names.filter((name) => namespaces().includes(name)),
      [],
    );
    assert.equal(isRunning(sleepPid), false);
  });

  it('is removed by destroy()', async () => {
    const own = await createTestNetwork({ containers: ['c'] });
    const names = [own.imds, own.host.namespace, own.container('c').namespace];
    const sleeper = own.spawn(own.container('c').namespace, ['sleep', '60'], {
      env: { PATH: process.env['PATH'] },
      stdio: 'ignore',
    });

    await own.destroy();

    assert.deepEqual(
      names.filter((name) => namespaces().includes(name)),
      [],
    );
    await once(sleeper, 'exit');
    assert.equal(sleeper.signalCode, 'SIGKILL');
  });
});
