#!/bin/sh
':' //; exec node --max-semi-space-size=4 "$0" "$@"
// The published entry point, run by sh first and then by node. The line above is a no-op
// statement to node, and to sh it starts node with a smaller young generation: node's 16 MB
// default lets the heap of a busy `imdsd serve` grow by about 25 MB more for no gain in speed
// (bench/results/latest.md). V8 reads this size only when node starts, so no code can set it.
// `node bin/imdsd.js` runs imdsd with node's defaults.
import '../dist/bundle/imdsd.js';
