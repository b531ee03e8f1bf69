import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as Yaml from 'yaml';
import type { ZodIssue } from 'zod';
import { ImdsdError } from '../errors.ts';
import { withDefaultInstance } from './defaults.ts';
import { configSchema, type Config } from './schema.ts';

// The YAML parser is loaded only when a config file is read: it costs some 30 ms of start-up.
const requireLazily = createRequire(import.meta.url);
function parseYaml(text: string, options: Yaml.ParseOptions & Yaml.DocumentOptions): unknown {
  return (requireLazily('yaml') as typeof Yaml).parse(text, options);
}

/** What the command line says; every field optional. */
export interface ConfigFlags {
  config?: string;
  listen?: string[];
  apiListen?: string;
  state?: string;
  logLevel?: string;
}

/** Where each top-level key came from, so an error can point at the flag, variable or file. */
type Origin =
  | { kind: 'flag'; name: string }
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string }
  | { kind: 'default' };

/**
 * Top-level keys that a flag or an environment variable can set. Precedence is data:
 * flag, then environment, then file, then the schema's default.
 */
const OVERRIDABLE_KEYS = [
  { key: 'listen', flag: '--listen', env: 'IMDSD_LISTEN', list: true },
  { key: 'apiListen', flag: '--api-listen', env: 'IMDSD_API_LISTEN', list: false },
  { key: 'state', flag: '--state', env: 'IMDSD_STATE', list: false },
  { key: 'logLevel', flag: '--log-level', env: 'IMDSD_LOG_LEVEL', list: false },
] as const;

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the config file, when one was used. */
  configFile?: string;
}

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const configFile = flags.config ?? nonEmpty(env['IMDSD_CONFIG']);
  const absoluteFile = configFile === undefined ? undefined : resolve(configFile);
  const raw = absoluteFile === undefined ? {} : readConfigFile(absoluteFile);

  const origins = new Map<string, Origin>();
  for (const key of Object.keys(raw)) {
    if (absoluteFile !== undefined) origins.set(key, { kind: 'file', path: absoluteFile });
  }

  const merged: Record<string, unknown> = { ...raw };
  for (const { key, flag, env: envName, list } of OVERRIDABLE_KEYS) {
    const fromFlag = flags[key];
    const fromEnv = nonEmpty(env[envName]);
    if (fromFlag !== undefined && (!Array.isArray(fromFlag) || fromFlag.length > 0)) {
      merged[key] = fromFlag;
      origins.set(key, { kind: 'flag', name: flag });
    } else if (fromEnv !== undefined) {
      merged[key] = list ? fromEnv.split(',').map((item) => item.trim()) : fromEnv;
      origins.set(key, { kind: 'env', name: envName });
    }
  }

  addApiCredentialFromEnv(merged, origins, env);

  const result = configSchema.safeParse(withDefaultInstance(merged));
  if (!result.success) throw configError(result.error.issues, merged, origins);

  return absoluteFile === undefined
    ? { config: result.data }
    : { config: result.data, configFile: absoluteFile };
}

/**
 * One administrator key pair of the control API may come from the environment, so nobody has
 * to write a secret into a file. It is added to those of the file's `api.credentials`.
 */
export const API_ACCESS_KEY_ID_ENV = 'IMDSD_API_ACCESS_KEY_ID';
export const API_SECRET_ACCESS_KEY_ENV = 'IMDSD_API_SECRET_ACCESS_KEY';

function addApiCredentialFromEnv(
  merged: Record<string, unknown>,
  origins: Map<string, Origin>,
  env: NodeJS.ProcessEnv,
): void {
  const accessKeyId = nonEmpty(env[API_ACCESS_KEY_ID_ENV]);
  const secretAccessKey = nonEmpty(env[API_SECRET_ACCESS_KEY_ENV]);
  if (accessKeyId === undefined && secretAccessKey === undefined) return;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new ImdsdError(
      'CONFIG_INVALID',
      `set both ${API_ACCESS_KEY_ID_ENV} and ${API_SECRET_ACCESS_KEY_ENV}, or neither`,
    );
  }

  const api = (merged['api'] ?? {}) as Record<string, unknown>;
  const fromFile = Array.isArray(api['credentials']) ? (api['credentials'] as unknown[]) : [];
  merged['api'] = { ...api, credentials: [...fromFile, { accessKeyId, secretAccessKey }] };
  if (!origins.has('api')) origins.set('api', { kind: 'env', name: API_ACCESS_KEY_ID_ENV });
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ImdsdError('CONFIG_FILE_UNREADABLE', `cannot read config file ${path} (${reason})`, {
      cause: error,
    });
  }

  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new ImdsdError(
      'CONFIG_FILE_UNREADABLE',
      `config file ${path} is not valid YAML: ${(error as Error).message}`,
    );
  }

  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ImdsdError(
      'CONFIG_FILE_UNREADABLE',
      `config file ${path} must hold a mapping of keys at its top level`,
    );
  }
  return document as Record<string, unknown>;
}

function configError(
  issues: ZodIssue[],
  merged: Record<string, unknown>,
  origins: Map<string, Origin>,
): ImdsdError {
  const lines = issues.map((issue) => {
    const key = formatKeyPath(issue.path);
    const value = valueAt(merged, issue.path);
    const shownValue =
      value === undefined || isSecretKey(issue.path) ? '' : ` = ${JSON.stringify(value)}`;
    // An unknown top-level key has an empty path: its origin is that of the key itself.
    const topKey =
      issue.path[0] ?? (issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined);
    const origin = origins.get(String(topKey ?? '')) ?? { kind: 'default' };
    return `${key}${shownValue} (${describeOrigin(origin)}): ${describeIssue(issue)}`;
  });
  return new ImdsdError('CONFIG_INVALID', lines.join('\n'));
}

/** Keys whose values an error message must not repeat (a role's static keys). */
function isSecretKey(path: ReadonlyArray<string | number>): boolean {
  const key = path[path.length - 1];
  return key === 'secretAccessKey' || key === 'sessionToken';
}

function describeIssue(issue: ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return 'is required';
  return issue.message;
}

function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case 'flag':
      return `flag ${origin.name}`;
    case 'env':
      return `environment ${origin.name}`;
    case 'file':
      return `file ${origin.path}`;
    case 'default':
      return 'default';
  }
}

/** `instances[0].metadataOptions.httpTokens`, the way a user finds the key in the YAML. */
export function formatKeyPath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`,
    )
    .join('');
}

function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = root;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return typeof value === 'object' && value !== null ? undefined : value;
}

/** An environment variable's value, with unset and blank alike meaning "not given". */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
