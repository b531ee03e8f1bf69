import type { MetadataOptions } from '../config/schema.ts';
import type { Cidr } from '../net/cidr.ts';

export type { MetadataOptions };

/** What an emulated instance is: everything IMDS reports about it, fixed for its lifetime. */
export interface InstanceIdentity {
  instanceId: string;
  instanceType: string;
  architecture: 'x86_64' | 'arm64' | 'i386';
  imageId: string;
  accountId: string;
  region: string;
  availabilityZone: string;
  availabilityZoneId: string;
  partition: string;
  /** `services/domain`: amazonaws.com, or amazonaws.com.cn in China. */
  domain: string;
  launchTime: Date;
  reservationId: string;
  network: InstanceNetwork;
  securityGroups: string[];
  userData: Buffer | undefined;
  tags: Readonly<Record<string, string>>;
  publicKey: { name: string; openSshKey: string } | undefined;
  iamRole: InstanceRole | undefined;
}

export interface InstanceNetwork {
  macAddress: string;
  interfaceId: string;
  privateIp: string;
  publicIp: string | undefined;
  localHostname: string;
  publicHostname: string | undefined;
  subnetId: string;
  subnetCidr: string;
  vpcId: string;
  vpcCidr: string;
  securityGroupIds: string[];
}

export interface InstanceRole {
  roleName: string;
  instanceProfileName: string;
  instanceProfileArn: string;
  instanceProfileId: string;
}

export type MetadataOptionsListener = (instance: EmulatedInstance) => void;

/**
 * An emulated instance: its identity, which callers see it, and its metadata options, the one
 * part that changes while it runs (ModifyInstanceMetadataOptions). The IMDS front reads the
 * options on every request, so a change applies to the next request.
 */
export class EmulatedInstance {
  readonly identity: InstanceIdentity;
  readonly clients: readonly Cidr[];
  #metadataOptions: Readonly<MetadataOptions>;
  readonly #listeners = new Set<MetadataOptionsListener>();

  constructor(
    identity: InstanceIdentity,
    clients: readonly Cidr[],
    metadataOptions: MetadataOptions,
  ) {
    this.identity = identity;
    this.clients = clients;
    this.#metadataOptions = Object.freeze({ ...metadataOptions });
  }

  get instanceId(): string {
    return this.identity.instanceId;
  }

  get metadataOptions(): Readonly<MetadataOptions> {
    return this.#metadataOptions;
  }

  /** Replaces the options as a whole; the caller has validated and persisted them. */
  applyMetadataOptions(options: MetadataOptions): void {
    this.#metadataOptions = Object.freeze({ ...options });
    for (const listener of this.#listeners) listener(this);
  }

  onMetadataOptionsChange(listener: MetadataOptionsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
