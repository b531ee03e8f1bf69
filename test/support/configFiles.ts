import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImdsdError } from '../../src/errors.ts';

/** A temporary folder of config files for one test file; `remove()` in its `after`. */
export function configFiles(prefix: string): {
  write(yaml: string): string;
  path(name: string): string;
  remove(): void;
} {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  let count = 0;
  return {
    write(yaml) {
      const path = join(directory, `config-${count++}.yaml`);
      writeFileSync(path, yaml);
      return path;
    },
    path: (name) => join(directory, name),
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}

/** The ImdsdError `action` throws; fails the test when it throws nothing or something else. */
export function imdsdErrorOf(action: () => unknown): ImdsdError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ImdsdError, `expected an ImdsdError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an ImdsdError');
}
