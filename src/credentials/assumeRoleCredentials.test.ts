import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STSServiceException } from '@aws-sdk/client-sts';
import { assumeRoleSchema, type AssumeRoleConfig } from '../config/schema.ts';
import { ImdsdError, isImdsdError } from '../errors.ts';
import {
  assumeRoleCredentialSource,
  assumeRoleInput,
  roleCredentialsFrom,
  stsFailure,
  type SigningCredentialsSource,
} from './assumeRoleCredentials.ts';
import type { CredentialRequest } from './roleCredentials.ts';
import type { StsCallBudget } from './stsCallBudget.ts';

const REQUEST: CredentialRequest = {
  instanceId: 'i-0123456789abcdef0',
  accountId: '123456789012',
  region: 'eu-central-1',
  roleName: 'app',
  delivery: 'imdsv2',
};

function role(extra: Partial<AssumeRoleConfig> = {}): AssumeRoleConfig {
  return assumeRoleSchema.parse({
    source: 'assume-role',
    roleArn: 'arn:aws:iam::123456789012:role/app',
    ...extra,
  });
}

const openBudget: StsCallBudget = { take: () => Promise.resolve() };

describe('assume-role source', () => {
  it('names the session after the instance and asks for the configured duration by default', () => {
    assert.deepEqual(assumeRoleInput(role(), REQUEST), {
      RoleArn: 'arn:aws:iam::123456789012:role/app',
      RoleSessionName: 'i-0123456789abcdef0',
      DurationSeconds: 3600,
    });
  });

  it('passes every session option to AssumeRole under its STS name', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    };
    const input = assumeRoleInput(
      role({
        externalId: 'partner-7f3a',
        roleSessionName: 'fixed-session',
        durationSeconds: 900,
        sessionPolicy: policy,
        sessionPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
        sessionTags: { team: 'platform' },
        sourceIdentity: 'alice',
      }),
      REQUEST,
    );

    assert.deepEqual(input, {
      RoleArn: 'arn:aws:iam::123456789012:role/app',
      RoleSessionName: 'fixed-session',
      DurationSeconds: 900,
      ExternalId: 'partner-7f3a',
      Policy: JSON.stringify(policy),
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      Tags: [{ Key: 'team', Value: 'platform' }],
      SourceIdentity: 'alice',
    });
  });

  it('refuses an STS answer without complete credentials', () => {
    const output = {
      Credentials: {
        AccessKeyId: 'ASIAEXAMPLE',
        SecretAccessKey: '',
        SessionToken: 't',
        Expiration: new Date(),
      },
      $metadata: {},
    };

    assert.throws(
      () => roleCredentialsFrom(output, 'app', Date.now()),
      (error) =>
        isImdsdError(error, 'CREDENTIALS_UNAVAILABLE') &&
        error.upstreamCode === 'InvalidStsResponse',
    );
  });

  it("keeps STS's own error code, and names network failures StsUnreachable", () => {
    const denied = new STSServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: {},
      message: 'not authorized',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    const aborted = Object.assign(new Error('Request aborted'), { name: 'AbortError' });

    const cases = [
      [
        denied,
        'AccessDenied',
        'imdsd cannot assume the role app: STS answered AccessDenied: not authorized',
      ],
      [refused, 'StsUnreachable', 'imdsd cannot reach STS to assume the role app (ECONNREFUSED)'],
      [
        aborted,
        'StsUnreachable',
        'imdsd cannot reach STS to assume the role app (no answer within 5000 ms)',
      ],
    ] as const;
    for (const [error, upstreamCode, message] of cases) {
      const failure = stsFailure('app', error, 5000);
      assert.equal(failure.upstreamCode, upstreamCode);
      assert.equal(failure.message, message);
    }
  });

  it('fails without calling STS when there are no signing credentials', async () => {
    const noCredentials: SigningCredentialsSource = () =>
      Promise.reject(new Error('Could not load credentials from any providers'));
    const source = assumeRoleCredentialSource({
      roleName: 'app',
      role: role({ profile: 'ops' }),
      signingCredentials: noCredentials,
      budget: openBudget,
    });

    await assert.rejects(source.credentials(REQUEST), (error) => {
      assert.ok(isImdsdError(error, 'CREDENTIALS_UNAVAILABLE'));
      assert.equal(error.upstreamCode, 'SourceCredentialsUnavailable');
      assert.equal(
        error.message,
        'imdsd has no credentials from profile ops to assume the role app: Could not load credentials from any providers',
      );
      return true;
    });
  });

  it("passes on the source role's failure code when a chained role has no source credentials", async () => {
    const sourceFailed: SigningCredentialsSource = () =>
      Promise.reject(
        new ImdsdError('CREDENTIALS_UNAVAILABLE', 'STS answered AccessDenied', {
          upstreamCode: 'AccessDenied',
        }),
      );
    const source = assumeRoleCredentialSource({
      roleName: 'app',
      role: role({ sourceRole: 'base' }),
      signingCredentials: sourceFailed,
      budget: openBudget,
    });

    await assert.rejects(
      source.credentials(REQUEST),
      (error) =>
        isImdsdError(error) &&
        error.upstreamCode === 'AccessDenied' &&
        /^the source role base of role app has no credentials/.test(error.message),
    );
  });

  it('does not call STS when the call budget refuses', async () => {
    const spent: StsCallBudget = {
      take: () =>
        Promise.reject(
          new ImdsdError('CREDENTIALS_UNAVAILABLE', 'budget spent', { upstreamCode: 'Throttling' }),
        ),
    };
    const signing: SigningCredentialsSource = () =>
      Promise.resolve({ accessKeyId: 'AKIA' + 'X'.repeat(16), secretAccessKey: 'unused' });
    const source = assumeRoleCredentialSource({
      roleName: 'app',
      role: role({ stsEndpoint: 'http://127.0.0.1:9' }),
      signingCredentials: signing,
      budget: spent,
    });

    await assert.rejects(
      source.credentials(REQUEST),
      (error) => isImdsdError(error) && error.upstreamCode === 'Throttling',
    );
  });
});
