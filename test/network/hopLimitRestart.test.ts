import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startImdsdInNamespace } from '../support/imdsdInNamespace.ts';
import { curlToken } from '../support/metadataProbes.ts';
import { createTestNetwork, testNetworkUnavailable, type TestNetwork } from '../support/netns.ts';
import { FAMILIES, hopLimitConfig } from './hopLimitScenario.ts';

/**
 * The hop limit is the instance's setting at the moment of each token request, not something
 * fixed when imdsd was built or first started: change it in the config, restart, and what a
 * container two hops away gets changes with it.
 */

const unavailable = testNetworkUnavailable();

describe('hop limit from the config', { skip: unavailable ?? false }, () => {
  let network: TestNetwork;

  before(async () => {
    network = await createTestNetwork({ containers: ['optional'] });
  });

  after(async () => {
    await network?.destroy();
  });

  it('a container two hops away gets no token at hop limit 1, and one after a restart at hop limit 2', async () => {
    const container = network.container('optional').namespace;
    const outcomes: Array<{ hopLimit: number; statuses: string[]; answered: unknown[] }> = [];

    for (const hopLimit of [1, 2]) {
      const config = hopLimitConfig(network);
      const instance = config.instances?.[0];
      assert.ok(instance !== undefined);
      instance.metadataOptions = { ...instance.metadataOptions, httpPutResponseHopLimit: hopLimit };

      const imdsd = await startImdsdInNamespace(network, config);
      let statuses: string[];
      try {
        const responses = await Promise.all(
          FAMILIES.map((family) => curlToken(network, container, family.endpoint)),
        );
        statuses = responses.map((response) => response.status);
      } finally {
        await imdsd.stop();
      }
      // What imdsd says it answered to those token requests.
      const answered = imdsd.logs
        .filter((line) => line.msg === 'request answered' && line['path'] === '/latest/api/token')
        .map((line) => line['status']);
      outcomes.push({ hopLimit, statuses, answered });
    }

    // imdsd answered every time; at hop limit 1 the answers died on the way (curl reports 000
    // when no HTTP status arrived before its timeout).
    assert.deepEqual(outcomes, [
      { hopLimit: 1, statuses: ['000', '000'], answered: [200, 200] },
      { hopLimit: 2, statuses: ['200', '200'], answered: [200, 200] },
    ]);
  });
});
