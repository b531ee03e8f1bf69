import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { Ec2ApiError } from '../ec2ApiError.ts';
import { NodeSha256 } from './nodeSha256.ts';
import { verifySignature, type SignedHttpRequest, type VerifyOptions } from './verifySignature.ts';

/**
 * Vectors from the AWS Signature Version 4 test suite (AWS General Reference): request,
 * key and the signature AWS publishes for it. The key pair is the suite's documented example
 * key (AKIDEXAMPLE), not a credential. They pin that imdsd canonicalises exactly as AWS does,
 * independently of the signer it re-signs with.
 */
const SUITE_KEY = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SUITE_DATE = '20150830T123600Z';
const SUITE_NOW_MS = Date.UTC(2015, 7, 30, 12, 36, 0);

interface Vector {
  name: string;
  method: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  signedHeaders: string;
  signature: string;
}

const VECTORS: Vector[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    query: { Param2: 'value2', Param1: 'value1' },
    signedHeaders: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-unreserved',
    method: 'GET',
    query: {
      '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz':
        '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    },
    signedHeaders: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    headers: { 'my-header1': 'value1', 'my-header2': '"a   b   c"' },
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'post-vanilla-query',
    method: 'POST',
    query: { Param1: 'value1' },
    signedHeaders: 'host;x-amz-date',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
];

function vectorRequest(vector: Vector, signature = vector.signature): SignedHttpRequest {
  const authorization =
    `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ` +
    `SignedHeaders=${vector.signedHeaders}, Signature=${signature}`;
  const headers = {
    host: 'example.amazonaws.com',
    'x-amz-date': SUITE_DATE,
    ...vector.headers,
    authorization,
  };
  return {
    method: vector.method,
    path: vector.path ?? '/',
    query: vector.query ?? {},
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    body: Buffer.from(vector.body ?? ''),
  };
}

const suiteOptions: VerifyOptions<typeof SUITE_KEY> = {
  service: 'service',
  nowMs: SUITE_NOW_MS,
  findSecret: (accessKeyId) => (accessKeyId === SUITE_KEY.accessKeyId ? SUITE_KEY : undefined),
};

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Ec2ApiError, `expected an Ec2ApiError, got ${String(error)}`);
    return error.ec2Code;
  }
  assert.fail('the request was accepted');
}

describe('SigV4 verification against the AWS test suite', () => {
  for (const vector of VECTORS) {
    it(`accepts ${vector.name}`, async () => {
      const verified = await verifySignature(vectorRequest(vector), suiteOptions);
      assert.equal(verified.key, SUITE_KEY);
      assert.equal(verified.region, 'us-east-1');
    });

    it(`refuses ${vector.name} with one signature digit changed`, async () => {
      const last = vector.signature.at(-1) === '0' ? '1' : '0';
      const request = vectorRequest(vector, vector.signature.slice(0, -1) + last);
      assert.equal(await refusal(verifySignature(request, suiteOptions)), 'AuthFailure');
    });
  }

  it('refuses a signed header whose value changed after signing', async () => {
    const request = vectorRequest(VECTORS[3]!);
    const changed = { ...request, headers: { ...request.headers, 'my-header1': ['value2'] } };
    assert.equal(await refusal(verifySignature(changed, suiteOptions)), 'AuthFailure');
  });

  it('refuses a form body changed after signing', async () => {
    const request = vectorRequest(VECTORS[6]!);
    assert.equal(
      await refusal(
        verifySignature({ ...request, body: Buffer.from('Param1=value2') }, suiteOptions),
      ),
      'AuthFailure',
    );
  });
});

describe('SigV4 verification rules', () => {
  const key = {
    accessKeyId: 'AKIAIMDSDTESTKEY0001',
    secretAccessKey: randomBytes(30).toString('base64'),
  };
  const nowMs = Date.UTC(2026, 0, 15, 10, 0, 0);
  const options: VerifyOptions<typeof key> = {
    service: 'ec2',
    nowMs,
    findSecret: (accessKeyId, sessionToken) =>
      accessKeyId === key.accessKeyId && sessionToken === undefined ? key : undefined,
  };

  async function signed(
    overrides: {
      secretAccessKey?: string;
      signingDateMs?: number;
      service?: string;
      body?: string;
    } = {},
  ): Promise<SignedHttpRequest> {
    const signer = new SignatureV4({
      service: overrides.service ?? 'ec2',
      region: 'eu-west-1',
      credentials: { ...key, secretAccessKey: overrides.secretAccessKey ?? key.secretAccessKey },
      sha256: NodeSha256,
      applyChecksum: false,
    });
    const body = overrides.body ?? 'Action=DescribeInstances&Version=2016-11-15';
    const request = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/',
        query: {},
        headers: {
          host: '127.0.0.1:1339',
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        },
        body,
      },
      { signingDate: new Date(overrides.signingDateMs ?? nowMs) },
    );
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [name, [String(value)]]),
    );
    return { method: 'POST', path: '/', query: {}, headers, body: Buffer.from(body) };
  }

  it('accepts a request signed for ec2 in any region, with the region it was signed for', async () => {
    const verified = await verifySignature(await signed(), options);
    assert.equal(verified.region, 'eu-west-1');
  });

  it('accepts a clock 14 minutes off either way', async () => {
    await verifySignature(await signed({ signingDateMs: nowMs - 14 * 60_000 }), options);
    await verifySignature(await signed({ signingDateMs: nowMs + 14 * 60_000 }), options);
  });

  const REFUSALS: Array<{ name: string; code: string; request: () => Promise<SignedHttpRequest> }> =
    [
      {
        name: 'a wrong secret key',
        code: 'AuthFailure',
        request: () => signed({ secretAccessKey: randomBytes(30).toString('base64') }),
      },
      {
        name: 'a signature 16 minutes old',
        code: 'RequestExpired',
        request: () => signed({ signingDateMs: nowMs - 16 * 60_000 }),
      },
      {
        name: 'a signature 16 minutes ahead',
        code: 'RequestExpired',
        request: () => signed({ signingDateMs: nowMs + 16 * 60_000 }),
      },
      {
        name: 'a scope for another service',
        code: 'AuthFailure',
        request: () => signed({ service: 'sts' }),
      },
      {
        name: 'an unknown access key id',
        code: 'AuthFailure',
        request: async () =>
          rewriteAuthorization(await signed(), (text) =>
            text.replace(key.accessKeyId, 'AKIAIMDSDTESTKEY0002'),
          ),
      },
      {
        name: 'a session token the key does not take',
        code: 'AuthFailure',
        request: async () => withHeader(await signed(), 'x-amz-security-token', 'c2Vzc2lvbg=='),
      },
      {
        name: 'no Authorization header',
        code: 'MissingAuthenticationToken',
        request: async () => withoutHeader(await signed(), 'authorization'),
      },
      {
        name: 'an Authorization header of another scheme',
        code: 'IncompleteSignature',
        request: async () => withHeader(await signed(), 'authorization', 'Basic dXNlcjpwYXNz'),
      },
      {
        name: 'a signature that does not cover the host',
        code: 'IncompleteSignature',
        request: async () =>
          rewriteAuthorization(await signed(), (text) =>
            text.replace('content-type;host;', 'content-type;'),
          ),
      },
      {
        name: 'a request without X-Amz-Date',
        code: 'IncompleteSignature',
        request: async () => withoutHeader(await signed(), 'x-amz-date'),
      },
      {
        name: 'an X-Amz-Content-SHA256 that is not the body hash',
        code: 'AuthFailure',
        request: async () => withHeader(await signed(), 'x-amz-content-sha256', '0'.repeat(64)),
      },
      {
        name: 'a body replayed with other parameters',
        code: 'AuthFailure',
        request: async () => ({
          ...(await signed()),
          body: Buffer.from(
            'Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0',
          ),
        }),
      },
      {
        name: 'a query string added after signing',
        code: 'AuthFailure',
        request: async () => ({
          ...(await signed()),
          query: { Action: 'ModifyInstanceMetadataOptions' },
        }),
      },
    ];

  for (const { name, code, request } of REFUSALS) {
    it(`refuses ${name} with ${code}`, async () => {
      assert.equal(await refusal(verifySignature(await request(), options)), code);
    });
  }
});

function withHeader(request: SignedHttpRequest, name: string, value: string): SignedHttpRequest {
  return { ...request, headers: { ...request.headers, [name]: [value] } };
}

function withoutHeader(request: SignedHttpRequest, name: string): SignedHttpRequest {
  const headers = { ...request.headers };
  delete headers[name];
  return { ...request, headers };
}

function rewriteAuthorization(
  request: SignedHttpRequest,
  rewrite: (text: string) => string,
): SignedHttpRequest {
  return withHeader(request, 'authorization', rewrite(request.headers['authorization']![0]!));
}
