import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceMetadataOptionsCommand,
  type DescribeInstancesCommandInput,
  type Instance,
} from '@aws-sdk/client-ec2';
import type { MetadataOptions } from '../../src/config/schema.ts';
import {
  errorCode,
  generateAdministratorKeys,
  sendEc2Request,
  xmlText,
  type SignOptions,
  type SigningKeys,
} from '../support/ec2Requests.ts';
import { sdkRefusal } from '../support/ec2Requests.ts';
import { fetchToken, send } from '../support/rawHttp.ts';
import { startTestServer, type TestServer } from '../support/startTestServer.ts';

/**
 * The control API as the AWS SDK for JavaScript v3 and raw SigV4 requests see it, with
 * administrator keys: changes reach the IMDS listener on its next request, and every refused
 * request changes nothing.
 */

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const INSTANCE = 'i-0aaaaaaaaaaaaaaa1';
const OTHER = 'i-0bbbbbbbbbbbbbbb2';
const administrator = generateAdministratorKeys();

let server: TestServer;
let ec2: EC2Client;

before(async () => {
  server = await startTestServer({
    logLevel: 'trace',
    api: { credentials: [administrator] },
    instances: [
      {
        instanceId: INSTANCE,
        tags: { Team: 'platform', Name: 'web' },
        clients: ['127.0.0.0/8'],
        iamRole: 'app',
      },
      {
        instanceId: OTHER,
        tags: { Team: 'data' },
        clients: ['10.0.0.0/8'],
        metadataOptions: { httpTokens: 'required' },
      },
    ],
    roles: { app: { source: 'minted' } },
  });
  ec2 = new EC2Client({
    endpoint: server.apiUrl,
    region: 'us-east-1',
    credentials: { ...administrator },
    maxAttempts: 1,
  });
});

after(async () => {
  ec2.destroy();
  await server.close();
});

/** Puts the instance back to EC2's defaults between tests, through the API itself. */
beforeEach(async () => {
  await modify({ HttpTokens: 'optional', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
});

function modify(
  input: Omit<ConstructorParameters<typeof ModifyInstanceMetadataOptionsCommand>[0], 'InstanceId'>,
) {
  return ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: INSTANCE, ...input }));
}

async function describeInstance(instanceId = INSTANCE): Promise<Instance> {
  const output = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = output.Reservations?.[0]?.Instances?.[0];
  assert.ok(instance, `DescribeInstances returned ${instanceId}`);
  return instance;
}

// The SDK marks the credential objects it is given (`$source`), hence copies everywhere.

/** What the instance's options are: in memory (what IMDS serves) and in the store. */
function optionsNow(): { live: MetadataOptions; stored: unknown } {
  return {
    live: { ...server.running.instances.byId(INSTANCE)!.metadataOptions },
    stored: server.running.store.metadataOptions(INSTANCE),
  };
}

describe('ModifyInstanceMetadataOptions and DescribeInstances with the JS SDK', () => {
  it('changes the hop limit: the answer says pending, DescribeInstances applied, and the store keeps it', async () => {
    const output = await modify({ HttpPutResponseHopLimit: 3 });
    assert.equal(output.InstanceId, INSTANCE);
    assert.deepEqual(output.InstanceMetadataOptions, {
      State: 'pending',
      HttpTokens: 'optional',
      HttpPutResponseHopLimit: 3,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'disabled',
    });

    const described = await describeInstance();
    assert.equal(described.MetadataOptions?.State, 'applied');
    assert.equal(described.MetadataOptions?.HttpPutResponseHopLimit, 3);
    assert.deepEqual(
      (optionsNow().stored as { current: MetadataOptions }).current.httpPutResponseHopLimit,
      3,
    );
  });

  it('httpTokens required makes the next IMDSv1 GET a 401; optional makes it a 200 again', async () => {
    const path = '/latest/meta-data/instance-id';
    assert.equal((await send(server.baseUrl, { path })).status, 200);

    await modify({ HttpTokens: 'required' });
    assert.equal((await send(server.baseUrl, { path })).status, 401);
    const token = await fetchToken(server.baseUrl);
    assert.equal(
      (await send(server.baseUrl, { path, headers: { 'X-aws-ec2-metadata-token': token } })).text,
      INSTANCE,
    );

    await modify({ HttpTokens: 'optional' });
    assert.equal((await send(server.baseUrl, { path })).status, 200);
  });

  it('httpEndpoint disabled makes IMDS answer 403 to every request; enabled brings it back', async () => {
    await modify({ HttpEndpoint: 'disabled' });
    assert.equal((await send(server.baseUrl, { path: '/latest/meta-data/' })).status, 403);
    const tokenPut = await send(server.baseUrl, {
      method: 'PUT',
      path: '/latest/api/token',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
    });
    assert.equal(tokenPut.status, 403);
    assert.equal((await describeInstance()).MetadataOptions?.HttpEndpoint, 'disabled');

    await modify({ HttpEndpoint: 'enabled' });
    assert.equal((await send(server.baseUrl, { path: '/latest/meta-data/' })).status, 200);
  });

  it('changes all five options at once, and leaves out what a request does not name', async () => {
    await modify({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 64,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'enabled',
      InstanceMetadataTags: 'enabled',
    });
    await modify({ HttpPutResponseHopLimit: 2 });
    assert.deepEqual(optionsNow().live, {
      httpTokens: 'required',
      httpPutResponseHopLimit: 2,
      httpEndpoint: 'enabled',
      httpProtocolIpv6: 'enabled',
      instanceMetadataTags: 'enabled',
    });
    assert.equal(
      (
        await send(server.baseUrl, {
          path: '/latest/meta-data/tags/instance/Team',
          headers: { 'X-aws-ec2-metadata-token': await fetchToken(server.baseUrl) },
        })
      ).text,
      'platform',
    );
    await modify({ HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled' });
  });

  it('DryRun answers DryRunOperation (412) and changes nothing', async () => {
    const before = optionsNow();
    const refusal = await sdkRefusal(modify({ HttpPutResponseHopLimit: 7, DryRun: true }));
    assert.deepEqual(refusal, {
      code: 'DryRunOperation',
      status: 412,
      message: 'Request would have succeeded, but DryRun flag is set.',
    });
    assert.deepEqual(optionsNow(), before);
  });

  it('describes the instance as EC2 does: running, its type, image, placement, address, tags and profile', async () => {
    const instance = await describeInstance();
    const identity = server.running.instances.byId(INSTANCE)!.identity;
    assert.deepEqual(instance.State, { Code: 16, Name: 'running' });
    assert.equal(instance.InstanceType, identity.instanceType);
    assert.equal(instance.ImageId, identity.imageId);
    assert.equal(instance.Placement?.AvailabilityZone, identity.availabilityZone);
    assert.equal(instance.PrivateIpAddress, identity.network.privateIp);
    assert.equal(instance.PrivateDnsName, identity.network.localHostname);
    assert.equal(instance.IamInstanceProfile?.Arn, identity.iamRole?.instanceProfileArn);
    assert.equal(instance.LaunchTime?.getTime(), identity.launchTime.getTime());
    assert.deepEqual(instance.Tags, [
      { Key: 'Team', Value: 'platform' },
      { Key: 'Name', Value: 'web' },
    ]);
  });

  it('DescribeInstances filters by InstanceId.N, instance-id, tags and metadata options', async () => {
    const ids = async (input: DescribeInstancesCommandInput): Promise<string[]> => {
      const output = await ec2.send(new DescribeInstancesCommand(input));
      return (output.Reservations ?? [])
        .flatMap((reservation) => reservation.Instances ?? [])
        .map((instance) => instance.InstanceId!);
    };
    assert.deepEqual(await ids({}), [INSTANCE, OTHER]);
    assert.deepEqual(await ids({ InstanceIds: [OTHER] }), [OTHER]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'instance-id', Values: [INSTANCE] }] }), [
      INSTANCE,
    ]);
    assert.deepEqual(await ids({ Filters: [{ Name: 'tag:Team', Values: ['dat*'] }] }), [OTHER]);
    assert.deepEqual(
      await ids({ Filters: [{ Name: 'metadata-options.http-tokens', Values: ['required'] }] }),
      [OTHER],
    );
    assert.deepEqual(
      await ids({
        Filters: [
          { Name: 'instance-state-name', Values: ['running'] },
          { Name: 'tag-key', Values: ['Name'] },
        ],
      }),
      [INSTANCE],
    );
  });

  it('DescribeInstances refuses an unknown instance id and an unknown filter', async () => {
    const missing = await sdkRefusal(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [INSTANCE, 'i-0ccccccccccccccc3'] })),
    );
    assert.deepEqual([missing.code, missing.status], ['InvalidInstanceID.NotFound', 400]);
    assert.match(missing.message, /i-0ccccccccccccccc3/);

    const filter = await sdkRefusal(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'flavour', Values: ['x'] }] })),
    );
    assert.deepEqual([filter.code, filter.status], ['InvalidParameterValue', 400]);
  });
});

interface Refusal {
  name: string;
  parameters: Record<string, string>;
  keys?: SigningKeys;
  options?: SignOptions;
  code: string;
  status: number;
}

const MODIFY = { Action: 'ModifyInstanceMetadataOptions', InstanceId: INSTANCE };

const REFUSALS: Refusal[] = [
  {
    name: 'a forged signature',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '5' },
    options: {
      tamperSignature: (header) =>
        header.replace(
          /Signature=(.)/,
          (_, first: string) => `Signature=${first === 'a' ? 'b' : 'a'}`,
        ),
    },
    code: 'AuthFailure',
    status: 401,
  },
  {
    name: 'a signature made with the wrong secret',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '5' },
    keys: { ...administrator, secretAccessKey: generateAdministratorKeys().secretAccessKey },
    code: 'AuthFailure',
    status: 401,
  },
  {
    name: 'an access key imdsd does not know',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '5' },
    keys: generateAdministratorKeys(),
    code: 'AuthFailure',
    status: 401,
  },
  {
    name: 'a signature dated 16 minutes ago',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '5' },
    options: { signingDate: new Date(Date.now() - 16 * 60_000) },
    code: 'RequestExpired',
    status: 400,
  },
  {
    name: 'a signed body replayed with changed parameters',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '2' },
    options: {
      sentBody: `Action=ModifyInstanceMetadataOptions&InstanceId=${INSTANCE}&HttpPutResponseHopLimit=5&Version=2016-11-15`,
    },
    code: 'AuthFailure',
    status: 401,
  },
  {
    name: 'a signature scoped to another service',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '5' },
    options: { service: 'sts' },
    code: 'AuthFailure',
    status: 401,
  },
  {
    name: 'an empty Authorization header',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '5' },
    options: { sentHeaders: { authorization: '' } },
    code: 'IncompleteSignature',
    status: 400,
  },
  {
    name: 'an unknown instance',
    parameters: { ...MODIFY, InstanceId: 'i-0ccccccccccccccc3', HttpPutResponseHopLimit: '5' },
    code: 'InvalidInstanceID.NotFound',
    status: 400,
  },
  {
    name: 'a malformed instance id',
    parameters: { ...MODIFY, InstanceId: 'i-xyz', HttpPutResponseHopLimit: '5' },
    code: 'InvalidInstanceID.Malformed',
    status: 400,
  },
  {
    name: 'no instance id',
    parameters: { Action: 'ModifyInstanceMetadataOptions', HttpTokens: 'required' },
    code: 'MissingParameter',
    status: 400,
  },
  {
    name: 'hop limit 0',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '0' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'hop limit 65',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: '65' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'a hop limit that is no number',
    parameters: { ...MODIFY, HttpPutResponseHopLimit: 'two' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'HttpTokens maybe',
    parameters: { ...MODIFY, HttpTokens: 'maybe' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'HttpEndpoint off',
    parameters: { ...MODIFY, HttpEndpoint: 'off' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'HttpProtocolIpv6 on',
    parameters: { ...MODIFY, HttpProtocolIpv6: 'on' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'InstanceMetadataTags yes',
    parameters: { ...MODIFY, InstanceMetadataTags: 'yes' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'a valid option next to an invalid one',
    parameters: { ...MODIFY, HttpTokens: 'required', HttpPutResponseHopLimit: '65' },
    code: 'InvalidParameterValue',
    status: 400,
  },
  {
    name: 'a DryRun that would succeed',
    parameters: { ...MODIFY, HttpTokens: 'required', DryRun: 'true' },
    code: 'DryRunOperation',
    status: 412,
  },
  {
    name: 'an unknown parameter',
    parameters: { ...MODIFY, HttpTokenz: 'required' },
    code: 'UnknownParameter',
    status: 400,
  },
  {
    name: 'an unknown action',
    parameters: { Action: 'TerminateInstances', 'InstanceId.1': INSTANCE },
    code: 'InvalidAction',
    status: 400,
  },
  { name: 'no action', parameters: { InstanceId: INSTANCE }, code: 'MissingAction', status: 400 },
  {
    name: 'another API version',
    parameters: { ...MODIFY, HttpTokens: 'required', Version: '2014-10-01' },
    code: 'NoSuchVersion',
    status: 400,
  },
];

describe('refused requests get EC2 error codes and change nothing', () => {
  for (const refusal of REFUSALS) {
    it(`${refusal.name}: ${refusal.code} (${refusal.status})`, async () => {
      const before = optionsNow();
      const response = await sendEc2Request(
        server.apiUrl,
        refusal.parameters,
        refusal.keys ?? administrator,
        refusal.options,
      );

      assert.equal(errorCode(response), refusal.code, response.text);
      assert.equal(response.status, refusal.status);
      assert.deepEqual(optionsNow(), before);
    });
  }

  it('an error is the EC2 envelope, as text/xml, with the request id of the response header', async () => {
    const response = await sendEc2Request(
      server.apiUrl,
      { ...MODIFY, HttpPutResponseHopLimit: '65' },
      administrator,
    );
    assert.equal(response.headers['content-type'], 'text/xml;charset=UTF-8');
    assert.match(
      response.text,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response>\n\s+<Errors>\n\s+<Error>/,
    );
    assert.equal(xmlText(response.text, 'RequestID'), response.headers['x-amzn-requestid']);
    assert.match(
      xmlText(response.text, 'Message') ?? '',
      /HttpPutResponseHopLimit value \(65\) is out of range/,
    );
  });

  it('an unsigned request is MissingAuthenticationToken (403) and changes nothing', async () => {
    const before = optionsNow();
    const response = await send(server.apiUrl, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=ModifyInstanceMetadataOptions&Version=2016-11-15&InstanceId=${INSTANCE}&HttpTokens=required`,
    });
    assert.deepEqual([response.status, errorCode(response)], [403, 'MissingAuthenticationToken']);
    assert.deepEqual(optionsNow(), before);
  });

  it('a method other than GET and POST is InvalidRequest', async () => {
    const response = await send(server.apiUrl, {
      method: 'PUT',
      path: '/',
      body: 'Action=DescribeInstances',
    });
    assert.deepEqual([response.status, errorCode(response)], [400, 'InvalidRequest']);
  });

  it('a body over 64 KiB is RequestEntityTooLarge (413)', async () => {
    const response = await send(server.apiUrl, {
      method: 'POST',
      path: '/',
      body: `Action=DescribeInstances&Pad=${'x'.repeat(70_000)}`,
    });
    assert.deepEqual([response.status, errorCode(response)], [413, 'RequestEntityTooLarge']);
  });
});

describe('the EC2 Query protocol', () => {
  it('takes the parameters in a signed GET query string as well as in a form body', async () => {
    const response = await sendEc2Request(
      server.apiUrl,
      { ...MODIFY, HttpPutResponseHopLimit: '9' },
      administrator,
      { method: 'GET' },
    );
    assert.equal(response.status, 200, response.text);
    assert.equal(xmlText(response.text, 'httpPutResponseHopLimit'), '9');
    assert.equal(optionsNow().live.httpPutResponseHopLimit, 9);
  });

  it('pages DescribeInstances with MaxResults and NextToken', async () => {
    const many = await startTestServer({
      api: { credentials: [administrator] },
      instances: Array.from({ length: 7 }, (_, index) => ({
        instanceId: `i-0${String(index).repeat(16)}`,
        clients: [`10.${index}.0.0/16`],
      })),
    });
    const client = new EC2Client({
      endpoint: many.apiUrl,
      region: 'us-east-1',
      credentials: { ...administrator },
      maxAttempts: 1,
    });
    try {
      const first = await client.send(new DescribeInstancesCommand({ MaxResults: 5 }));
      assert.equal(first.Reservations?.length, 5);
      assert.ok(first.NextToken);
      const second = await client.send(
        new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken }),
      );
      assert.equal(second.Reservations?.length, 2);
      assert.equal(second.NextToken, undefined);

      const badToken = await sdkRefusal(
        client.send(new DescribeInstancesCommand({ NextToken: 'forged' })),
      );
      assert.equal(badToken.code, 'InvalidPaginationToken');
    } finally {
      client.destroy();
      await many.close();
    }
  });

  it('logs one line per request, with no secret, signature or Authorization header', async () => {
    await modify({ HttpPutResponseHopLimit: 4 });
    await sendEc2Request(
      server.apiUrl,
      { ...MODIFY, HttpPutResponseHopLimit: '65' },
      administrator,
    );

    const lines = server
      .logText()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const modified = lines.find(
      (line) => line['msg'] === 'metadata options modified' && line['instanceId'] === INSTANCE,
    );
    assert.equal(modified?.['action'], 'ModifyInstanceMetadataOptions');
    assert.equal(modified?.['principal'], `imdsd-administrator/${administrator.accessKeyId}`);
    assert.ok(
      lines.some(
        (line) =>
          line['msg'] === 'control API request refused' &&
          line['ec2Code'] === 'InvalidParameterValue',
      ),
    );

    const log = server.logText();
    assert.ok(!log.includes(administrator.secretAccessKey), 'the secret key reached the log');
    assert.ok(
      !log.includes('AWS4-HMAC-SHA256') && !log.includes('Signature='),
      'a signature reached the log',
    );
  });
});
