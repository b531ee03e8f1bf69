import type { RoleConfig } from '../config/schema.ts';
import { ImdsdError } from '../errors.ts';
import { mintedCredentialSource, type CredentialMinter } from './mintedCredentials.ts';
import type { CredentialRequest, CredentialSource, RoleCredentials } from './roleCredentials.ts';

/** The instance identity role's credentials last as long as EC2's role credentials (6 h). */
const IDENTITY_CREDENTIALS_SECONDS = 21_600;

export interface RoleSources {
  roleCredentials(request: CredentialRequest): Promise<RoleCredentials>;
  identityCredentials(request: CredentialRequest): Promise<RoleCredentials>;
}

/** One credential source per configured role, chosen by the role's `source`. */
export function createRoleSources(roles: Readonly<Record<string, RoleConfig>>, minter: CredentialMinter): RoleSources {
  const sources = new Map<string, CredentialSource>();
  for (const [roleName, role] of Object.entries(roles)) {
    sources.set(roleName, sourceFor(role, minter));
  }

  const identity = mintedCredentialSource(minter, { durationSeconds: IDENTITY_CREDENTIALS_SECONDS });

  return {
    roleCredentials(request) {
      const source = sources.get(request.roleName);
      if (source === undefined) {
        return Promise.reject(
          new ImdsdError('CREDENTIALS_UNAVAILABLE', `no source is configured for role ${request.roleName}`),
        );
      }
      return source.credentials(request);
    },
    identityCredentials: (request) => identity.credentials(request),
  };
}

function sourceFor(role: RoleConfig, minter: CredentialMinter): CredentialSource {
  switch (role.source) {
    case 'minted':
      return mintedCredentialSource(minter, { durationSeconds: role.durationSeconds });
  }
}
