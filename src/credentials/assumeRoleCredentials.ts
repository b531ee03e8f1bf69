import type { AssumeRoleCommandInput, AssumeRoleCommandOutput } from '@aws-sdk/client-sts';
import type { AssumeRoleConfig } from '../config/schema.ts';
import { ImdsdError } from '../errors.ts';
import type { CredentialRequest, CredentialSource, RoleCredentials } from './roleCredentials.ts';
import type { StsCallBudget } from './stsCallBudget.ts';

/** The keys that sign the AssumeRole call. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Where a role's signing credentials come from: the SDK's chain, or another role. */
export type SigningCredentialsSource = (request: CredentialRequest) => Promise<SigningCredentials>;

/**
 * Upstream codes for failures STS itself did not name. When STS answers, its own code is kept
 * (AccessDenied, ExpiredToken, RegionDisabledException, Throttling ...): it says what to fix,
 * where EC2's blanket `AssumeRoleUnauthorizedAccess` (reference §7.1) would not.
 */
export const NO_SIGNING_CREDENTIALS_CODE = 'SourceCredentialsUnavailable';
export const STS_UNREACHABLE_CODE = 'StsUnreachable';
export const INVALID_STS_RESPONSE_CODE = 'InvalidStsResponse';

/**
 * One AssumeRole call may take this long, connection included. The SDK's own retries are off
 * (maxAttempts 1): the cache retries with backoff and every call is counted by the budget.
 */
const STS_CALL_TIMEOUT_MS = 5_000;
const STS_MESSAGE_MAX_CHARS = 300;

/**
 * The SDK is loaded on first use: it adds about 170 ms to startup, which configs without an
 * assume-role role (minted and static only) should not pay.
 */
type StsModule = typeof import('@aws-sdk/client-sts');
let stsModule: Promise<StsModule> | undefined;
const loadSts = (): Promise<StsModule> => (stsModule ??= import('@aws-sdk/client-sts'));

export interface AssumeRoleSourceOptions {
  /** The role's key under `roles`, used in messages. */
  roleName: string;
  role: AssumeRoleConfig;
  signingCredentials: SigningCredentialsSource;
  budget: StsCallBudget;
  now?: () => number;
  stsCallTimeoutMs?: number;
}

/**
 * The `assume-role` credential source: STS AssumeRole for each instance and delivery. The
 * session is named after the instance id unless the config names it, as EC2 names the sessions
 * of instance roles (`assumed-role/ROLE/i-0123...`). IMDSv1 and IMDSv2 callers are two
 * sessions, as their credential sets are distinct on EC2 (reference §3).
 */
export function assumeRoleCredentialSource(options: AssumeRoleSourceOptions): CredentialSource {
  const now = options.now ?? Date.now;
  const timeoutMs = options.stsCallTimeoutMs ?? STS_CALL_TIMEOUT_MS;
  const { roleName, role } = options;

  return {
    kind: 'assume-role',
    async credentials(request) {
      const signing = await signingCredentialsFor(options, request);
      await options.budget.take();

      const { STSClient, AssumeRoleCommand } = await loadSts();
      const client = new STSClient({
        region: role.stsRegion ?? request.region,
        ...(role.stsEndpoint === undefined ? {} : { endpoint: role.stsEndpoint }),
        credentials: signing,
        maxAttempts: 1,
      });
      try {
        const output = await client.send(new AssumeRoleCommand(assumeRoleInput(role, request)), {
          abortSignal: AbortSignal.timeout(timeoutMs),
        });
        return roleCredentialsFrom(output, roleName, now());
      } catch (error) {
        throw stsFailure(roleName, error, timeoutMs);
      } finally {
        client.destroy();
      }
    },
  };
}

/**
 * The SDK for JavaScript v3 default Node chain: environment, shared files (with `profile`),
 * SSO, credential_process, container and instance credentials.
 */
export function sdkChainCredentials(profile: string | undefined): SigningCredentialsSource {
  let provider: Promise<() => Promise<SigningCredentials>> | undefined;
  const chain = async (): Promise<() => Promise<SigningCredentials>> => {
    const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
    return fromNodeProviderChain(profile === undefined ? {} : { profile });
  };
  return async () => (await (provider ??= chain()))();
}

async function signingCredentialsFor(
  options: AssumeRoleSourceOptions,
  request: CredentialRequest,
): Promise<SigningCredentials> {
  try {
    return await options.signingCredentials(request);
  } catch (error) {
    const { roleName, role } = options;
    if (error instanceof ImdsdError) {
      const source = role.sourceRole ?? '?';
      const message = `the source role ${source} of role ${roleName} has no credentials: ${error.message}`;
      throw new ImdsdError(
        'CREDENTIALS_UNAVAILABLE',
        message,
        optionsOf(error.upstreamCode, error),
      );
    }

    const from =
      role.profile === undefined ? 'the AWS SDK credential chain' : `profile ${role.profile}`;
    const reason = error instanceof Error ? `: ${error.message}` : '';
    const message = `imdsd has no credentials from ${from} to assume the role ${roleName}${reason}`;
    throw new ImdsdError('CREDENTIALS_UNAVAILABLE', message, {
      upstreamCode: NO_SIGNING_CREDENTIALS_CODE,
      cause: error,
    });
  }
}

export function assumeRoleInput(
  role: AssumeRoleConfig,
  request: CredentialRequest,
): AssumeRoleCommandInput {
  const policy =
    typeof role.sessionPolicy === 'object'
      ? JSON.stringify(role.sessionPolicy)
      : role.sessionPolicy;
  const policyArns = role.sessionPolicyArns?.map((arn) => ({ arn }));
  const tags = role.sessionTags === undefined ? undefined : Object.entries(role.sessionTags);

  return {
    RoleArn: role.roleArn,
    RoleSessionName: role.roleSessionName ?? request.instanceId,
    DurationSeconds: role.durationSeconds,
    ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
    ...(policy === undefined ? {} : { Policy: policy }),
    ...(policyArns === undefined ? {} : { PolicyArns: policyArns }),
    ...(tags === undefined ? {} : { Tags: tags.map(([Key, Value]) => ({ Key, Value })) }),
    ...(role.sourceIdentity === undefined ? {} : { SourceIdentity: role.sourceIdentity }),
  };
}

/** Checks STS's answer at the boundary and maps it to imdsd's names. */
export function roleCredentialsFrom(
  output: AssumeRoleCommandOutput,
  roleName: string,
  nowMs: number,
): RoleCredentials {
  const credentials = output.Credentials;
  const expiration = credentials?.Expiration;
  if (
    credentials === undefined ||
    !nonEmpty(credentials.AccessKeyId) ||
    !nonEmpty(credentials.SecretAccessKey) ||
    !nonEmpty(credentials.SessionToken) ||
    !(expiration instanceof Date) ||
    Number.isNaN(expiration.getTime())
  ) {
    const message = `STS answered AssumeRole for role ${roleName} without complete credentials`;
    throw new ImdsdError('CREDENTIALS_UNAVAILABLE', message, {
      upstreamCode: INVALID_STS_RESPONSE_CODE,
    });
  }

  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    expiration,
    lastUpdated: new Date(nowMs),
  };
}

/**
 * An STS error answer keeps STS's code. The SDK names modeled errors after their shape
 * (`ExpiredTokenException`) but keeps the wire code in `Code` for the Query protocol.
 */
export function stsFailure(roleName: string, error: unknown, timeoutMs: number): ImdsdError {
  if (error instanceof ImdsdError) return error;

  const serviceCode = stsErrorCode(error);
  if (serviceCode !== undefined) {
    const stsMessage = error instanceof Error ? error.message.slice(0, STS_MESSAGE_MAX_CHARS) : '';
    const detail = stsMessage === '' ? '' : `: ${stsMessage}`;
    const message = `imdsd cannot assume the role ${roleName}: STS answered ${serviceCode}${detail}`;
    return new ImdsdError('CREDENTIALS_UNAVAILABLE', message, {
      upstreamCode: serviceCode,
      cause: error,
    });
  }

  return new ImdsdError(
    'CREDENTIALS_UNAVAILABLE',
    `imdsd cannot reach STS to assume the role ${roleName} (${networkReason(error, timeoutMs)})`,
    { upstreamCode: STS_UNREACHABLE_CODE, cause: error },
  );
}

function stsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('$fault' in error)) return undefined;
  const fields = error as { Code?: unknown; name?: unknown };
  if (typeof fields.Code === 'string' && fields.Code !== '') return fields.Code;
  return typeof fields.name === 'string' && fields.name !== '' ? fields.name : undefined;
}

/** The SDK names a reset connection `TimeoutError` too, so the socket's code comes first. */
function networkReason(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  return error instanceof Error ? error.name : 'unknown error';
}

function nonEmpty(value: string | undefined): value is string {
  return typeof value === 'string' && value !== '';
}

function optionsOf(
  upstreamCode: string | undefined,
  cause: unknown,
): { upstreamCode?: string; cause: unknown } {
  return upstreamCode === undefined ? { cause } : { upstreamCode, cause };
}
