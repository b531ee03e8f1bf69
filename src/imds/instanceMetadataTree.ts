import type {
  CredentialRequest,
  Delivery,
  RoleCredentials,
} from '../credentials/roleCredentials.ts';
import { formatImdsTime } from '../credentials/roleCredentials.ts';
import { isImdsdError } from '../errors.ts';
import { instanceIdentityDocument } from '../identity/identityDocument.ts';
import type { IdentitySigner } from '../identity/identitySigner.ts';
import type { InstanceIdentity } from '../instances/instance.ts';
import { renderImdsJson } from './imdsJson.ts';
import {
  directory,
  dynamicLeaf,
  leaf,
  type Content,
  type DirectoryNode,
  type MetadataNode,
  type MetadataRequest,
} from './metadataNode.ts';

/**
 * The metadata versions `GET /` lists (EC2 user guide, "Get the available versions"), oldest
 * first. Every version serves today's tree: categories newer than a version are not hidden
 * (README, Limitations).
 */
export const METADATA_VERSIONS = [
  '1.0',
  '2007-01-19',
  '2007-03-01',
  '2007-08-29',
  '2007-10-10',
  '2007-12-15',
  '2008-02-01',
  '2008-09-01',
  '2009-04-04',
  '2011-01-01',
  '2011-05-01',
  '2012-01-12',
  '2014-02-25',
  '2014-11-05',
  '2015-10-20',
  '2016-04-19',
  '2016-06-30',
  '2016-09-02',
  '2018-03-28',
  '2018-08-17',
  '2018-09-24',
  '2019-10-01',
  '2020-10-27',
  '2021-01-03',
  '2021-03-23',
  '2021-07-15',
  '2022-09-24',
  'latest',
] as const;

/** Where role credentials come from, as the tree needs them. */
export interface TreeCredentials {
  roleCredentials(request: CredentialRequest): Promise<RoleCredentials>;
  /** The instance identity role (`identity-credentials/ec2/…`), which every instance has. */
  identityCredentials(request: CredentialRequest): Promise<RoleCredentials>;
}

export interface TreeServices {
  credentials: TreeCredentials;
  signer: IdentitySigner;
}

const IDENTITY_ROLE_NAME = 'ec2-instance';

/** Builds the whole tree, from `/` down, for one instance. */
export function instanceMetadataTree(
  identity: InstanceIdentity,
  services: TreeServices,
): DirectoryNode {
  const versionRoot = directory(
    {
      dynamic: dynamicData(identity, services.signer),
      'meta-data': metaData(identity, services.credentials),
      'user-data':
        identity.userData === undefined ? undefined : leaf(identity.userData, userDataContent),
    },
    // `/latest/` lists its three entries without trailing slashes (reference §6.1).
    {
      listing: () =>
        identity.userData === undefined
          ? ['dynamic', 'meta-data']
          : ['dynamic', 'meta-data', 'user-data'],
    },
  );

  const versions = Object.fromEntries(METADATA_VERSIONS.map((version) => [version, versionRoot]));
  return directory(versions, { listing: () => [...METADATA_VERSIONS] });
}

const userDataContent = { contentType: 'application/octet-stream', acceptRanges: 'bytes' } as const;
const signatureContent = { acceptRanges: 'bytes' } as const;

function metaData(identity: InstanceIdentity, credentials: TreeCredentials): DirectoryNode {
  const network = identity.network;
  const text = (value: string): MetadataNode => leaf(value, { lastModified: identity.launchTime });
  const tagsEnabled = (request: MetadataRequest): boolean =>
    request.instance.metadataOptions.instanceMetadataTags === 'enabled';

  return directory({
    'ami-id': text(identity.imageId),
    'ami-launch-index': text('0'),
    'ami-manifest-path': text('(unknown)'),
    'block-device-mapping': directory({ ami: text('/dev/xvda'), root: text('/dev/xvda') }),
    events: directory({ maintenance: directory({ history: text('[]'), scheduled: text('[]') }) }),
    hostname: text(network.localHostname),
    iam: identity.iamRole === undefined ? undefined : iamCategory(identity, credentials),
    'identity-credentials': identityCredentialsCategory(identity, credentials),
    'instance-action': text('none'),
    'instance-id': text(identity.instanceId),
    'instance-life-cycle': text('on-demand'),
    'instance-type': text(identity.instanceType),
    'local-hostname': text(network.localHostname),
    'local-ipv4': text(network.privateIp),
    mac: text(network.macAddress),
    network: directory({
      interfaces: directory({
        macs: directory({ [network.macAddress]: interfaceData(identity, text) }),
      }),
    }),
    placement: directory({
      'availability-zone': text(identity.availabilityZone),
      'availability-zone-id': text(identity.availabilityZoneId),
      region: text(identity.region),
    }),
    profile: text('default-hvm'),
    'public-hostname':
      network.publicHostname === undefined ? undefined : text(network.publicHostname),
    'public-ipv4': network.publicIp === undefined ? undefined : text(network.publicIp),
    'public-keys':
      identity.publicKey === undefined ? undefined : publicKeys(identity.publicKey, text),
    'reservation-id': text(identity.reservationId),
    'security-groups': text(identity.securityGroups.join('\n')),
    services: directory({ domain: text(identity.domain), partition: text(identity.partition) }),
    tags: directory(
      {
        instance: directory(
          Object.fromEntries(
            Object.entries(identity.tags).map(([key, value]) => [key, text(value)]),
          ),
        ),
      },
      { visible: tagsEnabled },
    ),
  });
}

function interfaceData(
  identity: InstanceIdentity,
  text: (value: string) => MetadataNode,
): DirectoryNode {
  const network = identity.network;
  const publicIp = network.publicIp;
  return directory({
    'device-number': text('0'),
    'interface-id': text(network.interfaceId),
    'ipv4-associations':
      publicIp === undefined ? undefined : directory({ [publicIp]: text(network.privateIp) }),
    'local-hostname': text(network.localHostname),
    'local-ipv4s': text(network.privateIp),
    mac: text(network.macAddress),
    'network-card-index': text('0'),
    'owner-id': text(identity.accountId),
    'public-hostname':
      network.publicHostname === undefined ? undefined : text(network.publicHostname),
    'public-ipv4s': publicIp === undefined ? undefined : text(publicIp),
    'security-group-ids': text(network.securityGroupIds.join('\n')),
    'security-groups': text(identity.securityGroups.join('\n')),
    'subnet-id': text(network.subnetId),
    'subnet-ipv4-cidr-block': text(network.subnetCidr),
    'vpc-id': text(network.vpcId),
    'vpc-ipv4-cidr-block': text(network.vpcCidr),
    'vpc-ipv4-cidr-blocks': text(network.vpcCidr),
  });
}

/** `public-keys/` lists `0=<key name>`, and `public-keys/0/` lists `openssh-key` (reference §6.2). */
function publicKeys(
  key: { name: string; openSshKey: string },
  text: (value: string) => MetadataNode,
): DirectoryNode {
  return directory(
    { '0': directory({ 'openssh-key': text(key.openSshKey) }) },
    { listing: () => [`0=${key.name}`] },
  );
}

function iamCategory(identity: InstanceIdentity, credentials: TreeCredentials): DirectoryNode {
  const role = identity.iamRole!;
  const roleRequests = credentialRequests(identity, role.roleName);
  const info = renderImdsJson({
    Code: 'Success',
    LastUpdated: formatImdsTime(identity.launchTime),
    InstanceProfileArn: role.instanceProfileArn,
    InstanceProfileId: role.instanceProfileId,
  });

  return directory({
    info: leaf(info, { lastModified: identity.launchTime }),
    'security-credentials': directory({
      [role.roleName]: dynamicLeaf((request) =>
        credentialDocument(
          () => credentials.roleCredentials(roleRequests[request.delivery]),
          request,
        ),
      ),
    }),
  });
}

function identityCredentialsCategory(
  identity: InstanceIdentity,
  credentials: TreeCredentials,
): DirectoryNode {
  const identityRequests = credentialRequests(identity, IDENTITY_ROLE_NAME);
  const info = renderImdsJson({
    Code: 'Success',
    LastUpdated: formatImdsTime(identity.launchTime),
    AccountId: identity.accountId,
  });

  return directory({
    ec2: directory({
      info: leaf(info, { lastModified: identity.launchTime }),
      'security-credentials': directory({
        [IDENTITY_ROLE_NAME]: dynamicLeaf((request) =>
          credentialDocument(
            () => credentials.identityCredentials(identityRequests[request.delivery]),
            request,
          ),
        ),
      }),
    }),
  });
}

/**
 * A leaf's credential requests, one per delivery, made once: the sources and the cache key
 * their sets by request, and a request object they have seen before costs them no new key
 * string (memoizedRequestKey).
 */
function credentialRequests(
  identity: InstanceIdentity,
  roleName: string,
): Readonly<Record<Delivery, CredentialRequest>> {
  const forDelivery = (delivery: Delivery): CredentialRequest =>
    Object.freeze({
      instanceId: identity.instanceId,
      accountId: identity.accountId,
      region: identity.region,
      roleName,
      delivery,
    });
  return { imdsv1: forDelivery('imdsv1'), imdsv2: forDelivery('imdsv2') };
}

/**
 * The credentials document (reference §7.1). When no valid credentials can be had, the answer is
 * still HTTP 200, with a `Code` other than `Success` and a `Message`, as EC2 answers; never a
 * made-up key.
 */
async function credentialDocument(
  fetch: () => Promise<RoleCredentials>,
  request: MetadataRequest,
): Promise<Content> {
  try {
    const credentials = await fetch();
    return renderedDocuments.get(credentials) ?? renderDocument(credentials);
  } catch (error) {
    if (!isImdsdError(error, 'CREDENTIALS_UNAVAILABLE')) throw error;
    const body = renderImdsJson({
      Code: error.upstreamCode ?? 'InternalError',
      Message: error.message,
      LastUpdated: formatImdsTime(new Date(request.nowMs)),
    });
    return { body };
  }
}

/**
 * Sources hand out the same credentials object until they rotate it, so its document is
 * rendered once and kept with it (and dropped with it).
 */
const renderedDocuments = new WeakMap<RoleCredentials, Content>();

function renderDocument(credentials: RoleCredentials): Content {
  const body = renderImdsJson({
    Code: 'Success',
    LastUpdated: formatImdsTime(credentials.lastUpdated),
    Type: 'AWS-HMAC',
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: formatImdsTime(credentials.expiration),
  });
  const content: Content = { body, lastModified: credentials.lastUpdated };
  renderedDocuments.set(credentials, content);
  return content;
}

function dynamicData(identity: InstanceIdentity, signer: IdentitySigner): DirectoryNode {
  const document = instanceIdentityDocument(identity);
  let signatures: { pkcs7: string; signature: string } | undefined;

  // Signing is done once per instance, on first use: the document never changes. The key is
  // awaited, not made on the spot: generating it would stop every other caller for up to a
  // second.
  const signed = async (): Promise<{ pkcs7: string; signature: string }> => {
    if (signatures === undefined) await signer.prepare();
    return (signatures ??= {
      pkcs7: signer.pkcs7(document),
      signature: signer.signature(document),
    });
  };

  return directory({
    fws: directory({ 'instance-monitoring': leaf('disabled') }),
    'instance-identity': directory(
      {
        document: leaf(document, { lastModified: identity.launchTime }),
        pkcs7: dynamicLeaf(async () => ({ body: (await signed()).pkcs7, ...signatureContent })),
        rsa2048: dynamicLeaf(async () => ({ body: (await signed()).pkcs7, ...signatureContent })),
        signature: dynamicLeaf(async () => ({
          body: (await signed()).signature,
          ...signatureContent,
        })),
      },
      // The order of the EC2 user guide's listing; dsa2048 is not served (README, Limitations).
      { listing: () => ['rsa2048', 'pkcs7', 'document', 'signature'] },
    ),
  });
}
