import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createCredentialMinter, mintedCredentialSource } from './mintedCredentials.ts';
import type { CredentialRequest } from './roleCredentials.ts';

const minter = createCredentialMinter(randomBytes(32));
const request: CredentialRequest = {
  instanceId: 'i-0123456789abcdef0',
  accountId: '123456789012',
  region: 'us-east-1',
  roleName: 'app-role',
  delivery: 'imdsv2',
};

describe('minted role credentials', () => {
  it('look like STS session credentials', async () => {
    const credentials = await mintedCredentialSource(minter, {
      durationSeconds: 21600,
    }).credentials(request);
    assert.match(credentials.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.match(credentials.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
    assert.ok(credentials.sessionToken.length > 40);
  });

  it('are the same for every caller within one rotation, and new after it', async () => {
    let nowMs = Date.UTC(2026, 11, 3, 12, 0, 0);
    const source = mintedCredentialSource(minter, { durationSeconds: 21600, now: () => nowMs });
    const first = await source.credentials(request);
    nowMs += 59 * 60_000;
    assert.deepEqual(await source.credentials(request), first);
    nowMs += 60_000;
    assert.notEqual((await source.credentials(request)).accessKeyId, first.accessKeyId);
  });

  it('always have at least two thirds of their lifetime left, and never less than ten minutes', async () => {
    for (const durationSeconds of [900, 3600, 21600, 43200]) {
      const start = Date.UTC(2026, 0, 1);
      for (let offset = 0; offset < 2 * 86_400_000; offset += 997_000) {
        const nowMs = start + offset;
        const source = mintedCredentialSource(minter, { durationSeconds, now: () => nowMs });
        const credentials = await source.credentials(request);
        const remainingSeconds = (credentials.expiration.getTime() - nowMs) / 1000;
        assert.ok(
          remainingSeconds >= Math.max(600, (durationSeconds * 2) / 3),
          `${durationSeconds}s at +${offset}ms`,
        );
        assert.ok(credentials.lastUpdated.getTime() <= nowMs);
      }
    }
  });

  it('differ between IMDSv1 and IMDSv2 callers, as EC2 hands out two sets', async () => {
    const source = mintedCredentialSource(minter, { durationSeconds: 21600 });
    const v1 = await source.credentials({ ...request, delivery: 'imdsv1' });
    const v2 = await source.credentials(request);
    assert.notEqual(v1.accessKeyId, v2.accessKeyId);
    assert.notEqual(v1.secretAccessKey, v2.secretAccessKey);
  });

  it('can be resolved back to their claims and secret without any table', async () => {
    const nowMs = Date.now();
    const credentials = await mintedCredentialSource(minter, { durationSeconds: 3600 }).credentials(
      request,
    );
    const resolved = minter.resolve(credentials.accessKeyId, credentials.sessionToken, nowMs);
    assert.equal(resolved?.secretAccessKey, credentials.secretAccessKey);
    assert.equal(resolved?.claims.roleName, 'app-role');
    assert.equal(resolved?.claims.instanceId, 'i-0123456789abcdef0');
    assert.equal(resolved?.claims.delivery, 'imdsv2');
  });

  it('do not resolve with another access key id, a tampered token, another key or after expiry', async () => {
    const credentials = await mintedCredentialSource(minter, { durationSeconds: 3600 }).credentials(
      request,
    );
    const other = await mintedCredentialSource(minter, { durationSeconds: 3600 }).credentials({
      ...request,
      roleName: 'x',
    });
    const nowMs = Date.now();
    const tampered = Buffer.from(credentials.sessionToken, 'base64');
    tampered[12] = (tampered[12] ?? 0) ^ 1;

    assert.equal(minter.resolve(other.accessKeyId, credentials.sessionToken, nowMs), undefined);
    assert.equal(
      minter.resolve(credentials.accessKeyId, tampered.toString('base64'), nowMs),
      undefined,
    );
    assert.equal(
      createCredentialMinter(randomBytes(32)).resolve(
        credentials.accessKeyId,
        credentials.sessionToken,
        nowMs,
      ),
      undefined,
    );
    assert.equal(
      minter.resolve(
        credentials.accessKeyId,
        credentials.sessionToken,
        credentials.expiration.getTime(),
      ),
      undefined,
    );
  });
});
