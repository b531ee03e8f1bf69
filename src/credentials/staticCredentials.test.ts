import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { StaticRoleConfig } from '../config/schema.ts';
import { isImdsdError } from '../errors.ts';
import type { CredentialRequest } from './roleCredentials.ts';
import { resolveStaticKeys, staticCredentialSource } from './staticCredentials.ts';

const HOUR = 3_600_000;
const REQUEST: CredentialRequest = {
  instanceId: 'i-0123456789abcdef0',
  accountId: '123456789012',
  region: 'us-east-1',
  roleName: 'pinned',
  delivery: 'imdsv2',
};

function generatedKeys() {
  return {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: randomBytes(64).toString('base64'),
  };
}

describe('static credential source', () => {
  it('reads the keys from the environment variables the config names', () => {
    const keys = generatedKeys();
    const role: StaticRoleConfig = {
      source: 'static',
      accessKeyIdEnv: 'PINNED_KEY_ID',
      secretAccessKeyEnv: 'PINNED_SECRET',
      sessionTokenEnv: 'PINNED_TOKEN',
    };

    const resolved = resolveStaticKeys('pinned', role, {
      PINNED_KEY_ID: keys.accessKeyId,
      PINNED_SECRET: keys.secretAccessKey,
      PINNED_TOKEN: keys.sessionToken,
    });

    assert.deepEqual(resolved, { ...keys, expiration: undefined });
  });

  it('fails startup naming the key when a named variable is not set', () => {
    const role: StaticRoleConfig = {
      source: 'static',
      accessKeyId: generatedKeys().accessKeyId,
      secretAccessKeyEnv: 'PINNED_SECRET',
    };

    assert.throws(
      () => resolveStaticKeys('pinned', role, { PINNED_SECRET: '' }),
      (error) =>
        isImdsdError(error, 'CONFIG_INVALID') &&
        error.message ===
          'roles.pinned.secretAccessKeyEnv: environment variable PINNED_SECRET is not set',
    );
  });

  it('serves a rolling expiration with five to six hours left when the config gives none', async () => {
    const keys = generatedKeys();
    let nowMs = Date.UTC(2030, 4, 1, 9, 15, 2);
    const source = staticCredentialSource(
      'pinned',
      { ...keys, expiration: undefined },
      () => nowMs,
    );

    const first = await source.credentials(REQUEST);
    nowMs += 50 * 60_000;
    const later = await source.credentials(REQUEST);

    assert.equal(first.lastUpdated.toISOString(), '2030-05-01T09:00:00.000Z');
    assert.equal(first.expiration.toISOString(), '2030-05-01T15:00:00.000Z');
    assert.equal(later.lastUpdated.toISOString(), '2030-05-01T10:00:00.000Z');
    assert.equal(later.accessKeyId, keys.accessKeyId);
    const remainingMs = later.expiration.getTime() - nowMs;
    assert.ok(remainingMs > 5 * HOUR && remainingMs <= 6 * HOUR);
  });

  it('serves a fixed expiration, and the failure once it has passed', async () => {
    const expiration = new Date(Date.UTC(2030, 0, 1, 12));
    let nowMs = expiration.getTime() - HOUR;
    const source = staticCredentialSource(
      'pinned',
      { ...generatedKeys(), expiration },
      () => nowMs,
    );

    assert.equal((await source.credentials(REQUEST)).expiration, expiration);

    nowMs = expiration.getTime();
    await assert.rejects(
      source.credentials(REQUEST),
      (error) =>
        isImdsdError(error, 'CREDENTIALS_UNAVAILABLE') && error.upstreamCode === 'ExpiredToken',
    );
  });

  it('hands out long-term keys with an empty Token', async () => {
    const role: StaticRoleConfig = {
      source: 'static',
      accessKeyIdEnv: 'KEY_ID',
      secretAccessKeyEnv: 'SECRET',
    };
    const { accessKeyId, secretAccessKey } = generatedKeys();
    const keys = resolveStaticKeys('pinned', role, {
      KEY_ID: accessKeyId.replace(/^ASIA/, 'AKIA'),
      SECRET: secretAccessKey,
    });

    const credentials = await staticCredentialSource('pinned', keys).credentials(REQUEST);

    assert.equal(credentials.sessionToken, '');
  });
});
