#!/usr/bin/env node
// The published entry point: the compiled CLI (npm install runs `prepare`, which builds dist/).
import '../dist/cli/run.js';
