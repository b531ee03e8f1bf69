import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCpu } from './cpuPinning.ts';
import type { LoadRequest } from './scenarios.ts';

/**
 * Drives wrk (https://github.com/wg/wrk), a C load generator that opens a new connection when
 * the server answers `Connection: close`, as IMDS does on every response. autocannon cannot:
 * it writes the next request on the closing socket, or with `reconnectRate: 1` counts no
 * response at all (tried with autocannon 9.0.0), so it is not used.
 */

const SCRIPT = fileURLToPath(new URL('./wrk/imdsLoad.lua', import.meta.url));

/** Time wrk waits for one response before counting a timeout: the SDKs' own budget. */
const RESPONSE_TIMEOUT = '1s';

export interface LoadRun {
  url: string;
  requests: readonly LoadRequest[];
  connections: number;
  durationSeconds: number;
  /** Mean pause per connection between requests; omitted or 0 loads as fast as possible. */
  meanDelayMs?: number;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Connect, read and write errors, timeouts, and responses with a status of 400 or more. */
  errors: number;
}

interface WrkSummary {
  requests: number;
  durationUs: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  statusErrors: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
}

export function wrkVersion(): string | undefined {
  const result = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (result.error !== undefined) return undefined;
  return `${result.stdout}${result.stderr}`.split('\n')[0]?.trim();
}

export async function runLoad(run: LoadRun): Promise<LoadResult> {
  const args = [
    '-t1',
    `-c${run.connections}`,
    `-d${run.durationSeconds}s`,
    '--timeout',
    RESPONSE_TIMEOUT,
    '-s',
    SCRIPT,
    run.url,
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    BENCH_MEAN_DELAY_MS: String(run.meanDelayMs ?? 0),
  };
  run.requests.forEach((request, index) => {
    env[`BENCH_REQUEST_${index + 1}`] = requestSpec(request);
  });

  const [command, pinnedArgs] = onCpu('load-generator', 'wrk', args);
  const output = await collectOutput(
    spawn(command, pinnedArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  const summary = parseSummary(output);

  return {
    requests: summary.requests,
    requestsPerSecond: summary.requests / (summary.durationUs / 1e6),
    p50Ms: summary.p50Us / 1000,
    p99Ms: summary.p99Us / 1000,
    meanMs: summary.meanUs / 1000,
    maxMs: summary.maxUs / 1000,
    errors:
      summary.connectErrors +
      summary.readErrors +
      summary.writeErrors +
      summary.statusErrors +
      summary.timeouts,
  };
}

/** `METHOD PATH Name=value ...`, the form imdsLoad.lua reads; IMDS header values hold no spaces. */
function requestSpec(request: LoadRequest): string {
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}=${value}`);
  return [request.method, request.path, ...headers].join(' ');
}

function collectOutput(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`wrk exited with ${code}: ${stderr.trim() || stdout.trim()}`));
    });
  });
}

function parseSummary(output: string): WrkSummary {
  const line = output
    .split('\n')
    .reverse()
    .find((text) => text.startsWith('{'));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${output}`);
  return JSON.parse(line) as WrkSummary;
}
