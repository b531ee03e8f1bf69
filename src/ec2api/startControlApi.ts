import type { Config, InstanceConfig } from '../config/schema.ts';
import type { CredentialMinter } from '../credentials/mintedCredentials.ts';
import { listen, type BoundListener } from '../imds/imdsListener.ts';
import type { InstanceDirectory } from '../instances/instanceDirectory.ts';
import type { Logger } from '../log.ts';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../net/address.ts';
import type { StateStore } from '../store/stateStore.ts';
import { createCallerKeys } from './apiCaller.ts';
import { createEc2ApiFront } from './ec2ApiFront.ts';
import { createMetadataOptionsUpdater } from './metadataOptionsUpdater.ts';

export interface ControlApiOptions {
  config: Config;
  instances: InstanceDirectory;
  store: StateStore;
  minter: CredentialMinter;
  logger: Logger;
  now?: () => number;
}

/**
 * Binds the control API on `apiListen`, its own listener (the listener module is shared with
 * IMDS only for its connection limits; the IMDS front never sees these requests).
 */
export async function startControlApi(options: ControlApiOptions): Promise<BoundListener> {
  const { config, instances, store, minter, logger } = options;
  const instanceConfigs = new Map<string, InstanceConfig>(
    (config.instances ?? []).map((instanceConfig) => [instanceConfig.instanceId, instanceConfig]),
  );

  const front = createEc2ApiFront({
    instances,
    updater: createMetadataOptionsUpdater(store, instanceConfigs),
    findCaller: createCallerKeys({
      administrators: config.api.credentials,
      minter,
      roles: config.roles,
      instances,
    }),
    logger,
    ...(options.now === undefined ? {} : { now: options.now }),
  });

  const bound = await listen(parseListenAddress(config.apiListen) as ListenAddress, front);
  const administratorKeys = config.api.credentials.length;
  logger.info(
    { listen: formatListenAddress(bound.address), administratorKeys },
    'control API listening',
  );
  return bound;
}
