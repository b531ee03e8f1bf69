import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY } from './imdsdInNamespace.ts';
import type { CommandResult, TestNetwork } from './netns.ts';

/**
 * Real AWS clients, unmodified, run inside a namespace of the test network against an
 * explicit endpoint. Each child gets a fresh environment: no AWS variable of the test process,
 * empty config and credential files, so IMDS is its only credential source.
 */

/** The whole budget of one client run; each client's own timeouts are far shorter. */
const CLIENT_RUN_TIMEOUT_MS = 15_000;

export interface ClientEnvironment {
  env(endpoint: string): NodeJS.ProcessEnv;
  remove(): void;
}

export function clientEnvironment(): ClientEnvironment {
  const home = mkdtempSync(join(tmpdir(), 'imdsd-clients-'));
  const empty = join(home, 'empty');
  writeFileSync(empty, '');

  return {
    env: (endpoint) => ({
      PATH: process.env['PATH'],
      HOME: home,
      AWS_CONFIG_FILE: empty,
      AWS_SHARED_CREDENTIALS_FILE: empty,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
      // botocore and the CLI: 1 s per IMDS request and one attempt (their defaults, made explicit).
      AWS_METADATA_SERVICE_TIMEOUT: '1',
      AWS_METADATA_SERVICE_NUM_ATTEMPTS: '1',
    }),
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** What a credential client ended with: the access key id it got (or its last four characters). */
export interface CredentialOutcome {
  accessKeyId: string | undefined;
  /** The client's own words, for assertion messages. */
  detail: string;
}

// fromInstanceMetadata with its defaults (1 s timeout, no retry): a token PUT that times out
// falls back to IMDSv1 for this call (reference §4.2).
const JS_SDK_SCRIPT = `
const { fromInstanceMetadata } = await import('@aws-sdk/credential-providers');
try {
  const credentials = await fromInstanceMetadata()();
  process.stdout.write(JSON.stringify({ accessKeyId: credentials.accessKeyId }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: error.name + ': ' + error.message }));
}
`;

// The fetcher does not read the endpoint variable itself (botocore's session config does), so
// it is handed over: it must never fall back to the real address.
const BOTOCORE_SCRIPT = `
import json, os
from botocore.utils import InstanceMetadataFetcher
fetcher = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=os.environ['AWS_EC2_METADATA_SERVICE_ENDPOINT'])
credentials = fetcher.retrieve_iam_role_credentials()
print(json.dumps({'accessKeyId': credentials.get('access_key')}))
`;

export async function jsSdkCredentials(
  network: TestNetwork,
  namespace: string,
  env: NodeJS.ProcessEnv,
): Promise<CredentialOutcome> {
  const result = await network.run(
    namespace,
    [process.execPath, '--input-type=module', '-e', JS_SDK_SCRIPT],
    {
      env,
      cwd: REPOSITORY,
      timeoutMs: CLIENT_RUN_TIMEOUT_MS,
    },
  );
  const output = parseJson(result) as { accessKeyId?: string; error?: string };
  return { accessKeyId: output.accessKeyId, detail: output.error ?? 'credentials' };
}

export async function botocoreCredentials(
  network: TestNetwork,
  namespace: string,
  env: NodeJS.ProcessEnv,
): Promise<CredentialOutcome> {
  const python = botocorePython();
  if (python === undefined) throw new Error('no python3 with botocore');
  const result = await network.run(namespace, [python, '-c', BOTOCORE_SCRIPT], {
    env,
    timeoutMs: CLIENT_RUN_TIMEOUT_MS,
  });
  const output = parseJson(result) as { accessKeyId: string | null };
  return {
    accessKeyId: output.accessKeyId ?? undefined,
    detail: result.stderr.trim() || 'no credentials',
  };
}

/**
 * The AWS CLI's credential chain, as `aws configure list` shows it: the last four characters
 * of the access key and `iam-role` as its type when IMDS provided it. (CLI v1 has no
 * `configure export-credentials`.)
 */
export async function awsCliCredentials(
  network: TestNetwork,
  namespace: string,
  env: NodeJS.ProcessEnv,
): Promise<CredentialOutcome> {
  const result = await network.run(namespace, ['aws', 'configure', 'list'], {
    env,
    timeoutMs: CLIENT_RUN_TIMEOUT_MS,
  });
  if (result.exitCode !== 0) throw new Error(`aws configure list failed: ${result.stderr}`);
  const suffix = /access_key\s+\*+(\w{4})\s+iam-role/.exec(result.stdout)?.[1];
  return { accessKeyId: suffix, detail: result.stdout };
}

/** Why the AWS CLI and botocore tests cannot run here, or undefined when they can. */
export function pythonClientsUnavailable(): string | undefined {
  if (botocorePython() === undefined) return 'needs python3 with botocore';
  if (!succeeds('aws', ['--version'])) return 'needs the AWS CLI (aws)';
  return undefined;
}

let foundPython: string | undefined | null = null;

/** The first python3 with botocore: the one on PATH, else Debian's (package python3-botocore). */
export function botocorePython(): string | undefined {
  if (foundPython === null) {
    foundPython = ['python3', '/usr/bin/python3'].find((python) =>
      succeeds(python, ['-c', 'import botocore.utils']),
    );
  }
  return foundPython;
}

function succeeds(command: string, args: string[]): boolean {
  return (
    spawnSync(command, args, { env: { PATH: process.env['PATH'] }, stdio: 'ignore' }).status === 0
  );
}

function parseJson(result: CommandResult): unknown {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(
      `client printed no result (exit ${result.exitCode ?? result.signal}): ${result.stdout}${result.stderr}`,
    );
  }
}
