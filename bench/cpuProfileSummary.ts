import { readFileSync } from 'node:fs';

/**
 * Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof`, or
 * `npm run bench -- --cpu-prof DIR`), and the same grouped by file: enough to find a hot path
 * without a browser.
 *   node --import tsx bench/cpuProfileSummary.ts PROFILE.cpuprofile [TOP]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: cpuProfileSummary.ts PROFILE.cpuprofile [TOP]\n');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const top = Number(topText ?? 25);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<string, number>();
const fileUs = new Map<string, number>();
let totalUs = 0;

profile.samples.forEach((id, index) => {
  const node = byId.get(id);
  const delta = profile.timeDeltas[index] ?? 0;
  if (node === undefined) return;
  const frame = node.callFrame;
  const where = frame.url === '' ? '(native)' : frame.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/');
  const name = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
  selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
  fileUs.set(where, (fileUs.get(where) ?? 0) + delta);
  totalUs += delta;
});

const print = (title: string, entries: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${name}\n`);
  }
};

process.stdout.write(`${(totalUs / 1e6).toFixed(2)} s sampled in ${file}\n`);
print('self time by function', selfUs);
print('self time by file', fileUs);
