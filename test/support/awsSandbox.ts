import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Variables through which real credentials or a real endpoint could reach a test. */
const CLEARED = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
];

export interface AwsSandbox {
  /** A profile in the temporary AWS_CONFIG_FILE with freshly generated fake keys. */
  profile: string;
  accessKeyId: string;
  /** The environment for a child process: no real credentials, IMDS off. */
  childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  restore(): Promise<void>;
}

/**
 * Points this process's AWS SDK at temporary config and credentials files holding one profile
 * with generated keys (moto accepts any), and clears every variable that could bring in real
 * credentials. IMDS stays disabled for the SDK chain.
 */
export async function useAwsSandbox(): Promise<AwsSandbox> {
  const directory = await mkdtemp(join(tmpdir(), 'imdsd-aws-'));
  const profile = 'imdsd-test';
  const accessKeyId = `AKIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
  const secretAccessKey = randomBytes(30).toString('base64');

  const configFile = join(directory, 'config');
  const credentialsFile = join(directory, 'credentials');
  await writeFile(
    configFile,
    `[profile ${profile}]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\nregion = us-east-1\n`,
  );
  await writeFile(credentialsFile, '');

  const saved = new Map(
    CLEARED.concat(
      'AWS_CONFIG_FILE',
      'AWS_SHARED_CREDENTIALS_FILE',
      'AWS_EC2_METADATA_DISABLED',
    ).map((name) => [name, process.env[name]]),
  );
  for (const name of CLEARED) delete process.env[name];
  process.env['AWS_CONFIG_FILE'] = configFile;
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = credentialsFile;
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';

  return {
    profile,
    accessKeyId,
    childEnv: (extra = {}) => ({ ...process.env, ...extra }),
    async restore() {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
