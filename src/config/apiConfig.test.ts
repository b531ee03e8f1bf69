import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { configFiles, imdsdErrorOf } from '../../test/support/configFiles.ts';
import { loadConfig } from './load.ts';

/** The control API's keys in the configuration: apiListen, api.credentials, roles.*.policy. */

const files = configFiles('imdsd-api-config-');
after(() => files.remove());
const configFile = (yaml: string): string => files.write(yaml);
const loadError = imdsdErrorOf;

const secret = (): string => randomBytes(30).toString('base64');

describe('control API configuration', () => {
  it('listens on 127.0.0.1:1339 with no administrator keys by default', () => {
    const { config } = loadConfig({}, {});
    assert.equal(config.apiListen, '127.0.0.1:1339');
    assert.deepEqual(config.api.credentials, []);
  });

  it('takes apiListen from the flag, then IMDSD_API_LISTEN, then the file', () => {
    const path = configFile('apiListen: "127.0.0.1:7001"\n');
    assert.equal(loadConfig({ config: path }, {}).config.apiListen, '127.0.0.1:7001');
    assert.equal(
      loadConfig({ config: path }, { IMDSD_API_LISTEN: '127.0.0.1:7002' }).config.apiListen,
      '127.0.0.1:7002',
    );
    assert.equal(
      loadConfig({ config: path, apiListen: '[::1]:7003' }, { IMDSD_API_LISTEN: '127.0.0.1:7002' })
        .config.apiListen,
      '[::1]:7003',
    );
  });

  it('refuses to share an IMDS listen address', () => {
    const error = loadError(() =>
      loadConfig({ listen: ['127.0.0.1:7004'], apiListen: '127.0.0.1:7004' }, {}),
    );
    assert.match(
      error.message,
      /apiListen = "127\.0\.0\.1:7004" \(flag --api-listen\): is also an IMDS listen address/,
    );
  });

  it('adds the administrator key pair of IMDSD_API_ACCESS_KEY_ID/SECRET to those of the file', () => {
    const fileSecret = secret();
    const envSecret = secret();
    const path = configFile(
      `api:\n  credentials:\n    - { accessKeyId: AKIAFROMFILE00000001, secretAccessKey: "${fileSecret}" }\n`,
    );
    const { config } = loadConfig(
      { config: path },
      { IMDSD_API_ACCESS_KEY_ID: 'AKIAFROMENV000000001', IMDSD_API_SECRET_ACCESS_KEY: envSecret },
    );
    assert.deepEqual(config.api.credentials, [
      { accessKeyId: 'AKIAFROMFILE00000001', secretAccessKey: fileSecret },
      { accessKeyId: 'AKIAFROMENV000000001', secretAccessKey: envSecret },
    ]);
  });

  it('wants both environment variables or neither', () => {
    const error = loadError(() =>
      loadConfig({}, { IMDSD_API_ACCESS_KEY_ID: 'AKIAFROMENV000000001' }),
    );
    assert.match(error.message, /set both IMDSD_API_ACCESS_KEY_ID and IMDSD_API_SECRET_ACCESS_KEY/);
  });

  it('names a bad secret key without showing it', () => {
    const path = configFile(
      'api:\n  credentials:\n    - { accessKeyId: AKIAFROMFILE00000001, secretAccessKey: tooShortSecret }\n',
    );
    const error = loadError(() => loadConfig({ config: path }, {}));
    assert.match(
      error.message,
      /api\.credentials\[0\]\.secretAccessKey \(file .*\): must be at least 16 characters/,
    );
    assert.doesNotMatch(error.message, /tooShortSecret/);
  });

  it('refuses an access key id used twice', () => {
    const path = configFile(
      `api:\n  credentials:\n    - { accessKeyId: AKIAFROMFILE00000001, secretAccessKey: "${secret()}" }\n` +
        `    - { accessKeyId: AKIAFROMFILE00000001, secretAccessKey: "${secret()}" }\n`,
    );
    assert.match(
      loadError(() => loadConfig({ config: path }, {})).message,
      /api\.credentials\[1\]\.accessKeyId .*is used by another credential/,
    );
  });

  it('reads a role policy written as a YAML mapping or as JSON text', () => {
    const path = configFile(`
instances: [{ instanceId: i-0123456789abcdef0, iamRole: yaml-role }]
roles:
  yaml-role:
    source: minted
    policy:
      Statement:
        - Effect: Allow
          Action: ec2:ModifyInstanceMetadataOptions
          Resource: "*"
          Condition: { NumericLessThanEquals: { "ec2:MetadataHttpPutResponseHopLimit": 2 } }
  json-role:
    source: minted
    policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}'
`);
    const { roles } = loadConfig({ config: path }, {}).config;
    const yamlRole = roles['yaml-role'];
    const jsonRole = roles['json-role'];
    assert.ok(yamlRole?.source === 'minted' && jsonRole?.source === 'minted');
    assert.deepEqual(yamlRole.policy?.statements[0]?.conditions, [
      {
        operator: 'NumericLessThanEquals',
        ifExists: false,
        key: 'ec2:metadatahttpputresponsehoplimit',
        values: ['2'],
      },
    ]);
    assert.equal(jsonRole.policy?.statements[0]?.effect, 'Deny');
  });

  it('takes a policy on minted roles only: other sources sign with AWS keys, not with keys imdsd issued', () => {
    const path = configFile(
      'roles:\n  ops:\n    source: static\n    accessKeyIdEnv: OPS_KEY\n    secretAccessKeyEnv: OPS_SECRET\n    policy: { Statement: [] }\n',
    );
    assert.match(
      loadError(() => loadConfig({ config: path }, {})).message,
      /roles\.ops .*unknown key\(s\) "policy"/,
    );
  });

  it('names the policy element at fault', () => {
    const path = configFile(`
roles:
  ops:
    source: minted
    policy: { Statement: [{ Effect: Allow, Action: ec2:ModifyInstanceMetadataOptions, Resource: "*", Condition: { StringEquals: { "aws:SourceIp": "10.0.0.1" } } }] }
`);
    const error = loadError(() => loadConfig({ config: path }, {}));
    assert.match(
      error.message,
      /roles\.ops\.policy\.Statement\[0\]\.Condition\.StringEquals\.aws:SourceIp = "10\.0\.0\.1" \(file .*\): unknown condition key; imdsd knows ec2:MetadataHttpTokens/,
    );
  });
});
