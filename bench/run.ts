import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ceilingColdStart,
  imdsdColdStart,
  prepareStateFile,
  type ColdStartSeries,
} from './coldStart.ts';
import { buildImdsd } from './buildImdsd.ts';
import { loadScenario, type LoadSettings, type ScenarioResult } from './loadScenarios.ts';
import { recordCeilingResponses } from './recordedResponses.ts';
import { pinnedCpus } from './cpuPinning.ts';
import {
  checkTargets,
  renderMarkdown,
  TARGETS,
  type BenchResults,
  type TokenChurnResult,
} from './report.ts';
import { scenariosNamed } from './scenarios.ts';
import {
  launcherNodeFlags,
  motoAvailable,
  startCeilingTarget,
  startImdsdTarget,
  startMotoTarget,
  type Target,
} from './targets.ts';
import { wrkVersion } from './wrk.ts';

/**
 * `npm run bench`: loads the ceiling, `imdsd serve` and moto on loopback with wrk, measures cold
 * start and memory under token churn, and writes bench/results/latest.{json,md}. Bounded: about
 * fifteen minutes with the defaults, and every server it starts is stopped when it ends.
 *
 *   --duration S        seconds per measurement (default 2)
 *   --rounds N          rounds per measurement, targets alternating (default 5)
 *   --connections A,B   fixed connection counts (default 8,64)
 *   --scenario NAME     only this scenario (repeatable)
 *   --no-moto           leave moto out
 *   --cpu-prof DIR      write CPU profiles of imdsd (node --cpu-prof, default heap sizes) into DIR
 *   --skip PART         leave out load, cold-start or token-churn (repeatable)
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const COLD_START_RUNS = 7;
const TOKEN_CHURN_COUNT = 1_000_000;

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '8,64' },
    scenario: { type: 'string', multiple: true },
    'no-moto': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    skip: { type: 'string', multiple: true, default: [] },
  },
});

const settings: LoadSettings = {
  connections: flags.connections.split(',').map(Number),
  durationSeconds: Number(flags.duration),
  warmupSeconds: 1,
  rounds: Number(flags.rounds),
  pacedShare: TARGETS.pacedShare,
};
const positive = (value: number): boolean => Number.isInteger(value) && value > 0;
if (![...settings.connections, settings.rounds, settings.durationSeconds].every(positive)) {
  throw new Error(
    '--connections, --rounds and --duration (whole seconds, as wrk takes them) must be positive integers',
  );
}

const wrk = wrkVersion();
if (wrk === undefined) {
  process.stderr.write('bench: wrk is not installed (Debian: apt-get install wrk)\n');
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'imdsd-bench-'));
try {
  await main(wrk);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

async function main(wrkName: string): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg();
  buildImdsd();

  const recordedFile = join(scratch, 'recorded.json');
  await recordCeilingResponses(recordedFile);

  const skip = new Set(flags.skip);
  const scenarios = skip.has('load') ? [] : await loadAll(recordedFile);
  const coldStart = skip.has('cold-start') ? [] : await coldStarts(recordedFile);
  const tokenChurn = skip.has('token-churn') ? undefined : runTokenChurn();

  const results: BenchResults = {
    startedAt,
    machine: { cpus: cpus().length, node: process.version, wrk: wrkName, loadAverageAtStart },
    settings: {
      connections: [...settings.connections],
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      rounds: settings.rounds,
      pinned: pinnedCpus() !== undefined,
      nodeFlags: launcherNodeFlags(),
    },
    scenarios,
    coldStart,
    tokenChurn,
  };
  const checks = checkTargets(results);
  const markdown = renderMarkdown(results, checks);

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'latest.json'),
    `${JSON.stringify({ ...results, checks }, null, 2)}\n`,
  );
  writeFileSync(join(RESULTS, 'latest.md'), `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
  process.stderr.write(`bench: wrote ${join('bench', 'results', 'latest.md')} and latest.json\n`);
}

/** Each scenario on fresh servers, so that each peak RSS belongs to one scenario. */
async function loadAll(recordedFile: string): Promise<ScenarioResult[]> {
  const withMoto = !flags['no-moto'] && motoAvailable();
  if (!withMoto)
    process.stderr.write('bench: moto is left out (--no-moto, or python3 has no moto)\n');

  const results: ScenarioResult[] = [];
  for (const scenario of scenariosNamed(flags.scenario)) {
    const targets: Target[] = [];
    try {
      targets.push(await startCeilingTarget(recordedFile));
      const profileDir = flags['cpu-prof'];
      targets.push(
        await startImdsdTarget({
          state: ':memory:',
          ...(profileDir === undefined ? {} : { cpuProfileDir: profileDir }),
        }),
      );
      if (withMoto) targets.push(await startMotoTarget());
      results.push(await loadScenario(scenario, targets, settings));
    } finally {
      await Promise.all(targets.map((target) => target.stop()));
    }
  }
  return results;
}

async function coldStarts(recordedFile: string): Promise<ColdStartSeries[]> {
  const stateFile = join(scratch, 'state.db');
  await prepareStateFile(stateFile);
  const series = [
    await ceilingColdStart(recordedFile, '/latest/meta-data/instance-id', COLD_START_RUNS),
    await imdsdColdStart(
      ':memory:',
      'imdsd, --state :memory: (new RSA key each start)',
      COLD_START_RUNS,
    ),
    await imdsdColdStart(stateFile, 'imdsd, prepared state file', COLD_START_RUNS),
  ];
  for (const entry of series)
    process.stderr.write(
      `bench: cold start ${entry.label}: median ${entry.medianMs.toFixed(0)} ms\n`,
    );
  return series;
}

function runTokenChurn(): TokenChurnResult {
  const script = join(ROOT, 'bench', 'tokenChurn.ts');
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, String(TOKEN_CHURN_COUNT)],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (result.status !== 0) throw new Error(`token churn failed: ${result.stderr}`);
  const churn = JSON.parse(result.stdout.trim()) as TokenChurnResult;
  process.stderr.write(`bench: token churn: ${churn.tokens} tokens in ${churn.elapsedMs} ms\n`);
  return churn;
}
