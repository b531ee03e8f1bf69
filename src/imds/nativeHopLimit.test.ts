import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { before, describe, it } from 'node:test';
import { isImdsdError } from '../errors.ts';
import {
  loadHopLimitAddon,
  loadHopLimitControl,
  nativeHopLimitControl,
  readHopLimit,
  type HopLimitAddon,
} from './nativeHopLimit.ts';

/**
 * The addon sets the TTL the kernel puts on a connection's next packets, read back with
 * getsockopt. Real packets crossing routers are tested in test/network/.
 */

const loaded = loadHopLimitAddon();
// The addon builds wherever `npm install` has a compiler and Node's headers; a test run
// without it must fail, not pass quietly, or hop limits could vanish unnoticed.
const addon: HopLimitAddon | undefined = 'reason' in loaded ? undefined : loaded;

/** Both ends of one loopback connection; `server` is the accepted socket imdsd would write to. */
async function connection(
  listenHost: string,
  connectHost: string,
): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  listener.listen({
    host: listenHost,
    port: 0,
    ipv6Only: listenHost !== '::' && listenHost.includes(':'),
  });
  await once(listener, 'listening');

  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect((listener.address() as AddressInfo).port, connectHost);
  const [server] = await accepted;
  return {
    server,
    client,
    close() {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

describe('the hop-limit addon', () => {
  before(() => {
    assert.ok(addon !== undefined, 'reason' in loaded ? loaded.reason : 'not loaded');
  });

  const cases = [
    {
      name: 'an IPv4 connection',
      listen: '127.0.0.1',
      connect: '127.0.0.1',
      peer: '127.0.0.1',
      family: 4,
    },
    { name: 'an IPv6 connection', listen: '::1', connect: '::1', peer: '::1', family: 6 },
    {
      name: 'an IPv4 peer of a dual-stack listener',
      listen: '::',
      connect: '127.0.0.1',
      peer: '::ffff:127.0.0.1',
      family: 6,
    },
  ] as const;

  // The listener names its sockets' family; without it the addon asks the kernel.
  for (const testCase of cases) {
    for (const family of [undefined, testCase.family]) {
      const how = family === undefined ? 'asking its family' : `told family ${family}`;
      it(`sets the TTL of ${testCase.name} to the hop limit, ${how}`, async () => {
        const { server, close } = await connection(testCase.listen, testCase.connect);
        try {
          assert.equal(server.remoteAddress, testCase.peer);
          const ipv6 = server.localAddress?.includes(':') === true;
          const before = readHopLimit(addon!, server);
          assert.notEqual(before.ipTtl, 2, 'a fresh connection starts with the default TTL');

          nativeHopLimitControl(addon!).setHopLimit(server, 2, family);

          // IPv4 packets carry IP_TTL, IPv6 packets IPV6_UNICAST_HOPS; an IPv6 socket gets
          // both, as its IPv4-mapped peers are sent IPv4 packets.
          const after = readHopLimit(addon!, server);
          assert.deepEqual(after, ipv6 ? { ipTtl: 2, ipv6UnicastHops: 2 } : { ipTtl: 2 });
        } finally {
          close();
        }
      });
    }
  }

  it('leaves other connections at the default TTL', async () => {
    const first = await connection('127.0.0.1', '127.0.0.1');
    const second = await connection('127.0.0.1', '127.0.0.1');
    try {
      const defaultTtl = readHopLimit(addon!, second.server).ipTtl;
      nativeHopLimitControl(addon!).setHopLimit(first.server, 1);
      assert.equal(readHopLimit(addon!, first.server).ipTtl, 1);
      assert.equal(readHopLimit(addon!, second.server).ipTtl, defaultTtl);
    } finally {
      first.close();
      second.close();
    }
  });

  it('refuses a hop limit outside 1 to 255', async () => {
    const { server, close } = await connection('127.0.0.1', '127.0.0.1');
    try {
      for (const hopLimit of [0, 256, 1.5, Number.NaN]) {
        assert.throws(
          () => nativeHopLimitControl(addon!).setHopLimit(server, hopLimit),
          /hopLimit must be an integer from 1 to 255/,
        );
      }
    } finally {
      close();
    }
  });

  it('throws HOP_LIMIT_UNAVAILABLE rather than send with the default TTL on a closed connection', async () => {
    const { server, close } = await connection('127.0.0.1', '127.0.0.1');
    close();
    assert.throws(
      () => nativeHopLimitControl(addon!).setHopLimit(server, 1),
      (error) =>
        isImdsdError(error, 'HOP_LIMIT_UNAVAILABLE') && /connection is closed/.test(error.message),
    );
  });

  it('reports a failing system call by its errno name', () => {
    const notOpen = { _handle: { fd: 2 ** 30 }, destroyed: false } as unknown as Socket;
    assert.throws(
      () => nativeHopLimitControl(addon!).setHopLimit(notOpen, 1),
      /EBADF \(getsockname: Bad file descriptor\)/,
    );
  });

  it('sets the option straight away when told the family, with no getsockname first', () => {
    const notOpen = { _handle: { fd: 2 ** 30 }, destroyed: false } as unknown as Socket;
    assert.throws(
      () => nativeHopLimitControl(addon!).setHopLimit(notOpen, 1, 4),
      /EBADF \(setsockopt\(IP_TTL\): Bad file descriptor\)/,
    );
    assert.throws(
      () => nativeHopLimitControl(addon!).setHopLimit(notOpen, 1, 6),
      /EBADF \(setsockopt\(IPV6_UNICAST_HOPS\): Bad file descriptor\)/,
    );
  });

  it('refuses a family other than 4 or 6 before it touches the socket', () => {
    for (const family of [0, 5, 10, 4.5, '4']) {
      assert.throws(
        () => addon!.setHopLimit(2 ** 30, 1, family as 4),
        (error) => error instanceof RangeError && error.message === 'family must be 4 or 6',
      );
    }
  });
});

describe('loading the hop-limit control', () => {
  const missing = '/nonexistent/imdsd/hop_limit.node';
  let control: ReturnType<typeof loadHopLimitControl>;

  before(() => {
    control = loadHopLimitControl({ required: false, addonPath: missing });
  });

  it('is enforced when the addon loads', () => {
    assert.equal(loadHopLimitControl({ required: true }).enforced, true);
  });

  it('without the addon, serves unenforced and says why', () => {
    assert.equal(control.enforced, false);
    assert.match(
      control.reason ?? '',
      /hop-limit addon \/nonexistent\/imdsd\/hop_limit\.node cannot be loaded: it was not built/,
    );
  });

  it('without the addon and with --require-hop-limit, refuses', () => {
    assert.throws(
      () => loadHopLimitControl({ required: true, addonPath: missing }),
      (error) =>
        isImdsdError(error, 'HOP_LIMIT_UNAVAILABLE') &&
        error.message.startsWith('--require-hop-limit: '),
    );
  });

  it('refuses a file that is not the addon', () => {
    const notAddon = loadHopLimitAddon(new URL('../../package.json', import.meta.url).pathname);
    assert.deepEqual(Object.keys(notAddon), ['reason']);
  });
});
