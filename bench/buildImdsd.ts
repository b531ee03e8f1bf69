import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `imdsd serve` runs from dist/, as users run it: build it from the current sources first. */
export function buildImdsd(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('the build failed');
}
