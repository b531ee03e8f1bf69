import { Writable } from 'node:stream';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { withDefaultInstance } from '../../src/config/defaults.ts';
import { systemClock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import { formatListenAddress } from '../../src/net/address.ts';
import { startImdsd, type RunningImdsd, type StartOptions } from '../../src/serve/startImdsd.ts';

export interface TestServer {
  running: RunningImdsd;
  /** `http://127.0.0.1:PORT` of the first IMDS listener, without a trailing slash. */
  baseUrl: string;
  /** `http://127.0.0.1:PORT` of the control API listener. */
  apiUrl: string;
  /** Every log line written so far, as raw JSON text. */
  logText(): string;
  close(): Promise<void>;
}

/**
 * Starts imdsd in-process on loopback port 0, with state in memory and logs captured.
 * The config is the file's shape; listen and state are filled in when not given.
 */
export async function startTestServer(
  input: ConfigInput = {},
  extra: Partial<Pick<StartOptions, 'hopLimit'>> & { now?: () => number } = {},
): Promise<TestServer> {
  const config = configSchema.parse(
    withDefaultInstance({
      listen: ['127.0.0.1:0'],
      apiListen: '127.0.0.1:0',
      state: ':memory:',
      logLevel: 'debug',
      ...input,
    }),
  );

  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, destination });

  const { now, ...rest } = extra;
  const clock = now === undefined ? systemClock : { ...systemClock, now };
  const running = await startImdsd({ config, logger, clock, ...rest });
  const first = running.imdsAddresses[0]!;
  return {
    running,
    baseUrl: `http://${formatListenAddress(first)}`,
    apiUrl: `http://${formatListenAddress(running.apiAddress)}`,
    logText: () => lines.join(''),
    close: () => running.close(),
  };
}
