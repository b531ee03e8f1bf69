import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { formatListenAddress } from '../../src/net/address.ts';
import { startImdsd, type RunningImdsd, type StartOptions } from '../../src/serve/startImdsd.ts';
import { useAwsSandbox, type AwsSandbox } from '../support/awsSandbox.ts';
import { eventually, imdsRoleCredentials, imdsToken } from '../support/imdsCalls.ts';
import { captureLogs, LEVEL } from '../support/logCapture.ts';
import { ManualClock } from '../support/manualClock.ts';
import { startMoto, type MotoServer } from '../support/motoServer.ts';
import { startStsProxy, type StsProxy } from '../support/stsProxy.ts';

/**
 * Role credentials from a real STS implementation (moto's server on loopback), through the
 * IMDS path of an in-process imdsd, with a counting proxy between imdsd and STS.
 */

const ACCOUNT_ID = '123456789012';
const INSTANCE_ID = 'i-0a1b2c3d4e5f60718';
const ROLE_NAME = 'app-role';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE_NAME}`;
const execFileAsync = promisify(execFile);

let moto: MotoServer;
let sandbox: AwsSandbox;
let proxy: StsProxy | undefined;
let running: RunningImdsd | undefined;

before(async () => {
  sandbox = await useAwsSandbox();
  moto = await startMoto();
});

after(async () => {
  await moto?.stop();
  await sandbox?.restore();
});

afterEach(async () => {
  await running?.close();
  await proxy?.close();
  running = undefined;
  proxy = undefined;
});

interface Setup {
  roles?: (stsEndpoint: string) => ConfigInput['roles'];
  iamRole?: string;
  startupWaitSeconds?: number;
  durationSeconds?: number;
  start?: Partial<StartOptions>;
}

async function startAgainstSts(setup: Setup = {}) {
  proxy = await startStsProxy(moto.endpoint);
  const logs = captureLogs();
  const config = configSchema.parse({
    listen: ['127.0.0.1:0'],
    apiListen: '127.0.0.1:0',
    state: ':memory:',
    instances: [
      {
        instanceId: INSTANCE_ID,
        accountId: ACCOUNT_ID,
        iamRole: setup.iamRole ?? ROLE_NAME,
        metadataOptions: { httpTokens: 'required' },
      },
    ],
    roles: setup.roles?.(proxy.endpoint) ?? {
      [ROLE_NAME]: {
        source: 'assume-role',
        roleArn: ROLE_ARN,
        profile: sandbox.profile,
        stsEndpoint: proxy.endpoint,
        ...(setup.durationSeconds === undefined ? {} : { durationSeconds: setup.durationSeconds }),
      },
    },
    credentials: { startupWaitSeconds: setup.startupWaitSeconds ?? 10 },
  } satisfies ConfigInput);

  return {
    proxy,
    logs,
    config,
    start: async () =>
      (running = await startImdsd({ config, logger: logs.logger, ...setup.start })),
  };
}

function endpointOf(imdsd: RunningImdsd): string {
  return `http://${formatListenAddress(imdsd.imdsAddresses[0]!)}`;
}

async function callerIdentity(
  credentials: Record<string, string>,
): Promise<{ Arn: string; Account: string }> {
  const { stdout } = await execFileAsync(
    'aws',
    [
      'sts',
      'get-caller-identity',
      '--endpoint-url',
      moto.endpoint,
      '--region',
      'us-east-1',
      '--output',
      'json',
    ],
    {
      env: sandbox.childEnv({
        AWS_ACCESS_KEY_ID: credentials['AccessKeyId'],
        AWS_SECRET_ACCESS_KEY: credentials['SecretAccessKey'],
        AWS_SESSION_TOKEN: credentials['Token'],
        AWS_EC2_METADATA_DISABLED: 'true',
      }),
      timeout: 30_000,
    },
  );
  return JSON.parse(stdout) as { Arn: string; Account: string };
}

/** A GET that reports when it has been sent, so a test knows every request is in flight. */
function sentGet(
  url: string,
  token: string,
): { sent: Promise<void>; answered: Promise<{ atMs: number; body: string }> } {
  let markSent!: () => void;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const answered = new Promise<{ atMs: number; body: string }>((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { headers: { 'X-aws-ec2-metadata-token': token } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ atMs: Date.now(), body }));
      },
    );
    outgoing.on('finish', markSent);
    outgoing.on('error', reject);
    outgoing.end();
  });
  return { sent, answered };
}

describe('assume-role credentials from STS (moto on loopback)', () => {
  it('serves on the IMDS path the credentials STS returned, which sign as the assumed role', async () => {
    const { proxy, logs, start } = await startAgainstSts();
    const imdsd = await start();

    assert.equal(imdsd.isReady(), true);
    assert.equal(proxy.assumeRoleCalls.length, 1);
    const [call] = proxy.assumeRoleCalls;
    assert.equal(call!.roleArn, ROLE_ARN);
    assert.equal(
      call!.roleSessionName,
      INSTANCE_ID,
      'the session is named after the instance, as on EC2',
    );
    assert.equal(
      call!.signedBy,
      sandbox.accessKeyId,
      'signed with the profile from AWS_CONFIG_FILE',
    );

    const endpoint = endpointOf(imdsd);
    const document = await imdsRoleCredentials(endpoint, ROLE_NAME, await imdsToken(endpoint));
    assert.equal(document.status, 200);
    assert.equal(document.body['Code'], 'Success');
    assert.equal(document.body['AccessKeyId'], call!.answeredAccessKeyId);
    const remainingMs = Date.parse(document.body['Expiration']!) - Date.now();
    assert.ok(
      remainingMs > 55 * 60_000 && remainingMs <= 3_600_000,
      `a 1-hour session by default, ${remainingMs} ms left`,
    );

    const identity = await callerIdentity(document.body);
    assert.equal(
      identity.Arn,
      `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${ROLE_NAME}/${INSTANCE_ID}`,
    );

    assert.ok(logs.lines().some((line) => line.msg === 'ready'));
    assert.ok(!logs.text().includes(document.body['SecretAccessKey']!), 'no secret key in the log');
    assert.ok(!logs.text().includes(document.body['Token']!), 'no session token in the log');
  });

  it('answers 1000 concurrent first requests for one role with one AssumeRole call', async () => {
    const { proxy, start } = await startAgainstSts({ startupWaitSeconds: 0 });
    proxy.mode = { kind: 'hold' };
    const imdsd = await start();
    assert.equal(imdsd.isReady(), false, 'not ready while STS has not answered');

    const endpoint = endpointOf(imdsd);
    const token = await imdsToken(endpoint);
    const requests = Array.from({ length: 1000 }, () =>
      sentGet(`${endpoint}/latest/meta-data/iam/security-credentials/${ROLE_NAME}`, token),
    );
    await Promise.all(requests.map((request) => request.sent));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const releasedAtMs = Date.now();
    proxy.release();

    const answers = await Promise.all(requests.map((request) => request.answered));
    const documents = answers.map((answer) => JSON.parse(answer.body) as Record<string, string>);
    assert.ok(
      answers.every((answer) => answer.atMs >= releasedAtMs),
      'every request waited for the one STS call',
    );
    assert.ok(documents.every((document) => document['Code'] === 'Success'));
    assert.equal(new Set(documents.map((document) => document['AccessKeyId'])).size, 1);
    assert.equal(proxy.assumeRoleCalls.length, 1);
    await eventually(() => imdsd.isReady(), 'readiness');
  });

  it('keeps serving the cached set while STS is down, and the failure shape once it has expired', async () => {
    const clock = new ManualClock(Date.now());
    const { proxy, logs, start } = await startAgainstSts({
      durationSeconds: 900,
      start: { clock, random: () => 0 },
    });
    const imdsd = await start();
    const endpoint = endpointOf(imdsd);
    const token = await imdsToken(endpoint);
    const first = (await imdsRoleCredentials(endpoint, ROLE_NAME, token)).body;
    const expirationMs = Date.parse(first['Expiration']!);

    proxy.mode = { kind: 'refuse' };
    await clock.advance(460_000);
    await eventually(() => proxy.assumeRoleCalls.length === 2, 'the refresh ahead to reach STS');
    await eventually(
      () => logs.lines().some((line) => line['upstreamCode'] === 'StsUnreachable'),
      'the failure to be logged',
    );
    const stale = (await imdsRoleCredentials(endpoint, ROLE_NAME, token)).body;
    assert.equal(stale['AccessKeyId'], first['AccessKeyId'], 'the still-valid set is served');

    // The document's Expiration is in whole seconds; the set's own may be up to 999 ms later.
    await clock.advanceTo(expirationMs + 1_000 - 60_000);
    const failure = await imdsRoleCredentials(endpoint, ROLE_NAME, token);
    assert.equal(failure.status, 200);
    assert.deepEqual(Object.keys(failure.body), ['Code', 'Message', 'LastUpdated']);
    assert.equal(failure.body['Code'], 'StsUnreachable');
    assert.match(
      failure.body['Message']!,
      /^imdsd cannot reach STS to assume the role app-role \(ECONNRESET\)$/,
    );

    const incident = logs
      .lines()
      .filter((line) => line.level >= LEVEL.warn && line['source'] === 'assume-role');
    assert.deepEqual(
      incident.map((line) => [line.level, line['upstreamCode']]),
      [
        [LEVEL.warn, 'StsUnreachable'],
        [LEVEL.error, 'StsUnreachable'],
      ],
      'one warning when the incident began, one error when the cached set ran out',
    );
  });

  it('starts while STS is down, answers the failure shape, and recovers without a restart', async () => {
    const clock = new ManualClock(Date.now());
    const { proxy, logs, start } = await startAgainstSts({
      startupWaitSeconds: 0,
      start: { clock, random: () => 0 },
    });
    proxy.mode = { kind: 'refuse' };
    const imdsd = await start();
    const endpoint = endpointOf(imdsd);
    const token = await imdsToken(endpoint);
    await eventually(() => proxy.assumeRoleCalls.length === 1, 'the prefetch to reach STS');

    const failure = await imdsRoleCredentials(endpoint, ROLE_NAME, token);
    assert.equal(failure.body['Code'], 'StsUnreachable');
    assert.equal(imdsd.isReady(), false);

    proxy.mode = { kind: 'forward' };
    await clock.advance(61_000);
    await eventually(() => imdsd.isReady(), 'readiness after STS is back');

    const recovered = await imdsRoleCredentials(endpoint, ROLE_NAME, token);
    assert.equal(recovered.body['Code'], 'Success');
    assert.equal(recovered.body['AccessKeyId'], proxy.assumeRoleCalls.at(-1)!.answeredAccessKeyId);
    assert.deepEqual(
      logs
        .lines()
        .filter((line) => line.level >= LEVEL.info && line['source'] === 'assume-role')
        .map((line) => line.msg),
      ['role credentials unavailable', 'role credentials recovered'],
    );
    assert.ok(logs.lines().some((line) => line.msg === 'ready'));
  });

  it("answers EC2's failure shape with STS's own error code when STS refuses", async () => {
    const { proxy, logs, start } = await startAgainstSts({ startupWaitSeconds: 0 });
    proxy.mode = {
      kind: 'error',
      status: 403,
      code: 'AccessDenied',
      message:
        'User: arn:aws:iam::123456789012:user/imdsd is not authorized to perform: sts:AssumeRole',
    };
    const imdsd = await start();
    await eventually(
      () => logs.lines().some((line) => line['upstreamCode'] === 'AccessDenied'),
      'the refusal to be logged',
    );

    const endpoint = endpointOf(imdsd);
    const failure = await imdsRoleCredentials(endpoint, ROLE_NAME, await imdsToken(endpoint));

    assert.equal(failure.status, 200);
    assert.equal(failure.body['Code'], 'AccessDenied');
    assert.match(
      failure.body['Message']!,
      /^imdsd cannot assume the role app-role: STS answered AccessDenied/,
    );
    assert.match(failure.body['LastUpdated']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(imdsd.isReady(), false);
  });

  it("chains roles: a role whose source is another role is signed with that role's credentials", async () => {
    const { proxy, start } = await startAgainstSts({
      iamRole: 'chained-role',
      roles: (stsEndpoint) => ({
        'base-role': {
          source: 'assume-role',
          roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/base-role`,
          profile: sandbox.profile,
          stsEndpoint,
        },
        'chained-role': {
          source: 'assume-role',
          roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/chained-role`,
          sourceRole: 'base-role',
          stsEndpoint,
        },
      }),
    });
    const imdsd = await start();
    const endpoint = endpointOf(imdsd);
    const document = await imdsRoleCredentials(endpoint, 'chained-role', await imdsToken(endpoint));

    const [base, chained] = proxy.assumeRoleCalls;
    assert.equal(proxy.assumeRoleCalls.length, 2);
    assert.equal(base!.roleArn, `arn:aws:iam::${ACCOUNT_ID}:role/base-role`);
    assert.equal(base!.signedBy, sandbox.accessKeyId);
    assert.equal(chained!.roleArn, `arn:aws:iam::${ACCOUNT_ID}:role/chained-role`);
    assert.equal(chained!.signedBy, base!.answeredAccessKeyId, 'signed with the base role session');
    assert.equal(document.body['AccessKeyId'], chained!.answeredAccessKeyId);

    const identity = await callerIdentity(document.body);
    assert.equal(
      identity.Arn,
      `arn:aws:sts::${ACCOUNT_ID}:assumed-role/chained-role/${INSTANCE_ID}`,
    );
  });
});
