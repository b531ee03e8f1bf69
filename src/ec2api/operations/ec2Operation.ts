import type { EmulatedInstance } from '../../instances/instance.ts';
import type { InstanceDirectory } from '../../instances/instanceDirectory.ts';
import type { ApiCaller } from '../apiCaller.ts';
import { Ec2ApiError } from '../ec2ApiError.ts';
import type { XmlElement } from '../ec2Xml.ts';
import type { MetadataOptionsUpdater } from '../metadataOptionsUpdater.ts';
import type { QueryParameters } from '../queryParameters.ts';

/** One authenticated request, ready for its action. */
export interface OperationRequest {
  params: QueryParameters;
  caller: ApiCaller;
  signingRegion: string;
}

export interface OperationServices {
  instances: InstanceDirectory;
  updater: MetadataOptionsUpdater;
}

export interface OperationResult {
  /** The members of `<ActionResponse>` after `<requestId>`. */
  members: Array<XmlElement | undefined>;
  /** For the log line: the instance the action changed, if any. */
  instanceId?: string;
}

/** An EC2 action the control API implements. */
export interface Ec2Operation {
  action: string;
  /** The request parameters the action accepts besides Action and Version. */
  parameters: RegExp;
  run(request: OperationRequest, services: OperationServices): OperationResult;
}

/** `i-` and 8 or 17 lower-case hex digits: the two lengths EC2 has used for instance ids. */
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export function checkInstanceId(instanceId: string): string {
  if (!INSTANCE_ID.test(instanceId)) {
    throw new Ec2ApiError(
      'InvalidInstanceID.Malformed',
      `Invalid id: "${instanceId.slice(0, 64)}" (expecting "i-" and 8 or 17 hex digits)`,
    );
  }
  return instanceId;
}

export function requiredParameter(params: QueryParameters, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '') {
    throw new Ec2ApiError('MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
}

/** EC2 booleans are `true` or `false`; absent means false. */
export function booleanParameter(params: QueryParameters, name: string): boolean {
  const value = params.get(name);
  if (value === undefined) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Ec2ApiError(
    'InvalidParameterValue',
    `Value (${value.slice(0, 64)}) for parameter ${name} is invalid. Expected: 'true' or 'false'`,
  );
}

/**
 * The instances a caller can see: all for an administrator; those of its own account for a
 * role, since EC2 APIs never show another account's instances.
 */
export function visibleInstances(
  caller: ApiCaller,
  instances: InstanceDirectory,
): EmulatedInstance[] {
  if (caller.kind === 'administrator') return [...instances.all];
  return instances.all.filter(
    (instance) => instance.identity.accountId === caller.claims.accountId,
  );
}

export function instanceArn(instance: EmulatedInstance): string {
  const { partition, region, accountId, instanceId } = instance.identity;
  return `arn:${partition}:ec2:${region}:${accountId}:instance/${instanceId}`;
}

export function dryRunSucceeded(): Ec2ApiError {
  return new Ec2ApiError(
    'DryRunOperation',
    'Request would have succeeded, but DryRun flag is set.',
  );
}
