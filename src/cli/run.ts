import { main } from './main.ts';

// The executable entry: bin/imdsd.js runs the compiled form of this file.
process.exitCode = await main(process.argv.slice(2));
