import type { ColdStartSeries } from './coldStart.ts';
import type { MeasuredLoad, ScenarioResult, TargetRun } from './loadScenarios.ts';
import type { TargetName } from './targets.ts';

/**
 * The results of one benchmark run, with every figure also as a ratio to the ceiling measured
 * in the same run (absolute numbers on a shared machine are noise; ratios are the result), the
 * targets checked, and the Markdown table the README shows.
 */

export const TARGETS = {
  throughputShareOfCeiling: 0.85,
  pacedP99Ms: 5,
  pacedShare: 0.8,
  timesMoto: 20,
  coldStartMs: 250,
  peakRssBytes: 100 * 1024 * 1024,
  /** RSS growth allowed from the first tenth of the token churn to its end. */
  tokenChurnGrowthBytes: 10 * 1024 * 1024,
} as const;

export interface TokenChurnResult {
  tokens: number;
  elapsedMs: number;
  samples: { tokens: number; rssBytes: number; heapUsedBytes: number }[];
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string; wrk: string; loadAverageAtStart: number[] };
  settings: {
    connections: number[];
    durationSeconds: number;
    warmupSeconds: number;
    rounds: number;
    pinned: boolean;
    /** The node flags imdsd's launcher gives node, and the ceiling runs with too. */
    nodeFlags: string[];
  };
  scenarios: ScenarioResult[];
  coldStart: ColdStartSeries[];
  tokenChurn: TokenChurnResult | undefined;
}

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean;
}

export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];

  for (const scenario of results.scenarios) {
    for (const connections of results.settings.connections) {
      const ratioToCeiling = roundRatio(scenario.runs, 'imdsd', 'ceiling', connections, rps);
      if (ratioToCeiling !== undefined) {
        checks.push({
          target: `${scenario.scenario} c=${connections}: req/s ≥ ${TARGETS.throughputShareOfCeiling} × ceiling`,
          measured: `${ratioToCeiling.toFixed(2)} ×`,
          pass: ratioToCeiling >= TARGETS.throughputShareOfCeiling,
        });
      }
      const timesMoto = roundRatio(scenario.runs, 'imdsd', 'moto', connections, rps);
      if (timesMoto !== undefined) {
        checks.push({
          target: `${scenario.scenario} c=${connections}: req/s ≥ ${TARGETS.timesMoto} × moto`,
          measured: `${timesMoto.toFixed(1)} ×`,
          pass: timesMoto >= TARGETS.timesMoto,
        });
      }
    }

    for (const paced of scenario.paced) {
      const p99 = paced.imdsd.p99Ms;
      checks.push({
        target: `${scenario.scenario} c=${paced.connections}: p99 < ${TARGETS.pacedP99Ms} ms at ${TARGETS.pacedShare * 100} % of imdsd's max`,
        measured: `${p99.toFixed(2)} ms`,
        pass: p99 < TARGETS.pacedP99Ms,
      });
    }

    const rss = scenario.peakRssBytes.imdsd;
    if (rss !== undefined) {
      checks.push({
        target: `${scenario.scenario}: peak RSS < ${megabytes(TARGETS.peakRssBytes)} MB`,
        measured: `${megabytes(rss)} MB`,
        pass: rss < TARGETS.peakRssBytes,
      });
    }
  }

  for (const series of results.coldStart.filter((entry) => entry.label.startsWith('imdsd'))) {
    checks.push({
      target: `cold start, ${series.label}: median < ${TARGETS.coldStartMs} ms`,
      measured: `${series.medianMs.toFixed(0)} ms`,
      pass: series.medianMs < TARGETS.coldStartMs,
    });
  }

  const growth = tokenChurnGrowth(results.tokenChurn);
  if (growth !== undefined && results.tokenChurn !== undefined) {
    checks.push({
      target: `RSS flat over ${results.tokenChurn.tokens.toLocaleString('en')} tokens (growth ≤ ${megabytes(TARGETS.tokenChurnGrowthBytes)} MB)`,
      measured: `${megabytes(growth)} MB`,
      pass: growth <= TARGETS.tokenChurnGrowthBytes,
    });
  }
  return checks;
}

/** RSS at the end of the churn less RSS after its first tenth (start-up and JIT settled). */
function tokenChurnGrowth(churn: TokenChurnResult | undefined): number | undefined {
  const settled = churn?.samples[1];
  const last = churn?.samples.at(-1);
  return settled === undefined || last === undefined ? undefined : last.rssBytes - settled.rssBytes;
}

type Metric = (result: MeasuredLoad) => number | undefined;

const rps: Metric = (result) => result.requestsPerSecond;

/**
 * `over` against `under` in the same rounds: the median of the ratios of round i to round i.
 * Each pair ran seconds apart, so they share whatever else the machine was doing then.
 */
function roundRatio(
  runs: readonly TargetRun[],
  over: TargetName,
  under: TargetName,
  connections: number,
  metric: Metric,
): number | undefined {
  const top = runs.find((run) => run.target === over && run.connections === connections);
  const bottom = runs.find((run) => run.target === under && run.connections === connections);
  if (top === undefined || bottom === undefined) return undefined;

  const ratios: number[] = [];
  top.rounds.forEach((round, index) => {
    const value = metric(round);
    const reference = bottom.rounds[index] === undefined ? undefined : metric(bottom.rounds[index]);
    if (value !== undefined && reference !== undefined && reference > 0)
      ratios.push(value / reference);
  });
  return median(ratios);
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function renderMarkdown(results: BenchResults, checks: readonly TargetCheck[]): string {
  const lines: string[] = [];
  const machine = results.machine;
  lines.push(
    `Run ${results.startedAt} on ${machine.cpus} CPUs, node ${machine.node}, ${machine.wrk}; ` +
      `load average at start ${machine.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')}. ` +
      `${results.settings.durationSeconds} s per measurement after ${results.settings.warmupSeconds} s of warm-up, ` +
      `${results.settings.rounds} alternating rounds, one wrk thread` +
      `${results.settings.pinned ? ' on CPU 1, servers on CPU 0' : ''}. ` +
      'Every request on a new connection: IMDS closes each connection, and imdsd offers no keep-alive. ' +
      'Figures are the round with the median req/s; `× ceiling` is the median of the round-by-round ratios ' +
      'to a bare node:http server sending the same bytes, run seconds before in the same round' +
      `${results.settings.nodeFlags.length > 0 ? `, on node with imdsd's launcher flags (${results.settings.nodeFlags.join(' ')})` : ''}.`,
    '',
  );

  lines.push('| target | measured | met |', '| --- | --- | --- |');
  for (const check of checks)
    lines.push(`| ${check.target} | ${check.measured} | ${check.pass ? 'yes' : '**no**'} |`);
  lines.push('');

  lines.push(
    '| scenario | conns | server | req/s | × ceiling | p50 ms | × ceiling | p99 ms | × ceiling | CPU µs/req | × ceiling | errors |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const scenario of results.scenarios) {
    for (const run of scenario.runs) {
      const toCeiling = (metric: Metric): string =>
        times(roundRatio(scenario.runs, run.target, 'ceiling', run.connections, metric));
      const result = run.result;
      lines.push(
        `| ${scenario.scenario} | ${run.connections} | ${run.target} | ${Math.round(result.requestsPerSecond)} | ` +
          `${toCeiling(rps)} | ${result.p50Ms.toFixed(2)} | ${toCeiling((round) => round.p50Ms)} | ` +
          `${result.p99Ms.toFixed(2)} | ${toCeiling((round) => round.p99Ms)} | ` +
          `${result.serverCpuUsPerRequest?.toFixed(0) ?? '–'} | ` +
          `${toCeiling((round) => round.serverCpuUsPerRequest)} | ${result.errors} |`,
      );
    }
  }
  lines.push('');

  lines.push(
    `Paced at ${TARGETS.pacedShare * 100} % of imdsd's maximum (the same offered rate for the ceiling):`,
    '',
    '| scenario | conns | offered req/s | imdsd req/s | imdsd p50 ms | imdsd p99 ms | ceiling p99 ms | × ceiling |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const scenario of results.scenarios) {
    for (const paced of scenario.paced)
      lines.push(
        `| ${scenario.scenario} | ${paced.connections} | ${Math.round(paced.offeredRps)} | ${Math.round(paced.imdsd.requestsPerSecond)} | ` +
          `${paced.imdsd.p50Ms.toFixed(2)} | ${paced.imdsd.p99Ms.toFixed(2)} | ${paced.ceiling.p99Ms.toFixed(2)} | ` +
          `${ratio(paced.imdsd.p99Ms, paced.ceiling.p99Ms)} |`,
      );
  }
  lines.push('');

  lines.push(
    '| scenario | peak RSS MB: ceiling | imdsd | × ceiling | moto |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const scenario of results.scenarios) {
    const peak = scenario.peakRssBytes;
    lines.push(
      `| ${scenario.scenario} | ${megabytes(peak.ceiling)} | ${megabytes(peak.imdsd)} | ${ratio(peak.imdsd, peak.ceiling)} | ${megabytes(peak.moto)} |`,
    );
  }
  lines.push('');

  const ceilingStart = results.coldStart.find((series) => !series.label.startsWith('imdsd'));
  lines.push(
    '| cold start to first credentials | median ms | × ceiling | runs ms |',
    '| --- | ---: | ---: | --- |',
  );
  for (const series of results.coldStart) {
    lines.push(
      `| ${series.label} | ${series.medianMs.toFixed(0)} | ${ratio(series.medianMs, ceilingStart?.medianMs)} | ` +
        `${series.runsMs.map((ms) => ms.toFixed(0)).join(', ')} |`,
    );
  }
  lines.push('');

  if (results.tokenChurn !== undefined) {
    const samples = results.tokenChurn.samples.map(
      (sample) => `${sample.tokens / 1000}k: ${megabytes(sample.rssBytes)}`,
    );
    lines.push(
      `Token churn (${results.tokenChurn.tokens.toLocaleString('en')} tokens minted in-process in ${results.tokenChurn.elapsedMs} ms), RSS MB: ${samples.join(', ')}.`,
      '',
    );
  }
  return lines.join('\n');
}

function ratio(value: number | undefined, reference: number | undefined): string {
  return times(
    value === undefined || reference === undefined || reference === 0
      ? undefined
      : value / reference,
  );
}

function times(value: number | undefined): string {
  return value === undefined ? '–' : value.toFixed(2);
}

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? '–' : (bytes / (1024 * 1024)).toFixed(1);
}
