import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Fields a log line may carry. Anything else is dropped before it is written, so a caller
 * that passes a whole request or credential object cannot leak a token or a secret key.
 */
export const ALLOWED_LOG_FIELDS: ReadonlySet<string> = new Set([
  'err',
  'code',
  'reason',
  'requestId',
  'method',
  'path',
  'status',
  'remoteAddress',
  'instanceId',
  'role',
  'delivery',
  'listen',
  'endpoint',
  'family',
  'hopLimit',
  'httpTokens',
  'httpEndpoint',
  'options',
  'source',
  'state',
  'durationMs',
  'expiration',
  'attempt',
  'retryInMs',
  'upstreamCode',
  'version',
  'key',
  'value',
  'file',
  'instances',
  'roles',
  'count',
  'action',
  'principal',
  'ec2Code',
  'administratorKeys',
]);

/** Second guard: these paths are censored even if a field above ever carries them. */
const REDACT_PATHS = [
  'headers.authorization',
  'headers["x-aws-ec2-metadata-token"]',
  'token',
  'secretAccessKey',
  'sessionToken',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.token',
];

export interface LoggerSettings {
  level: LogLevel;
  /** Human-readable lines instead of JSON; the CLI turns this on when stdout is a terminal. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'imdsd' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { log: keepAllowedFields },
  };

  if (settings.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }

  const destination = settings.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(options, destination);
}

function keepAllowedFields(fields: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (ALLOWED_LOG_FIELDS.has(name)) kept[name] = value;
  }
  return kept;
}

/** A logger that writes nothing, for library use and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
