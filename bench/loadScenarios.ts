import { expectOk } from './httpExchange.ts';
import { cpuSeconds } from './processCpu.ts';
import { peakRssBytes } from './processMemory.ts';
import {
  TOKEN_PATH,
  TOKEN_TTL_HEADER,
  type LoadRequest,
  type Scenario,
  type ScenarioContext,
} from './scenarios.ts';
import type { Target, TargetName } from './targets.ts';
import { runLoad, type LoadResult, type LoadRun } from './wrk.ts';

/**
 * Loads every target with one scenario: at each fixed connection count as fast as it goes, then
 * imdsd and the ceiling at the same paced rate (a share of imdsd's maximum) for the latency
 * target. Targets take turns, never run at once, and each measurement is repeated in rounds
 * that alternate the targets. On this shared VM a target's rate moves by half from one minute
 * to the next, and with it the ceiling's: so a throughput ratio is taken within each round,
 * between runs seconds apart, and the median of those ratios is the result (report.ts). The
 * best round of each target, compared across rounds minutes apart, scattered by ±0.1 from run
 * to run of the same build.
 */

export interface LoadSettings {
  connections: readonly number[];
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  /** Share of imdsd's maximum offered in the paced run (0.8). */
  pacedShare: number;
}

/** What wrk saw, and the server's own CPU time per request answered. */
export interface MeasuredLoad extends LoadResult {
  serverCpuUsPerRequest: number | undefined;
}

export interface TargetRun {
  target: TargetName;
  connections: number;
  /** The round with the median requests per second. */
  result: MeasuredLoad;
  /** In the order run: round i of every target ran back to back. */
  rounds: MeasuredLoad[];
}

export interface PacedRun {
  connections: number;
  offeredRps: number;
  /** The round with the lowest p99 latency, for each. */
  imdsd: MeasuredLoad;
  ceiling: MeasuredLoad;
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  requests: string[];
  runs: TargetRun[];
  /** One paced run per connection count. */
  paced: PacedRun[];
  peakRssBytes: Partial<Record<TargetName, number>>;
}

const PACING_PROBE_SECONDS = 1;
const PACING_PROBES = 4;
const PACING_TOLERANCE = 0.05;

export async function loadScenario(
  scenario: Scenario,
  targets: readonly Target[],
  settings: LoadSettings,
): Promise<ScenarioResult> {
  const requestsFor = new Map<TargetName, LoadRequest[]>();
  for (const target of targets)
    requestsFor.set(target.name, scenario.requests(await contextOf(target)));
  const runOf = (target: Target, connections: number) => ({
    url: target.baseUrl,
    requests: requestsFor.get(target.name) ?? [],
    connections,
  });

  const runs: TargetRun[] = [];
  for (const connections of settings.connections) {
    const rounds = new Map<TargetName, MeasuredLoad[]>(targets.map((target) => [target.name, []]));
    for (const target of targets)
      await runLoad({ ...runOf(target, connections), durationSeconds: settings.warmupSeconds });

    for (let round = 0; round < settings.rounds; round += 1) {
      for (const target of targets) {
        const result = await measure(target, {
          ...runOf(target, connections),
          durationSeconds: settings.durationSeconds,
        });
        rounds.get(target.name)?.push(result);
        report(scenario, target.name, connections, result);
      }
    }

    for (const target of targets) {
      const results = rounds.get(target.name) ?? [];
      const median = medianBy(results, (result) => result.requestsPerSecond);
      if (median !== undefined)
        runs.push({ target: target.name, connections, result: median, rounds: results });
    }
  }

  const paced: PacedRun[] = [];
  for (const connections of settings.connections) {
    const run = await pacedRun(scenario, targets, runs, runOf, settings, connections);
    if (run !== undefined) paced.push(run);
  }

  const peak: Partial<Record<TargetName, number>> = {};
  for (const target of targets) {
    const bytes = peakRssBytes(target.pid);
    if (bytes !== undefined) peak[target.name] = bytes;
  }

  const shown = requestsFor.get('imdsd') ?? [];
  return {
    scenario: scenario.name,
    title: scenario.title,
    requests: shown.map(describe),
    runs,
    paced,
    peakRssBytes: peak,
  };
}

async function contextOf(target: Target): Promise<ScenarioContext> {
  const answer = await expectOk(target.baseUrl, {
    method: 'PUT',
    path: TOKEN_PATH,
    headers: { [TOKEN_TTL_HEADER]: '21600' },
  });
  return { roleName: target.roleName, token: answer.body.toString() };
}

type RunOf = (
  target: Target,
  connections: number,
) => { url: string; requests: LoadRequest[]; connections: number };

/**
 * imdsd and the ceiling at `pacedShare` of imdsd's best maximum at `connections`: few callers
 * calling often, or many calling now and then. wrk paces with a random pause per connection
 * between requests; short probes adjust the pause until the rate wrk reaches is within a few
 * percent of the rate offered. wrk pauses after it connects and before it writes, so a paced
 * connection sits open and idle for its pause, which an SDK's never does: the more connections,
 * the more of them the server holds at once, and the more its heap keeps.
 */
async function pacedRun(
  scenario: Scenario,
  targets: readonly Target[],
  runs: readonly TargetRun[],
  runOf: RunOf,
  settings: LoadSettings,
  connections: number,
): Promise<PacedRun | undefined> {
  const imdsdMax = runs.find((run) => run.target === 'imdsd' && run.connections === connections);
  const imdsd = targets.find((target) => target.name === 'imdsd');
  const ceiling = targets.find((target) => target.name === 'ceiling');
  if (imdsdMax === undefined || imdsd === undefined || ceiling === undefined) return undefined;

  const offeredRps = imdsdMax.result.requestsPerSecond * settings.pacedShare;
  const pauseFor = async (target: Target): Promise<number> => {
    let pauseMs = (connections * 1000) / offeredRps;
    for (let probe = 0; probe < PACING_PROBES; probe += 1) {
      const run = {
        ...runOf(target, connections),
        durationSeconds: PACING_PROBE_SECONDS,
        meanDelayMs: pauseMs,
      };
      const reached = (await runLoad(run)).requestsPerSecond;
      if (Math.abs(reached - offeredRps) <= offeredRps * PACING_TOLERANCE) break;
      // Each request holds its connection for the pause plus its own time: scale the pause by
      // how far the rate reached is from the rate offered, never to nothing.
      pauseMs = Math.max(0.05, pauseMs * (reached / offeredRps));
    }
    return pauseMs;
  };
  const pauses = new Map<TargetName, number>([
    ['imdsd', await pauseFor(imdsd)],
    ['ceiling', await pauseFor(ceiling)],
  ]);

  const rounds = new Map<TargetName, MeasuredLoad[]>([
    ['imdsd', []],
    ['ceiling', []],
  ]);
  for (let round = 0; round < settings.rounds; round += 1) {
    for (const target of [imdsd, ceiling]) {
      const meanDelayMs = pauses.get(target.name) ?? 0;
      const result = await measure(target, {
        ...runOf(target, connections),
        durationSeconds: settings.durationSeconds,
        meanDelayMs,
      });
      rounds.get(target.name)?.push(result);
      report(scenario, target.name, connections, result, `paced at ${Math.round(offeredRps)}/s`);
    }
  }

  const quietest = (name: TargetName): MeasuredLoad =>
    bestBy(rounds.get(name) ?? [], (result) => -result.p99Ms) as MeasuredLoad;
  return { connections, offeredRps, imdsd: quietest('imdsd'), ceiling: quietest('ceiling') };
}

async function measure(target: Target, run: LoadRun): Promise<MeasuredLoad> {
  const cpuBefore = cpuSeconds(target.pid);
  const result = await runLoad(run);
  const cpuAfter = cpuSeconds(target.pid);

  const cpuUs =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) * 1e6;
  return {
    ...result,
    serverCpuUsPerRequest:
      cpuUs === undefined || result.requests === 0 ? undefined : cpuUs / result.requests,
  };
}

/** The round in the middle when sorted by `score` (the lower middle of an even count). */
function medianBy(
  results: readonly MeasuredLoad[],
  score: (result: MeasuredLoad) => number,
): MeasuredLoad | undefined {
  const sorted = [...results].sort((a, b) => score(a) - score(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function bestBy(
  results: readonly MeasuredLoad[],
  score: (result: MeasuredLoad) => number,
): MeasuredLoad | undefined {
  return results.reduce<MeasuredLoad | undefined>(
    (best, result) => (best === undefined || score(result) > score(best) ? result : best),
    undefined,
  );
}

function describe(request: LoadRequest): string {
  const headers = Object.keys(request.headers);
  return `${request.method} ${request.path}${headers.length === 0 ? '' : ` (${headers.join(', ')})`}`;
}

function report(
  scenario: Scenario,
  target: TargetName,
  connections: number,
  result: MeasuredLoad,
  note = '',
): void {
  const errors = result.errors === 0 ? '' : `, ${result.errors} errors`;
  const cpu =
    result.serverCpuUsPerRequest === undefined
      ? ''
      : `, ${result.serverCpuUsPerRequest.toFixed(0)} µs CPU/req`;
  process.stderr.write(
    `bench: ${scenario.name} ${target} c=${connections}${note ? ` ${note}` : ''}: ` +
      `${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms${cpu}${errors}\n`,
  );
}
