import assert from 'node:assert/strict';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { randomBytes } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/ec2api/sigv4/nodeSha256.ts';
import { send, type RawResponse } from './rawHttp.ts';

/** Keys to sign control API requests with. */
export interface SigningKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Fresh administrator keys for one test run: never a committed credential. */
export function generateAdministratorKeys(): { accessKeyId: string; secretAccessKey: string } {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const id = [...randomBytes(16)].map((byte) => alphabet[byte % 32]).join('');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

export interface SignOptions {
  method?: 'GET' | 'POST';
  signingDate?: Date;
  region?: string;
  service?: string;
  /** Replaces the body after signing: a replayed signature over other parameters. */
  sentBody?: string;
  /** Replaces headers after signing. */
  sentHeaders?: Record<string, string>;
  /** Changes the signature after signing. */
  tamperSignature?: (authorization: string) => string;
}

/**
 * Sends EC2 Query parameters to a control API, signed with SigV4 as the SDKs sign them
 * (POST with a form body, or GET with a query string), and lets a test spoil the request
 * after signing.
 */
export async function sendEc2Request(
  apiUrl: string,
  parameters: Record<string, string>,
  keys: SigningKeys,
  options: SignOptions = {},
): Promise<RawResponse> {
  const url = new URL(apiUrl);
  const method = options.method ?? 'POST';
  const form = new URLSearchParams({ Version: '2016-11-15', ...parameters }).toString();
  const headers: Record<string, string> = { host: url.host };
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  }

  const signer = new SignatureV4({
    service: options.service ?? 'ec2',
    region: options.region ?? 'us-east-1',
    credentials: keys,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const query = method === 'GET' ? Object.fromEntries(new URLSearchParams(form)) : {};
  const signed = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: url.hostname,
      path: '/',
      query,
      headers,
      ...(method === 'POST' ? { body: form } : {}),
    },
    options.signingDate === undefined ? {} : { signingDate: options.signingDate },
  );

  const sentHeaders = Object.fromEntries(
    Object.entries(signed.headers).map(([name, value]) => [name, String(value)]),
  );
  if (options.tamperSignature) {
    sentHeaders['authorization'] = options.tamperSignature(sentHeaders['authorization']!);
  }
  Object.assign(sentHeaders, options.sentHeaders);

  const path = method === 'GET' ? `/?${form}` : '/';
  const body = method === 'POST' ? (options.sentBody ?? form) : undefined;
  return send(apiUrl, {
    method,
    path,
    headers: sentHeaders,
    ...(body === undefined ? {} : { body }),
  });
}

/** `<Code>…</Code>` of an EC2 error envelope. */
export function errorCode(response: RawResponse): string | undefined {
  return xmlText(response.text, 'Code');
}

/** The text of the first `<name>` element. */
export function xmlText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1];
}

export interface Ec2Refusal {
  code: string;
  status: number | undefined;
  message: string;
}

/** The EC2 error an SDK call ended in; fails the test when the call succeeded. */
export async function sdkRefusal(promise: Promise<unknown>): Promise<Ec2Refusal> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EC2ServiceException, `expected an EC2 error, got ${String(error)}`);
    return { code: error.name, status: error.$metadata.httpStatusCode, message: error.message };
  }
  assert.fail('the request succeeded');
}
