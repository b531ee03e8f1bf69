import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceMetadataOptionsCommand,
} from '@aws-sdk/client-ec2';
import type { ConfigInput } from '../../src/config/schema.ts';
import { errorCode, sdkRefusal, sendEc2Request, type SigningKeys } from '../support/ec2Requests.ts';
import { fetchToken, send } from '../support/rawHttp.ts';
import { startTestServer, type TestServer } from '../support/startTestServer.ts';

/**
 * Role credentials imdsd delivered by IMDS sign control API calls, as a script on an EC2
 * instance does with its instance role; the role's policy decides.
 */

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const INSTANCE = 'i-0aaaaaaaaaaaaaaa1';
const INSTANCE_ARN = `arn:aws:ec2:us-east-1:123456789012:instance/${INSTANCE}`;
const ROLE = 'operator';
const MODIFY = 'ec2:ModifyInstanceMetadataOptions';

interface RoleSetup {
  server: TestServer;
  credentials: SigningKeys;
  ec2: EC2Client;
  close(): Promise<void>;
}

/** A server whose one instance (the caller's, on loopback) has role `operator` with `policy`. */
async function withRole(
  policy: unknown,
  options: {
    delivery?: 'imdsv1' | 'imdsv2';
    extra?: Partial<ConfigInput>;
    now?: () => number;
  } = {},
): Promise<RoleSetup> {
  const role =
    policy === undefined ? { source: 'minted' as const } : { source: 'minted' as const, policy };
  const server = await startTestServer(
    {
      instances: [{ instanceId: INSTANCE, iamRole: ROLE, clients: ['127.0.0.0/8'] }],
      roles: { [ROLE]: role },
      ...options.extra,
    },
    options.now === undefined ? {} : { now: options.now },
  );
  const credentials = await roleCredentials(server, options.delivery ?? 'imdsv2');
  const ec2 = new EC2Client({
    endpoint: server.apiUrl,
    region: 'us-east-1',
    credentials: { ...credentials },
    maxAttempts: 1,
  });
  return {
    server,
    credentials,
    ec2,
    close: async () => {
      ec2.destroy();
      await server.close();
    },
  };
}

/** What a program on the instance gets: token PUT, then the role's credential document. */
async function roleCredentials(
  server: TestServer,
  delivery: 'imdsv1' | 'imdsv2',
  roleName = ROLE,
): Promise<SigningKeys> {
  const headers =
    delivery === 'imdsv2' ? { 'X-aws-ec2-metadata-token': await fetchToken(server.baseUrl) } : {};
  const path =
    roleName === 'ec2-instance'
      ? '/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance'
      : `/latest/meta-data/iam/security-credentials/${roleName}`;
  const document = JSON.parse((await send(server.baseUrl, { path, headers })).text) as Record<
    string,
    string
  >;
  return {
    accessKeyId: document['AccessKeyId']!,
    secretAccessKey: document['SecretAccessKey']!,
    sessionToken: document['Token']!,
  };
}

function hopLimit(setup: RoleSetup): number {
  return setup.server.running.instances.byId(INSTANCE)!.metadataOptions.httpPutResponseHopLimit;
}

function modifyHopLimit(setup: RoleSetup, value: number) {
  return setup.ec2.send(
    new ModifyInstanceMetadataOptionsCommand({
      InstanceId: INSTANCE,
      HttpPutResponseHopLimit: value,
    }),
  );
}

const allowModify = (extra: Record<string, unknown> = {}) => ({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: [MODIFY, 'ec2:DescribeInstances'], Resource: '*', ...extra },
  ],
});

describe('role credentials delivered by IMDS', () => {
  it('change the instance when the role policy allows ec2:ModifyInstanceMetadataOptions', async () => {
    const setup = await withRole(allowModify());
    try {
      const output = await modifyHopLimit(setup, 2);
      assert.equal(output.InstanceMetadataOptions?.HttpPutResponseHopLimit, 2);
      assert.equal(hopLimit(setup), 2);
    } finally {
      await setup.close();
    }
  });

  it('get UnauthorizedOperation (403, in plain text) when the policy lacks the action, and nothing changes', async () => {
    const setup = await withRole({
      Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' }],
    });
    try {
      const denied = await sdkRefusal(modifyHopLimit(setup, 2));
      assert.equal(denied.code, 'UnauthorizedOperation');
      assert.equal(denied.status, 403);
      assert.match(
        denied.message,
        new RegExp(
          `User: arn:aws:sts::123456789012:assumed-role/${ROLE}/${INSTANCE} is not authorized to perform: ${MODIFY} on resource: ${INSTANCE_ARN} because no identity-based policy allows`,
        ),
      );
      assert.doesNotMatch(denied.message, /Encoded authorization failure message/);
      assert.equal(hopLimit(setup), 1);
    } finally {
      await setup.close();
    }
  });

  it('under NumericLessThanEquals 2 on ec2:MetadataHttpPutResponseHopLimit may set 2 but not 3', async () => {
    const setup = await withRole(
      allowModify({
        Condition: { NumericLessThanEquals: { 'ec2:MetadataHttpPutResponseHopLimit': 2 } },
      }),
    );
    try {
      await modifyHopLimit(setup, 2);
      assert.equal(hopLimit(setup), 2);

      assert.equal((await sdkRefusal(modifyHopLimit(setup, 3))).code, 'UnauthorizedOperation');
      assert.equal(hopLimit(setup), 2);
    } finally {
      await setup.close();
    }
  });

  it('are refused by an explicit Deny even where an Allow matches, naming the statement', async () => {
    const setup = await withRole({
      Statement: [
        { Effect: 'Allow', Action: 'ec2:*', Resource: '*' },
        {
          Sid: 'KeepTokensRequired',
          Effect: 'Deny',
          Action: MODIFY,
          Resource: '*',
          Condition: { StringEquals: { 'ec2:MetadataHttpTokens': 'optional' } },
        },
      ],
    });
    try {
      const denied = await sdkRefusal(
        setup.ec2.send(
          new ModifyInstanceMetadataOptionsCommand({
            InstanceId: INSTANCE,
            HttpTokens: 'optional',
          }),
        ),
      );
      assert.equal(denied.code, 'UnauthorizedOperation');
      assert.match(denied.message, /explicit deny .*statement KeepTokensRequired/);
      await setup.ec2.send(
        new ModifyInstanceMetadataOptionsCommand({ InstanceId: INSTANCE, HttpTokens: 'required' }),
      );
    } finally {
      await setup.close();
    }
  });

  it('of a role without a policy may do nothing, as an EC2 instance role without permissions', async () => {
    const setup = await withRole(undefined);
    try {
      const denied = await sdkRefusal(setup.ec2.send(new DescribeInstancesCommand({})));
      assert.equal(denied.code, 'UnauthorizedOperation');
      assert.match(denied.message, /role operator has no policy/);
    } finally {
      await setup.close();
    }
  });

  it('may be limited to the instance they were delivered to (Resource ARN) and to their own account', async () => {
    const otherAccount = 'i-0bbbbbbbbbbbbbbb2';
    const setup = await withRole(
      {
        Statement: [
          { Effect: 'Allow', Action: MODIFY, Resource: INSTANCE_ARN },
          { Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
        ],
      },
      {
        extra: {
          instances: [
            { instanceId: INSTANCE, iamRole: ROLE, clients: ['127.0.0.0/8'] },
            { instanceId: otherAccount, accountId: '210987654321', clients: ['10.0.0.0/8'] },
          ],
        },
      },
    );
    try {
      await modifyHopLimit(setup, 2);
      const described = await setup.ec2.send(new DescribeInstancesCommand({}));
      assert.deepEqual(
        described.Reservations?.map((reservation) => reservation.Instances?.[0]?.InstanceId),
        [INSTANCE],
      );

      const elsewhere = await sdkRefusal(
        setup.ec2.send(
          new ModifyInstanceMetadataOptionsCommand({
            InstanceId: otherAccount,
            HttpPutResponseHopLimit: 2,
          }),
        ),
      );
      assert.equal(elsewhere.code, 'InvalidInstanceID.NotFound');
    } finally {
      await setup.close();
    }
  });

  it('carry ec2:RoleDelivery: a policy requiring 2.0 refuses IMDSv1 credentials and takes IMDSv2 ones', async () => {
    const policy = allowModify({
      Condition: { NumericGreaterThanEquals: { 'ec2:RoleDelivery': '2.0' } },
    });
    const v1 = await withRole(policy, { delivery: 'imdsv1' });
    try {
      assert.equal((await sdkRefusal(modifyHopLimit(v1, 2))).code, 'UnauthorizedOperation');
    } finally {
      await v1.close();
    }
    const v2 = await withRole(policy, { delivery: 'imdsv2' });
    try {
      await modifyHopLimit(v2, 2);
      assert.equal(hopLimit(v2), 2);
    } finally {
      await v2.close();
    }
  });

  it('are AuthFailure with another session token, as the identity role, or once expired', async () => {
    const clock = { offsetMs: 0 };
    const now = (): number => Date.now() + clock.offsetMs;
    const setup = await withRole(allowModify(), {
      now,
      extra: {
        roles: { [ROLE]: { source: 'minted', durationSeconds: 900, policy: allowModify() } },
      },
    });
    try {
      const parameters = {
        Action: 'ModifyInstanceMetadataOptions',
        InstanceId: INSTANCE,
        HttpPutResponseHopLimit: '2',
      };
      const other = await roleCredentials(setup.server, 'imdsv1');
      const mixed = { ...setup.credentials, sessionToken: other.sessionToken! };
      assert.equal(
        errorCode(await sendEc2Request(setup.server.apiUrl, parameters, mixed)),
        'AuthFailure',
      );

      const identity = await roleCredentials(setup.server, 'imdsv2', 'ec2-instance');
      assert.equal(
        errorCode(await sendEc2Request(setup.server.apiUrl, parameters, identity)),
        'AuthFailure',
      );

      clock.offsetMs = 2 * 3600_000;
      const expired = await sendEc2Request(setup.server.apiUrl, parameters, setup.credentials, {
        signingDate: new Date(now()),
      });
      assert.equal(errorCode(expired), 'AuthFailure');
      assert.equal(hopLimit(setup), 1);
    } finally {
      await setup.close();
    }
  });
});
