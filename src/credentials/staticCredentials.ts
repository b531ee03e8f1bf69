import type { StaticRoleConfig } from '../config/schema.ts';
import { ImdsdError } from '../errors.ts';
import { formatImdsTime, type CredentialSource, type RoleCredentials } from './roleCredentials.ts';

/**
 * Static keys carry no lifetime, but every IMDS credentials document has an `Expiration`
 * (reference §7.1) and SDKs schedule their refresh from it. Without a configured expiration
 * imdsd serves a rolling one, like EC2's own rotation (§7.6): `LastUpdated` is the start of
 * the current hour and `Expiration` six hours after it, so what a caller sees always has five
 * to six hours left, far outside every SDK's refresh window (§7.7), and SDKs come back now and
 * then, when a changed key would be picked up after a restart of imdsd.
 */
const ROLLING_STEP_MS = 3_600_000;
const ROLLING_LIFETIME_MS = 6 * ROLLING_STEP_MS;

export interface StaticKeys {
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * Empty for long-term (AKIA) keys. The document's `Token` is then `""`: botocore, JS v3 and
   * Go v2 require the field but send no X-Amz-Security-Token header when it is empty.
   */
  sessionToken: string;
  expiration: Date | undefined;
}

/** Reads the keys from the config or the variables it names; a missing one fails startup. */
export function resolveStaticKeys(
  roleName: string,
  role: StaticRoleConfig,
  env: NodeJS.ProcessEnv,
): StaticKeys {
  const pick = (
    key: string,
    value: string | undefined,
    envName: string | undefined,
  ): string | undefined => {
    if (envName === undefined) return value;
    const fromEnv = env[envName];
    if (fromEnv === undefined || fromEnv === '') {
      throw new ImdsdError(
        'CONFIG_INVALID',
        `roles.${roleName}.${key}Env: environment variable ${envName} is not set`,
      );
    }
    return fromEnv;
  };

  const accessKeyId = pick('accessKeyId', role.accessKeyId, role.accessKeyIdEnv);
  const secretAccessKey = pick('secretAccessKey', role.secretAccessKey, role.secretAccessKeyEnv);
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new ImdsdError(
      'CONFIG_INVALID',
      `roles.${roleName}: accessKeyId and secretAccessKey are required`,
    );
  }

  return {
    accessKeyId,
    secretAccessKey,
    sessionToken: pick('sessionToken', role.sessionToken, role.sessionTokenEnv) ?? '',
    expiration: role.expiration === undefined ? undefined : new Date(role.expiration),
  };
}

/** The `static` credential source: the same keys for every instance and delivery. */
export function staticCredentialSource(
  roleName: string,
  keys: StaticKeys,
  now: () => number = Date.now,
): CredentialSource {
  const startedAt = new Date(now());

  return {
    kind: 'static',
    async credentials(): Promise<RoleCredentials> {
      const nowMs = now();
      const { accessKeyId, secretAccessKey, sessionToken } = keys;

      if (keys.expiration === undefined) {
        const lastUpdatedMs = Math.floor(nowMs / ROLLING_STEP_MS) * ROLLING_STEP_MS;
        const expiration = new Date(lastUpdatedMs + ROLLING_LIFETIME_MS);
        return {
          accessKeyId,
          secretAccessKey,
          sessionToken,
          expiration,
          lastUpdated: new Date(lastUpdatedMs),
        };
      }

      if (keys.expiration.getTime() <= nowMs) {
        throw new ImdsdError(
          'CREDENTIALS_UNAVAILABLE',
          `the static credentials of role ${roleName} expired at ${formatImdsTime(keys.expiration)}`,
          { upstreamCode: 'ExpiredToken' },
        );
      }
      return {
        accessKeyId,
        secretAccessKey,
        sessionToken,
        expiration: keys.expiration,
        lastUpdated: startedAt,
      };
    },
  };
}
