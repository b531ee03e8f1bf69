import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import { curl, curlToken } from '../support/metadataProbes.ts';
import { clientEnvironment, type ClientEnvironment } from '../support/awsClients.ts';
import { startImdsdInNamespace, type ImdsdInNamespace } from '../support/imdsdInNamespace.ts';
import { createTestNetwork, IMDS_IPV4, IMDS_IPV6, type TestNetwork } from '../support/netns.ts';

/**
 * The instances the hop-limit tests emulate. Each container of the test network is the caller
 * of its own instance, so every case runs against one imdsd at the same time.
 */

export const ROLE = 'netns-role';
export const SHARED = 'i-0aaaaaaaaaaaaaaa1'; // hop limit 1, tokens optional: the host and one container
export const REQUIRED = 'i-0bbbbbbbbbbbbbbb2'; // hop limit 1, tokens required
export const TWO_HOPS = 'i-0ccccccccccccccc3'; // hop limit 2, tokens required
export const NO_IPV6 = 'i-0ddddddddddddddd4'; // IPv6 endpoint disabled

/** Container names, each the caller of the instance it is named after. */
export const CONTAINERS = ['optional', 'required', 'two-hops', 'no-ipv6'] as const;

export const FAMILIES = [
  { name: 'IPv4', host: IMDS_IPV4, endpoint: `http://${IMDS_IPV4}/` },
  { name: 'IPv6', host: IMDS_IPV6, endpoint: `http://[${IMDS_IPV6}]/` },
] as const;

/** Each instance, the container that calls it, and its metadata options. */
const INSTANCES = [
  {
    instanceId: SHARED,
    container: 'optional',
    options: { httpPutResponseHopLimit: 1, httpTokens: 'optional' },
  },
  {
    instanceId: REQUIRED,
    container: 'required',
    options: { httpPutResponseHopLimit: 1, httpTokens: 'required' },
  },
  {
    instanceId: TWO_HOPS,
    container: 'two-hops',
    options: { httpPutResponseHopLimit: 2, httpTokens: 'required' },
  },
  {
    instanceId: NO_IPV6,
    container: 'no-ipv6',
    options: { httpPutResponseHopLimit: 2, httpProtocolIpv6: 'disabled' },
  },
] as const;

/** The instances of the containers the network has; the host is a caller of SHARED too. */
export function hopLimitConfig(network: TestNetwork): ConfigInput {
  const instances = INSTANCES.filter(({ container }) => network.containers.has(container)).map(
    ({ instanceId, container, options }) => {
      const callers =
        instanceId === SHARED
          ? [network.host, network.container(container)]
          : [network.container(container)];
      return {
        instanceId,
        iamRole: ROLE,
        clients: callers.flatMap((caller) => [caller.ipv4Block, caller.ipv6Block]),
        metadataOptions: { httpProtocolIpv6: 'enabled' as const, ...options },
      };
    },
  );
  return { roles: { [ROLE]: { source: 'minted' } }, instances };
}

/** The access key id a caller in `namespace` is served, with a token (IMDSv2) or without. */
export async function servedAccessKeyId(
  network: TestNetwork,
  namespace: string,
  endpoint: string,
  delivery: 'imdsv1' | 'imdsv2',
): Promise<string> {
  const headers: string[] = [];
  if (delivery === 'imdsv2') {
    const token = await curlToken(network, namespace, endpoint);
    assert.equal(token.status, '200', token.error);
    headers.push('-H', `X-aws-ec2-metadata-token: ${token.body}`);
  }
  const response = await curl(
    network,
    namespace,
    `${endpoint}latest/meta-data/iam/security-credentials/${ROLE}`,
    headers,
  );
  assert.equal(response.status, '200', response.error);
  return (JSON.parse(response.body) as { AccessKeyId: string }).AccessKeyId;
}

/**
 * The IMDSv1 credential sets served just before and just after `during` ran: minted sets rotate,
 * and a client's set must be the one of its moment.
 */
export async function imdsv1SetsAround<T>(
  network: TestNetwork,
  endpoint: string,
  during: () => Promise<T>,
): Promise<{ result: T; imdsv1: string[] }> {
  const before = await servedAccessKeyId(network, network.host.namespace, endpoint, 'imdsv1');
  const result = await during();
  const after = await servedAccessKeyId(network, network.host.namespace, endpoint, 'imdsv1');
  return { result, imdsv1: [before, after] };
}

/** A test network with these containers, imdsd serving their instances, and client files. */
export interface HopLimitBed {
  network: TestNetwork;
  imdsd: ImdsdInNamespace;
  clients: ClientEnvironment;
}

export async function startHopLimitBed(containers: readonly string[]): Promise<HopLimitBed> {
  const network = await createTestNetwork({ containers: [...containers] });
  const imdsd = await startImdsdInNamespace(network, hopLimitConfig(network));
  return { network, imdsd, clients: clientEnvironment() };
}

/** Tears down what `startHopLimitBed` made; safe to call with whatever part of it exists. */
export async function stopHopLimitBed(bed: Partial<HopLimitBed>): Promise<void> {
  await bed.imdsd?.stop();
  await bed.network?.destroy();
  bed.clients?.remove();
}
