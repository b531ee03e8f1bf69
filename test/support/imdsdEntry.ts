// `bin/imdsd.js` for the sources: runs the CLI through tsx, so tests need no build of dist/.
import { main } from '../../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
