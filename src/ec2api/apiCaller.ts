import type { ApiCredentialConfig, RoleConfig } from '../config/schema.ts';
import type { CredentialMinter, MintedCredentialClaims } from '../credentials/mintedCredentials.ts';
import type { InstanceDirectory } from '../instances/instanceDirectory.ts';
import type { PolicyDocument } from './policy/policyDocument.ts';
import type { SigningSecret } from './sigv4/verifySignature.ts';

/**
 * Who signed a control API request. Two kinds of key are accepted:
 * - administrator keys from the config (`api.credentials`, or the IMDSD_API_* environment),
 *   which may do everything;
 * - the role credentials imdsd itself delivered to an instance, which may do what their
 *   role's policy allows. They are verified by re-deriving them from the session token
 *   (mintedCredentials.ts), so no table of issued keys exists.
 */
export type ApiCaller = AdministratorCaller | RoleCaller;

export interface AdministratorCaller {
  kind: 'administrator';
  accessKeyId: string;
  /** How logs and messages name the caller. */
  principal: string;
}

export interface RoleCaller {
  kind: 'role';
  accessKeyId: string;
  principal: string;
  roleName: string;
  policy: PolicyDocument | undefined;
  claims: MintedCredentialClaims;
  /** The ARN of the instance the credentials were delivered to (`ec2:SourceInstanceARN`). */
  sourceInstanceArn: string;
}

/** A caller with the secret key its requests must be signed with. */
export interface CallerKey extends SigningSecret {
  caller: ApiCaller;
}

export interface CallerKeysOptions {
  administrators: readonly ApiCredentialConfig[];
  minter: CredentialMinter;
  roles: Readonly<Record<string, RoleConfig>>;
  instances: InstanceDirectory;
}

/** Finds the caller and secret key behind an access key id (and session token), if imdsd accepts it. */
export type FindCaller = (
  accessKeyId: string,
  sessionToken: string | undefined,
  nowMs: number,
) => CallerKey | undefined;

export function createCallerKeys(options: CallerKeysOptions): FindCaller {
  const administrators = new Map(
    options.administrators.map((key) => [key.accessKeyId, key.secretAccessKey]),
  );

  return (accessKeyId, sessionToken, nowMs) => {
    const administratorSecret = administrators.get(accessKeyId);
    if (administratorSecret !== undefined) {
      // Administrator keys are long-term keys: a session token would mean someone else's key.
      if (sessionToken !== undefined) return undefined;
      const caller: AdministratorCaller = {
        kind: 'administrator',
        accessKeyId,
        principal: `imdsd-administrator/${accessKeyId}`,
      };
      return { caller, secretAccessKey: administratorSecret };
    }

    return sessionToken === undefined
      ? undefined
      : roleCaller(options, accessKeyId, sessionToken, nowMs);
  };
}

function roleCaller(
  options: CallerKeysOptions,
  accessKeyId: string,
  sessionToken: string,
  nowMs: number,
): CallerKey | undefined {
  const resolved = options.minter.resolve(accessKeyId, sessionToken, nowMs);
  if (resolved === undefined) return undefined;

  // The identity role (`ec2-instance`), roles removed from the config since, and roles that no
  // longer mint their credentials are no callers: their policy is a key of minted roles only.
  const { claims } = resolved;
  const role = options.roles[claims.roleName];
  if (role === undefined || role.source !== 'minted') return undefined;

  const instance = options.instances.byId(claims.instanceId);
  const partition = instance?.identity.partition ?? 'aws';
  const region = instance?.identity.region ?? '';
  const caller: RoleCaller = {
    kind: 'role',
    accessKeyId,
    principal: `arn:${partition}:sts::${claims.accountId}:assumed-role/${claims.roleName}/${claims.instanceId}`,
    roleName: claims.roleName,
    policy: role.policy,
    claims,
    sourceInstanceArn: `arn:${partition}:ec2:${region}:${claims.accountId}:instance/${claims.instanceId}`,
  };
  return { caller, secretAccessKey: resolved.secretAccessKey };
}
