import type { EmulatedInstance } from '../../instances/instance.ts';
import { authorizeCaller } from '../authorizeCaller.ts';
import { Ec2ApiError } from '../ec2ApiError.ts';
import { itemSet, leaf } from '../ec2Xml.ts';
import { matchesWildcard } from '../policy/wildcardPattern.ts';
import type { QueryParameters } from '../queryParameters.ts';
import {
  booleanParameter,
  checkInstanceId,
  dryRunSucceeded,
  visibleInstances,
  type Ec2Operation,
} from './ec2Operation.ts';
import { instanceElements } from './instanceXml.ts';

/**
 * `DescribeInstances`: the caller's instances, by id (`InstanceId.N`) and filters
 * (`Filter.N.Name` / `Filter.N.Value.M`, EC2's wildcards `*` and `?`), paginated with
 * MaxResults/NextToken. Every emulated instance is `running` and is its own reservation.
 * EC2 grants Describe actions on resource `*` only (no resource-level permissions).
 */
export const describeInstances: Ec2Operation = {
  action: 'DescribeInstances',
  parameters:
    /^(?:InstanceId\.\d+|Filter\.\d+\.(?:Name|Value\.\d+)|MaxResults|NextToken|DryRun|IncludeManagedResources)$/,

  run({ params, caller, signingRegion }, { instances }) {
    const instanceIds = params.list('InstanceId').map(checkInstanceId);
    const filters = params.filters().map(checkFilter);
    const page = pageOf(params, instanceIds.length > 0);
    const dryRun = booleanParameter(params, 'DryRun');

    authorizeCaller(caller, {
      action: 'ec2:DescribeInstances',
      resource: '*',
      keys: {},
      signingRegion,
    });
    if (dryRun) throw dryRunSucceeded();

    const visible = visibleInstances(caller, instances);
    const missing = instanceIds.filter(
      (id) => !visible.some((instance) => instance.instanceId === id),
    );
    if (missing.length > 0) throw notFound(missing);

    const selected = visible.filter(
      (instance) =>
        (instanceIds.length === 0 || instanceIds.includes(instance.instanceId)) &&
        filters.every((filter) => filterMatches(filter, instance)),
    );
    const shown = selected.slice(page.offset, page.offset + page.size);
    const nextOffset = page.offset + shown.length;

    return {
      members: [
        itemSet('reservationSet', shown, (instance) => [
          leaf('reservationId', instance.identity.reservationId),
          leaf('ownerId', instance.identity.accountId),
          itemSet('groupSet', [], () => []),
          itemSet('instancesSet', [instance], instanceElements),
        ]),
        leaf('nextToken', nextOffset < selected.length ? encodeNextToken(nextOffset) : undefined),
      ],
    };
  },
};

interface Filter {
  name: string;
  values: string[];
  valuesOf(instance: EmulatedInstance): Array<string | undefined>;
}

/** The filters imdsd can answer, named as EC2 names them (API reference, DescribeInstances). */
const FILTERS: Readonly<Record<string, (instance: EmulatedInstance) => Array<string | undefined>>> =
  {
    'instance-id': (instance) => [instance.instanceId],
    'instance-state-name': () => ['running'],
    'instance-state-code': () => ['16'],
    'instance-type': (instance) => [instance.identity.instanceType],
    'image-id': (instance) => [instance.identity.imageId],
    architecture: (instance) => [instance.identity.architecture],
    'availability-zone': (instance) => [instance.identity.availabilityZone],
    'owner-id': (instance) => [instance.identity.accountId],
    'reservation-id': (instance) => [instance.identity.reservationId],
    'key-name': (instance) => [instance.identity.publicKey?.name],
    'private-ip-address': (instance) => [instance.identity.network.privateIp],
    'ip-address': (instance) => [instance.identity.network.publicIp],
    'private-dns-name': (instance) => [instance.identity.network.localHostname],
    'subnet-id': (instance) => [instance.identity.network.subnetId],
    'vpc-id': (instance) => [instance.identity.network.vpcId],
    'iam-instance-profile.arn': (instance) => [instance.identity.iamRole?.instanceProfileArn],
    'tag-key': (instance) => Object.keys(instance.identity.tags),
    'tag-value': (instance) => Object.values(instance.identity.tags),
    'metadata-options.http-tokens': (instance) => [instance.metadataOptions.httpTokens],
    'metadata-options.http-put-response-hop-limit': (instance) => [
      String(instance.metadataOptions.httpPutResponseHopLimit),
    ],
    'metadata-options.http-endpoint': (instance) => [instance.metadataOptions.httpEndpoint],
    'metadata-options.http-protocol-ipv6': (instance) => [
      instance.metadataOptions.httpProtocolIpv6,
    ],
    'metadata-options.instance-metadata-tags': (instance) => [
      instance.metadataOptions.instanceMetadataTags,
    ],
  };

function checkFilter({ name, values }: { name: string; values: string[] }): Filter {
  if (values.length === 0) {
    throw new Ec2ApiError('InvalidParameterValue', `The filter '${name}' needs at least one Value`);
  }
  if (name.startsWith('tag:') && name.length > 4) {
    const tagKey = name.slice(4);
    return { name, values, valuesOf: (instance) => [instance.identity.tags[tagKey]] };
  }
  const valuesOf = FILTERS[name];
  if (valuesOf === undefined) {
    throw new Ec2ApiError(
      'InvalidParameterValue',
      `The filter '${name.slice(0, 64)}' is invalid; imdsd knows tag:<key>, ${Object.keys(FILTERS).join(', ')}`,
    );
  }
  return { name, values, valuesOf };
}

/** A filter matches when any of its values matches any of the instance's values. */
function filterMatches(filter: Filter, instance: EmulatedInstance): boolean {
  const instanceValues = filter
    .valuesOf(instance)
    .filter((value): value is string => value !== undefined);
  return filter.values.some((pattern) =>
    instanceValues.some((value) => matchesWildcard(pattern, value, { ignoreCase: false })),
  );
}

function notFound(instanceIds: string[]): Ec2ApiError {
  const message =
    instanceIds.length === 1
      ? `The instance ID '${instanceIds[0]}' does not exist`
      : `The instance IDs '${instanceIds.join(', ')}' do not exist`;
  return new Ec2ApiError('InvalidInstanceID.NotFound', message);
}

/** EC2 accepts MaxResults from 5 to 1000, never together with instance ids. */
const MAX_RESULTS_MIN = 5;
const MAX_RESULTS_MAX = 1000;

function pageOf(params: QueryParameters, byInstanceId: boolean): { offset: number; size: number } {
  const maxResults = params.get('MaxResults');
  const nextToken = params.get('NextToken');
  if (maxResults === undefined) {
    return { offset: decodeNextToken(nextToken), size: Number.POSITIVE_INFINITY };
  }

  if (byInstanceId) {
    throw new Ec2ApiError(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  }
  const size = /^\d{1,4}$/.test(maxResults) ? Number(maxResults) : Number.NaN;
  if (!(size >= MAX_RESULTS_MIN && size <= MAX_RESULTS_MAX)) {
    throw new Ec2ApiError(
      'InvalidParameterValue',
      `Value (${maxResults.slice(0, 16)}) for parameter maxResults is invalid. Expecting a value between ${MAX_RESULTS_MIN} and ${MAX_RESULTS_MAX}`,
    );
  }
  return { offset: decodeNextToken(nextToken), size };
}

const NEXT_TOKEN_PREFIX = 'imdsd-offset:';

function encodeNextToken(offset: number): string {
  return Buffer.from(`${NEXT_TOKEN_PREFIX}${offset}`).toString('base64url');
}

function decodeNextToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const text = Buffer.from(token, 'base64url').toString();
  const offset = text.startsWith(NEXT_TOKEN_PREFIX)
    ? Number(text.slice(NEXT_TOKEN_PREFIX.length))
    : Number.NaN;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new Ec2ApiError('InvalidPaginationToken', 'The NextToken is not one imdsd issued');
  }
  return offset;
}
