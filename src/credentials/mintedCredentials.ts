import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  memoizedRequestKey,
  type CredentialRequest,
  type CredentialSource,
  type Delivery,
  type RoleCredentials,
} from './roleCredentials.ts';

/**
 * Locally minted role credentials, for offline use and tests. They are derived, not stored:
 * the session token carries who the credentials are for and when they expire, under a MAC
 * with imdsd's minting key, and the access key id and secret key are derived from the token.
 * So the control API can verify a request signed with them without any table (resolve()).
 *
 * Rotation: a new set is derived every `rotationSeconds` (an hour, or a third of the lifetime
 * when that is shorter), and each set lives `durationSeconds`. Whatever moment a caller asks,
 * the set it gets has at least two thirds of its lifetime left, never less than ten minutes:
 * comfortably outside every SDK's refresh window (reference §7.6, §7.7), never expired.
 */

const TOKEN_VERSION = 1;
const MAC_BYTES = 32;
const ACCESS_KEY_ID_PREFIX = 'ASIA';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const MAX_ROTATION_SECONDS = 3600;

export interface MintedCredentialClaims {
  delivery: Delivery;
  issuedAtSeconds: number;
  expiresAtSeconds: number;
  instanceId: string;
  accountId: string;
  roleName: string;
}

export interface CredentialMinter {
  mint(claims: MintedCredentialClaims): RoleCredentials;
  /** The claims and secret key behind an access key id and session token imdsd minted, if valid now. */
  resolve(
    accessKeyId: string,
    sessionToken: string,
    nowMs: number,
  ): ResolvedMintedCredentials | undefined;
}

export interface ResolvedMintedCredentials {
  claims: MintedCredentialClaims;
  secretAccessKey: string;
}

export function createCredentialMinter(key: Buffer): CredentialMinter {
  const derive = (label: string, token: Buffer): Buffer =>
    createHmac('sha256', key).update(label).update(token).digest();

  const accessKeyIdFor = (token: Buffer): string =>
    ACCESS_KEY_ID_PREFIX + base32(derive('access-key-id', token)).slice(0, 16);
  const secretFor = (token: Buffer): string =>
    derive('secret-access-key', token).subarray(0, 30).toString('base64');

  return {
    mint(claims) {
      const payload = encodeClaims(claims);
      const token = Buffer.concat([payload, derive('session-token', payload)]);
      return {
        accessKeyId: accessKeyIdFor(token),
        secretAccessKey: secretFor(token),
        sessionToken: token.toString('base64'),
        expiration: new Date(claims.expiresAtSeconds * 1000),
        lastUpdated: new Date(claims.issuedAtSeconds * 1000),
      };
    },

    resolve(accessKeyId, sessionToken, nowMs) {
      const token = Buffer.from(sessionToken, 'base64');
      if (token.length <= MAC_BYTES || token.toString('base64') !== sessionToken) return undefined;

      const payload = token.subarray(0, token.length - MAC_BYTES);
      if (!timingSafeEqual(derive('session-token', payload), token.subarray(payload.length)))
        return undefined;

      const expected = Buffer.from(accessKeyIdFor(token));
      const given = Buffer.from(accessKeyId);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;

      const claims = decodeClaims(payload);
      if (claims === undefined || claims.expiresAtSeconds * 1000 <= nowMs) return undefined;
      return { claims, secretAccessKey: secretFor(token) };
    },
  };
}

export interface MintedSourceOptions {
  durationSeconds: number;
  now?: () => number;
}

/** The `minted` credential source: the current rotation's set for the instance, role and delivery. */
export function mintedCredentialSource(
  minter: CredentialMinter,
  options: MintedSourceOptions,
): CredentialSource {
  const now = options.now ?? Date.now;
  const rotationSeconds = Math.min(MAX_ROTATION_SECONDS, Math.floor(options.durationSeconds / 3));

  // A caller gets the same set for a whole rotation, so each set is minted once (four HMACs)
  // and kept until the rotation ends: one entry per instance, role and delivery.
  const current = new Map<string, RoleCredentials>();

  return {
    kind: 'minted',
    credentials: async (request: CredentialRequest) => {
      const claims = currentClaims(request, now(), rotationSeconds, options.durationSeconds);
      const caller = callerOf(request);
      const kept = current.get(caller);
      if (kept !== undefined && kept.lastUpdated.getTime() === claims.issuedAtSeconds * 1000)
        return kept;

      const minted = minter.mint(claims);
      current.set(caller, minted);
      return minted;
    },
  };
}

const callerOf = memoizedRequestKey(
  (request) => `${request.instanceId} ${request.accountId} ${request.roleName} ${request.delivery}`,
);

export function currentClaims(
  request: CredentialRequest,
  nowMs: number,
  rotationSeconds: number,
  durationSeconds: number,
): MintedCredentialClaims {
  const issuedAtSeconds = Math.floor(nowMs / 1000 / rotationSeconds) * rotationSeconds;
  return {
    delivery: request.delivery,
    issuedAtSeconds,
    expiresAtSeconds: issuedAtSeconds + durationSeconds,
    instanceId: request.instanceId,
    accountId: request.accountId,
    roleName: request.roleName,
  };
}

function encodeClaims(claims: MintedCredentialClaims): Buffer {
  const strings = [claims.instanceId, claims.accountId, claims.roleName].map((text) =>
    Buffer.from(text, 'utf8'),
  );
  const header = Buffer.alloc(10);
  header.writeUInt8(TOKEN_VERSION, 0);
  header.writeUInt8(claims.delivery === 'imdsv2' ? 2 : 1, 1);
  header.writeUInt32BE(claims.issuedAtSeconds, 2);
  header.writeUInt32BE(claims.expiresAtSeconds, 6);
  return Buffer.concat([
    header,
    ...strings.flatMap((bytes) => [Buffer.from([bytes.length]), bytes]),
  ]);
}

function decodeClaims(payload: Buffer): MintedCredentialClaims | undefined {
  if (payload.length < 10 || payload.readUInt8(0) !== TOKEN_VERSION) return undefined;

  const strings: string[] = [];
  let offset = 10;
  while (offset < payload.length && strings.length < 3) {
    const length = payload.readUInt8(offset);
    strings.push(payload.subarray(offset + 1, offset + 1 + length).toString('utf8'));
    offset += 1 + length;
  }
  const [instanceId, accountId, roleName] = strings;
  if (
    instanceId === undefined ||
    accountId === undefined ||
    roleName === undefined ||
    offset !== payload.length
  ) {
    return undefined;
  }

  return {
    delivery: payload.readUInt8(1) === 2 ? 'imdsv2' : 'imdsv1',
    issuedAtSeconds: payload.readUInt32BE(2),
    expiresAtSeconds: payload.readUInt32BE(6),
    instanceId,
    accountId,
    roleName,
  };
}

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return text;
}
