import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN_SCRIPT, runCli, serveCli, spawnProgram } from '../support/cli.ts';
import { send } from '../support/rawHttp.ts';

/** bin/imdsd.js run as npm installs it: a program behind a symlink in node_modules/.bin. */
const directory = mkdtempSync(join(tmpdir(), 'imdsd-bin-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const linked = join(directory, 'imdsd');
symlinkSync(BIN_SCRIPT, linked);
const installed = spawnProgram(linked);

describe('the imdsd program (bin/imdsd.js)', () => {
  it('serves as node itself, with the smaller young generation, and stops cleanly on SIGTERM', async () => {
    const serving = await serveCli(
      ['--state', ':memory:', '--listen', '127.0.0.1:0'],
      {},
      20_000,
      installed,
    );
    try {
      // The pid started is node's (sh execs it), so signals and the exit code are node's own.
      const commandLine = readFileSync(`/proc/${serving.child.pid}/cmdline`, 'utf8').split('\0');
      assert.match(commandLine[0] ?? '', /node$/);
      assert.ok(commandLine.includes('--max-semi-space-size=4'), commandLine.join(' '));

      const answer = await send(serving.endpoint.replace(/\/$/, ''), {
        path: '/latest/meta-data/instance-id',
      });
      assert.equal(answer.status, 200);
    } finally {
      assert.equal(await serving.stop(), 0);
    }
  });

  it('passes every argument through, and exits with the CLI exit code', async () => {
    const refused = await runCli(['serve', '--listen', 'not an address'], {}, 20_000, installed);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--listen/);
    assert.doesNotMatch(refused.stderr, /Is a directory|not found/, 'the launcher line is silent');

    const usage = await runCli(['--help'], {}, 20_000, installed);
    assert.equal(usage.code, 0);
    assert.match(usage.stdout, /^Usage: imdsd <command>/);
  });
});
