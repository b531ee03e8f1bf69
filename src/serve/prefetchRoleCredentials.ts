import type { Clock } from '../clock.ts';
import type { CredentialRequest } from '../credentials/roleCredentials.ts';
import type { RoleSources } from '../credentials/roleSources.ts';
import type { InstanceDirectory } from '../instances/instanceDirectory.ts';
import type { Logger } from '../log.ts';

export interface Readiness {
  /** True once every instance role's credentials have been in memory; it stays true. */
  isReady(): boolean;
}

/**
 * Fetches the credentials of every instance's role before the first caller asks: SDKs give
 * IMDS one second and one attempt (reference §4.2), and an STS call on the request path can
 * take most of that. Waits up to `waitMs` for them, then serves anyway (callers get EC2's
 * failure answer meanwhile) while the cache keeps retrying; logs `ready` when all are in.
 */
export async function prefetchRoleCredentials(
  roleSources: RoleSources,
  instances: InstanceDirectory,
  waitMs: number,
  clock: Clock,
  logger: Logger,
): Promise<Readiness> {
  const requests = rolesInUse(instances);
  const startedMs = clock.now();
  let ready = false;

  const warm = roleSources.prefetch(requests).then(() => {
    ready = true;
    logger.info({ count: requests.length, durationMs: clock.now() - startedMs }, 'ready');
  });

  await Promise.race([warm, waitMs > 0 ? delay(clock, waitMs) : nextTurn()]);
  if (!ready) {
    logger.warn(
      { count: requests.length, durationMs: clock.now() - startedMs },
      'serving before every instance role has credentials; retrying in the background',
    );
  }
  return { isReady: () => ready };
}

/**
 * The credential requests the instances will make: IMDSv2 for every role, and IMDSv1 too where
 * the instance accepts it (httpTokens optional), since the two deliveries are distinct sets.
 */
export function rolesInUse(instances: InstanceDirectory): CredentialRequest[] {
  return instances.all.flatMap((instance) => {
    const identity = instance.identity;
    if (identity.iamRole === undefined) return [];

    const base = {
      instanceId: identity.instanceId,
      accountId: identity.accountId,
      region: identity.region,
      roleName: identity.iamRole.roleName,
    };
    const v2: CredentialRequest = { ...base, delivery: 'imdsv2' };
    return instance.metadataOptions.httpTokens === 'optional'
      ? [v2, { ...base, delivery: 'imdsv1' }]
      : [v2];
  });
}

function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}

/** Lets credentials that need no upstream call (none cached) land before readiness is judged. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
