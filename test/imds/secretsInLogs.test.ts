import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { fetchToken, send } from '../support/rawHttp.ts';
import { startTestServer } from '../support/startTestServer.ts';

describe('secrets never reach a log line', () => {
  it('no token, secret key or session token appears in the debug log of a busy server', async () => {
    const server = await startTestServer({ logLevel: 'trace' });
    try {
      const secrets: string[] = [];
      for (let round = 0; round < 3; round++) {
        const token = await fetchToken(server.baseUrl);
        secrets.push(token);
        const path = '/latest/meta-data/iam/security-credentials/imdsd-instance-role';
        const headers = {
          'X-aws-ec2-metadata-token': token,
          Authorization: 'AWS4-HMAC-SHA256 Credential=x',
        };
        const credentials = JSON.parse(
          (await send(server.baseUrl, { path, headers })).text,
        ) as Record<string, string>;
        secrets.push(credentials['SecretAccessKey']!, credentials['Token']!);
        await send(server.baseUrl, { path: '/latest/meta-data/nope', headers });
      }

      const log = server.logText();
      assert.ok(log.length > 0, 'the server logged something');
      for (const secret of secrets) assert.ok(!log.includes(secret), 'a secret reached the log');
      assert.ok(!log.includes('AWS4-HMAC-SHA256'), 'an Authorization header reached the log');
    } finally {
      await server.close();
    }
  });

  it('the logger drops fields outside the allowlist and redacts secret-named ones', () => {
    let written = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    logger.info(
      {
        instanceId: 'i-0123456789abcdef0',
        headers: { authorization: 'AWS4 secret-a' },
        secretAccessKey: 'secret-b',
        token: 'secret-c',
      },
      'message',
    );
    logger.flush();

    const line = JSON.parse(written) as Record<string, unknown>;
    assert.equal(line['instanceId'], 'i-0123456789abcdef0');
    assert.equal(line['msg'], 'message');
    assert.doesNotMatch(written, /secret-[abc]/);
  });
});
