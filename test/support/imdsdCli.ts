// The imdsd command line straight from the TypeScript sources, for tests that run it as a
// child process: `node --import tsx test/support/imdsdCli.ts serve …`.
import { main } from '../../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
