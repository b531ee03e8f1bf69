import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** pino's numeric levels, for readable assertions. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A real imdsd logger (allowlist and redaction included) whose lines a test can read. */
export function captureLogs(): { logger: Logger; lines: () => LogLine[]; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const text = (): string => chunks.join('');
  const lines = (): LogLine[] =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogLine);
  return { logger, lines, text };
}
