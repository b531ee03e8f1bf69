import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { isImdsdError } from '../../src/errors.ts';
import { formatListenAddress } from '../../src/net/address.ts';
import { rolesInUse } from '../../src/serve/prefetchRoleCredentials.ts';
import { startImdsd, type RunningImdsd } from '../../src/serve/startImdsd.ts';
import { imdsRoleCredentials, imdsToken } from '../support/imdsCalls.ts';
import { captureLogs } from '../support/logCapture.ts';

let running: RunningImdsd | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

function configWith(roles: ConfigInput['roles']) {
  return configSchema.parse({
    listen: ['127.0.0.1:0'],
    apiListen: '127.0.0.1:0',
    state: ':memory:',
    instances: [
      { instanceId: 'i-00000000000000001', iamRole: 'pinned', clients: ['127.0.0.1/32'] },
      {
        instanceId: 'i-00000000000000002',
        iamRole: 'minted',
        metadataOptions: { httpTokens: 'required' },
        clients: ['::1/128'],
      },
    ],
    roles,
  } satisfies ConfigInput);
}

describe('static role credentials on the IMDS path', () => {
  it('serves the keys from the named variables to IMDSv1 and IMDSv2 callers, ready at once', async () => {
    const keys = {
      PINNED_KEY_ID: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      PINNED_SECRET: randomBytes(30).toString('base64'),
      PINNED_TOKEN: randomBytes(48).toString('base64'),
    };
    const config = configWith({
      pinned: {
        source: 'static',
        accessKeyIdEnv: 'PINNED_KEY_ID',
        secretAccessKeyEnv: 'PINNED_SECRET',
        sessionTokenEnv: 'PINNED_TOKEN',
      },
      minted: { source: 'minted' },
    });
    const logs = captureLogs();
    running = await startImdsd({ config, logger: logs.logger, env: keys });
    const endpoint = `http://${formatListenAddress(running.imdsAddresses[0]!)}`;

    const v1 = await imdsRoleCredentials(endpoint, 'pinned');
    const v2 = await imdsRoleCredentials(endpoint, 'pinned', await imdsToken(endpoint));

    assert.equal(running.isReady(), true);
    for (const document of [v1.body, v2.body]) {
      assert.equal(document['Code'], 'Success');
      assert.equal(document['AccessKeyId'], keys.PINNED_KEY_ID);
      assert.equal(document['SecretAccessKey'], keys.PINNED_SECRET);
      assert.equal(document['Token'], keys.PINNED_TOKEN);
      const remainingMs = Date.parse(document['Expiration']!) - Date.now();
      assert.ok(remainingMs > 4.9 * 3_600_000, 'a rolling expiration hours away');
    }
    assert.ok(logs.lines().some((line) => line.msg === 'ready'));
    assert.ok(!logs.text().includes(keys.PINNED_SECRET));
  });

  it('refuses to start when a named variable is not set, naming the key', async () => {
    const config = configWith({
      pinned: {
        source: 'static',
        accessKeyIdEnv: 'PINNED_KEY_ID',
        secretAccessKeyEnv: 'PINNED_SECRET',
      },
      minted: { source: 'minted' },
    });

    await assert.rejects(
      startImdsd({
        config,
        logger: captureLogs().logger,
        env: { PINNED_KEY_ID: 'AKIA' + '0'.repeat(16) },
      }),
      (error) =>
        isImdsdError(error, 'CONFIG_INVALID') &&
        /roles\.pinned\.secretAccessKeyEnv/.test(error.message),
    );
  });

  it('prefetches IMDSv2 for every instance role, and IMDSv1 where the instance accepts it', async () => {
    const config = configWith({ pinned: { source: 'minted' }, minted: { source: 'minted' } });
    running = await startImdsd({ config, logger: captureLogs().logger });

    const requests = rolesInUse(running.instances).map(
      (request) => `${request.instanceId} ${request.roleName} ${request.delivery}`,
    );

    assert.deepEqual(requests, [
      'i-00000000000000001 pinned imdsv2',
      'i-00000000000000001 pinned imdsv1',
      'i-00000000000000002 minted imdsv2',
    ]);
  });
});
