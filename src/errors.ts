/**
 * The one error family of imdsd. Every failure a user can cause or meet carries a stable
 * `code` (documented in the README) and a message that names what was wrong: the config key,
 * the flag, the request field. Messages never contain secrets.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: 'the configuration (file, environment or flags) has a bad value',
  CONFIG_FILE_UNREADABLE: 'the configuration file cannot be read or parsed',
  USAGE: 'the command line is malformed',
  STATE_UNAVAILABLE: 'the state store cannot be opened or written',
  LISTEN_FAILED: 'a listener could not bind its address',
  HOP_LIMIT_UNAVAILABLE: 'hop limits cannot be enforced on this machine',
  CREDENTIALS_UNAVAILABLE: 'no valid role credentials could be obtained',
  API_REQUEST_REFUSED: 'the EC2 control API refused a request (its EC2 error code says why)',
  API_UNREACHABLE: 'the EC2 control API could not be reached',
  INTERNAL: 'a defect in imdsd',
} as const;

export type ImdsdErrorCode = keyof typeof ERROR_CODES;

export class ImdsdError extends Error {
  override readonly name = 'ImdsdError';
  readonly code: ImdsdErrorCode;
  /** The error code an upstream service (STS, a real IMDS) answered with, when one did. */
  readonly upstreamCode: string | undefined;

  constructor(
    code: ImdsdErrorCode,
    message: string,
    options?: { cause?: unknown; upstreamCode?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.upstreamCode = options?.upstreamCode;
  }
}

export function isImdsdError(value: unknown, code?: ImdsdErrorCode): value is ImdsdError {
  return value instanceof ImdsdError && (code === undefined || value.code === code);
}

/** A message fit for a log line or a terminal, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof ImdsdError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
