import { describeError, isImdsdError } from '../errors.ts';
import { identityCertCommand } from './identityCertCommand.ts';
import { optionsCommand } from './optionsCommand.ts';
import { serveCommand } from './serveCommand.ts';
import { USAGE } from './usage.ts';

/** Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(args);
      case 'identity-cert':
        return identityCertCommand(args);
      case 'options':
        return await optionsCommand(args);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(
          `imdsd: ${command === undefined ? 'a command is required' : `unknown command "${command}"`}\n\n${USAGE}`,
        );
        return 2;
    }
  } catch (error) {
    process.stderr.write(`imdsd: ${describeError(error)}\n`);
    const usageError =
      isImdsdError(error) &&
      ['USAGE', 'CONFIG_INVALID', 'CONFIG_FILE_UNREADABLE'].includes(error.code);
    return usageError ? 2 : 1;
  }
}
