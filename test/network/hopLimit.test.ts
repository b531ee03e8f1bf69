import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jsSdkCredentials, type ClientEnvironment } from '../support/awsClients.ts';
import type { ImdsdInNamespace } from '../support/imdsdInNamespace.ts';
import { curl, curlToken, rawTokenRequest, serverConnection } from '../support/metadataProbes.ts';
import {
  IMDS_IPV4,
  IMDS_IPV6,
  testNetworkUnavailable,
  type TestNetwork,
} from '../support/netns.ts';
import {
  CONTAINERS,
  FAMILIES,
  startHopLimitBed,
  stopHopLimitBed,
  imdsv1SetsAround,
  NO_IPV6,
  servedAccessKeyId,
  SHARED,
} from './hopLimitScenario.ts';

/**
 * The hop limit on real packets, as on EC2: the token response leaves with the instance's
 * httpPutResponseHopLimit as its IP TTL (IPv6 hop limit), so a caller one routed hop away (the
 * host) gets it, and a caller two hops away (a container behind the host) connects, sends its
 * PUT and never hears back. GET responses keep the default TTL, so IMDSv1 still works from the
 * container where tokens are optional (reference §4.1).
 */

/** Long enough for the server's first four retransmissions (RTO 200 ms, doubling). */
const RETRANSMISSION_WAIT_MS = 3_500;

const unavailable = testNetworkUnavailable();

describe('hop limit on real packets', { skip: unavailable ?? false, concurrency: 4 }, () => {
  let network: TestNetwork;
  let imdsd: ImdsdInNamespace;
  let clients: ClientEnvironment;

  before(async () => {
    ({ network, imdsd, clients } = await startHopLimitBed(CONTAINERS));
  });
  after(() => stopHopLimitBed({ network, imdsd, clients }));

  for (const family of FAMILIES) {
    it(`${family.name}: the host, one hop away, gets a token with hop limit 1`, async () => {
      const response = await curlToken(network, network.host.namespace, family.endpoint);

      assert.equal(response.exitCode, 0, response.error);
      assert.equal(response.status, '200');
      assert.ok(response.body.length > 0);
    });

    it(`${family.name}: a container two hops away connects, sends the PUT and never gets an answer`, async () => {
      const response = await curlToken(
        network,
        network.container('optional').namespace,
        family.endpoint,
      );

      assert.equal(response.exitCode, 28, 'curl timed out');
      assert.match(
        response.error,
        /Operation timed out after \d+ milliseconds with 0 bytes received/,
      );
    });

    it(`${family.name}: the container still gets GET responses (IMDSv1): only the token response is limited`, async () => {
      const response = await curl(
        network,
        network.container('optional').namespace,
        `${family.endpoint}latest/meta-data/instance-id`,
      );

      assert.equal(response.status, '200', response.error);
      assert.equal(response.body, SHARED);
    });

    it(`${family.name}: httpTokens optional: the JS SDK in the container falls back to IMDSv1 credentials`, async () => {
      const imdsv2 = await servedAccessKeyId(
        network,
        network.host.namespace,
        family.endpoint,
        'imdsv2',
      );
      const { result: sdk, imdsv1 } = await imdsv1SetsAround(network, family.endpoint, () =>
        jsSdkCredentials(
          network,
          network.container('optional').namespace,
          clients.env(family.endpoint),
        ),
      );

      assert.ok(sdk.accessKeyId !== undefined, sdk.detail);
      assert.ok(imdsv1.includes(sdk.accessKeyId), 'the IMDSv1 credential set');
      assert.notEqual(sdk.accessKeyId, imdsv2);
    });

    it(`${family.name}: httpTokens required: the JS SDK in the container gets no credentials`, async () => {
      const sdk = await jsSdkCredentials(
        network,
        network.container('required').namespace,
        clients.env(family.endpoint),
      );

      assert.equal(sdk.accessKeyId, undefined);
      assert.notEqual(sdk.detail, 'credentials');
    });

    it(`${family.name}: hop limit 2: the container gets a token and the JS SDK gets IMDSv2 credentials`, async () => {
      const container = network.container('two-hops').namespace;

      const token = await curlToken(network, container, family.endpoint);
      const sdk = await jsSdkCredentials(network, container, clients.env(family.endpoint));

      assert.equal(token.status, '200', token.error);
      // httpTokens is required for this instance, so credentials can only come by IMDSv2.
      assert.ok(sdk.accessKeyId !== undefined, sdk.detail);
      assert.equal(
        sdk.accessKeyId,
        await servedAccessKeyId(network, container, family.endpoint, 'imdsv2'),
      );
    });

    it(`${family.name}: no byte of the token response reaches the container, retransmissions included`, async () => {
      const [fromHost, fromContainer] = await Promise.all([
        rawTokenRequest(network, network.host.namespace, family.host, RETRANSMISSION_WAIT_MS),
        rawTokenRequest(
          network,
          network.container('optional').namespace,
          family.host,
          RETRANSMISSION_WAIT_MS,
        ),
      ]);
      const server = await serverConnection(network, fromContainer.localPort);

      assert.ok(fromHost.bytesReceived > 0, 'the same request from one hop away is answered');
      assert.equal(fromContainer.bytesReceived, 0);
      // The server did send the response, and sent it again and again: none of it ever arrived.
      assert.ok(server !== undefined, 'the server still holds the connection');
      assert.ok(server.bytesSent > 0);
      assert.ok(
        server.bytesRetransmitted >= 2 * fromHost.bytesReceived,
        `retransmitted ${server.bytesRetransmitted} bytes`,
      );
      assert.equal(server.bytesAcked, 0);
    });
  }

  it('httpProtocolIpv6 disabled: the IPv6 endpoint drops the connection, IPv4 answers', async () => {
    const container = network.container('no-ipv6').namespace;
    const [ipv6, ipv4] = await Promise.all([
      curl(network, container, `http://[${IMDS_IPV6}]/latest/meta-data/instance-id`),
      curl(network, container, `http://${IMDS_IPV4}/latest/meta-data/instance-id`),
    ]);

    // curl 52 "Empty reply from server" or 56 "Connection reset": connected, no HTTP answer.
    assert.ok(
      ipv6.exitCode === 52 || ipv6.exitCode === 56,
      `curl exit ${ipv6.exitCode}: ${ipv6.error}`,
    );
    assert.equal(ipv6.status, '000');
    assert.equal(ipv4.status, '200', ipv4.error);
    assert.equal(ipv4.body, NO_IPV6);
  });
});
