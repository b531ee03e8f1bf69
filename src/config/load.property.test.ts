import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { isImdsdError } from '../errors.ts';
import { formatKeyPath, loadConfig } from './load.ts';

/**
 * Properties of configuration loading over random bad values: whatever a config file, flag or
 * variable holds, loading either succeeds or fails with ImdsdError CONFIG_INVALID whose message
 * names the key (and where it came from); never another error, never a crash.
 */

const directory = mkdtempSync(join(tmpdir(), 'imdsd-config-property-'));
const file = join(directory, 'imdsd.yaml');

after(() => rmSync(directory, { recursive: true, force: true }));

function validConfig(): Record<string, unknown> {
  return {
    listen: ['127.0.0.1:1338'],
    logLevel: 'info',
    instances: [
      {
        instanceId: 'i-0123456789abcdef0',
        region: 'eu-west-1',
        availabilityZone: 'eu-west-1b',
        privateIp: '10.0.0.5',
        securityGroups: ['web'],
        tags: { Name: 'app' },
        iamRole: 'app',
        launchTime: '2024-05-01T09:15:02Z',
        metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
        clients: ['127.0.0.0/8'],
      },
    ],
    roles: { app: { source: 'minted', durationSeconds: 3600 } },
  };
}

/**
 * Keys a bad value is put at, each with the keys an error may name for it: a value can also be
 * wrong because of another key (a role an instance names must exist under roles).
 */
const KEYS: { path: (string | number)[]; blamed?: string[] }[] = [
  { path: ['listen'] },
  { path: ['listen', 0] },
  { path: ['logLevel'] },
  { path: ['state'] },
  { path: ['instances'] },
  { path: ['instances', 0] },
  { path: ['instances', 0, 'instanceId'] },
  { path: ['instances', 0, 'instanceType'] },
  { path: ['instances', 0, 'region'], blamed: ['instances[0].availabilityZone'] },
  { path: ['instances', 0, 'availabilityZone'] },
  { path: ['instances', 0, 'privateIp'] },
  { path: ['instances', 0, 'publicIp'] },
  { path: ['instances', 0, 'securityGroups'] },
  { path: ['instances', 0, 'tags'] },
  { path: ['instances', 0, 'userData'] },
  { path: ['instances', 0, 'launchTime'] },
  { path: ['instances', 0, 'iamRole'] },
  { path: ['instances', 0, 'metadataOptions'] },
  { path: ['instances', 0, 'metadataOptions', 'httpTokens'] },
  { path: ['instances', 0, 'metadataOptions', 'httpPutResponseHopLimit'] },
  { path: ['instances', 0, 'metadataOptions', 'httpEndpoint'] },
  { path: ['instances', 0, 'clients'] },
  { path: ['instances', 0, 'clients', 0] },
  { path: ['instances', 0, 'unknownKey'], blamed: ['"unknownKey"'] },
  { path: ['roles'], blamed: ['instances[0].iamRole'] },
  { path: ['roles', 'app'] },
  { path: ['roles', 'app', 'source'] },
  { path: ['roles', 'app', 'durationSeconds'] },
  { path: ['unknownKey'] },
];

const badValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string(),
  fc.integer(),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '65',
    'yes',
    'null',
    '::1',
    '10.0.0.0/33',
    'i-0123',
    '1.2.3.4:99999',
    'us-east-1',
    'x'.repeat(300),
  ),
);

function withValueAt(
  config: Record<string, unknown>,
  path: readonly (string | number)[],
  value: unknown,
): void {
  let parent = config as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) parent = parent[part] as Record<string | number, unknown>;
  parent[path.at(-1) as string | number] = value;
}

function assertConfigInvalidNaming(error: unknown, names: readonly string[]): void {
  assert.ok(isImdsdError(error, 'CONFIG_INVALID'), `not CONFIG_INVALID: ${String(error)}`);
  assert.ok(
    names.some((name) => error.message.includes(name)),
    `the message names none of ${names.join(', ')}:\n${error.message}`,
  );
}

test('a bad value anywhere in the config file fails with CONFIG_INVALID naming its key', () => {
  fc.assert(
    fc.property(fc.constantFrom(...KEYS), badValue, ({ path, blamed = [] }, value) => {
      const config = validConfig();
      withValueAt(config, path, value);
      writeFileSync(file, stringify(config));

      try {
        loadConfig({ config: file }, {});
      } catch (error) {
        assertConfigInvalidNaming(error, [formatKeyPath(path), ...blamed]);
        assert.ok((error as Error).message.includes(file), 'the message names the file');
      }
    }),
  );
});

test('any text as a config file fails with a config error, never another', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
      writeFileSync(file, text);
      try {
        loadConfig({ config: file }, {});
      } catch (error) {
        assert.ok(
          isImdsdError(error, 'CONFIG_INVALID') || isImdsdError(error, 'CONFIG_FILE_UNREADABLE'),
          String(error),
        );
      }
    }),
  );
});

test('a bad flag or variable fails with CONFIG_INVALID naming the flag or variable', () => {
  const text = fc.oneof(
    fc.string({ minLength: 1 }),
    fc.constantFrom('127.0.0.1', '[::1]', '1.2.3.4:70000', 'verbose', 'localhost:80'),
  );
  fc.assert(
    fc.property(fc.constantFrom('listen', 'logLevel'), fc.boolean(), text, (key, asFlag, value) => {
      fc.pre(value.trim() !== '');
      const flag = key === 'listen' ? '--listen' : '--log-level';
      const variable = key === 'listen' ? 'IMDSD_LISTEN' : 'IMDSD_LOG_LEVEL';
      const flags = asFlag ? { [key]: key === 'listen' ? [value] : value } : {};
      const env = asFlag ? {} : { [variable]: value };

      try {
        loadConfig(flags, env);
      } catch (error) {
        assertConfigInvalidNaming(error, [asFlag ? `flag ${flag}` : `environment ${variable}`]);
      }
    }),
  );
});
