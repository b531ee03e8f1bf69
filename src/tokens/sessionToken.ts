import { hash, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * IMDSv2 session tokens, stateless. A token is 40 bytes, sent as 56 characters of URL-safe
 * base64 with padding, the length and alphabet of the real service's tokens (reference §1):
 *
 *   0..2   01 00 04          format marker (real tokens start `AQAEA`)
 *   3      key id            which key of the ring signed it
 *   4..7   expiry            seconds since the epoch, big-endian
 *   8..15  nonce             random
 *   16..39 MAC               HMAC-SHA256(key, bytes 0..15 || instance id), first 24 bytes
 *
 * No table of tokens exists (only a bounded memo of tokens lately verified): memory stays flat
 * under any token rate, tokens survive a restart (the key ring lives in the state store) and
 * are bound to the instance that issued them.
 */

export const TOKEN_TTL_MIN_SECONDS = 1;
export const TOKEN_TTL_MAX_SECONDS = 21_600;

const TOKEN_BYTES = 40;
const TOKEN_CHARS = 56;
const MARKER = [0x01, 0x00, 0x04] as const;
const SIGNED_BYTES = 16;
const MAC_BYTES = TOKEN_BYTES - SIGNED_BYTES;

export interface TokenKeyRing {
  /** The key new tokens are signed with. */
  currentKeyId: number;
  keys: ReadonlyMap<number, Buffer>;
}

export type TokenCheck =
  | { valid: true; expiresAtSeconds: number }
  | { valid: false; reason: 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' };

export function mintSessionToken(
  ring: TokenKeyRing,
  instanceId: string,
  ttlSeconds: number,
  nowMs: number,
): string {
  const key = ring.keys.get(ring.currentKeyId);
  if (key === undefined) throw new Error(`token key ${ring.currentKeyId} is missing from the ring`);

  // Bytes are set one by one: on this path, each Buffer method is a call into C++ that costs
  // more than the copy it makes.
  const token = Buffer.allocUnsafe(TOKEN_BYTES);
  token[0] = MARKER[0];
  token[1] = MARKER[1];
  token[2] = MARKER[2];
  token[3] = ring.currentKeyId;
  token.writeUInt32BE(Math.floor(nowMs / 1000) + ttlSeconds, 4);
  takeNonce(token, 8);

  writeTokenMac(key, token, instanceId, token, SIGNED_BYTES);
  return encodeToken(token);
}

/**
 * Nonces are cut from a pool of random bytes refilled 512 nonces at a time: one call into the
 * CSPRNG per token cost more than the rest of minting (the same reason node pools randomUUID).
 */
const NONCE_BYTES = 8;
const noncePool = Buffer.alloc(NONCE_BYTES * 512);
let noncePoolOffset = noncePool.length;

function takeNonce(target: Buffer, at: number): void {
  if (noncePoolOffset === noncePool.length) {
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  for (let index = 0; index < NONCE_BYTES; index += 1)
    target[at + index] = noncePool[noncePoolOffset + index]!;
  noncePoolOffset += NONCE_BYTES;
}

/** URL-safe alphabet, but with the `==` padding real tokens end in. */
function encodeToken(token: Buffer): string {
  return `${token.toString('base64url')}==`;
}

/**
 * 40 bytes take 54 base64 characters, the last carrying 2 bits and 4 zero bits: only these four
 * spell it canonically. Others decode to the same bytes, so they are refused before decoding.
 */
const CANONICAL_LAST_CHARACTERS = 'AQgw';

/**
 * Tokens that verified lately, per key ring: an SDK sends the same token with every request
 * for up to six hours, and remembering that it verified saves an HMAC per request. Only tokens
 * whose MAC checked out are kept, with their instance and expiry, which are checked again on
 * every use; the set is bounded (cleared when full), so memory stays flat whatever the token
 * rate. Keyed by the token text alone, which the request brings as a string to hash anyway: a
 * key joined with the instance id was a new string to build, flatten and hash per request.
 */
const VERIFIED_TOKENS_KEPT = 4096;

interface VerifiedToken {
  instanceId: string;
  expiresAtSeconds: number;
}

const verifiedTokens = new WeakMap<TokenKeyRing, Map<string, VerifiedToken>>();

export function checkSessionToken(
  ring: TokenKeyRing,
  instanceId: string,
  text: string,
  nowMs: number,
): TokenCheck {
  const verified = verifiedTokens.get(ring)?.get(text);
  // A token is bound to one instance: one remembered for another fails verification below.
  if (verified !== undefined && verified.instanceId === instanceId) {
    const expiresAtSeconds = verified.expiresAtSeconds;
    return expiresAtSeconds * 1000 <= nowMs
      ? { valid: false, reason: 'expired' }
      : { valid: true, expiresAtSeconds };
  }

  const check = verifySessionToken(ring, instanceId, text, nowMs);
  if (check.valid) remember(ring, text, { instanceId, expiresAtSeconds: check.expiresAtSeconds });
  return check;
}

function remember(ring: TokenKeyRing, text: string, token: VerifiedToken): void {
  let verified = verifiedTokens.get(ring);
  if (verified === undefined) verifiedTokens.set(ring, (verified = new Map()));
  if (verified.size >= VERIFIED_TOKENS_KEPT) verified.clear();
  verified.set(text, token);
}

function verifySessionToken(
  ring: TokenKeyRing,
  instanceId: string,
  text: string,
  nowMs: number,
): TokenCheck {
  if (text.length !== TOKEN_CHARS || !/^[A-Za-z0-9_-]{54}==$/.test(text))
    return { valid: false, reason: 'malformed' };
  if (!CANONICAL_LAST_CHARACTERS.includes(text.charAt(TOKEN_CHARS - 3)))
    return { valid: false, reason: 'malformed' };

  const token = Buffer.from(text, 'base64url');
  if (
    token.length !== TOKEN_BYTES ||
    token[0] !== MARKER[0] ||
    token[1] !== MARKER[1] ||
    token[2] !== MARKER[2]
  ) {
    return { valid: false, reason: 'malformed' };
  }

  const key = ring.keys.get(token.readUInt8(3));
  if (key === undefined) return { valid: false, reason: 'unknown-key' };

  const expected = Buffer.allocUnsafe(MAC_BYTES);
  writeTokenMac(key, token, instanceId, expected, 0);
  if (!timingSafeEqual(expected, token.subarray(SIGNED_BYTES)))
    return { valid: false, reason: 'bad-signature' };

  const expiresAtSeconds = token.readUInt32BE(4);
  if (expiresAtSeconds * 1000 <= nowMs) return { valid: false, reason: 'expired' };

  return { valid: true, expiresAtSeconds };
}

/**
 * Writes HMAC-SHA256 (RFC 2104) of bytes 0..15 and the instance id, cut to MAC_BYTES, into
 * `target` at `offset`. Built from two one-shot hashes over buffers prepared once per key and
 * instance, with each digest a latin1 string written straight into place: `createHmac` makes a
 * native object and a digest Buffer per token, and under load that cost about 9 µs of server
 * CPU per token request, a seventh of it. sessionToken.test.ts checks the bytes against
 * createHmac.
 */
function writeTokenMac(
  key: Buffer,
  token: Buffer,
  instanceId: string,
  target: Buffer,
  offset: number,
): void {
  const pads = macPadsFor(key, instanceId);
  for (let index = 0; index < SIGNED_BYTES; index += 1)
    pads.innerInput[HMAC_BLOCK_BYTES + index] = token[index]!;

  // 'binary' is latin1: one character per byte.
  const inner = hash('sha256', pads.innerInput, 'binary');
  pads.outerInput.write(inner, HMAC_BLOCK_BYTES, SHA256_BYTES, 'latin1');
  target.write(hash('sha256', pads.outerInput, 'binary'), offset, MAC_BYTES, 'latin1');
}

const HMAC_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;

/**
 * `innerInput` is (key XOR ipad) || 16 signed bytes || instance id, `outerInput` is
 * (key XOR opad) || inner digest: only the signed bytes and the digest change per token.
 * Reusing them is safe because hashing is synchronous. Kept per key, then per instance id.
 */
interface MacPads {
  innerInput: Buffer;
  outerInput: Buffer;
}

const macPads = new WeakMap<Buffer, Map<string, MacPads>>();

function macPadsFor(key: Buffer, instanceId: string): MacPads {
  let byInstance = macPads.get(key);
  if (byInstance === undefined) macPads.set(key, (byInstance = new Map()));

  let pads = byInstance.get(instanceId);
  if (pads === undefined) {
    pads = preparePads(key, instanceId);
    byInstance.set(instanceId, pads);
  }
  return pads;
}

function preparePads(key: Buffer, instanceId: string): MacPads {
  // Keys longer than a block would be hashed first (RFC 2104 §2); the ring's keys are 32 bytes.
  if (key.length > HMAC_BLOCK_BYTES) throw new Error('token keys must be at most 64 bytes');

  const id = Buffer.from(instanceId, 'utf8');
  const innerInput = Buffer.alloc(HMAC_BLOCK_BYTES + SIGNED_BYTES + id.length, 0x36);
  const outerInput = Buffer.alloc(HMAC_BLOCK_BYTES + SHA256_BYTES, 0x5c);
  for (let index = 0; index < key.length; index += 1) {
    innerInput[index]! ^= key[index]!;
    outerInput[index]! ^= key[index]!;
  }
  id.copy(innerInput, HMAC_BLOCK_BYTES + SIGNED_BYTES);
  return { innerInput, outerInput };
}

/** Parses the TTL request header: a plain decimal integer in 1..21600, else undefined. */
export function parseTokenTtl(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,5}$/.test(header.trim())) return undefined;
  const seconds = Number(header.trim());
  return seconds >= TOKEN_TTL_MIN_SECONDS && seconds <= TOKEN_TTL_MAX_SECONDS ? seconds : undefined;
}
