import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

/**
 * `imdsd serve` where the hop-limit addon was not built (no compiler at `npm install`, say): it
 * serves and warns once at startup that hop limits are not enforced, saying why; with
 * --require-hop-limit it refuses to start. The run is a copy of the sources without native/.
 */

const REPOSITORY = new URL('../../', import.meta.url).pathname;

interface ServeRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

describe('imdsd serve without the hop-limit addon', () => {
  let copy: string;

  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'imdsd-no-addon-'));
    cpSync(join(REPOSITORY, 'src'), join(copy, 'src'), { recursive: true });
    cpSync(join(REPOSITORY, 'package.json'), join(copy, 'package.json'));
    symlinkSync(join(REPOSITORY, 'node_modules'), join(copy, 'node_modules'));
  });

  after(() => {
    if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
  });

  /** Runs serve on loopback port 0; stops it with SIGTERM once it says it is listening. */
  async function serve(flags: string[]): Promise<ServeRun> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/run.ts',
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--state',
        ':memory:',
        ...flags,
      ],
      {
        cwd: copy,
        env: { PATH: process.env['PATH'], HOME: copy, AWS_EC2_METADATA_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let stopping = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      // One SIGTERM only: the endpoint lines may arrive in several chunks, and a second signal
      // while imdsd closes is the operator's "stop now", which ends it without an exit code.
      if (!stopping && stderr.includes('AWS_EC2_METADATA_SERVICE_ENDPOINT=')) {
        stopping = true;
        child.kill('SIGTERM');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);

    const [exitCode] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    return { exitCode, stdout, stderr };
  }

  it('serves, and warns once at startup that hop limits are not enforced, and why', async () => {
    const run = await serve([]);

    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /IMDS on http:\/\/127\.0\.0\.1:\d+\//);
    const warnings = run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line['code'] === 'HOP_LIMIT_UNAVAILABLE');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.['level'], 40);
    assert.match(String(warnings[0]?.['msg']), /hop limits are not enforced/);
    assert.match(
      String(warnings[0]?.['reason']),
      /native\/build\/Release\/hop_limit\.node cannot be loaded: it was not built/,
    );
  });

  it('with --require-hop-limit, refuses to start', async () => {
    const run = await serve(['--require-hop-limit']);

    assert.equal(run.exitCode, 1);
    assert.match(
      run.stderr,
      /^imdsd: HOP_LIMIT_UNAVAILABLE: --require-hop-limit: the hop-limit addon .* cannot be loaded/,
    );
    assert.doesNotMatch(run.stderr, /IMDS on/);
  });
});
