import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { botocorePython } from '../support/awsClients.ts';
import { fetchToken, send } from '../support/rawHttp.ts';
import { startTestServer, type TestServer } from '../support/startTestServer.ts';

/**
 * Unmodified AWS clients get their credentials from imdsd by IMDSv2, in `optional` and in
 * `required` mode: the AWS SDK for JavaScript v3, the AWS CLI and botocore. Each runs in a
 * child process whose only credential source is the endpoint the test gives it.
 */

const run = promisify(execFile);
const ROLE = 'client-test-role';
const home = mkdtempSync(join(tmpdir(), 'imdsd-clients-'));
const emptyFile = join(home, 'empty');
writeFileSync(emptyFile, '');

function clientEnv(baseUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: home,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: `${baseUrl}/`,
    AWS_CONFIG_FILE: emptyFile,
    AWS_SHARED_CREDENTIALS_FILE: emptyFile,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_METADATA_SERVICE_TIMEOUT: '2',
  };
  return env;
}

/** The credentials imdsd serves to an IMDSv2 caller, read directly. */
async function servedCredentials(
  baseUrl: string,
): Promise<{ AccessKeyId: string; SecretAccessKey: string; Token: string }> {
  const token = await fetchToken(baseUrl);
  const response = await send(baseUrl, {
    path: `/latest/meta-data/iam/security-credentials/${ROLE}`,
    headers: { 'X-aws-ec2-metadata-token': token },
  });
  return JSON.parse(response.text) as {
    AccessKeyId: string;
    SecretAccessKey: string;
    Token: string;
  };
}

const JS_SDK_SCRIPT = `
  const { fromInstanceMetadata } = await import('@aws-sdk/credential-providers');
  const credentials = await fromInstanceMetadata({ timeout: 2000, maxRetries: 0 })();
  process.stdout.write(JSON.stringify(credentials));
`;

// The fetcher does not read the endpoint variable itself (the session's config chain does),
// so the script hands it over explicitly: it must never fall back to 169.254.169.254.
const BOTOCORE_SCRIPT = `
import json, os
from botocore.utils import InstanceMetadataFetcher
fetcher = InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=os.environ['AWS_EC2_METADATA_SERVICE_ENDPOINT'])
print(json.dumps(fetcher.retrieve_iam_role_credentials(), default=str))
`;

for (const httpTokens of ['optional', 'required'] as const) {
  describe(`real clients against httpTokens: ${httpTokens}`, () => {
    let server: TestServer;
    let expected: { AccessKeyId: string; SecretAccessKey: string; Token: string };

    before(async () => {
      server = await startTestServer({
        instances: [
          { instanceId: 'i-0ccccccccccccccc3', iamRole: ROLE, metadataOptions: { httpTokens } },
        ],
        roles: { [ROLE]: { source: 'minted' } },
      });
      expected = await servedCredentials(server.baseUrl);
    });
    after(() => server.close());

    it('the AWS SDK for JavaScript v3 (fromInstanceMetadata) gets the IMDSv2 credentials', async () => {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', JS_SDK_SCRIPT], {
        env: clientEnv(server.baseUrl),
        cwd: process.cwd(),
      });
      const credentials = JSON.parse(stdout) as {
        accessKeyId: string;
        secretAccessKey: string;
        sessionToken: string;
      };
      assert.equal(credentials.accessKeyId, expected.AccessKeyId);
      assert.equal(credentials.secretAccessKey, expected.SecretAccessKey);
      assert.equal(credentials.sessionToken, expected.Token);
    });

    it('the AWS CLI signs its requests with the IMDSv2 credentials', async () => {
      // CLI v1 has no `configure export-credentials`: the request it signs shows the keys.
      const sts = await startRecordingSts();
      try {
        await run(
          'aws',
          ['sts', 'get-caller-identity', '--endpoint-url', sts.url, '--output', 'json'],
          {
            env: clientEnv(server.baseUrl),
          },
        );
        const signed = sts.requests[0];
        assert.ok(signed, 'the CLI sent a request');
        assert.match(
          signed.authorization,
          new RegExp(`^AWS4-HMAC-SHA256 Credential=${expected.AccessKeyId}/`),
        );
        assert.equal(signed.securityToken, expected.Token);
      } finally {
        await sts.close();
      }
    });

    it('the AWS CLI reports the instance role as its credential source', async () => {
      const { stdout } = await run('aws', ['configure', 'list'], {
        env: clientEnv(server.baseUrl),
      });
      assert.match(
        stdout,
        new RegExp(`access_key\\s+\\*+${expected.AccessKeyId.slice(-4)}\\s+iam-role`),
      );
    });

    it('botocore InstanceMetadataFetcher gets the IMDSv2 credentials', async () => {
      const python = botocorePython();
      assert.ok(python, 'a python3 with botocore');
      const { stdout } = await run(python, ['-c', BOTOCORE_SCRIPT], {
        env: clientEnv(server.baseUrl),
      });
      const credentials = JSON.parse(stdout) as {
        role_name: string;
        access_key: string;
        secret_key: string;
        token: string;
      };
      assert.equal(credentials.role_name, ROLE);
      assert.equal(credentials.access_key, expected.AccessKeyId);
      assert.equal(credentials.secret_key, expected.SecretAccessKey);
      assert.equal(credentials.token, expected.Token);
    });
  });
}

after(() => rmSync(home, { recursive: true, force: true }));

interface RecordingSts {
  url: string;
  requests: Array<{ authorization: string; securityToken: string }>;
  close(): Promise<void>;
}

/** A loopback stand-in for STS that records how requests were signed and answers GetCallerIdentity. */
async function startRecordingSts(): Promise<RecordingSts> {
  const requests: RecordingSts['requests'] = [];
  const server = createServer((request, response) => {
    requests.push({
      authorization: String(request.headers['authorization'] ?? ''),
      securityToken: String(request.headers['x-amz-security-token'] ?? ''),
    });
    response.writeHead(200, { 'Content-Type': 'text/xml' });
    response.end(
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        '<Arn>arn:aws:sts::123456789012:assumed-role/client-test-role/i-0ccccccccccccccc3</Arn>' +
        '<UserId>AROAEXAMPLE:i-0ccccccccccccccc3</UserId><Account>123456789012</Account>' +
        '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
