import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConfigInput } from '../../src/config/schema.ts';
import {
  clientEnvironment,
  jsSdkCredentials,
  type ClientEnvironment,
} from '../support/awsClients.ts';
import { generateAdministratorKeys } from '../support/ec2Requests.ts';
import { startImdsdInNamespace, type ImdsdInNamespace } from '../support/imdsdInNamespace.ts';
import { curl, curlToken, CURL_PATIENT_TIMEOUT_SECONDS } from '../support/metadataProbes.ts';
import {
  createTestNetwork,
  IMDS_IPV4,
  testNetworkUnavailable,
  type CommandResult,
  type TestNetwork,
} from '../support/netns.ts';

/**
 * Issue 4's whole story on real packets. An instance has `httpTokens: required` and hop limit 1,
 * so a container on it (two routed hops from IMDS) gets no token and so no credentials. A
 * start-up script on the instance itself (the host namespace, one hop) raises the hop limit with
 * `aws ec2 modify-instance-metadata-options`, signed with the instance role credentials the AWS
 * CLI finds in IMDS by itself, as on EC2 (DESIGN.md, "The problem it solves"). Then the
 * container gets a token and credentials. A role without ec2:ModifyInstanceMetadataOptions runs
 * the same script, gets UnauthorizedOperation, and nothing changes.
 */

const INSTANCE = 'i-0aaaaaaaaaaaaaaa1';
const MODIFY = 'ec2:ModifyInstanceMetadataOptions';
const IMDS_ENDPOINT = `http://${IMDS_IPV4}/`;
/** Only inside the imds namespace, so any port is free; 1339 is the control API's default. */
const API_PORT = 1339;
/** The whole budget of the script; each of its clients has a timeout of 1 to 2 s. */
const SCRIPT_TIMEOUT_MS = 10_000;

/**
 * What an operator writes in an instance's user data, unchanged but for the endpoints the
 * environment gives: IMDSv2 for the instance id, then the CLI with no keys of its own.
 */
const RAISE_HOP_LIMIT_SCRIPT = `
set -euo pipefail
TOKEN=$(curl -sSf -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \\
  http://169.254.169.254/latest/api/token)
ID=$(curl -sSf -m 2 -H "X-aws-ec2-metadata-token: $TOKEN" \\
  http://169.254.169.254/latest/meta-data/instance-id)
aws ec2 modify-instance-metadata-options --instance-id "$ID" \\
  --http-put-response-hop-limit 2 --http-endpoint enabled
`;

/** A role that may raise the hop limit of instances; roughly what AWS documents for it. */
const OPERATOR_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'ChangeMetadataOptions',
      Effect: 'Allow',
      Action: MODIFY,
      Resource: 'arn:aws:ec2:*:*:instance/*',
    },
    // DescribeInstances has no resource-level permissions: IAM grants it on "*" only.
    { Sid: 'ReadInstances', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
  ],
};

/** Read-only, as AmazonEC2ReadOnlyAccess: ec2:Describe* and nothing that changes anything. */
const READ_ONLY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }],
};

const administrator = generateAdministratorKeys();

/** One instance whose callers are the host and the container `app` running on it. */
function storyConfig(network: TestNetwork, role: string, policy: unknown): ConfigInput {
  const callers = [network.host, network.container('app')];
  return {
    api: { credentials: [administrator] },
    roles: { [role]: { source: 'minted', policy } },
    instances: [
      {
        instanceId: INSTANCE,
        iamRole: role,
        clients: callers.flatMap((caller) => [caller.ipv4Block, caller.ipv6Block]),
        metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 },
      },
    ],
  };
}

interface Story {
  network: TestNetwork;
  imdsd: ImdsdInNamespace;
  clients: ClientEnvironment;
  /** The control API, on the imds namespace's link: reached from the host as on a VPC. */
  apiUrl: string;
}

async function startStory(role: string, policy: unknown): Promise<Story> {
  const network = await createTestNetwork({ containers: ['app'] });
  const clients = clientEnvironment();
  const apiListen = `${network.imdsLink.ipv4}:${API_PORT}`;
  try {
    const imdsd = await startImdsdInNamespace(network, storyConfig(network, role, policy), {
      apiListen,
    });
    return { network, imdsd, clients, apiUrl: `http://${apiListen}` };
  } catch (error) {
    await network.destroy();
    clients.remove();
    throw error;
  }
}

async function endStory(story: Story | undefined): Promise<void> {
  try {
    await story?.imdsd.stop();
  } finally {
    await story?.network.destroy();
    story?.clients.remove();
  }
}

/**
 * The script in the host namespace with the environment of an instance: the CLI's own
 * credential chain (no keys, empty config files, IMDS enabled at the test's address) and the
 * control API as its EC2 endpoint.
 */
function runStartUpScript(story: Story): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = {
    ...story.clients.env(IMDS_ENDPOINT),
    AWS_ENDPOINT_URL_EC2: story.apiUrl,
  };
  assert.equal(env['AWS_EC2_METADATA_DISABLED'], undefined);
  assert.equal(env['AWS_ACCESS_KEY_ID'], undefined);

  return story.network.run(story.network.host.namespace, ['bash', '-c', RAISE_HOP_LIMIT_SCRIPT], {
    env,
    timeoutMs: SCRIPT_TIMEOUT_MS,
  });
}

/** The instance's metadata options as the administrator reads them from the host. */
async function describedMetadataOptions(story: Story): Promise<Record<string, unknown>> {
  const result = await story.network.run(
    story.network.host.namespace,
    [
      'aws',
      'ec2',
      'describe-instances',
      '--instance-ids',
      INSTANCE,
      '--query',
      'Reservations[0].Instances[0].MetadataOptions',
      '--output',
      'json',
    ],
    {
      env: {
        ...story.clients.env(IMDS_ENDPOINT),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ACCESS_KEY_ID: administrator.accessKeyId,
        AWS_SECRET_ACCESS_KEY: administrator.secretAccessKey,
        AWS_ENDPOINT_URL_EC2: story.apiUrl,
      },
      timeoutMs: SCRIPT_TIMEOUT_MS,
    },
  );
  assert.equal(result.exitCode, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

async function assertNoTokenReachesTheContainer(story: Story): Promise<void> {
  const container = story.network.container('app').namespace;
  const response = await curlToken(story.network, container, IMDS_ENDPOINT);

  assert.equal(response.exitCode, 28, `curl timed out: ${response.error}`);
  assert.match(response.error, /Operation timed out after \d+ milliseconds with 0 bytes received/);
}

const unavailable = testNetworkUnavailable();

describe(
  'raising the hop limit from the instance: the whole story',
  {
    skip: unavailable ?? false,
    concurrency: 2,
  },
  () => {
    describe('with a role allowed to modify metadata options', () => {
      let story: Story;

      before(async () => {
        story = await startStory('hop-limit-operator', OPERATOR_POLICY);
      });

      after(() => endStory(story));

      it('1. a container two hops away gets no token, and IMDSv1 is refused', async () => {
        await assertNoTokenReachesTheContainer(story);

        const imdsv1 = await curl(
          story.network,
          story.network.container('app').namespace,
          `${IMDS_ENDPOINT}latest/meta-data/instance-id`,
        );
        assert.equal(imdsv1.status, '401', 'httpTokens required');
      });

      it('2. a start-up script on the host raises the hop limit as the instance role', async () => {
        const result = await runStartUpScript(story);

        assert.equal(result.exitCode, 0, result.stderr);
        const output = JSON.parse(result.stdout) as {
          InstanceId: string;
          InstanceMetadataOptions: Record<string, unknown>;
        };
        assert.equal(output.InstanceId, INSTANCE, 'the id the script read from IMDSv2');
        assert.equal(output.InstanceMetadataOptions['HttpPutResponseHopLimit'], 2);
        assert.equal(output.InstanceMetadataOptions['HttpEndpoint'], 'enabled');
        assert.equal(output.InstanceMetadataOptions['HttpTokens'], 'required');
      });

      it('3. then the container gets a token and role credentials (curl, JS SDK)', async () => {
        const container = story.network.container('app').namespace;

        const patient = CURL_PATIENT_TIMEOUT_SECONDS;
        const token = await curlToken(story.network, container, IMDS_ENDPOINT, patient);
        assert.equal(token.status, '200', token.error);
        const withToken = ['-H', `X-aws-ec2-metadata-token: ${token.body}`];
        const roles = await curl(
          story.network,
          container,
          `${IMDS_ENDPOINT}latest/meta-data/iam/security-credentials/`,
          withToken,
          patient,
        );
        assert.equal(roles.body, 'hop-limit-operator', roles.error);
        const document = await curl(
          story.network,
          container,
          `${IMDS_ENDPOINT}latest/meta-data/iam/security-credentials/${roles.body}`,
          withToken,
          patient,
        );
        assert.equal(document.status, '200', document.error);
        const credentials = JSON.parse(document.body) as { Code: string; AccessKeyId: string };
        assert.equal(credentials.Code, 'Success');

        // httpTokens is required, so the SDK can only have got them by IMDSv2.
        const sdkEnv = story.clients.env(IMDS_ENDPOINT);
        const sdk = await jsSdkCredentials(story.network, container, sdkEnv);
        assert.equal(sdk.accessKeyId, credentials.AccessKeyId, sdk.detail);
      });
    });

    describe('with a read-only role (no ec2:ModifyInstanceMetadataOptions)', () => {
      let story: Story;

      before(async () => {
        story = await startStory('read-only', READ_ONLY_POLICY);
      });

      after(() => endStory(story));

      it('4. the same script fails with UnauthorizedOperation, and nothing changes', async () => {
        const result = await runStartUpScript(story);

        assert.notEqual(result.exitCode, 0);
        assert.match(
          result.stderr,
          /error occurred \(UnauthorizedOperation\) when calling the ModifyInstanceMetadataOptions/,
        );
        assert.match(
          result.stderr,
          new RegExp(`assumed-role/read-only/${INSTANCE} is not authorized to perform: ${MODIFY}`),
        );

        await assertNoTokenReachesTheContainer(story);
        assert.deepEqual(await describedMetadataOptions(story), {
          State: 'applied',
          HttpTokens: 'required',
          HttpPutResponseHopLimit: 1,
          HttpEndpoint: 'enabled',
          HttpProtocolIpv6: 'disabled',
          InstanceMetadataTags: 'disabled',
        });
      });
    });
  },
);
