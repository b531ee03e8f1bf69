import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { systemClock, type Clock } from '../clock.ts';
import { CredentialCache } from '../credentials/credentialCache.ts';
import { createCredentialMinter, type CredentialMinter } from '../credentials/mintedCredentials.ts';
import { createRoleSources } from '../credentials/roleSources.ts';
import { createStsCallBudget } from '../credentials/stsCallBudget.ts';
import { startControlApi } from '../ec2api/startControlApi.ts';
import { loadIdentitySigner, type IdentitySigner } from '../identity/identitySigner.ts';
import { HOP_LIMIT_NOT_ENFORCED, type HopLimitControl } from '../imds/hopLimit.ts';
import { createImdsFront } from '../imds/imdsFront.ts';
import {
  closeListener,
  listen,
  LISTENER_LIMITS,
  type BoundListener,
  type ListenerLimits,
} from '../imds/imdsListener.ts';
import { instanceMetadataTree } from '../imds/instanceMetadataTree.ts';
import { buildInstances } from '../instances/buildInstances.ts';
import { InstanceDirectory } from '../instances/instanceDirectory.ts';
import type { Logger } from '../log.ts';
import { formatListenAddress, parseListenAddress, type ListenAddress } from '../net/address.ts';
import { defaultStatePath, openStateStore, type StateStore } from '../store/stateStore.ts';
import { loadTokenKeyRing } from '../tokens/tokenKeyRing.ts';
import { prefetchRoleCredentials } from './prefetchRoleCredentials.ts';

export interface StartOptions {
  config: Config;
  configFile?: string;
  logger: Logger;
  hopLimit?: HopLimitControl;
  /** Time for every part of imdsd, and randomness of the credential cache; tests inject their own. */
  clock?: Clock;
  random?: () => number;
  /** Where static roles' `*Env` keys are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Tighter listener bounds, for tests that should not wait the default deadlines out. */
  listenerLimits?: Partial<ListenerLimits>;
}

/** A running `imdsd serve`: what it listens on and how to stop it. */
export interface RunningImdsd {
  imdsAddresses: ListenAddress[];
  /** The control API (EC2 Query protocol) listener. */
  apiAddress: ListenAddress;
  instances: InstanceDirectory;
  store: StateStore;
  signer: IdentitySigner;
  minter: CredentialMinter;
  /** True once every instance role's credentials have been fetched (for a health endpoint). */
  isReady(): boolean;
  close(): Promise<void>;
}

export async function startImdsd(options: StartOptions): Promise<RunningImdsd> {
  const { config, logger } = options;
  const store = openStateStore(config.state ?? defaultStatePath());
  const listeners: BoundListener[] = [];
  let api: BoundListener | undefined;
  let identityKeyTimer: NodeJS.Timeout | undefined;
  const closeListeners = (): Promise<unknown> =>
    Promise.all([...listeners, ...(api ? [api] : [])].map(closeListener));
  const clock = options.clock ?? systemClock;
  const cache = new CredentialCache({
    logger,
    clock,
    ...(options.random === undefined ? {} : { random: options.random }),
  });

  try {
    const minter = createCredentialMinter(
      store.remembered('credential-minting-key', () => randomBytes(32)),
    );
    const signer = loadIdentitySigner(store);
    const instances = new InstanceDirectory(buildInstances(config, store, options.configFile));
    const roleSources = createRoleSources(config.roles, minter, {
      cache,
      stsBudget: createStsCallBudget(stsBudgetSettings(config), clock),
      ...(options.env === undefined ? {} : { env: options.env }),
    });

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
      now: () => clock.now(),
    });

    const limits = { ...LISTENER_LIMITS, ...options.listenerLimits };
    for (const text of config.listen) {
      const address = parseListenAddress(text) as ListenAddress;
      listeners.push(await listen(address, front(address), limits));
    }
    api = await startControlApi({
      config,
      instances,
      store,
      minter,
      logger,
      now: () => clock.now(),
    });

    logStarted(logger, config, instances, listeners, hopLimit, store);
    // The identity key, if this state has none yet, is generated on the thread pool once the
    // first callers are served: SDKs that start with their host ask for credentials at once,
    // and on one CPU the generation made them wait for it. A signature asked for sooner starts
    // it then.
    identityKeyTimer = setTimeout(() => void signer.prepare(), IDENTITY_KEY_DELAY_MS).unref();
    const waitMs = config.credentials.startupWaitSeconds * 1000;
    const readiness = await prefetchRoleCredentials(roleSources, instances, waitMs, clock, logger);

    return {
      imdsAddresses: listeners.map((listener) => listener.address),
      apiAddress: api.address,
      instances,
      store,
      signer,
      minter,
      isReady: readiness.isReady,
      async close() {
        clearTimeout(identityKeyTimer);
        cache.close();
        await closeListeners();
        store.close();
      },
    };
  } catch (error) {
    clearTimeout(identityKeyTimer);
    cache.close();
    await closeListeners();
    store.close();
    throw error;
  }
}

/** How long after start the identity key, if missing, begins to be generated. */
const IDENTITY_KEY_DELAY_MS = 1_000;

/** A call that would wait longer than this for the STS budget is refused at once (the cache retries). */
const STS_BUDGET_MAX_WAIT_MS = 30_000;

function stsBudgetSettings(config: Config): {
  callsPerSecond: number;
  burst: number;
  maxWaitMs: number;
} {
  const { stsCallsPerSecond, stsBurst } = config.credentials;
  return { callsPerSecond: stsCallsPerSecond, burst: stsBurst, maxWaitMs: STS_BUDGET_MAX_WAIT_MS };
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
    logger.warn(
      { code: 'HOP_LIMIT_UNAVAILABLE', reason: hopLimit.reason },
      'hop limits are not enforced: token responses reach callers at any distance',
    );
  }
  logger.debug({ file: store.path, roles: Object.keys(config.roles) }, 'state store open');
}
