import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { after, describe, it } from 'node:test';
import { fetchToken, send, type RawResponse } from '../support/rawHttp.ts';
import { startTestServer } from '../support/startTestServer.ts';

/**
 * Several instances on one server: a caller sees the instance whose `clients` block matches
 * its source address most specifically. On Linux all of 127.0.0.0/8 is loopback, so a client
 * picks its source address with `localAddress`.
 */
function getFrom(
  baseUrl: string,
  localAddress: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const request = httpRequest(
      { host: url.hostname, port: url.port, path, headers, localAddress, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            rawHeaders: [],
            headers: {},
            body,
            text: body.toString(),
          });
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

const TWO_INSTANCES = {
  instances: [
    { instanceId: 'i-0aaaaaaaaaaaaaaa1', clients: ['127.0.0.0/8'] },
    {
      instanceId: 'i-0bbbbbbbbbbbbbbb2',
      clients: ['127.0.0.2/32'],
      metadataOptions: { httpTokens: 'required' as const },
    },
  ],
};

describe('instances and callers', () => {
  it('a caller sees the instance with the most specific matching block', async () => {
    const server = await startTestServer(TWO_INSTANCES);
    try {
      assert.equal(
        (await getFrom(server.baseUrl, '127.0.0.1', '/latest/meta-data/instance-id')).text,
        'i-0aaaaaaaaaaaaaaa1',
      );
      assert.equal(
        (await getFrom(server.baseUrl, '127.0.0.3', '/latest/meta-data/instance-id')).text,
        'i-0aaaaaaaaaaaaaaa1',
      );
      assert.equal(
        (await getFrom(server.baseUrl, '127.0.0.2', '/latest/meta-data/instance-id')).status,
        401,
        'i-…2 requires tokens',
      );
    } finally {
      await server.close();
    }
  });

  it('a token is bound to the instance that issued it', async () => {
    const server = await startTestServer(TWO_INSTANCES);
    try {
      const tokenOfFirst = await fetchToken(server.baseUrl);
      const asSecond = await getFrom(server.baseUrl, '127.0.0.2', '/latest/meta-data/instance-id', {
        'X-aws-ec2-metadata-token': tokenOfFirst,
      });
      assert.equal(asSecond.status, 401);
    } finally {
      await server.close();
    }
  });

  it('a caller matching no instance is answered 404', async () => {
    const server = await startTestServer({
      instances: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1', clients: ['10.0.0.0/8'] }],
    });
    try {
      const response = await send(server.baseUrl, { path: '/latest/meta-data/instance-id' });
      assert.equal(response.status, 404);
    } finally {
      await server.close();
    }
  });

  it('the IMDSv1 and IMDSv2 callers of one instance get distinct credential sets', async () => {
    const server = await startTestServer();
    try {
      const path = '/latest/meta-data/iam/security-credentials/imdsd-instance-role';
      const v1 = JSON.parse((await send(server.baseUrl, { path })).text) as { AccessKeyId: string };
      const token = await fetchToken(server.baseUrl);
      const v2 = JSON.parse(
        (await send(server.baseUrl, { path, headers: { 'X-aws-ec2-metadata-token': token } })).text,
      ) as {
        AccessKeyId: string;
      };
      assert.match(v1.AccessKeyId, /^ASIA/);
      assert.match(v2.AccessKeyId, /^ASIA/);
      assert.notEqual(v1.AccessKeyId, v2.AccessKeyId);
    } finally {
      await server.close();
    }
  });
});

describe('state across restarts', () => {
  const directory = mkdtempSync(join(tmpdir(), 'imdsd-state-'));
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('tokens, credentials and identity stay valid when imdsd restarts on the same state', async () => {
    const state = join(directory, 'state.db');
    const path = '/latest/meta-data/iam/security-credentials/imdsd-instance-role';

    // One fixed moment for both runs, so both are in the same credential rotation.
    const now = (): number => Date.UTC(2026, 11, 3, 12, 30, 0);
    const first = await startTestServer({ state }, { now });
    const token = await fetchToken(first.baseUrl);
    const before = await send(first.baseUrl, {
      path,
      headers: { 'X-aws-ec2-metadata-token': token },
    });
    const documentBefore = (
      await send(first.baseUrl, { path: '/latest/dynamic/instance-identity/document' })
    ).text;
    await first.close();

    const second = await startTestServer({ state }, { now });
    try {
      const after = await send(second.baseUrl, {
        path,
        headers: { 'X-aws-ec2-metadata-token': token },
      });
      assert.equal(after.status, 200);
      assert.equal(after.text, before.text);
      assert.equal(
        (await send(second.baseUrl, { path: '/latest/dynamic/instance-identity/document' })).text,
        documentBefore,
      );
    } finally {
      await second.close();
    }
  });
});
