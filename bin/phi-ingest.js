#!/usr/bin/env -S node --single-threaded-gc
// Runs the TypeScript CLI from source through tsx, so a clone works after `npm ci` alone.
// Single-threaded GC: the worker pool keeps every core busy, and V8's parallel GC helper threads
// then only contend with it (two threads ran about 1.5x faster on HL7 v2 without them; see
// docs/performance.md). V8 reads the flag only at start-up, so it is on the command line.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../pipeline/cli.ts');
await main(process.argv);
