/**
 * The condition keys imdsd puts in a request's context, as EC2 names them (Service
 * Authorization Reference, "Amazon EC2: condition keys"; reference §8). IAM compares key
 * names without regard to case, so they are kept lower-case here. A policy naming any other
 * key is refused at startup: in an Allow it would silently never match.
 */
export const CONDITION_KEYS = {
  /** The value the request sets, absent when it leaves the option unchanged. */
  metadataHttpTokens: 'ec2:metadatahttptokens',
  metadataHttpPutResponseHopLimit: 'ec2:metadatahttpputresponsehoplimit',
  metadataHttpEndpoint: 'ec2:metadatahttpendpoint',
  /** Of the instance the request acts on. */
  instanceType: 'ec2:instancetype',
  availabilityZone: 'ec2:availabilityzone',
  region: 'ec2:region',
  instanceProfile: 'ec2:instanceprofile',
  /** Of the caller, when it signs with role credentials imdsd delivered to an instance. */
  sourceInstanceArn: 'ec2:sourceinstancearn',
  roleDelivery: 'ec2:roledelivery',
  /** The region the request was signed for. */
  requestedRegion: 'aws:requestedregion',
} as const;

/** `ec2:ResourceTag/<key>` and `aws:ResourceTag/<key>`: the instance's tags. */
export const RESOURCE_TAG_PREFIXES = ['ec2:resourcetag/', 'aws:resourcetag/'] as const;

const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.values(CONDITION_KEYS));

export function isKnownConditionKey(key: string): boolean {
  const lower = key.toLowerCase();
  return (
    KNOWN_KEYS.has(lower) ||
    RESOURCE_TAG_PREFIXES.some((prefix) => lower.startsWith(prefix) && lower.length > prefix.length)
  );
}

/** For error messages: the keys a policy may use. */
export const KNOWN_CONDITION_KEYS_TEXT =
  'ec2:MetadataHttpTokens, ec2:MetadataHttpPutResponseHopLimit, ec2:MetadataHttpEndpoint, ec2:InstanceType, ' +
  'ec2:AvailabilityZone, ec2:Region, ec2:InstanceProfile, ec2:SourceInstanceARN, ec2:RoleDelivery, ' +
  'aws:RequestedRegion, ec2:ResourceTag/<key>, aws:ResourceTag/<key>';
