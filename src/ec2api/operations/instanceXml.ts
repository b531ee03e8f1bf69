import type { EmulatedInstance } from '../../instances/instance.ts';
import { element, itemSet, leaf, type XmlElement } from '../ec2Xml.ts';
import { metadataOptionsElement } from './metadataOptionsXml.ts';

/**
 * One `<instancesSet><item>` of DescribeInstances: the members of the API model's `Instance`
 * shape that imdsd knows, under their `locationName`s (reference §8). Emulated instances run
 * on EBS-backed HVM, are always `running` (state code 16) and show their metadata options as
 * `applied`, since imdsd applies a change before it answers.
 */
export function instanceElements(instance: EmulatedInstance): Array<XmlElement | undefined> {
  const { identity } = instance;
  const { network } = identity;
  const groups = securityGroups(instance);

  return [
    leaf('instanceId', identity.instanceId),
    leaf('imageId', identity.imageId),
    element('instanceState', leaf('code', 16), leaf('name', 'running')),
    leaf('privateDnsName', network.localHostname),
    leaf('dnsName', network.publicHostname ?? ''),
    leaf('reason', ''),
    leaf('keyName', identity.publicKey?.name),
    leaf('amiLaunchIndex', 0),
    itemSet('productCodes', [], () => []),
    leaf('instanceType', identity.instanceType),
    leaf('launchTime', identity.launchTime.toISOString()),
    element(
      'placement',
      leaf('availabilityZoneId', identity.availabilityZoneId),
      leaf('groupName', ''),
      leaf('tenancy', 'default'),
      leaf('availabilityZone', identity.availabilityZone),
    ),
    element('monitoring', leaf('state', 'disabled')),
    leaf('subnetId', network.subnetId),
    leaf('vpcId', network.vpcId),
    leaf('privateIpAddress', network.privateIp),
    leaf('ipAddress', network.publicIp),
    leaf('sourceDestCheck', true),
    groups,
    leaf('architecture', identity.architecture),
    leaf('rootDeviceType', 'ebs'),
    leaf('rootDeviceName', '/dev/xvda'),
    itemSet('blockDeviceMapping', [], () => []),
    leaf('virtualizationType', 'hvm'),
    tagSet(identity.tags),
    leaf('hypervisor', 'xen'),
    networkInterfaces(instance, groups),
    identity.iamRole === undefined
      ? undefined
      : element(
          'iamInstanceProfile',
          leaf('arn', identity.iamRole.instanceProfileArn),
          leaf('id', identity.iamRole.instanceProfileId),
        ),
    leaf('ebsOptimized', false),
    leaf('enaSupport', true),
    metadataOptionsElement('metadataOptions', instance.metadataOptions, 'applied'),
  ];
}

function securityGroups(instance: EmulatedInstance): XmlElement {
  const { securityGroups: names, network } = instance.identity;
  const groups = names.map((name, index) => ({ name, id: network.securityGroupIds[index] }));
  return itemSet('groupSet', groups, (group) => [
    leaf('groupId', group.id),
    leaf('groupName', group.name),
  ]);
}

/** EC2 leaves `tagSet` out when an instance has no tags. */
function tagSet(tags: Readonly<Record<string, string>>): XmlElement | undefined {
  const entries = Object.entries(tags);
  if (entries.length === 0) return undefined;
  return itemSet('tagSet', entries, ([key, value]) => [leaf('key', key), leaf('value', value)]);
}

function networkInterfaces(instance: EmulatedInstance, groups: XmlElement): XmlElement {
  const { identity } = instance;
  const { network } = identity;
  const association =
    network.publicIp === undefined
      ? undefined
      : element(
          'association',
          leaf('publicIp', network.publicIp),
          leaf('publicDnsName', network.publicHostname ?? ''),
          leaf('ipOwnerId', 'amazon'),
        );

  return itemSet('networkInterfaceSet', [network], () => [
    leaf('networkInterfaceId', network.interfaceId),
    leaf('subnetId', network.subnetId),
    leaf('vpcId', network.vpcId),
    leaf('ownerId', identity.accountId),
    leaf('status', 'in-use'),
    leaf('macAddress', network.macAddress),
    leaf('privateIpAddress', network.privateIp),
    leaf('privateDnsName', network.localHostname),
    leaf('sourceDestCheck', true),
    groups,
    element(
      'attachment',
      leaf('deviceIndex', 0),
      leaf('status', 'attached'),
      leaf('deleteOnTermination', true),
    ),
    association,
    leaf('interfaceType', 'interface'),
  ]);
}
