import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  checkSessionToken,
  mintSessionToken,
  parseTokenTtl,
  TOKEN_TTL_MAX_SECONDS,
  TOKEN_TTL_MIN_SECONDS,
  type TokenKeyRing,
} from './sessionToken.ts';

/**
 * Properties of the session token codec, over random keys, instances, times and TTLs: what one
 * instance minted verifies for it until it expires, and nothing else verifies.
 */

const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes));
const keyId = fc.integer({ min: 0, max: 255 });
const instanceId = fc.stringMatching(/^i-[0-9a-f]{17}$/);
const ttlSeconds = fc.integer({ min: TOKEN_TTL_MIN_SECONDS, max: TOKEN_TTL_MAX_SECONDS });
// Expiry is kept as 32-bit seconds: any time before 2106 less the longest TTL.
const nowMs = fc.integer({ min: 0, max: (2 ** 32 - 1 - TOKEN_TTL_MAX_SECONDS) * 1000 });

function ring(bytes: Buffer, id = 0): TokenKeyRing {
  return { currentKeyId: id, keys: new Map([[id, bytes]]) };
}

function flipBit(token: string, bit: number): string {
  const bytes = Buffer.from(token, 'base64url');
  bytes[bit >> 3] = (bytes[bit >> 3] as number) ^ (1 << (bit & 7));
  return `${bytes.toString('base64url')}==`;
}

test('a minted token has the real service’s shape and verifies for its instance until it expires', () => {
  fc.assert(
    fc.property(key, keyId, instanceId, ttlSeconds, nowMs, (bytes, id, instance, ttl, now) => {
      const keys = ring(bytes, id);
      const token = mintSessionToken(keys, instance, ttl, now);
      assert.match(token, /^[A-Za-z0-9_-]{54}==$/);

      const expiresAtSeconds = Math.floor(now / 1000) + ttl;
      assert.deepEqual(checkSessionToken(keys, instance, token, now), {
        valid: true,
        expiresAtSeconds,
      });
      assert.equal(
        checkSessionToken(keys, instance, token, expiresAtSeconds * 1000 - 1).valid,
        true,
      );
      assert.deepEqual(checkSessionToken(keys, instance, token, expiresAtSeconds * 1000), {
        valid: false,
        reason: 'expired',
      });
    }),
  );
});

test('a token with any single bit flipped is rejected', () => {
  fc.assert(
    fc.property(
      key,
      instanceId,
      ttlSeconds,
      nowMs,
      fc.integer({ min: 0, max: 319 }),
      (bytes, instance, ttl, now, bit) => {
        const keys = ring(bytes);
        const tampered = flipBit(mintSessionToken(keys, instance, ttl, now), bit);
        assert.equal(checkSessionToken(keys, instance, tampered, now).valid, false);
      },
    ),
  );
});

test('another spelling of a valid token, decoding to the same bytes, is rejected', () => {
  const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  fc.assert(
    fc.property(
      key,
      instanceId,
      ttlSeconds,
      nowMs,
      fc.integer({ min: 1, max: 15 }),
      (bytes, instance, ttl, now, lowBits) => {
        const keys = ring(bytes);
        const token = mintSessionToken(keys, instance, ttl, now);
        // The 54th character holds the last 2 bits and 4 bits that decoders ignore: set some.
        const last = base64url.indexOf(token.charAt(53));
        const respelled = `${token.slice(0, 53)}${base64url.charAt(last | lowBits)}==`;
        assert.deepEqual(Buffer.from(respelled, 'base64url'), Buffer.from(token, 'base64url'));
        assert.deepEqual(checkSessionToken(keys, instance, respelled, now), {
          valid: false,
          reason: 'malformed',
        });
      },
    ),
  );
});

test('a token is rejected by any other instance', () => {
  fc.assert(
    fc.property(
      key,
      instanceId,
      instanceId,
      ttlSeconds,
      nowMs,
      (bytes, issuer, other, ttl, now) => {
        fc.pre(issuer !== other);
        const keys = ring(bytes);
        const token = mintSessionToken(keys, issuer, ttl, now);
        assert.deepEqual(checkSessionToken(keys, other, token, now), {
          valid: false,
          reason: 'bad-signature',
        });
      },
    ),
  );
});

test('a token is rejected under any other key', () => {
  fc.assert(
    fc.property(
      key,
      key,
      instanceId,
      ttlSeconds,
      nowMs,
      (minting, checking, instance, ttl, now) => {
        fc.pre(!minting.equals(checking));
        const token = mintSessionToken(ring(minting), instance, ttl, now);
        assert.equal(checkSessionToken(ring(checking), instance, token, now).valid, false);
      },
    ),
  );
});

test('any other text is rejected, never thrown on', () => {
  const tokenLike = fc.stringMatching(/^[A-Za-z0-9_-]{54}==$/);
  fc.assert(
    fc.property(
      key,
      instanceId,
      fc.oneof(fc.string(), fc.string({ unit: 'binary' }), tokenLike),
      nowMs,
      (bytes, instance, text, now) => {
        assert.equal(checkSessionToken(ring(bytes), instance, text, now).valid, false);
      },
    ),
  );
});

test('a TTL header parses to a whole number of seconds in 1..21600, or not at all', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.integer().map(String), fc.double().map(String)),
      (header) => {
        const seconds = parseTokenTtl(header);
        if (seconds === undefined) return;
        assert.ok(
          Number.isInteger(seconds) &&
            seconds >= TOKEN_TTL_MIN_SECONDS &&
            seconds <= TOKEN_TTL_MAX_SECONDS,
        );
        assert.equal(seconds, Number(header.trim()));
      },
    ),
  );
  fc.assert(
    fc.property(ttlSeconds, (seconds) => {
      assert.equal(parseTokenTtl(String(seconds)), seconds);
    }),
  );
});
