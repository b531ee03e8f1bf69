import { loadConfig, type ConfigFlags } from '../config/load.ts';
import { loadHopLimitControl } from '../imds/nativeHopLimit.ts';
import { createLogger, type LogLevel } from '../log.ts';
import { formatListenAddress } from '../net/address.ts';
import { startImdsd } from '../serve/startImdsd.ts';
import { parseFlags } from './parseFlags.ts';

const SERVE_FLAGS = {
  config: { type: 'string' },
  listen: { type: 'string', multiple: true },
  'api-listen': { type: 'string' },
  state: { type: 'string' },
  'log-level': { type: 'string' },
  'require-hop-limit': { type: 'boolean' },
} as const;

export function configFlagsFrom(args: string[]): ConfigFlags {
  const values = parseFlags(args, SERVE_FLAGS);
  const flags: ConfigFlags = {};
  if (values.config !== undefined) flags.config = values.config;
  if (values.listen !== undefined) flags.listen = values.listen;
  if (values['api-listen'] !== undefined) flags.apiListen = values['api-listen'];
  if (values.state !== undefined) flags.state = values.state;
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'];
  return flags;
}

/** `imdsd serve`: runs until SIGINT or SIGTERM. */
export async function serveCommand(args: string[]): Promise<number> {
  const { config, configFile } = loadConfig(configFlagsFrom(args));
  const requireHopLimit = parseFlags(args, SERVE_FLAGS)['require-hop-limit'] === true;
  const hopLimit = loadHopLimitControl({ required: requireHopLimit });
  const logger = createLogger({
    level: config.logLevel as LogLevel,
    pretty: process.stdout.isTTY === true,
  });

  const running = await startImdsd({
    config,
    logger,
    hopLimit,
    ...(configFile === undefined ? {} : { configFile }),
  });

  // Listen for the signals before saying where imdsd listens: a supervisor may stop it as soon
  // as it reads that line, and a signal with no handler yet would kill it without closing.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

  for (const address of running.imdsAddresses) {
    process.stderr.write(`imdsd: IMDS on http://${formatListenAddress(address)}/\n`);
  }
  const first = running.imdsAddresses[0];
  if (first !== undefined) {
    process.stderr.write(
      `AWS_EC2_METADATA_SERVICE_ENDPOINT=http://${formatListenAddress(first)}/\n`,
    );
  }
  process.stderr.write(`AWS_ENDPOINT_URL_EC2=http://${formatListenAddress(running.apiAddress)}\n`);

  await stopped;

  logger.info('stopping');
  await running.close();
  logger.flush();
  return 0;
}
