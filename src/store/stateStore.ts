import { chmodSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { ImdsdError } from '../errors.ts';

/**
 * Durable state: key material (token keys, the identity signing key, the credential minting
 * key) and metadata options changed through the API. SQLite in WAL mode, so a process killed at
 * any moment leaves either the old or the new row, never half of one.
 */
export interface StateStore {
  readonly path: string;
  /** The value stored under `name` (key material, first-seen times), created with `create` on first use. */
  remembered(name: string, create: () => Buffer): Buffer;
  /** The value stored under `name`, if any; creates nothing. */
  recall(name: string): Buffer | undefined;
  metadataOptions(instanceId: string): Record<string, unknown> | undefined;
  saveMetadataOptions(instanceId: string, options: Record<string, unknown>): void;
  close(): void;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS secret (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS metadata_options (
    instance_id TEXT PRIMARY KEY,
    options TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
`;

/** `$XDG_STATE_HOME/imdsd/state.db`, or `~/.local/state/imdsd/state.db`. */
export function defaultStatePath(env: NodeJS.ProcessEnv = process.env): string {
  const stateHome = env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
  return join(stateHome, 'imdsd', 'state.db');
}

export function openStateStore(path: string): StateStore {
  const database = openDatabase(path);

  const selectSecret = database.prepare<[string], { value: Buffer }>(
    'SELECT value FROM secret WHERE name = ?',
  );
  const insertSecret = database.prepare(
    'INSERT OR IGNORE INTO secret (name, value, created_at) VALUES (?, ?, ?)',
  );
  const selectOptions = database.prepare<[string], { options: string }>(
    'SELECT options FROM metadata_options WHERE instance_id = ?',
  );
  const upsertOptions = database.prepare(
    `INSERT INTO metadata_options (instance_id, options, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (instance_id) DO UPDATE SET options = excluded.options, updated_at = excluded.updated_at`,
  );

  // IMMEDIATE: two imdsd processes sharing a state file agree on one secret.
  const secretOnce = database.transaction((name: string, create: () => Buffer): Buffer => {
    const existing = selectSecret.get(name);
    if (existing) return existing.value;
    const value = create();
    insertSecret.run(name, value, new Date().toISOString());
    return value;
  });

  return {
    path,
    remembered: (name, create) => guarded(path, () => secretOnce.immediate(name, create)),
    recall: (name) => guarded(path, () => selectSecret.get(name)?.value),
    metadataOptions(instanceId) {
      const row = guarded(path, () => selectOptions.get(instanceId));
      return row === undefined ? undefined : (JSON.parse(row.options) as Record<string, unknown>);
    },
    saveMetadataOptions(instanceId, options) {
      guarded(path, () =>
        upsertOptions.run(instanceId, JSON.stringify(options), new Date().toISOString()),
      );
    },
    close: () => database.close(),
  };
}

function openDatabase(path: string): Database.Database {
  return guarded(path, () => {
    const inMemory = path === ':memory:';
    if (!inMemory) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });

    const database = new Database(path);
    if (!inMemory) chmodSync(path, 0o600);

    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('busy_timeout = 5000');

    const version = database.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new ImdsdError(
        'STATE_UNAVAILABLE',
        `state ${path} was written by a newer imdsd (schema ${version})`,
      );
    }
    database.exec(SCHEMA);
    database.pragma(`user_version = ${SCHEMA_VERSION}`);
    return database;
  });
}

function guarded<T>(path: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof ImdsdError) throw error;
    throw new ImdsdError('STATE_UNAVAILABLE', `state store ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
