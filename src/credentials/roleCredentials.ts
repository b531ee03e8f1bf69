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
 * `key(request)`, remembered per frozen request object: the IMDS tree asks with the same
 * frozen requests every time, and a key string built anew is one more string to join, flatten
 * and hash on every credentials request. A request that is not frozen could change after its
 * key was remembered, and then be answered with another role's set: its key is built each time.
 */
export function memoizedRequestKey(
  key: (request: CredentialRequest) => string,
): (request: CredentialRequest) => string {
  const keys = new WeakMap<CredentialRequest, string>();
  return (request) => {
    if (!Object.isFrozen(request)) return key(request);

    let known = keys.get(request);
    if (known === undefined) {
      known = key(request);
      keys.set(request, known);
    }
    return known;
  };
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
