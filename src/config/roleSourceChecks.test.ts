import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { isImdsdError } from '../errors.ts';
import { loadConfig } from './load.ts';
import type { Config } from './schema.ts';

const directory = mkdtempSync(join(tmpdir(), 'imdsd-roles-'));
after(() => rmSync(directory, { recursive: true, force: true }));

let files = 0;
function load(roles: Record<string, unknown>, extra: Record<string, unknown> = {}): Config {
  const file = join(directory, `config-${files++}.yaml`);
  writeFileSync(file, stringify({ roles, ...extra }));
  return loadConfig({ config: file }, {}).config;
}

function configError(roles: Record<string, unknown>): string {
  try {
    load(roles);
  } catch (error) {
    assert.ok(isImdsdError(error, 'CONFIG_INVALID'), String(error));
    return error.message;
  }
  return assert.fail('expected CONFIG_INVALID');
}

const ROLE_ARN = 'arn:aws:iam::123456789012:role/app';

describe('role sources in the config', () => {
  it('accepts an assume-role role with every option and fills the STS default duration', () => {
    const config = load({
      app: {
        source: 'assume-role',
        roleArn: ROLE_ARN,
        externalId: 'partner-7f3a',
        roleSessionName: 'imdsd-session',
        sessionPolicy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
        },
        sessionPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
        sessionTags: { team: 'platform', 'cost-center': '42' },
        sourceIdentity: 'alice',
        stsRegion: 'eu-west-1',
        stsEndpoint: 'https://sts.eu-west-1.amazonaws.com',
        profile: 'ops',
      },
    });

    const role = config.roles['app'];
    assert.equal(role?.source, 'assume-role');
    assert.equal(role.durationSeconds, 3600);
    assert.deepEqual(config.credentials, {
      stsCallsPerSecond: 10,
      stsBurst: 20,
      startupWaitSeconds: 10,
    });
  });

  it('rejects a chain of source roles that comes back to itself, once, naming the key', () => {
    const message = configError({
      a: { source: 'assume-role', roleArn: ROLE_ARN, sourceRole: 'b' },
      b: { source: 'assume-role', roleArn: ROLE_ARN, sourceRole: 'c' },
      c: { source: 'assume-role', roleArn: ROLE_ARN, sourceRole: 'a' },
    });

    assert.match(
      message,
      /^roles\.a\.sourceRole = "b" \(file .*\): role chain a → b → c → a is a cycle/,
    );
    assert.equal(message.split('\n').length, 1);
  });

  it('rejects a role that is its own source', () => {
    assert.match(
      configError({ a: { source: 'assume-role', roleArn: ROLE_ARN, sourceRole: 'a' } }),
      /role chain a → a is a cycle/,
    );
  });

  it('rejects a source role that is not defined, and a profile given with a source role', () => {
    assert.match(
      configError({ a: { source: 'assume-role', roleArn: ROLE_ARN, sourceRole: 'missing' } }),
      /roles\.a\.sourceRole = "missing" .*: role "missing" is not defined under roles/,
    );
    assert.match(
      configError({
        a: { source: 'assume-role', roleArn: ROLE_ARN, sourceRole: 'b', profile: 'ops' },
        b: { source: 'minted' },
      }),
      /roles\.a\.sourceRole .*: give profile or sourceRole, not both/,
    );
  });

  it('limits a role chained from an assumed role to one-hour sessions, as STS does', () => {
    assert.match(
      configError({
        base: { source: 'assume-role', roleArn: ROLE_ARN },
        chained: {
          source: 'assume-role',
          roleArn: ROLE_ARN,
          sourceRole: 'base',
          durationSeconds: 7200,
        },
      }),
      /roles\.chained\.durationSeconds = 7200 .*: must be at most 3600: STS limits a chained role session to one hour/,
    );
  });

  it('rejects a session policy that is not a JSON policy document, and a bad role ARN', () => {
    assert.match(
      configError({
        a: { source: 'assume-role', roleArn: ROLE_ARN, sessionPolicy: 'Allow everything' },
      }),
      /roles\.a\.sessionPolicy .*: must be a JSON policy document/,
    );
    assert.match(
      configError({ a: { source: 'assume-role', roleArn: 'arn:aws:iam::123:role/x' } }),
      /roles\.a\.roleArn = "arn:aws:iam::123:role\/x" .*: must be an IAM role ARN/,
    );
  });

  it('requires each static key once, from the file or a variable', () => {
    assert.match(
      configError({ pinned: { source: 'static', secretAccessKeyEnv: 'SECRET' } }),
      /roles\.pinned .*: accessKeyId or accessKeyIdEnv is required/,
    );

    const message = configError({
      pinned: {
        source: 'static',
        accessKeyIdEnv: 'KEY_ID',
        secretAccessKey: 'placeholder-not-a-key',
        secretAccessKeyEnv: 'SECRET',
      },
    });
    assert.match(message, /roles\.pinned .*: give secretAccessKey or secretAccessKeyEnv, not both/);
  });

  it('never repeats a secret value in an error message', () => {
    const message = configError({
      pinned: { source: 'static', accessKeyIdEnv: 'KEY_ID', secretAccessKey: 12345678901234 },
    });

    assert.match(message, /roles\.pinned\.secretAccessKey \(file/);
    assert.doesNotMatch(message, /12345678901234/);
  });
});
