// Builds the program `bin/imdsd.js` runs: src/ bundled into one module, dist/bundle/imdsd.js.
// Loading sixty-odd modules one by one was a sixth of imdsd's start-up (181 -> 153 ms to the
// first credentials, median of 11 alternating starts); zod, bundled too, saves 7 ms more.
// Packages that find their own files at run time stay outside: better-sqlite3 (a native
// addon), pino and pino-pretty (worker transports), and those imdsd loads only when needed
// (the AWS SDK, node-forge, yaml). The output sits two directories below the package, as
// src/imds/nativeHopLimit.ts does, so its path to native/ holds in both.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const BUNDLED_PACKAGES = new Set(['zod']);

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = Object.keys(manifest.dependencies)
  .filter((name) => !BUNDLED_PACKAGES.has(name))
  .flatMap((name) => [name, `${name}/*`]);

await build({
  absWorkingDir: new URL('..', import.meta.url).pathname,
  entryPoints: ['src/cli/run.ts'],
  outfile: 'dist/bundle/imdsd.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.12',
  external,
  sourcemap: true,
  logLevel: 'warning',
});
