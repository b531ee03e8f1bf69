import type { MetadataOptions } from '../../instances/instance.ts';
import { element, leaf, type XmlElement } from '../ec2Xml.ts';

/**
 * `pending` while a change is not yet in effect, `applied` once it is (API model,
 * InstanceMetadataOptionsResponse.State). imdsd applies a change before it answers, yet the
 * ModifyInstanceMetadataOptions answer says `pending` and DescribeInstances `applied`: that is
 * what EC2 answers for a running instance (reference §8) and what scripts written for EC2 wait on.
 */
export type MetadataOptionsState = 'pending' | 'applied';

/** `<metadataOptions>` / `<instanceMetadataOptions>` in the model's member order. */
export function metadataOptionsElement(
  name: string,
  options: MetadataOptions,
  state: MetadataOptionsState,
): XmlElement {
  return element(
    name,
    leaf('state', state),
    leaf('httpTokens', options.httpTokens),
    leaf('httpPutResponseHopLimit', options.httpPutResponseHopLimit),
    leaf('httpEndpoint', options.httpEndpoint),
    leaf('httpProtocolIpv6', options.httpProtocolIpv6),
    leaf('instanceMetadataTags', options.instanceMetadataTags),
  );
}
