import { createHash, timingSafeEqual } from 'node:crypto';
import type { SignatureV4 as SignatureV4Class } from '@smithy/signature-v4';
import { Ec2ApiError } from '../ec2ApiError.ts';
import { parseAuthorizationHeader, type SigV4Authorization } from './authorizationHeader.ts';
import { NodeSha256 } from './nodeSha256.ts';

// The SDK's signer is loaded on the first signed request rather than at start-up, where it
// cost tens of milliseconds before the first credentials could be served.
let signatureV4: Promise<typeof SignatureV4Class> | undefined;
const loadSignatureV4 = (): Promise<typeof SignatureV4Class> =>
  (signatureV4 ??= import('@smithy/signature-v4').then((module) => module.SignatureV4));

/**
 * AWS Signature Version 4 verification: the server recomputes the signature the way the
 * client computed it, over exactly the headers the client says it signed, and compares. The
 * recomputation is the SDK's own signer (`@smithy/signature-v4`), so imdsd and the clients
 * agree on every canonicalisation rule (AWS General Reference, "Create a signed AWS API
 * request"; the SigV4 test suite pins it, see verifySignature.test.ts).
 *
 * Not accepted: presigned (query-string) signatures, the `Date` header in place of
 * `X-Amz-Date`, unsigned payloads. AWS SDKs and the AWS CLI send none of these to EC2.
 */

/** AWS refuses a request whose date is more than 15 minutes off ("RequestExpired"). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const AMZ_DATE = 'x-amz-date';
const CONTENT_SHA256 = 'x-amz-content-sha256';
const SECURITY_TOKEN = 'x-amz-security-token';

export interface SignedHttpRequest {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  /** Query parameters, decoded; a repeated name as a list. */
  query: Record<string, string | string[]>;
  /** Header values by lower-case name, each occurrence separately (node's `headersDistinct`). */
  headers: Readonly<Record<string, string[] | undefined>>;
  body: Buffer;
}

/** What a key lookup returns: at least the secret key; the caller's identity rides along. */
export interface SigningSecret {
  secretAccessKey: string;
}

export interface VerifyOptions<T extends SigningSecret> {
  /** The service the credential scope must name (`ec2`); any region is accepted. */
  service: string;
  nowMs: number;
  maxSkewMs?: number;
  /** The secret behind an access key id and session token, or undefined when imdsd accepts no such key. */
  findSecret(accessKeyId: string, sessionToken: string | undefined): T | undefined;
}

export interface VerifiedRequest<T> {
  key: T;
  accessKeyId: string;
  region: string;
  sessionToken: string | undefined;
}

export async function verifySignature<T extends SigningSecret>(
  request: SignedHttpRequest,
  options: VerifyOptions<T>,
): Promise<VerifiedRequest<T>> {
  const header = single(request.headers, 'authorization');
  if (header === undefined) {
    if (request.query['X-Amz-Algorithm'] !== undefined) {
      throw new Ec2ApiError(
        'AuthFailure',
        'imdsd accepts SigV4 in the Authorization header only, not presigned URLs',
      );
    }
    throw new Ec2ApiError(
      'MissingAuthenticationToken',
      'The request must be signed with AWS Signature Version 4',
    );
  }

  const authorization = parseAuthorizationHeader(header);
  requireSignedHeaders(request, authorization);
  const signingDate = checkDate(request, authorization, options);
  checkScope(authorization, options.service);
  checkPayloadHash(request);

  const sessionToken = single(request.headers, SECURITY_TOKEN);
  const key = options.findSecret(authorization.accessKeyId, sessionToken);
  if (key === undefined) {
    throw authFailure(
      'the access key id, or its session token, is not one imdsd issued or was given',
    );
  }

  const expected = await recomputeSignature(
    request,
    authorization,
    signingDate,
    key.secretAccessKey,
    sessionToken,
  );
  if (!sameSignature(expected, authorization)) {
    throw authFailure('the signature does not match the request');
  }

  return {
    key,
    accessKeyId: authorization.accessKeyId,
    region: authorization.scope.region,
    sessionToken,
  };
}

function requireSignedHeaders(request: SignedHttpRequest, authorization: SigV4Authorization): void {
  for (const name of ['host', AMZ_DATE]) {
    if (!authorization.signedHeaders.includes(name)) {
      throw new Ec2ApiError('IncompleteSignature', `SignedHeaders must include ${name}`);
    }
  }
  for (const name of authorization.signedHeaders) {
    if (request.headers[name] === undefined) {
      throw new Ec2ApiError(
        'IncompleteSignature',
        `signed header ${name} is missing from the request`,
      );
    }
  }
}

/** X-Amz-Date is `YYYYMMDDTHHMMSSZ`; its day is the scope's day; it is within 15 minutes of now. */
function checkDate(
  request: SignedHttpRequest,
  authorization: SigV4Authorization,
  options: VerifyOptions<SigningSecret>,
): Date {
  const text = single(request.headers, AMZ_DATE) ?? '';
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) throw new Ec2ApiError('IncompleteSignature', 'X-Amz-Date must be YYYYMMDDTHHMMSSZ');

  const [, year, month, day, hours, minutes, seconds] = match.map(Number) as number[];
  const signingDate = new Date(Date.UTC(year!, month! - 1, day!, hours!, minutes!, seconds!));
  if (authorization.scope.date !== text.slice(0, 8)) {
    throw authFailure(
      `the credential scope date ${authorization.scope.date} is not the X-Amz-Date day`,
    );
  }

  const skewMs = Math.abs(options.nowMs - signingDate.getTime());
  if (skewMs > (options.maxSkewMs ?? MAX_CLOCK_SKEW_MS)) {
    const now = new Date(options.nowMs).toISOString();
    throw new Ec2ApiError(
      'RequestExpired',
      `Request has expired: signed at ${signingDate.toISOString()}, now ${now}`,
    );
  }
  return signingDate;
}

function checkScope(authorization: SigV4Authorization, service: string): void {
  const { scope } = authorization;
  if (scope.service !== service) {
    throw authFailure(`the credential should be scoped to service '${service}'`);
  }
  if (scope.terminator !== 'aws4_request') {
    throw authFailure("the credential scope must end in 'aws4_request'");
  }
  if (!/^[a-z0-9-]{1,32}$/.test(scope.region)) {
    throw authFailure('the credential scope region is not a region name');
  }
}

/**
 * The signer takes X-Amz-Content-SHA256 on trust as the payload hash, so a client that sends
 * it must send the true one: otherwise a signed hash would vouch for another body.
 */
function checkPayloadHash(request: SignedHttpRequest): void {
  const claimed = single(request.headers, CONTENT_SHA256);
  if (claimed === undefined) return;
  const actual = createHash('sha256').update(request.body).digest('hex');
  if (claimed !== actual) throw authFailure('X-Amz-Content-SHA256 does not match the body');
}

async function recomputeSignature(
  request: SignedHttpRequest,
  authorization: SigV4Authorization,
  signingDate: Date,
  secretAccessKey: string,
  sessionToken: string | undefined,
): Promise<SigV4Authorization> {
  const headers: Record<string, string> = {};
  for (const name of authorization.signedHeaders)
    headers[name] = (request.headers[name] ?? []).join(',');

  const { accessKeyId, scope } = authorization;
  const SignatureV4 = await loadSignatureV4();
  const signer = new SignatureV4({
    service: scope.service,
    region: scope.region,
    credentials:
      sessionToken === undefined
        ? { accessKeyId, secretAccessKey }
        : { accessKeyId, secretAccessKey, sessionToken },
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: 'imdsd',
      path: request.path,
      query: request.query,
      headers,
      body: request.body,
    },
    { signingDate, signableHeaders: new Set(authorization.signedHeaders) },
  );
  return parseAuthorizationHeader(String(signed.headers['authorization']));
}

/** Same signed header list and, in constant time, the same signature. */
function sameSignature(expected: SigV4Authorization, given: SigV4Authorization): boolean {
  const sameHeaders =
    expected.signedHeaders.join(';') === [...given.signedHeaders].sort().join(';');
  const signaturesMatch = timingSafeEqual(
    Buffer.from(expected.signature, 'hex'),
    Buffer.from(given.signature, 'hex'),
  );
  return sameHeaders && signaturesMatch;
}

function single(headers: SignedHttpRequest['headers'], name: string): string | undefined {
  const values = headers[name];
  return values === undefined ? undefined : values.join(',');
}

/** EC2's AuthFailure, with the reason appended so a user can fix the client. */
function authFailure(reason: string): Ec2ApiError {
  return new Ec2ApiError(
    'AuthFailure',
    `imdsd was not able to validate the provided access credentials: ${reason}`,
  );
}
