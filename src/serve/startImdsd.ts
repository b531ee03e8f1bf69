import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { createCredentialMinter, type CredentialMinter } from '../credentials/mintedCredentials.ts';
import { createRoleSources } from '../credentials/roleSources.ts';
import { loadIdentitySigner, type IdentitySigner } from '../identity/identitySigner.ts';
import { HOP_LIMIT_NOT_ENFORCED, type HopLimitControl } from '../imds/hopLimit.ts';
import { createImdsFront } from '../imds/imdsFront.ts';
import { closeListener, listen, LISTENER_LIMITS, type BoundListener, type ListenerLimits } from '../imds/imdsListener.ts';
import { instanceMetadataTree } from '../imds/instanceMetadataTree.ts';
import { buildInstances } from '../instances/buildInstances.ts';
import { InstanceDirectory } from '../instances/instanceDirectory.ts';
import type { Logger } from '../log.ts';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../net/address.ts';
import { defaultStatePath, openStateStore, type StateStore } from '../store/stateStore.ts';
import { loadTokenKeyRing } from '../tokens/tokenKeyRing.ts';

export interface StartOptions {
  config: Config;
  configFile?: string;
  logger: Logger;
  hopLimit?: HopLimitControl;
  now?: () => number;
  /** Tighter listener bounds, for tests that should not wait the default deadlines out. */
  listenerLimits?: Partial<ListenerLimits>;
}

/** A running `imdsd serve`: what it listens on and how to stop it. */
export interface RunningImdsd {
  imdsAddresses: ListenAddress[];
  instances: InstanceDirectory;
  store: StateStore;
  signer: IdentitySigner;
  minter: CredentialMinter;
  close(): Promise<void>;
}

export async function startImdsd(options: StartOptions): Promise<RunningImdsd> {
  const { config, logger } = options;
  const store = openStateStore(config.state ?? defaultStatePath());
  const listeners: BoundListener[] = [];

  try {
    const minter = createCredentialMinter(store.remembered('credential-minting-key', () => randomBytes(32)));
    const signer = loadIdentitySigner(store);
    const instances = new InstanceDirectory(buildInstances(config, store, options.configFile));
    const roleSources = createRoleSources(config.roles, minter);

    const trees = new Map(
      instances.all.map((instance) => [
        instance.instanceId,
        instanceMetadataTree(instance.identity, { credentials: roleSources, signer }),
      ]),
    );

    const hopLimit = options.hopLimit ?? HOP_LIMIT_NOT_ENFORCED;
    const front = createImdsFront({
      instances,
      trees,
      tokenKeys: loadTokenKeyRing(store),
      hopLimit,
      logger,
      ...(options.now === undefined ? {} : { now: options.now }),
    });

    const limits = { ...LISTENER_LIMITS, ...options.listenerLimits };
    for (const text of config.listen) {
      listeners.push(await listen(parseListenAddress(text) as ListenAddress, front, limits));
    }

    logStarted(logger, config, instances, listeners, hopLimit, store);
    // The identity key, if this state has none yet, is generated once serving has begun.
    void signer.prepare();

    return {
      imdsAddresses: listeners.map((listener) => listener.address),
      instances,
      store,
      signer,
      minter,
      async close() {
        await Promise.all(listeners.map(closeListener));
        store.close();
      },
    };
  } catch (error) {
    await Promise.all(listeners.map(closeListener));
    store.close();
    throw error;
  }
}

function logStarted(
  logger: Logger,
  config: Config,
  instances: InstanceDirectory,
  listeners: BoundListener[],
  hopLimit: HopLimitControl,
  store: StateStore,
): void {
  for (const instance of instances.all) {
    const options = instance.metadataOptions;
    logger.info(
      {
        instanceId: instance.instanceId,
        role: instance.identity.iamRole?.roleName,
        httpTokens: options.httpTokens,
        hopLimit: options.httpPutResponseHopLimit,
        httpEndpoint: options.httpEndpoint,
      },
      'emulating instance',
    );
  }
  for (const listener of listeners) {
    logger.info({ listen: formatListenAddress(listener.address) }, 'IMDS listening');
  }
  if (!hopLimit.enforced) {
    logger.warn({ code: 'HOP_LIMIT_UNAVAILABLE' }, 'hop limits are not enforced: token responses reach callers at any distance');
  }
  logger.debug({ file: store.path, roles: Object.keys(config.roles) }, 'state store open');
}
