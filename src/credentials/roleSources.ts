import type { AssumeRoleConfig, RoleConfig } from '../config/schema.ts';
import { ImdsdError } from '../errors.ts';
import {
  assumeRoleCredentialSource,
  sdkChainCredentials,
  type SigningCredentials,
  type SigningCredentialsSource,
} from './assumeRoleCredentials.ts';
import type { CredentialCache } from './credentialCache.ts';
import { mintedCredentialSource, type CredentialMinter } from './mintedCredentials.ts';
import type { CredentialRequest, CredentialSource, RoleCredentials } from './roleCredentials.ts';
import { resolveStaticKeys, staticCredentialSource } from './staticCredentials.ts';
import type { StsCallBudget } from './stsCallBudget.ts';

/** The instance identity role's credentials last as long as EC2's role credentials (6 h). */
const IDENTITY_CREDENTIALS_SECONDS = 21_600;

export interface RoleSources {
  roleCredentials(request: CredentialRequest): Promise<RoleCredentials>;
  identityCredentials(request: CredentialRequest): Promise<RoleCredentials>;
  /**
   * Fetches the credentials of requests known to come (the instances' roles) and keeps them
   * warm. Resolves once all of them are in memory, however long that takes; never rejects.
   */
  prefetch(requests: readonly CredentialRequest[]): Promise<void>;
}

export interface RoleSourcesOptions {
  cache: CredentialCache;
  stsBudget: StsCallBudget;
  /** Where `*Env` keys of static roles are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

/**
 * One credential source per configured role, chosen by the role's `source`. Static and STS
 * credentials go through the cache. Minted credentials bypass it: they are derived from the
 * minting key in microseconds and already rotate with two thirds of their lifetime left.
 * Throws CONFIG_INVALID at startup when a static role names a variable that is not set.
 */
export function createRoleSources(
  roles: Readonly<Record<string, RoleConfig>>,
  minter: CredentialMinter,
  options: RoleSourcesOptions,
): RoleSources {
  const sources = new Map<string, CredentialSource>();
  const sdkChains = new Map<string, SigningCredentialsSource>();

  const roleCredentials = (request: CredentialRequest): Promise<RoleCredentials> => {
    const source = sources.get(request.roleName);
    if (source === undefined) {
      const message = `no source is configured for role ${request.roleName}`;
      return Promise.reject(new ImdsdError('CREDENTIALS_UNAVAILABLE', message));
    }
    return isCached(source)
      ? options.cache.credentials(request, source)
      : source.credentials(request);
  };

  const signingCredentialsOf = (role: AssumeRoleConfig): SigningCredentialsSource => {
    const sourceRole = role.sourceRole;
    if (sourceRole !== undefined) {
      return (request) =>
        roleCredentials({ ...request, roleName: sourceRole }).then(signingCredentials);
    }
    // One SDK chain per profile: the chain caches and refreshes its own credentials.
    const chainKey = role.profile ?? '';
    let chain = sdkChains.get(chainKey);
    if (chain === undefined) {
      chain = sdkChainCredentials(role.profile);
      sdkChains.set(chainKey, chain);
    }
    return chain;
  };

  for (const [roleName, role] of Object.entries(roles)) {
    sources.set(roleName, sourceFor(roleName, role));
  }

  function sourceFor(roleName: string, role: RoleConfig): CredentialSource {
    switch (role.source) {
      case 'minted':
        return mintedCredentialSource(minter, { durationSeconds: role.durationSeconds });
      case 'static': {
        const keys = resolveStaticKeys(roleName, role, options.env ?? process.env);
        return staticCredentialSource(roleName, keys, options.now);
      }
      case 'assume-role':
        return assumeRoleCredentialSource({
          roleName,
          role,
          signingCredentials: signingCredentialsOf(role),
          budget: options.stsBudget,
          ...(options.now === undefined ? {} : { now: options.now }),
        });
    }
  }

  const identity = mintedCredentialSource(minter, {
    durationSeconds: IDENTITY_CREDENTIALS_SECONDS,
  });

  return {
    roleCredentials,
    identityCredentials: (request) => identity.credentials(request),
    async prefetch(requests) {
      const warming = requests.flatMap((request) => {
        const source = sources.get(request.roleName);
        return source !== undefined && isCached(source)
          ? [options.cache.prefetch(request, source)]
          : [];
      });
      await Promise.all(warming);
    },
  };
}

function isCached(source: CredentialSource): boolean {
  return source.kind !== 'minted';
}

function signingCredentials(credentials: RoleCredentials): SigningCredentials {
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = credentials;
  // Static long-term keys have no session token; an empty one must not be sent.
  if (sessionToken === '') return { accessKeyId, secretAccessKey, expiration };
  return { accessKeyId, secretAccessKey, sessionToken, expiration };
}
