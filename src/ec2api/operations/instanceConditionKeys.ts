import type { EmulatedInstance } from '../../instances/instance.ts';
import { CONDITION_KEYS, RESOURCE_TAG_PREFIXES } from '../policy/conditionKeys.ts';

/** The condition keys an instance brings to a request that acts on it (its tags, type, place). */
export function instanceConditionKeys(
  instance: EmulatedInstance,
): Record<string, string | undefined> {
  const { identity } = instance;
  const keys: Record<string, string | undefined> = {
    [CONDITION_KEYS.instanceType]: identity.instanceType,
    [CONDITION_KEYS.availabilityZone]: identity.availabilityZone,
    [CONDITION_KEYS.region]: identity.region,
    [CONDITION_KEYS.instanceProfile]: identity.iamRole?.instanceProfileArn,
  };
  for (const [tagKey, tagValue] of Object.entries(identity.tags)) {
    for (const prefix of RESOURCE_TAG_PREFIXES) keys[`${prefix}${tagKey.toLowerCase()}`] = tagValue;
  }
  return keys;
}
