import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../support/cli.ts';
import { send } from '../support/rawHttp.ts';
import { startTestServer, type TestServer } from '../support/startTestServer.ts';

/**
 * The instance identity document and its signatures verify with the certificate that
 * `imdsd identity-cert` prints, the same way AWS's documents verify with AWS's certificate
 * (EC2 user guide, "Verify the instance identity document").
 */
const openssl = promisify(execFile);
const directory = mkdtempSync(join(tmpdir(), 'imdsd-identity-'));
const state = join(directory, 'state.db');
const file = (name: string, content: string): string => {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
};

describe('instance identity documents', () => {
  let server: TestServer;
  let document: string;
  let certificate: string;

  before(async () => {
    server = await startTestServer({
      state,
      instances: [
        {
          instanceId: 'i-0ddddddddddddddd4',
          region: 'eu-west-1',
          instanceType: 'm7g.large',
          architecture: 'arm64',
          privateIp: '10.1.2.3',
        },
      ],
    });
    document = (await send(server.baseUrl, { path: '/latest/dynamic/instance-identity/document' }))
      .text;

    // The CLI reads the same state file the running server signs with.
    const printed = await runCli(['identity-cert', '--state', state]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/,
    );
    certificate = file('certificate.pem', printed.stdout);
  });
  after(async () => {
    await server.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('has the documented fields in the order the real service writes them', () => {
    const parsed = JSON.parse(document) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), [
      'accountId',
      'architecture',
      'availabilityZone',
      'billingProducts',
      'devpayProductCodes',
      'marketplaceProductCodes',
      'imageId',
      'instanceId',
      'instanceType',
      'kernelId',
      'pendingTime',
      'privateIp',
      'ramdiskId',
      'region',
      'version',
    ]);
    assert.equal(parsed['instanceId'], 'i-0ddddddddddddddd4');
    assert.equal(parsed['architecture'], 'arm64');
    assert.equal(parsed['availabilityZone'], 'eu-west-1a');
    assert.equal(parsed['region'], 'eu-west-1');
    assert.equal(parsed['privateIp'], '10.1.2.3');
    assert.equal(parsed['kernelId'], null);
    assert.equal(parsed['version'], '2017-09-30');
    assert.match(String(parsed['pendingTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(document, /^\{\n {2}"accountId" : "123456789012",\n/);
  });

  /** `openssl smime -verify` of a served PKCS#7 signature over `content`, as AWS documents it. */
  async function smimeVerify(name: string, content: string): Promise<unknown> {
    const path = `/latest/dynamic/instance-identity/${name}`;
    const body = (await send(server.baseUrl, { path })).text;
    const pem = file(`${name}.pem`, `-----BEGIN PKCS7-----\n${body}\n-----END PKCS7-----\n`);
    const contentFile = file(`${name}-content.json`, content);
    const args = ['-in', pem, '-inform', 'PEM', '-content', contentFile, '-certfile', certificate];
    return openssl('openssl', ['smime', '-verify', ...args, '-noverify']);
  }

  for (const name of ['pkcs7', 'rsa2048']) {
    it(`the ${name} signature verifies with openssl smime and the printed certificate`, async () => {
      await smimeVerify(name, document);
    });

    it(`the ${name} signature does not verify a changed document`, async () => {
      const changed = document.replace('i-0ddddddddddddddd4', 'i-0eeeeeeeeeeeeeee5');
      await assert.rejects(smimeVerify(name, changed));
    });
  }

  it('the base64 signature verifies with the certificate public key (openssl dgst -sha256)', async () => {
    const body = (
      await send(server.baseUrl, { path: '/latest/dynamic/instance-identity/signature' })
    ).text;
    const signature = join(directory, 'signature.bin');
    writeFileSync(signature, Buffer.from(body, 'base64'));
    const { stdout: publicKey } = await openssl('openssl', [
      'x509',
      '-in',
      certificate,
      '-pubkey',
      '-noout',
    ]);
    const publicKeyFile = file('public.pem', publicKey);
    const { stdout } = await openssl('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      publicKeyFile,
      '-signature',
      signature,
      file('document.json', document),
    ]);
    assert.match(stdout, /Verified OK/);
  });
});

describe('the identity key, made on first need', () => {
  it('is generated off the event loop: other callers are answered meanwhile', async () => {
    const server = await startTestServer({ state: ':memory:' });
    try {
      const answered: string[] = [];
      const signature = send(server.baseUrl, {
        path: '/latest/dynamic/instance-identity/signature',
      }).then((response) => {
        answered.push('signature');
        return response;
      });
      // An RSA-2048 key takes 50 ms to over a second to generate; the signature request is
      // being served well before this one is sent.
      await new Promise((resolve) => setTimeout(resolve, 10));
      const instanceId = await send(server.baseUrl, { path: '/latest/meta-data/instance-id' });
      answered.push('instance-id');

      assert.equal(instanceId.status, 200);
      assert.equal((await signature).status, 200);
      assert.deepEqual(answered, ['instance-id', 'signature']);
    } finally {
      await server.close();
    }
  });
});
