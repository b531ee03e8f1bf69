#!/usr/bin/env node
// `npm install` runs this: builds the hop-limit addon in native/ with node-gyp against the Node
// headers already on this machine, never downloaded ones. A failed build does not fail the
// install: `imdsd serve` then runs without enforcing hop limits and says so at startup
// (README, "Hop limit"). `imdsd serve --require-hop-limit` refuses to start in that case.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDirectory = fileURLToPath(new URL('../native/', import.meta.url));

function warn(reason) {
  console.warn(`imdsd: the hop-limit addon was not built (${reason}).`);
  console.warn(
    'imdsd: `imdsd serve` will run without enforcing hop limits; see README, "Hop limit".',
  );
  process.exit(0);
}

/** The prefix holding include/node/node_api.h: npm's nodedir setting, or the running Node's own. */
function localNodeDirectory() {
  const candidates = [process.env.npm_config_nodedir, dirname(dirname(process.execPath))];
  return candidates.find(
    (prefix) => prefix && existsSync(join(prefix, 'include', 'node', 'node_api.h')),
  );
}

if (process.platform === 'win32') warn('not supported on Windows');

const nodeDirectory = localNodeDirectory();
if (nodeDirectory === undefined) warn('no local Node headers (include/node/node_api.h) were found');

// npm hands its bundled node-gyp to install scripts in npm_config_node_gyp.
const nodeGyp = process.env.npm_config_node_gyp;
const command = nodeGyp ? [process.execPath, nodeGyp] : ['node-gyp'];
const result = spawnSync(
  command[0],
  [...command.slice(1), 'rebuild', `--directory=${nativeDirectory}`, `--nodedir=${nodeDirectory}`],
  { stdio: 'inherit', shell: false },
);

if (result.error) warn(`node-gyp could not run: ${result.error.message}`);
if (result.status !== 0) warn(`node-gyp exited with ${result.status ?? result.signal}`);
