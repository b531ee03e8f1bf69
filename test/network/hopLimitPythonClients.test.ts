import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  awsCliCredentials,
  botocoreCredentials,
  pythonClientsUnavailable,
  type ClientEnvironment,
  type CredentialOutcome,
} from '../support/awsClients.ts';
import type { ImdsdInNamespace } from '../support/imdsdInNamespace.ts';
import { testNetworkUnavailable, type TestNetwork } from '../support/netns.ts';
import {
  CONTAINERS,
  FAMILIES,
  startHopLimitBed,
  stopHopLimitBed,
  imdsv1SetsAround,
  servedAccessKeyId,
} from './hopLimitScenario.ts';

/**
 * The AWS CLI and botocore (the machine's Python) meet the hop limit as the JS SDK does: in a
 * container two hops away the token PUT times out after AWS_METADATA_SERVICE_TIMEOUT (1 s),
 * then they fall back to IMDSv1 (tokens optional) or get nothing (required); with hop limit 2
 * they get credentials by IMDSv2 (botocore: read timeout → IMDSv1 at once; reference §4.2).
 */

type Client = (
  network: TestNetwork,
  namespace: string,
  env: NodeJS.ProcessEnv,
) => Promise<CredentialOutcome>;

/** The CLI shows only the last four characters of the access key id. */
const CLIENTS: Array<{ name: string; run: Client; shown: (accessKeyId: string) => string }> = [
  { name: 'the AWS CLI', run: awsCliCredentials, shown: (accessKeyId) => accessKeyId.slice(-4) },
  { name: 'botocore', run: botocoreCredentials, shown: (accessKeyId) => accessKeyId },
];

const unavailable = testNetworkUnavailable() ?? pythonClientsUnavailable();

describe(
  'hop limit on real packets, Python clients',
  { skip: unavailable ?? false, concurrency: 3 },
  () => {
    let network: TestNetwork;
    let imdsd: ImdsdInNamespace;
    let clients: ClientEnvironment;

    before(async () => {
      ({ network, imdsd, clients } = await startHopLimitBed(
        CONTAINERS.filter((name) => name !== 'no-ipv6'),
      ));
    });
    after(() => stopHopLimitBed({ network, imdsd, clients }));

    for (const family of FAMILIES) {
      for (const client of CLIENTS) {
        it(`${family.name}: httpTokens optional: ${client.name} in the container falls back to IMDSv1 credentials`, async () => {
          const imdsv2 = await servedAccessKeyId(
            network,
            network.host.namespace,
            family.endpoint,
            'imdsv2',
          );
          const { result, imdsv1 } = await imdsv1SetsAround(network, family.endpoint, () =>
            client.run(
              network,
              network.container('optional').namespace,
              clients.env(family.endpoint),
            ),
          );

          assert.ok(result.accessKeyId !== undefined, result.detail);
          assert.ok(
            imdsv1.map(client.shown).includes(result.accessKeyId),
            'the IMDSv1 credential set',
          );
          assert.notEqual(result.accessKeyId, client.shown(imdsv2));
        });

        it(`${family.name}: httpTokens required: ${client.name} in the container gets no credentials`, async () => {
          const result = await client.run(
            network,
            network.container('required').namespace,
            clients.env(family.endpoint),
          );

          assert.equal(result.accessKeyId, undefined, result.detail);
        });

        it(`${family.name}: hop limit 2: ${client.name} in the container gets IMDSv2 credentials`, async () => {
          const container = network.container('two-hops').namespace;
          const result = await client.run(network, container, clients.env(family.endpoint));

          // httpTokens is required for this instance, so credentials can only come by IMDSv2.
          assert.ok(result.accessKeyId !== undefined, result.detail);
          assert.equal(
            result.accessKeyId,
            client.shown(await servedAccessKeyId(network, container, family.endpoint, 'imdsv2')),
          );
        });
      }
    }
  },
);
