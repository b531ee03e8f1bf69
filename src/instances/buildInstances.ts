import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { USER_DATA_MAX_BYTES, type Config, type InstanceConfig } from '../config/schema.ts';
import { formatKeyPath } from '../config/load.ts';
import { ImdsdError } from '../errors.ts';
import { parseCidr, type Cidr } from '../net/cidr.ts';
import type { StateStore } from '../store/stateStore.ts';
import { EmulatedInstance, type InstanceIdentity, type MetadataOptions } from './instance.ts';

/**
 * Builds the emulated instances from the validated config and the state store. Values a
 * config leaves out are derived from the instance id, so they are realistic, distinct per
 * instance and the same on every start.
 */
export function buildInstances(
  config: Config,
  store: StateStore,
  configFile?: string,
): EmulatedInstance[] {
  return (config.instances ?? []).map((instanceConfig, index) => {
    const identity = buildIdentity(instanceConfig, index, store, configFile);
    const clients = instanceConfig.clients.map((text) => parseCidr(text) as Cidr);
    const options = restoreMetadataOptions(store, instanceConfig);
    return new EmulatedInstance(identity, clients, options);
  });
}

/**
 * Options changed through the API are kept with the config's options they replaced. They win on
 * restart unless the config itself changed since, in which case the operator's edit wins.
 */
interface StoredMetadataOptions {
  fromConfig: MetadataOptions;
  current: MetadataOptions;
}

export function restoreMetadataOptions(
  store: StateStore,
  instanceConfig: InstanceConfig,
): MetadataOptions {
  const stored = store.metadataOptions(instanceConfig.instanceId) as
    | StoredMetadataOptions
    | undefined;
  if (stored !== undefined && isDeepStrictEqual(stored.fromConfig, instanceConfig.metadataOptions))
    return stored.current;
  return instanceConfig.metadataOptions;
}

export function persistMetadataOptions(
  store: StateStore,
  instanceConfig: InstanceConfig,
  current: MetadataOptions,
): void {
  const stored: StoredMetadataOptions = { fromConfig: instanceConfig.metadataOptions, current };
  store.saveMetadataOptions(
    instanceConfig.instanceId,
    stored as unknown as Record<string, unknown>,
  );
}

function buildIdentity(
  config: InstanceConfig,
  index: number,
  store: StateStore,
  configFile?: string,
): InstanceIdentity {
  const seed = createHash('sha256').update(config.instanceId).digest();
  const hex = (label: string, length: number): string =>
    createHash('sha256').update(seed).update(label).digest('hex').slice(0, length);

  const availabilityZone = config.availabilityZone ?? `${config.region}a`;
  const { partition, domain } = partitionOf(config.region);
  const launchTime =
    config.launchTime === undefined
      ? firstSeen(store, config.instanceId)
      : new Date(config.launchTime);

  return {
    instanceId: config.instanceId,
    instanceType: config.instanceType,
    architecture: config.architecture,
    imageId: config.imageId,
    accountId: config.accountId,
    region: config.region,
    availabilityZone,
    availabilityZoneId: availabilityZoneId(availabilityZone, config.region),
    partition,
    domain,
    launchTime,
    reservationId: `r-${hex('reservation', 17)}`,
    network: {
      macAddress: config.macAddress ?? macAddressFrom(seed),
      interfaceId: `eni-${hex('eni', 17)}`,
      privateIp: config.privateIp,
      publicIp: config.publicIp,
      localHostname: localHostname(config.privateIp, config.region),
      publicHostname:
        config.publicIp === undefined
          ? undefined
          : publicHostname(config.publicIp, config.region, domain),
      subnetId: `subnet-${hex('subnet', 17)}`,
      subnetCidr: `${config.privateIp.split('.').slice(0, 3).join('.')}.0/24`,
      vpcId: `vpc-${hex('vpc', 17)}`,
      vpcCidr: `${config.privateIp.split('.').slice(0, 2).join('.')}.0.0/16`,
      securityGroupIds: config.securityGroups.map((name) => `sg-${hex(`sg:${name}`, 17)}`),
    },
    securityGroups: config.securityGroups,
    userData: userDataOf(config, index, configFile),
    tags: config.tags,
    publicKey:
      config.keyName === undefined
        ? undefined
        : {
            name: config.keyName,
            openSshKey: config.openSshKey ?? openSshKeyFrom(seed, config.keyName),
          },
    iamRole:
      config.iamRole === undefined
        ? undefined
        : {
            roleName: config.iamRole,
            instanceProfileName: config.instanceProfile ?? config.iamRole,
            instanceProfileArn: `arn:${partition}:iam::${config.accountId}:instance-profile/${config.instanceProfile ?? config.iamRole}`,
            instanceProfileId: `AIPA${hex('instance-profile', 17).toUpperCase()}`,
          },
  };
}

function userDataOf(
  config: InstanceConfig,
  index: number,
  configFile?: string,
): Buffer | undefined {
  let userData: Buffer | undefined;
  let key = formatKeyPath(['instances', index, 'userData']);

  if (config.userData !== undefined) userData = Buffer.from(config.userData, 'utf8');
  if (config.userDataFile !== undefined) {
    key = formatKeyPath(['instances', index, 'userDataFile']);
    const path = resolve(
      configFile === undefined ? process.cwd() : dirname(configFile),
      config.userDataFile,
    );
    try {
      userData = readFileSync(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ImdsdError(
        'CONFIG_INVALID',
        `${key} = "${config.userDataFile}": cannot read ${path} (${reason})`,
      );
    }
  }

  if (userData !== undefined && userData.length > USER_DATA_MAX_BYTES) {
    throw new ImdsdError(
      'CONFIG_INVALID',
      `${key}: user data is ${userData.length} bytes; EC2 allows at most ${USER_DATA_MAX_BYTES}`,
    );
  }
  return userData;
}

function firstSeen(store: StateStore, instanceId: string): Date {
  const stamp = store.remembered(`launch-time:${instanceId}`, () =>
    Buffer.from(new Date().toISOString()),
  );
  return new Date(Math.floor(Date.parse(stamp.toString()) / 1000) * 1000);
}

function partitionOf(region: string): { partition: string; domain: string } {
  if (region.startsWith('cn-')) return { partition: 'aws-cn', domain: 'amazonaws.com.cn' };
  if (region.startsWith('us-gov-')) return { partition: 'aws-us-gov', domain: 'amazonaws.com' };
  return { partition: 'aws', domain: 'amazonaws.com' };
}

/** `use1-az1` from `us-east-1a`: the short region code EC2 uses in zone ids. */
function availabilityZoneId(zone: string, region: string): string {
  const words: Record<string, string> = {
    east: 'e',
    west: 'w',
    north: 'n',
    south: 's',
    central: 'c',
    northeast: 'ne',
    northwest: 'nw',
    southeast: 'se',
    southwest: 'sw',
  };
  const [area, ...rest] = region.split('-');
  const number = rest.pop();
  const code = `${area}${rest.map((word) => words[word] ?? word.charAt(0)).join('')}${number}`;
  const zoneIndex = zone.charCodeAt(zone.length - 1) - 'a'.charCodeAt(0) + 1;
  return `${code}-az${zoneIndex}`;
}

/** EC2's internal DNS names: `ip-10-0-1-17.ec2.internal` in us-east-1, `<region>.compute.internal` elsewhere. */
function localHostname(privateIp: string, region: string): string {
  const host = `ip-${privateIp.replaceAll('.', '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

function publicHostname(publicIp: string, region: string, domain: string): string {
  const host = `ec2-${publicIp.replaceAll('.', '-')}`;
  return region === 'us-east-1'
    ? `${host}.compute-1.${domain}`
    : `${host}.${region}.compute.${domain}`;
}

/** A locally administered unicast MAC, as EC2 gives its interfaces (`0e:…`, `02:…`). */
function macAddressFrom(seed: Buffer): string {
  const bytes = [0x0e, ...seed.subarray(10, 15)];
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/** A real ed25519 public key in OpenSSH form, derived from the instance so it is stable. */
function openSshKeyFrom(seed: Buffer, keyName: string): string {
  const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  const privateKey = createPrivateKey({
    key: Buffer.concat([pkcs8Prefix, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);

  const field = (bytes: Buffer): Buffer =>
    Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${keyName}`;
}
