import { Ec2ApiError } from '../ec2ApiError.ts';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** The parts of `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export interface SigV4Authorization {
  accessKeyId: string;
  scope: CredentialScope;
  /** Lower-case header names, in the order the client listed them. */
  signedHeaders: string[];
  /** 64 lower-case hex digits. */
  signature: string;
}

/** `AKID/20150830/us-east-1/ec2/aws4_request`, after the key id. */
export interface CredentialScope {
  date: string;
  region: string;
  service: string;
  terminator: string;
}

/**
 * Parses the Authorization header of a SigV4 request (AWS General Reference, "Elements of an
 * AWS API request signature"). Anything that is not that form is IncompleteSignature, as AWS
 * answers; whether the parts are right (scope, key, signature) is decided later.
 */
export function parseAuthorizationHeader(header: string): SigV4Authorization {
  const space = header.indexOf(' ');
  const algorithm = space === -1 ? header : header.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) {
    throw incomplete(
      `Authorization header must use ${SIGV4_ALGORITHM}, not "${algorithm.slice(0, 32)}"`,
    );
  }

  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== undefined && value.length > 0) fields.set(name, value.join('='));
  }

  const credential = required(fields, 'Credential');
  const signedHeaders = required(fields, 'SignedHeaders');
  const signature = required(fields, 'Signature');
  return {
    ...parseCredential(credential),
    signedHeaders: parseSignedHeaders(signedHeaders),
    signature: parseSignature(signature),
  };
}

function parseCredential(credential: string): Pick<SigV4Authorization, 'accessKeyId' | 'scope'> {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || !accessKeyId || !date || !region || !service || !terminator) {
    throw incomplete(
      'Authorization Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request',
    );
  }
  return { accessKeyId, scope: { date, region, service, terminator } };
}

function parseSignedHeaders(text: string): string[] {
  const names = text.split(';');
  if (names.some((name) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name))) {
    throw incomplete(
      'Authorization SignedHeaders must be lower-case header names separated by ";"',
    );
  }
  return names;
}

function parseSignature(text: string): string {
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw incomplete('Authorization Signature must be 64 lower-case hex digits');
  }
  return text;
}

function required(fields: ReadonlyMap<string, string>, name: string): string {
  const value = fields.get(name);
  if (value === undefined || value === '') {
    throw incomplete(`Authorization header is missing ${name}=`);
  }
  return value;
}

function incomplete(message: string): Ec2ApiError {
  return new Ec2ApiError('IncompleteSignature', message);
}
