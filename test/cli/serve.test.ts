import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { send } from '../support/rawHttp.ts';
import { runCli, serveCli } from '../support/cli.ts';

const directory = mkdtempSync(join(tmpdir(), 'imdsd-cli-'));
after(() => rmSync(directory, { recursive: true, force: true }));

describe('imdsd serve', () => {
  it('prints the endpoint line a client needs, serves on it, and stops cleanly on SIGTERM', async () => {
    const serving = await serveCli([
      '--state',
      ':memory:',
      '--listen',
      '127.0.0.1:0',
      '--listen',
      '[::1]:0',
    ]);
    try {
      assert.match(serving.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const response = await send(serving.endpoint.replace(/\/$/, ''), {
        path: '/latest/meta-data/instance-id',
      });
      assert.equal(response.status, 200);
      assert.match(response.text, /^i-[0-9a-f]{17}$/);

      const ipv6 = /imdsd: IMDS on (http:\/\/\[::1\]:\d+)\//.exec(serving.stderr());
      assert.ok(ipv6, 'the IPv6 listener is announced');
      assert.equal(
        (await send(ipv6[1]!, { path: '/latest/meta-data/instance-id' })).text,
        response.text,
      );
    } finally {
      assert.equal(await serving.stop(), 0);
    }
  });

  it('writes JSON log lines with the instance it emulates', async () => {
    const serving = await serveCli(['--state', ':memory:', '--listen', '127.0.0.1:0']);
    await serving.stop();
    const lines = serving
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(
      lines.some(
        (line) => line['msg'] === 'emulating instance' && typeof line['instanceId'] === 'string',
      ),
    );
    assert.ok(lines.some((line) => line['msg'] === 'IMDS listening'));
  });

  it('refuses a bad config file with exit code 2, naming the key, the value and the file', async () => {
    const config = join(directory, 'bad.yaml');
    writeFileSync(
      config,
      'instances:\n  - instanceId: i-0123456789abcdef0\n    metadataOptions: { httpTokens: sometimes }\n',
    );
    const result = await runCli(['serve', '--config', config, '--state', ':memory:']);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /CONFIG_INVALID: instances\[0\]\.metadataOptions\.httpTokens = "sometimes"/,
    );
    assert.ok(result.stderr.includes(config));
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
  });

  it('refuses an unknown flag with exit code 2, naming it', async () => {
    const result = await runCli(['serve', '--lissten', '127.0.0.1:0']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /USAGE: .*--lissten/);
  });

  it('says so when an address cannot be bound', async () => {
    const first = await serveCli(['--state', ':memory:', '--listen', '127.0.0.1:0']);
    try {
      const taken = new URL(first.endpoint).host;
      const result = await runCli(['serve', '--state', ':memory:', '--listen', taken]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`LISTEN_FAILED: cannot listen on ${taken} \\(EADDRINUSE\\)`),
      );
    } finally {
      await first.stop();
    }
  });

  it('answers an unknown command with the usage text', async () => {
    const result = await runCli(['serv']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command "serv"[\s\S]*Usage: imdsd <command>/);
  });
});

describe('imdsd identity-cert', () => {
  it('refuses the flags of serve, naming them', async () => {
    const result = await runCli(['identity-cert', '--state', ':memory:', '--require-hop-limit']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /USAGE: .*--require-hop-limit/);
  });
});
