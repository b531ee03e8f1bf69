import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildImdsd } from './buildImdsd.ts';
import { startUnderCallgrind, valgrindVersion } from './callgrind.ts';
import { sendOnNewConnections } from './newConnectionLoad.ts';
import { fetchSessionToken, recordCeilingResponses } from './recordedResponses.ts';
import { scenariosNamed, type LoadRequest, type Scenario } from './scenarios.ts';
import {
  ceilingNodeCommand,
  imdsdNodeCommand,
  IMDSD_DEFAULT_ROLE,
  launcherNodeFlags,
  type NodeServerCommand,
} from './targets.ts';

/**
 * `npm run bench:instructions`: the instructions the ceiling and imdsd execute per request,
 * counted by callgrind after a warm-up long enough for the JIT to settle, scenario by scenario.
 * The steady companion of `npm run bench`, whose time-based ratios move by ±0.1 on this VM:
 * use it to see whether a change to the hot path helps. Needs valgrind (apt-get install
 * valgrind); about five minutes a scenario. Writes bench/results/instructions.{json,md}.
 *
 *   --warmup N       requests before counting (default 30000: node optimises the request path
 *                    for the first 25,000 or so)
 *   --requests N     requests counted (default 20000: enough to spread the old generation's
 *                    collections, which cost the window they fall in 3 % or so, over it)
 *   --scenario NAME  only this scenario (repeatable)
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const CONCURRENCY = 8;
const CONNECTION_TIMEOUT_MS = 30_000;

const { values: flags } = parseArgs({
  options: {
    warmup: { type: 'string', default: '30000' },
    requests: { type: 'string', default: '20000' },
    scenario: { type: 'string', multiple: true },
  },
});
const warmup = Number(flags.warmup);
const requests = Number(flags.requests);
if (![warmup, requests].every((value) => Number.isInteger(value) && value > 0))
  throw new Error('--warmup and --requests must be positive integers');

const valgrind = valgrindVersion();
if (valgrind === undefined) {
  process.stderr.write('bench: valgrind is not installed (Debian: apt-get install valgrind)\n');
  process.exit(1);
}

interface InstructionRun {
  startedAt: string;
  valgrind: string;
  node: string;
  nodeFlags: string[];
  warmup: number;
  requests: number;
  concurrency: number;
}

interface InstructionCount {
  scenario: string;
  ceiling: number;
  imdsd: number;
}

const scratch = mkdtempSync(join(tmpdir(), 'imdsd-instructions-'));
try {
  await main(valgrind);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

async function main(valgrindName: string): Promise<void> {
  const startedAt = new Date().toISOString();
  buildImdsd();
  const recordedFile = join(scratch, 'recorded.json');
  await recordCeilingResponses(recordedFile);

  const counts: InstructionCount[] = [];
  for (const scenario of scenariosNamed(flags.scenario)) {
    process.stderr.write(`bench: counting ${scenario.name}\n`);
    counts.push(await countScenario(scenario, recordedFile));
  }

  const run: InstructionRun = {
    startedAt,
    valgrind: valgrindName,
    node: process.version,
    nodeFlags: launcherNodeFlags(),
    warmup,
    requests,
    concurrency: CONCURRENCY,
  };
  const markdown = renderMarkdown(run, counts);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'instructions.json'),
    `${JSON.stringify({ ...run, counts }, null, 2)}\n`,
  );
  writeFileSync(join(RESULTS, 'instructions.md'), `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
}

/**
 * imdsd and the ceiling side by side, each under its own callgrind (valgrind runs a program on
 * one CPU, so two fit this machine); counts do not depend on what else runs.
 */
async function countScenario(scenario: Scenario, recordedFile: string): Promise<InstructionCount> {
  const imdsdDir = mkdtempSync(join(scratch, 'imdsd-'));
  const ceilingDir = mkdtempSync(join(scratch, 'ceiling-'));
  const [imdsd, ceiling] = await Promise.all([
    instructionsPerRequest(imdsdNodeCommand(':memory:'), imdsdDir, scenario),
    instructionsPerRequest(ceilingNodeCommand(recordedFile), ceilingDir, scenario),
  ]);
  return { scenario: scenario.name, ceiling, imdsd };
}

async function instructionsPerRequest(
  command: NodeServerCommand,
  outputDir: string,
  scenario: Scenario,
): Promise<number> {
  const server = await startUnderCallgrind(command, outputDir);
  try {
    // The ceiling replays recorded answers whatever the token; imdsd's own token keeps the
    // bytes on the wire the same for both.
    const token = await fetchSessionToken(`http://127.0.0.1:${server.port}/`);
    const sent = scenario.requests({ roleName: IMDSD_DEFAULT_ROLE, token });

    await load(server.port, sent, warmup);
    server.zero();
    await load(server.port, sent, requests);
    return (await server.instructionsSinceZero()) / requests;
  } finally {
    await server.stop();
  }
}

async function load(port: number, sent: readonly LoadRequest[], count: number): Promise<void> {
  const outcome = await sendOnNewConnections({
    port,
    requests: sent,
    count,
    concurrency: CONCURRENCY,
    connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
  });
  if (outcome.failed > 0)
    throw new Error(`${outcome.failed} of ${count} requests were not answered 200 on ${port}`);
}

function renderMarkdown(run: InstructionRun, counts: readonly InstructionCount[]): string {
  const lines = [
    `Run ${run.startedAt}, ${run.valgrind} (callgrind), node ${run.node} ${run.nodeFlags.join(' ')}. ` +
      `Instructions per request in every thread of the server, counted over ${run.requests} requests ` +
      `after ${run.warmup} of warm-up, ${run.concurrency} connections at a time, each request on a new ` +
      `connection. Kernel work (system calls) is not counted.`,
    '',
    '| scenario | ceiling | imdsd | × ceiling |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const count of counts) {
    const ratio = (count.imdsd / count.ceiling).toFixed(3);
    lines.push(
      `| ${count.scenario} | ${Math.round(count.ceiling)} | ${Math.round(count.imdsd)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}
