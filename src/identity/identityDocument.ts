import type { InstanceIdentity } from '../instances/instance.ts';
import { formatImdsTime } from '../credentials/roleCredentials.ts';
import { renderImdsJson } from '../imds/imdsJson.ts';

/**
 * The instance identity document (`/latest/dynamic/instance-identity/document`), with the keys
 * in the order the real service writes them (reference §7.4) and JSON null for absent values.
 */
export function instanceIdentityDocument(identity: InstanceIdentity): string {
  return renderImdsJson({
    accountId: identity.accountId,
    architecture: identity.architecture,
    availabilityZone: identity.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: identity.imageId,
    instanceId: identity.instanceId,
    instanceType: identity.instanceType,
    kernelId: null,
    pendingTime: formatImdsTime(identity.launchTime),
    privateIp: identity.network.privateIp,
    ramdiskId: null,
    region: identity.region,
    version: '2017-09-30',
  });
}
