import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli.ts';
import { generateAdministratorKeys } from '../support/ec2Requests.ts';
import { fetchToken, send } from '../support/rawHttp.ts';
import { startTestServer, type TestServer } from '../support/startTestServer.ts';

/**
 * The machine's AWS CLI (botocore) and `imdsd options`, unmodified clients in child
 * processes, against a running server: with administrator keys from the environment, and with
 * the instance role credentials the CLI finds in IMDS by itself.
 */

const INSTANCE = 'i-0aaaaaaaaaaaaaaa1';
const ROLE = 'operator';
const administrator = generateAdministratorKeys();
const home = mkdtempSync(join(tmpdir(), 'imdsd-aws-cli-'));
const emptyFile = join(home, 'empty');
writeFileSync(emptyFile, '');
after(() => rmSync(home, { recursive: true, force: true }));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function aws(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile('aws', args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') return reject(error);
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

/** Nothing of the machine's own AWS setup: no profile, no keys, no metadata service but ours. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    AWS_CONFIG_FILE: emptyFile,
    AWS_SHARED_CREDENTIALS_FILE: emptyFile,
    AWS_DEFAULT_REGION: 'us-east-1',
    ...extra,
  };
}

function administratorEnv(): NodeJS.ProcessEnv {
  return cleanEnv({
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: administrator.accessKeyId,
    AWS_SECRET_ACCESS_KEY: administrator.secretAccessKey,
  });
}

async function withServer(
  input: Parameters<typeof startTestServer>[0],
  test: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = await startTestServer(input);
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

const oneInstance = {
  api: { credentials: [administrator] },
  instances: [{ instanceId: INSTANCE, iamRole: ROLE }],
  roles: {
    [ROLE]: {
      source: 'minted' as const,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'ec2:ModifyInstanceMetadataOptions',
            Resource: `arn:aws:ec2:*:*:instance/${INSTANCE}`,
            Condition: { NumericLessThanEquals: { 'ec2:MetadataHttpPutResponseHopLimit': 2 } },
          },
        ],
      }),
    },
  },
};

describe('the AWS CLI against the control API', () => {
  it('modifies tokens and hop limit with --endpoint-url and reads them back with AWS_ENDPOINT_URL_EC2', async () => {
    await withServer(oneInstance, async (server) => {
      const modified = await aws(
        [
          'ec2',
          'modify-instance-metadata-options',
          '--endpoint-url',
          server.apiUrl,
          '--instance-id',
          INSTANCE,
          '--http-tokens',
          'required',
          '--http-put-response-hop-limit',
          '2',
          '--output',
          'json',
        ],
        administratorEnv(),
      );
      assert.equal(modified.code, 0, modified.stderr);
      assert.equal(
        (JSON.parse(modified.stdout) as { InstanceMetadataOptions: { State: string } })
          .InstanceMetadataOptions.State,
        'pending',
      );

      const described = await aws(
        [
          'ec2',
          'describe-instances',
          '--instance-ids',
          INSTANCE,
          '--query',
          'Reservations[0].Instances[0].MetadataOptions',
          '--output',
          'json',
        ],
        { ...administratorEnv(), AWS_ENDPOINT_URL_EC2: server.apiUrl },
      );
      assert.equal(described.code, 0, described.stderr);
      assert.deepEqual(JSON.parse(described.stdout), {
        State: 'applied',
        HttpTokens: 'required',
        HttpPutResponseHopLimit: 2,
        HttpEndpoint: 'enabled',
        HttpProtocolIpv6: 'disabled',
        InstanceMetadataTags: 'disabled',
      });

      assert.equal(
        (await send(server.baseUrl, { path: '/latest/meta-data/instance-id' })).status,
        401,
        'IMDSv1 is refused now',
      );
    });
  });

  it('reports an EC2 error code and exits non-zero on a bad value', async () => {
    await withServer(oneInstance, async (server) => {
      const result = await aws(
        [
          'ec2',
          'modify-instance-metadata-options',
          '--endpoint-url',
          server.apiUrl,
          '--instance-id',
          INSTANCE,
          '--http-put-response-hop-limit',
          '65',
        ],
        administratorEnv(),
      );
      assert.notEqual(result.code, 0);
      assert.match(
        result.stderr,
        /An error occurred \(InvalidParameterValue\) when calling the ModifyInstanceMetadataOptions operation/,
      );
    });
  });

  // The same story on real packets, with a container two hops away:
  // test/network/modifyHopLimitStory.test.ts.
  it('signs with the instance role credentials it finds in IMDS by itself; the role policy decides', async () => {
    await withServer(oneInstance, async (server) => {
      // The instance's own view: an IMDSv2 token and the instance id, as a start-up script gets them.
      const token = await fetchToken(server.baseUrl);
      const instanceId = (
        await send(server.baseUrl, {
          path: '/latest/meta-data/instance-id',
          headers: { 'X-aws-ec2-metadata-token': token },
        })
      ).text;
      const onTheInstance = cleanEnv({
        AWS_EC2_METADATA_SERVICE_ENDPOINT: `${server.baseUrl}/`,
        AWS_ENDPOINT_URL_EC2: server.apiUrl,
      });

      const allowed = await aws(
        [
          'ec2',
          'modify-instance-metadata-options',
          '--instance-id',
          instanceId,
          '--http-put-response-hop-limit',
          '2',
          '--http-endpoint',
          'enabled',
        ],
        onTheInstance,
      );
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(
        server.running.instances.byId(INSTANCE)!.metadataOptions.httpPutResponseHopLimit,
        2,
      );

      const denied = await aws(
        [
          'ec2',
          'modify-instance-metadata-options',
          '--instance-id',
          instanceId,
          '--http-put-response-hop-limit',
          '3',
        ],
        onTheInstance,
      );
      assert.notEqual(denied.code, 0);
      assert.match(
        denied.stderr,
        /\(UnauthorizedOperation\).*assumed-role\/operator\/i-0aaaaaaaaaaaaaaa1 is not authorized/,
      );
      assert.equal(
        server.running.instances.byId(INSTANCE)!.metadataOptions.httpPutResponseHopLimit,
        2,
      );
    });
  });
});

describe('imdsd options', () => {
  const noAwsSetup = {
    AWS_CONFIG_FILE: emptyFile,
    AWS_SHARED_CREDENTIALS_FILE: emptyFile,
    AWS_PROFILE: '',
  };
  const noKeys = {
    IMDSD_API_ACCESS_KEY_ID: '',
    IMDSD_API_SECRET_ACCESS_KEY: '',
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
  };
  const keysEnv = {
    ...noAwsSetup,
    ...noKeys,
    IMDSD_API_ACCESS_KEY_ID: administrator.accessKeyId,
    IMDSD_API_SECRET_ACCESS_KEY: administrator.secretAccessKey,
  };

  it('sets and shows the options through the control API, printing what the AWS CLI prints', async () => {
    await withServer(oneInstance, async (server) => {
      const set = await runCli(
        [
          'options',
          'set',
          INSTANCE,
          '--http-tokens',
          'required',
          '--hop-limit',
          '3',
          '--endpoint',
          server.apiUrl,
        ],
        keysEnv,
      );
      assert.equal(set.code, 0, set.stderr);
      assert.equal(
        (JSON.parse(set.stdout) as { InstanceMetadataOptions: { HttpPutResponseHopLimit: number } })
          .InstanceMetadataOptions.HttpPutResponseHopLimit,
        3,
      );

      const shown = await runCli(['options', 'show', INSTANCE], {
        ...keysEnv,
        AWS_ENDPOINT_URL_EC2: server.apiUrl,
      });
      assert.equal(shown.code, 0, shown.stderr);
      assert.deepEqual(JSON.parse(shown.stdout), {
        InstanceId: INSTANCE,
        MetadataOptions: {
          State: 'applied',
          HttpTokens: 'required',
          HttpPutResponseHopLimit: 3,
          HttpEndpoint: 'enabled',
          HttpProtocolIpv6: 'disabled',
          InstanceMetadataTags: 'disabled',
        },
      });
      assert.doesNotMatch(shown.stderr, /NodeVersionSupportWarning/);
    });
  });

  it('exits 1 with the EC2 code when the API refuses, and 2 on bad usage', async () => {
    await withServer(oneInstance, async (server) => {
      const dryRun = await runCli(
        ['options', 'set', INSTANCE, '--hop-limit', '5', '--dry-run', '--endpoint', server.apiUrl],
        keysEnv,
      );
      assert.equal(dryRun.code, 1);
      assert.match(
        dryRun.stderr,
        /API_REQUEST_REFUSED: DryRunOperation: Request would have succeeded/,
      );
      assert.equal(
        server.running.instances.byId(INSTANCE)!.metadataOptions.httpPutResponseHopLimit,
        1,
      );

      const nothing = await runCli(
        ['options', 'set', INSTANCE, '--endpoint', server.apiUrl],
        keysEnv,
      );
      assert.equal(nothing.code, 2);

      const keyless = await runCli(['options', 'show', INSTANCE, '--endpoint', server.apiUrl], {
        ...noAwsSetup,
        ...noKeys,
      });
      assert.equal(keyless.code, 2);
      assert.match(keyless.stderr, /no keys to sign with/);
    });
  });
});
