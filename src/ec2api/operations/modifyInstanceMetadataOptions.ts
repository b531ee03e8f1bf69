import { HOP_LIMIT_MAX, HOP_LIMIT_MIN } from '../../config/schema.ts';
import { authorizeCaller } from '../authorizeCaller.ts';
import { Ec2ApiError } from '../ec2ApiError.ts';
import { leaf } from '../ec2Xml.ts';
import type { MetadataOptionsChanges } from '../metadataOptionsUpdater.ts';
import { CONDITION_KEYS } from '../policy/conditionKeys.ts';
import type { QueryParameters } from '../queryParameters.ts';
import {
  booleanParameter,
  checkInstanceId,
  dryRunSucceeded,
  instanceArn,
  requiredParameter,
  visibleInstances,
  type Ec2Operation,
} from './ec2Operation.ts';
import { instanceConditionKeys } from './instanceConditionKeys.ts';
import { metadataOptionsElement } from './metadataOptionsXml.ts';

/**
 * `ModifyInstanceMetadataOptions` (API model, reference §8): every option the request names
 * is checked, the caller is authorised with the request's values as condition keys, and the
 * change is stored, applied and answered in that order. Options the request leaves out keep
 * their value. The IMDS listener sees the change from its next request on.
 */
export const modifyInstanceMetadataOptions: Ec2Operation = {
  action: 'ModifyInstanceMetadataOptions',
  parameters:
    /^(?:InstanceId|HttpTokens|HttpPutResponseHopLimit|HttpEndpoint|HttpProtocolIpv6|InstanceMetadataTags|DryRun)$/,

  run({ params, caller, signingRegion }, { instances, updater }) {
    const instanceId = checkInstanceId(requiredParameter(params, 'InstanceId'));
    const changes = requestedChanges(params);
    const dryRun = booleanParameter(params, 'DryRun');

    const instance = visibleInstances(caller, instances).find(
      (candidate) => candidate.instanceId === instanceId,
    );
    if (instance === undefined) {
      throw new Ec2ApiError(
        'InvalidInstanceID.NotFound',
        `The instance ID '${instanceId}' does not exist`,
      );
    }

    authorizeCaller(caller, {
      action: 'ec2:ModifyInstanceMetadataOptions',
      resource: instanceArn(instance),
      keys: { ...instanceConditionKeys(instance), ...requestConditionKeys(changes) },
      signingRegion,
    });
    if (dryRun) throw dryRunSucceeded();

    const options = updater.update(instance, changes);
    return {
      members: [
        leaf('instanceId', instanceId),
        metadataOptionsElement('instanceMetadataOptions', options, 'pending'),
      ],
      instanceId,
    };
  },
};

const ENABLED_DISABLED = ['enabled', 'disabled'] as const;

function requestedChanges(params: QueryParameters): MetadataOptionsChanges {
  const changes: MetadataOptionsChanges = {};
  const httpTokens = oneOf(params, 'HttpTokens', ['optional', 'required'] as const);
  const hopLimit = hopLimitOf(params);
  const httpEndpoint = oneOf(params, 'HttpEndpoint', ENABLED_DISABLED);
  const httpProtocolIpv6 = oneOf(params, 'HttpProtocolIpv6', ENABLED_DISABLED);
  const instanceMetadataTags = oneOf(params, 'InstanceMetadataTags', ENABLED_DISABLED);

  if (httpTokens !== undefined) changes.httpTokens = httpTokens;
  if (hopLimit !== undefined) changes.httpPutResponseHopLimit = hopLimit;
  if (httpEndpoint !== undefined) changes.httpEndpoint = httpEndpoint;
  if (httpProtocolIpv6 !== undefined) changes.httpProtocolIpv6 = httpProtocolIpv6;
  if (instanceMetadataTags !== undefined) changes.instanceMetadataTags = instanceMetadataTags;
  return changes;
}

/** The values the request sets, as EC2's metadata condition keys; absent when not set. */
function requestConditionKeys(changes: MetadataOptionsChanges): Record<string, string | undefined> {
  return {
    [CONDITION_KEYS.metadataHttpTokens]: changes.httpTokens,
    [CONDITION_KEYS.metadataHttpPutResponseHopLimit]: changes.httpPutResponseHopLimit?.toString(),
    [CONDITION_KEYS.metadataHttpEndpoint]: changes.httpEndpoint,
  };
}

function oneOf<T extends string>(
  params: QueryParameters,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = params.get(name);
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Ec2ApiError(
    'InvalidParameterValue',
    `Value (${value.slice(0, 64)}) for parameter ${name} is invalid. Expected: ${allowed.map((item) => `'${item}'`).join(' or ')}`,
  );
}

function hopLimitOf(params: QueryParameters): number | undefined {
  const value = params.get('HttpPutResponseHopLimit');
  if (value === undefined) return undefined;

  const hopLimit = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(hopLimit >= HOP_LIMIT_MIN && hopLimit <= HOP_LIMIT_MAX)) {
    throw new Ec2ApiError(
      'InvalidParameterValue',
      `The HttpPutResponseHopLimit value (${value.slice(0, 64)}) is out of range. Specify an integer from ${HOP_LIMIT_MIN} to ${HOP_LIMIT_MAX}.`,
    );
  }
  return hopLimit;
}
