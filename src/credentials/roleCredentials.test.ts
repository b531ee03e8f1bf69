import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoizedRequestKey, type CredentialRequest } from './roleCredentials.ts';

const REQUEST: CredentialRequest = {
  instanceId: 'i-0123456789abcdef0',
  accountId: '123456789012',
  region: 'us-east-1',
  roleName: 'app-role',
  delivery: 'imdsv2',
};

describe('request keys', () => {
  it('are built once per frozen request, and the same string is handed back', () => {
    let built = 0;
    const keyOf = memoizedRequestKey((request) => {
      built += 1;
      return `${request.roleName} ${request.delivery}`;
    });
    const frozen = Object.freeze({ ...REQUEST });

    const first = keyOf(frozen);
    assert.equal(keyOf(frozen), first);
    assert.equal(built, 1);
    assert.equal(keyOf(Object.freeze({ ...REQUEST, delivery: 'imdsv1' })), 'app-role imdsv1');
    assert.equal(built, 2);
  });

  it('follow a request that is not frozen when it changes, so no other role is answered', () => {
    const keyOf = memoizedRequestKey((request) => `${request.roleName} ${request.delivery}`);
    const request = { ...REQUEST };

    assert.equal(keyOf(request), 'app-role imdsv2');
    request.roleName = 'admin-role';
    assert.equal(keyOf(request), 'admin-role imdsv2');
  });
});
