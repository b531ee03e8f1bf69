import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { withDefaultInstance } from '../../src/config/defaults.ts';
import { configSchema } from '../../src/config/schema.ts';
import { ImdsdError } from '../../src/errors.ts';
import type { HopLimitControl } from '../../src/imds/hopLimit.ts';
import {
  loadHopLimitAddon,
  nativeHopLimitControl,
  readHopLimit,
  type HopLimitAddon,
} from '../../src/imds/nativeHopLimit.ts';
import { silentLogger } from '../../src/log.ts';
import { formatListenAddress } from '../../src/net/address.ts';
import { startImdsd, type RunningImdsd } from '../../src/serve/startImdsd.ts';

/**
 * Which responses leave with the hop limit, on loopback: only a successful token response, as
 * on EC2 (reference §4.1). Everything else keeps the default TTL. The routed-packet version
 * of this is test/network/hopLimit.test.ts.
 */

const HOP_LIMIT = 3;
const TOKEN_TTL = { 'X-aws-ec2-metadata-token-ttl-seconds': '60' };

async function serve(hopLimit: HopLimitControl): Promise<{ running: RunningImdsd; url: string }> {
  const config = configSchema.parse(
    withDefaultInstance({
      listen: ['127.0.0.1:0'],
      apiListen: '127.0.0.1:0',
      state: ':memory:',
      instances: [
        {
          instanceId: 'i-0123456789abcdef0',
          metadataOptions: { httpPutResponseHopLimit: HOP_LIMIT },
        },
      ],
    }),
  );
  const running = await startImdsd({ config, logger: silentLogger(), hopLimit });
  return { running, url: `http://${formatListenAddress(running.imdsAddresses[0]!)}` };
}

describe('hop limit per response', () => {
  const loaded = loadHopLimitAddon();
  const addon = 'reason' in loaded ? undefined : (loaded as HopLimitAddon);
  const settings: Array<{
    hopLimit: number;
    family: 4 | 6 | undefined;
    ipTtl: number | undefined;
  }> = [];
  let server: { running: RunningImdsd; url: string };

  before(async () => {
    assert.ok(addon !== undefined, 'reason' in loaded ? loaded.reason : 'not loaded');
    const native = nativeHopLimitControl(addon);
    // The real control, plus a note of the TTL the socket has right before the response.
    server = await serve({
      enforced: true,
      setHopLimit(socket, hopLimit, family) {
        native.setHopLimit(socket, hopLimit, family);
        settings.push({ hopLimit, family, ipTtl: readHopLimit(addon, socket).ipTtl });
      },
    });
  });

  after(() => server?.running.close());

  beforeEach(() => {
    settings.length = 0;
  });

  it("sends the token response at the instance's hop limit, naming the listener's family", async () => {
    const response = await fetch(`${server.url}/latest/api/token`, {
      method: 'PUT',
      headers: TOKEN_TTL,
    });

    assert.equal(response.status, 200);
    assert.equal(response.headers.get('connection'), 'close');
    assert.deepEqual(settings, [{ hopLimit: HOP_LIMIT, family: 4, ipTtl: HOP_LIMIT }]);
  });

  it('sends every other response with the default TTL', async () => {
    const token = await (
      await fetch(`${server.url}/latest/api/token`, { method: 'PUT', headers: TOKEN_TTL })
    ).text();
    settings.length = 0;

    const requests: Array<[string, RequestInit, number]> = [
      ['/latest/meta-data/instance-id', {}, 200],
      ['/latest/meta-data/instance-id', { headers: { 'X-aws-ec2-metadata-token': token } }, 200],
      ['/latest/api/token', { method: 'PUT' }, 400],
      [
        '/latest/api/token',
        { method: 'PUT', headers: { ...TOKEN_TTL, 'X-Forwarded-For': '10.0.0.1' } },
        403,
      ],
      ['/latest/api/token', { method: 'GET' }, 405],
      ['/2021-03-23/api/token', { method: 'PUT', headers: TOKEN_TTL }, 403],
    ];
    for (const [path, init, status] of requests) {
      assert.equal((await fetch(`${server.url}${path}`, init)).status, status, path);
    }

    assert.deepEqual(settings, []);
  });

  it('never sends a token when the TTL cannot be set', async () => {
    const failing = await serve({
      enforced: true,
      setHopLimit() {
        throw new ImdsdError(
          'HOP_LIMIT_UNAVAILABLE',
          'cannot set hop limit 3 on a connection: EBADF',
        );
      },
    });
    try {
      const response = await fetch(`${failing.url}/latest/api/token`, {
        method: 'PUT',
        headers: TOKEN_TTL,
      });

      assert.equal(response.status, 500);
      assert.equal(await response.text(), '');
    } finally {
      await failing.running.close();
    }
  });
});
