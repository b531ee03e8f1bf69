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
  children?: number[];
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
const nodeSelfUs = new Map<number, number>();
let totalUs = 0;

const whereOf = (node: ProfileNode): string =>
  node.callFrame.url === ''
    ? '(native)'
    : node.callFrame.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/');
const nameOf = (node: ProfileNode): string =>
  `${node.callFrame.functionName || '(anonymous)'}  ${whereOf(node)}:${node.callFrame.lineNumber + 1}`;

profile.samples.forEach((id, index) => {
  const node = byId.get(id);
  const delta = profile.timeDeltas[index] ?? 0;
  if (node === undefined) return;
  selfUs.set(nameOf(node), (selfUs.get(nameOf(node)) ?? 0) + delta);
  fileUs.set(whereOf(node), (fileUs.get(whereOf(node)) ?? 0) + delta);
  nodeSelfUs.set(id, (nodeSelfUs.get(id) ?? 0) + delta);
  totalUs += delta;
});

// Inclusive time of imdsd's own functions (dist/ or src/): their self time plus their callees'.
// The program is one bundle, so its functions share one file; their names tell them apart.
const inclusiveUs = new Map<string, number>();
const subtreeUs = (node: ProfileNode): number =>
  (node.children ?? []).reduce(
    (sum, child) => sum + subtreeUs(byId.get(child) as ProfileNode),
    nodeSelfUs.get(node.id) ?? 0,
  );
const visit = (node: ProfileNode, open: ReadonlySet<string>): void => {
  const name = nameOf(node);
  const own = /^(dist|src)\//.test(whereOf(node)) && !open.has(name);
  if (own) inclusiveUs.set(name, (inclusiveUs.get(name) ?? 0) + subtreeUs(node));
  const inside = own ? new Set([...open, name]) : open;
  for (const child of node.children ?? []) visit(byId.get(child) as ProfileNode, inside);
};
const root = profile.nodes[0];
if (root !== undefined) visit(root, new Set());

const print = (title: string, entries: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${name}\n`);
  }
};

process.stdout.write(`${(totalUs / 1e6).toFixed(2)} s sampled in ${file}\n`);
print('self time by function', selfUs);
print('self time by file', fileUs);
print("inclusive time of imdsd's functions", inclusiveUs);
