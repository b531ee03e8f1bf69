import { performance } from 'node:perf_hooks';
import { expectOk } from './httpExchange.ts';
import { ROLE_LISTING_PATH, TOKEN_HEADER, TOKEN_PATH, TOKEN_TTL_HEADER } from './scenarios.ts';
import { startProcess, waitForOutput } from './serverProcess.ts';
import { ceilingNodeCommand, IMDSD_LISTENING, spawnImdsd } from './targets.ts';

/**
 * Cold start: from spawning `imdsd serve` to the first role credentials served, the way an SDK
 * gets them (token PUT, role listing, credentials GET). Measured with `:memory:`, where every
 * start generates the RSA identity key, and with a state file a previous start prepared. The
 * same clock on a bare node:http server (the ceiling) shows what node itself costs here.
 */

export interface ColdStartSeries {
  label: string;
  runsMs: number[];
  medianMs: number;
}

const READY_TIMEOUT_MS = 20_000;

export async function imdsdColdStart(
  state: string,
  label: string,
  runs: number,
): Promise<ColdStartSeries> {
  const runsMs: number[] = [];
  for (let run = 0; run < runs; run += 1) runsMs.push(await oneImdsdStart(state));
  return series(label, runsMs);
}

/** A first start that creates the keys in `state`, so later starts find them there. */
export async function prepareStateFile(state: string): Promise<void> {
  await oneImdsdStart(state);
}

async function oneImdsdStart(state: string): Promise<number> {
  const startedAt = performance.now();
  const server = spawnImdsd({ state });
  try {
    const [, host, port] = await waitForOutput(server.child, IMDSD_LISTENING, READY_TIMEOUT_MS);
    const baseUrl = `http://${host}:${port}/`;

    const token = (
      await expectOk(baseUrl, {
        method: 'PUT',
        path: TOKEN_PATH,
        headers: { [TOKEN_TTL_HEADER]: '21600' },
      })
    ).body.toString();
    const withToken = { [TOKEN_HEADER]: token };
    const role = (
      await expectOk(baseUrl, { method: 'GET', path: ROLE_LISTING_PATH, headers: withToken })
    ).body.toString();
    await expectOk(baseUrl, { method: 'GET', path: ROLE_LISTING_PATH + role, headers: withToken });

    return performance.now() - startedAt;
  } finally {
    await server.stop();
  }
}

/** The ceiling's time from spawn to its first answer: node's own start-up on this machine. */
export async function ceilingColdStart(
  recordedFile: string,
  firstPath: string,
  runs: number,
): Promise<ColdStartSeries> {
  const runsMs: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const startedAt = performance.now();
    const command = ceilingNodeCommand(recordedFile);
    const server = startProcess(process.execPath, command.nodeArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: command.env,
    });
    try {
      const [, port] = await waitForOutput(server.child, command.ready, READY_TIMEOUT_MS);
      await expectOk(`http://127.0.0.1:${port}/`, { method: 'GET', path: firstPath, headers: {} });
      runsMs.push(performance.now() - startedAt);
    } finally {
      await server.stop();
    }
  }
  return series('ceiling (bare node:http)', runsMs);
}

function series(label: string, runsMs: number[]): ColdStartSeries {
  const sorted = [...runsMs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const medianMs =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { label, runsMs, medianMs };
}
