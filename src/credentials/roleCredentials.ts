/**
 * Role credentials as imdsd hands them out, whatever their source (minted, static, STS).
 */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  lastUpdated: Date;
}

/**
 * How the caller asked: without a token (IMDSv1) or with one (IMDSv2). With `httpTokens:
 * optional` EC2 hands the two kinds of caller distinct credential sets (`ec2:RoleDelivery`
 * 1.0 and 2.0; reference §3), so every source keys its credentials by delivery too.
 */
export type Delivery = 'imdsv1' | 'imdsv2';

export interface CredentialRequest {
  instanceId: string;
  accountId: string;
  region: string;
  roleName: string;
  delivery: Delivery;
}

/**
 * Where a role's credentials come from. A source throws an ImdsdError with code
 * CREDENTIALS_UNAVAILABLE (and the upstream's code, when there was one) when it has none.
 */
export interface CredentialSource {
  readonly kind: string;
  credentials(request: CredentialRequest): Promise<RoleCredentials>;
}

/** `2024-05-01T09:15:02Z`: UTC, whole seconds, the form every IMDS capture shows. */
export function formatImdsTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
