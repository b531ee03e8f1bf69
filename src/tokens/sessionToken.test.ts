import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  checkSessionToken,
  mintSessionToken,
  parseTokenTtl,
  type TokenKeyRing,
} from './sessionToken.ts';

const ring: TokenKeyRing = { currentKeyId: 0, keys: new Map([[0, randomBytes(32)]]) };
const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const INSTANCE = 'i-0123456789abcdef0';

describe('session tokens', () => {
  it('have the real service shape: 56 URL-safe base64 characters starting AQAEA, ending ==', () => {
    const token = mintSessionToken(ring, INSTANCE, 21600, NOW);
    assert.match(token, /^AQAEA[A-Za-z0-9_-]{49}==$/);
  });

  it('carry HMAC-SHA256 of their first 16 bytes and the instance id, so tokens from earlier versions still verify', () => {
    for (const instance of [INSTANCE, 'i-0fedcba9876543210', 'i-1']) {
      const token = Buffer.from(mintSessionToken(ring, instance, 60, NOW), 'base64url');
      const reference = createHmac('sha256', ring.keys.get(0)!)
        .update(token.subarray(0, 16))
        .update(instance)
        .digest()
        .subarray(0, 24);
      assert.deepEqual(token.subarray(16), reference);
    }
  });

  it('are valid for the instance that issued them until the TTL runs out', () => {
    const token = mintSessionToken(ring, INSTANCE, 60, NOW);
    assert.deepEqual(checkSessionToken(ring, INSTANCE, token, NOW + 59_999), {
      valid: true,
      expiresAtSeconds: NOW / 1000 + 60,
    });
    assert.deepEqual(checkSessionToken(ring, INSTANCE, token, NOW + 60_000), {
      valid: false,
      reason: 'expired',
    });
  });

  it('are refused by another instance', () => {
    const token = mintSessionToken(ring, INSTANCE, 60, NOW);
    assert.deepEqual(checkSessionToken(ring, 'i-0fedcba9876543210', token, NOW), {
      valid: false,
      reason: 'bad-signature',
    });
  });

  it('are refused by another instance after they verified for their own, and expire on time', () => {
    const token = mintSessionToken(ring, INSTANCE, 60, NOW);
    assert.equal(checkSessionToken(ring, INSTANCE, token, NOW).valid, true);

    assert.deepEqual(checkSessionToken(ring, 'i-0fedcba9876543210', token, NOW), {
      valid: false,
      reason: 'bad-signature',
    });
    assert.equal(checkSessionToken(ring, INSTANCE, token, NOW + 59_000).valid, true);
    assert.deepEqual(checkSessionToken(ring, INSTANCE, token, NOW + 60_000), {
      valid: false,
      reason: 'expired',
    });
  });

  it('are refused under another key, so a token cannot outlive its key ring', () => {
    const token = mintSessionToken(ring, INSTANCE, 60, NOW);
    const otherRing: TokenKeyRing = { currentKeyId: 0, keys: new Map([[0, randomBytes(32)]]) };
    assert.equal(checkSessionToken(otherRing, INSTANCE, token, NOW).valid, false);
  });

  it('cannot have their expiry extended: the expiry is under the MAC', () => {
    const token = Buffer.from(mintSessionToken(ring, INSTANCE, 60, NOW), 'base64url');
    token.writeUInt32BE(token.readUInt32BE(4) + 3600, 4);
    const forged = token.toString('base64').replaceAll('+', '-').replaceAll('/', '_');
    assert.deepEqual(checkSessionToken(ring, INSTANCE, forged, NOW), {
      valid: false,
      reason: 'bad-signature',
    });
  });

  it('refuse anything not token-shaped', () => {
    for (const garbage of [
      '',
      'x',
      'AQAEA',
      'A'.repeat(56),
      `${'A'.repeat(54)}==`.replace(/^A/, '!'),
    ]) {
      assert.equal(checkSessionToken(ring, INSTANCE, garbage, NOW).valid, false, garbage);
    }
  });

  it('are different every time, even for the same instance and second', () => {
    const tokens = new Set(
      Array.from({ length: 100 }, () => mintSessionToken(ring, INSTANCE, 60, NOW)),
    );
    assert.equal(tokens.size, 100);
  });
});

describe('the TTL request header', () => {
  it('accepts whole seconds from 1 to 21600', () => {
    assert.equal(parseTokenTtl('1'), 1);
    assert.equal(parseTokenTtl('21600'), 21600);
    assert.equal(parseTokenTtl(' 300 '), 300);
  });

  it('refuses everything else', () => {
    for (const value of [
      undefined,
      '',
      '0',
      '21601',
      '-1',
      '1.5',
      '1e3',
      'abc',
      '0x10',
      '99999999999',
    ]) {
      assert.equal(parseTokenTtl(value), undefined, String(value));
    }
  });
});
