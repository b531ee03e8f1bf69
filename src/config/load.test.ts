import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { configFiles, imdsdErrorOf } from '../../test/support/configFiles.ts';
import { loadConfig } from './load.ts';

const files = configFiles('imdsd-config-');
after(() => files.remove());
const configFile = (yaml: string): string => files.write(yaml);
const loadError = imdsdErrorOf;

describe('configuration', () => {
  it('with nothing given, serves one default instance with a minted role on 127.0.0.1:1338', () => {
    const { config } = loadConfig({}, {});
    assert.deepEqual(config.listen, ['127.0.0.1:1338']);
    assert.equal(config.instances?.length, 1);
    const [instance] = config.instances!;
    assert.match(instance!.instanceId, /^i-[0-9a-f]{17}$/);
    assert.equal(instance!.metadataOptions.httpTokens, 'optional');
    assert.equal(instance!.metadataOptions.httpPutResponseHopLimit, 1);
    assert.equal(config.roles[instance!.iamRole!]?.source, 'minted');
  });

  it('reads the documented file keys', () => {
    const path = configFile(`
listen: ["127.0.0.1:0"]
instances:
  - instanceId: i-0123456789abcdef0
    instanceType: t3.micro
    region: us-west-2
    availabilityZone: us-west-2a
    privateIp: 10.0.1.17
    publicIp: 203.0.113.10
    userData: "#!/bin/bash\\necho hi"
    tags: { Name: web }
    keyName: my-key
    iamRole: app-role
    metadataOptions: { httpTokens: required, httpPutResponseHopLimit: 2 }
    clients: ["10.0.0.0/8"]
roles:
  app-role: { source: minted, durationSeconds: 3600 }
`);
    const { config, configFile: file } = loadConfig({ config: path }, {});
    assert.equal(file, path);
    assert.equal(config.instances?.[0]?.metadataOptions.httpPutResponseHopLimit, 2);
    assert.equal(config.instances?.[0]?.metadataOptions.httpEndpoint, 'enabled');
    assert.deepEqual(config.roles['app-role'], { source: 'minted', durationSeconds: 3600 });
  });

  it('takes flags over the environment over the file', () => {
    const path = configFile('listen: ["127.0.0.1:1"]\nlogLevel: warn\n');
    const env = {
      IMDSD_LISTEN: '127.0.0.1:2, [::1]:3',
      IMDSD_LOG_LEVEL: 'debug',
      IMDSD_CONFIG: path,
    };
    assert.deepEqual(loadConfig({}, env).config.listen, ['127.0.0.1:2', '[::1]:3']);
    assert.equal(loadConfig({}, env).config.logLevel, 'debug');
    assert.deepEqual(loadConfig({ listen: ['127.0.0.1:4'] }, env).config.listen, ['127.0.0.1:4']);
    assert.equal(loadConfig({}, { IMDSD_CONFIG: path }).config.logLevel, 'warn');
  });

  it('names the key, the value and the file of a bad value', () => {
    const path = configFile(
      'instances:\n  - instanceId: i-0123456789abcdef0\n    metadataOptions: { httpPutResponseHopLimit: 65 }\n',
    );
    const error = loadError(() => loadConfig({ config: path }, {}));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /instances\[0\]\.metadataOptions\.httpPutResponseHopLimit = 65/);
    assert.ok(error.message.includes(path));
    assert.match(error.message, /64/);
  });

  it('names the flag or variable a bad value came from', () => {
    assert.match(
      loadError(() => loadConfig({ listen: ['nowhere'] }, {})).message,
      /listen\[0\] = "nowhere" \(flag --listen\)/,
    );
    assert.match(
      loadError(() => loadConfig({}, { IMDSD_LOG_LEVEL: 'loud' })).message,
      /logLevel = "loud" \(environment IMDSD_LOG_LEVEL\)/,
    );
  });

  it('refuses unknown keys, so a typo is never silently ignored', () => {
    const path = configFile(
      'instances:\n  - instanceId: i-0123456789abcdef0\n    metdataOptions: {}\n',
    );
    assert.match(
      loadError(() => loadConfig({ config: path }, {})).message,
      /unknown key\(s\) "metdataOptions"/,
    );
  });

  it('refuses a role that is not defined, and an instance id used twice', () => {
    const path = configFile(`
instances:
  - { instanceId: i-0123456789abcdef0, iamRole: missing-role }
  - { instanceId: i-0123456789abcdef0, clients: ["10.0.0.0/8"] }
`);
    const message = loadError(() => loadConfig({ config: path }, {})).message;
    assert.match(message, /instances\[0\]\.iamRole = "missing-role".*not defined under roles/);
    assert.match(message, /instances\[1\]\.instanceId .*used by another instance/);
  });

  it('refuses two instances claiming the same caller block', () => {
    const path = configFile(`
instances:
  - { instanceId: i-0123456789abcdef0 }
  - { instanceId: i-0123456789abcdef1 }
`);
    assert.match(
      loadError(() => loadConfig({ config: path }, {})).message,
      /clients\[0\].*also a client block of instances\[0\]/,
    );
  });

  it('reports an unreadable or malformed file as such', () => {
    assert.equal(
      loadError(() => loadConfig({ config: files.path('absent.yaml') }, {})).code,
      'CONFIG_FILE_UNREADABLE',
    );
    assert.equal(
      loadError(() => loadConfig({ config: configFile('listen: [unclosed') }, {})).code,
      'CONFIG_FILE_UNREADABLE',
    );
    assert.equal(
      loadError(() => loadConfig({ config: configFile('- a list') }, {})).code,
      'CONFIG_FILE_UNREADABLE',
    );
  });
});
